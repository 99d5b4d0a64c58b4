// loadPretrained in headless Chromium (issue 17): the tiny-llama fixture from a
// URL base, from the origin private file system through a
// FileSystemDirectoryHandle (f32 and int8) and from File objects, in a page that
// imports the built tree (test/runtimes/llm.html maps the tokenizer libraries
// in an import map). Asserted: the logits match PyTorch's within 1e-4, the
// greedy continuation is the reference's, the chat template renders.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";
import { existsSync, statSync, createReadStream } from "node:fs";
import { fileURLToPath } from "node:url";
import { resolve, sep, extname } from "node:path";
import type { AddressInfo } from "node:net";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const MIME: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

test("chromium: loadPretrained from a URL base, OPFS (f32 and int8) and Files gives PyTorch's logits and greedy tokens", async () => {
  if (!existsSync(CHROMIUM)) assert.unreachable(`chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  if (!existsSync(resolve(ROOT, "dist/host/index.js"))) assert.unreachable("dist/host/index.js is missing: run `npm run build` first");
  const pw = await import("playwright-core");
  const server = createServer((req, res) => {
    const file = resolve(ROOT, "." + decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname));
    let ok = false;
    try { ok = (file + sep).startsWith(ROOT) && statSync(file).isFile(); } catch { /* missing */ }
    if (!ok) { res.writeHead(404).end("not found"); return; }
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    if (req.method === "HEAD") res.end(); else createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await pw.chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"], timeout: 60_000 });
  const log: string[] = [];
  try {
    const page = await browser.newPage();
    page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => log.push(`[pageerror] ${e.message}`));
    await page.goto(`${origin}/test/runtimes/llm.html`);
    await page.waitForFunction(() => (window as any).__llmResult, undefined, { timeout: 90_000 });
    const r = await page.evaluate(() => (window as any).__llmResult);
    if (r.error) assert.unreachable(`the page threw: ${r.error}\n${log.join("\n")}`);
    console.log(`  logits max error vs PyTorch: url ${r.url.maxErr.toExponential(2)}, opfs ${r.opfs.maxErr.toExponential(2)}, files ${r.files.maxErr.toExponential(2)}, opfs int8 ${r.opfsInt8.maxErr.toExponential(2)}`);
    for (const k of ["url", "opfs", "files"]) {
      assert.ok(r[k].maxErr < 1e-4, `${k}: logits within 1e-4 of PyTorch's (max error ${r[k].maxErr})`);
      assert.equal(r[k].greedy, r.refGreedy, `${k}: the reference greedy continuation`);
      assert.is(r[k].chat, "<s>user: hi!</s>\nassistant:", k);
    }
    // weights and activations both quantised: a few percent of the logits' range (as test/pretrained.test.ts bounds it)
    assert.ok(r.opfsInt8.maxErr > 0 && r.opfsInt8.maxErr < 0.06 * r.refRange, `int8 from OPFS: logits within 6% of the range ${r.refRange} of PyTorch's (max error ${r.opfsInt8.maxErr})`);
  } finally {
    await browser.close().catch(() => {});
    server.closeAllConnections();
    server.close();
  }
});

test.run();
