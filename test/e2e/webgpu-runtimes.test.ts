// The WebGPU backend in every runtime: test/runtimes/webgpu-step.mjs (a linear
// layer, relu and sigmoid on the GPU, read back with await data(); a conv2d
// checked against plain JS, and three training steps of a small
// conv → relu → maxpool → linear network) in Node
// (Dawn, the `webgpu` package), Deno (navigator.gpu) and headless Chromium
// (--enable-unsafe-webgpu). With no GPU all three use SwiftShader;
// scripts/test.mjs starts this file with its variables. A runtime that finds
// no adapter FAILS here: nothing is skipped.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { runForResult } from "../harness.js";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { join, normalize } from "node:path";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const STEP = join(ROOT, "test", "runtimes", "webgpu-step.mjs");
const CHROMIUM = "/usr/bin/chromium";
const TIMEOUT_MS = 90_000;

interface Result { backend?: string; summary?: string; maxErr?: number; n?: number; convErr?: number; losses?: number[]; error?: string }

function check(name: string, r: Result): void {
  if (r.error) assert.unreachable(`${name}: ${r.error}`);
  assert.is(r.backend, "webgpu", `${name} ran on ${r.backend}`);
  assert.is(r.n, 24);
  assert.ok(r.maxErr! < 1e-5, `${name}: max error ${r.maxErr}`);
  assert.ok(r.convErr! < 1e-5, `${name}: conv2d max error ${r.convErr}`);
  const l = r.losses ?? [];
  assert.ok(l.length === 3 && l.every(Number.isFinite) && l[2] < l[0], `${name}: conv → relu → maxpool → linear trains: losses ${l.join(" → ")}`);
  console.log(`  ${name}: ${r.summary}`);
}

function runChild(cmd: string, args: string[]): Promise<Result> {
  return runForResult<Result>(cmd, args, { cwd: ROOT, marker: "WEBGPU_RESULT", timeoutMs: TIMEOUT_MS });
}

test("node: the webgpu backend through the `webgpu` package (Dawn)", async () => {
  check("node", await runChild(process.execPath, [STEP]));
});

test("deno: the webgpu backend through navigator.gpu", async () => {
  const deno = join(ROOT, "node_modules", ".bin", "deno");
  if (!existsSync(deno)) assert.unreachable(`deno not found at ${deno}: run npm install`);
  check("deno", await runChild(deno, ["run", "--allow-read", "--allow-env", STEP]));
});

test("chromium: the webgpu backend in headless Chromium with --enable-unsafe-webgpu", async () => {
  if (!existsSync(CHROMIUM)) assert.unreachable(`chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const pw = await import("playwright-core");
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url!, "http://x").pathname)).replace(/^(\.\.[/\\])+/, "");
    const file = join(ROOT, path);
    if (!file.startsWith(ROOT) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const type = file.endsWith(".html") ? "text/html" : file.endsWith(".js") || file.endsWith(".mjs") ? "text/javascript" : "application/octet-stream";
    res.writeHead(200, { "content-type": type }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await pw.chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--enable-unsafe-webgpu", "--enable-features=Vulkan", "--use-vulkan=swiftshader",
      "--use-webgpu-adapter=swiftshader", "--disable-vulkan-surface", "--no-first-run", "--disable-background-networking"],
    timeout: TIMEOUT_MS,
  });
  const log: string[] = [];
  try {
    const page = await browser.newPage();
    page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
    await page.goto(`${origin}/test/runtimes/webgpu.html`);
    await page.waitForFunction(() => (window as any).__webgradResult, undefined, { timeout: TIMEOUT_MS });
    const r = (await page.evaluate(() => (window as any).__webgradResult)) as Result;
    if (r.error) r.error += `\npage log:\n${log.join("\n")}`;
    check("chromium", r);
  } finally {
    await browser.close().catch(() => {});
    server.closeAllConnections();
    server.close();
  }
});

test.run();
