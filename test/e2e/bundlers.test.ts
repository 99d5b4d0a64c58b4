// Bundlers: a tiny app (test/e2e/bundlers/app.js) that imports "webgrad" by name is
// bundled for the browser by esbuild and by Vite (no config), exactly as a user
// would, from a scratch project whose node_modules/webgrad links this checkout
// (so package.json's "exports" decide what the bundlers see). Asserted:
//   - both build with no error and no warning (no Node built-in in the graph);
//   - no kernel binary is inlined as base64; Vite emits the worker and the
//     .wasm files itself (they are named by new URL(..., import.meta.url));
//     esbuild does not follow that pattern, so the test copies worker.js and the
//     .wasm files beside its bundle, the step the README gives esbuild users;
//   - in headless Chromium, each bundle trains (the loss falls) on 2 threads
//     when served cross-origin isolated (COOP/COEP), with a worker-split matmul
//     that matches a JS loop; and on 1 thread, saying how to get threads
//     (the COOP/COEP headers), when served without those headers.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, mkdirSync, symlinkSync, copyFileSync, readdirSync, readFileSync, statSync, existsSync, rmSync, createReadStream, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, sep, extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FIXTURE = join(ROOT, "test", "e2e", "bundlers");
const BACKENDS = join(ROOT, "dist", "host", "backends");
const CHROMIUM = "/usr/bin/chromium";
const TIMEOUT_MS = 60_000;
const scratch = mkdtempSync(join(tmpdir(), "webgrad-bundlers-"));

interface PageResult {
  kernels: string;
  threads: number;
  summary: string;
  crossOriginIsolated: boolean;
  losses: number[];
  matmulMaxErr: number;
  error?: string;
}

const built: Record<string, string> = {}; // bundler -> output folder

test.before(() => {
  if (!existsSync(join(BACKENDS, "webgrad.js"))) throw new Error("dist/host/backends/webgrad.js is missing: run `npm run build` first");
  mkdirSync(join(scratch, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(scratch, "node_modules", "webgrad"), "dir");
  for (const f of readdirSync(FIXTURE)) copyFileSync(join(FIXTURE, f), join(scratch, f));
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

const jsSizes = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js")).map((f) => ({ f, text: readFileSync(join(dir, f), "utf8") }));

test("esbuild --bundle --platform=browser: no error, no warning, no inlined kernels", async () => {
  const esbuild = await import("esbuild");
  const out = join(scratch, "out-esbuild");
  const r = await esbuild.build({
    entryPoints: [join(scratch, "app.js")], bundle: true, platform: "browser", format: "esm", minify: true,
    outdir: out, absWorkingDir: scratch, logLevel: "silent",
  });
  const msgs = (ms: { text: string }[]) => ms.map((m) => m.text).join("\n");
  assert.equal(r.errors.length, 0, msgs(r.errors));
  assert.equal(r.warnings.length, 0, msgs(r.warnings));
  // esbuild leaves new URL("./worker.js", import.meta.url) as it is: the files go beside the bundle
  for (const f of readdirSync(BACKENDS)) if (f === "worker.js" || f.endsWith(".wasm")) copyFileSync(join(BACKENDS, f), join(out, f));
  copyFileSync(join(scratch, "index.html"), join(out, "index.html"));
  const [app] = jsSizes(out).filter((x) => x.f === "app.js");
  console.log(`  esbuild: app.js ${(app.text.length / 1024).toFixed(0)} KiB minified`);
  assert.not.match(app.text, /AGFzbQ/, "a wasm binary is inlined as base64 (\\0asm)");
  assert.match(app.text, /new URL\("\.\/worker\.js",import\.meta\.url\)/, "the worker's URL is literal");
  built.esbuild = out;
});

test("vite build (no config file; --base ./ to serve it from a subfolder): no warning, emits the worker and the .wasm files", () => {
  const out = join(scratch, "out-vite");
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--outDir", out, "--base", "./"], {
    cwd: scratch, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  const log = r.stdout + r.stderr;
  assert.is(r.status, 0, log);
  // rolldown's [PLUGIN_TIMINGS] note says only that this machine is slow; anything else is a warning
  const warnings = log.split("\n").filter((l) => /\bwarn|externalized|\[plugin |\(!\)/i.test(l) && !/PLUGIN_TIMINGS/.test(l));
  assert.equal(warnings, [], log);
  const assets = readdirSync(join(out, "assets"));
  console.log(`  vite: ${assets.map((a) => `${a} ${(statSync(join(out, "assets", a)).size / 1024).toFixed(0)} KiB`).join(", ")}`);
  for (const v of ["simd", "relaxed", "simd-threads", "relaxed-threads"]) {
    assert.ok(assets.some((a) => new RegExp(`^webgrad-${v}-[\\w-]+\\.wasm$`).test(a)), `vite emitted webgrad-${v}.wasm: ${assets.join(", ")}`);
  }
  assert.ok(assets.some((a) => /^worker-[\w-]+\.js$/.test(a)), `vite emitted the worker: ${assets.join(", ")}`);
  for (const { f, text } of jsSizes(out)) assert.not.match(text, /AGFzbQ/, `${f}: a wasm binary inlined as base64`);
  built.vite = out;
});

const MIME: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".wasm": "application/wasm" };

/** Serves the scratch folder on 127.0.0.1: under /coi/ cross-origin isolated (COOP/COEP), under /plain/ without. */
async function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const isolated = path.startsWith("/coi/");
    const file = resolve(scratch, "." + path.replace(/^\/(coi|plain)\//, "/"));
    const headers: Record<string, string> = { "Cache-Control": "no-store" };
    if (isolated) Object.assign(headers, { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" });
    let ok = false;
    try {
      ok = (file + sep).startsWith(scratch + sep) && statSync(file).isFile();
    } catch { /* missing */ }
    if (!ok) {
      res.writeHead(404, headers).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { ...headers, "Content-Type": MIME[extname(file)] ?? "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const results: Record<string, { r: PageResult; log: string[] }> = {};

test("headless Chromium runs both bundles, isolated (2 threads) and not (1 thread)", async () => {
  if (!existsSync(CHROMIUM)) assert.unreachable(`chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  const pw = await import("playwright-core");
  const { server, origin } = await serve();
  const profile = mkdtempSync(join(tmpdir(), "webgrad-chromium-"));
  // a fresh profile of its own (playwright takes it as launchPersistentContext's first argument, not --user-data-dir)
  const browser = await pw.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, timeout: TIMEOUT_MS,
    args: ["--no-sandbox", "--enable-unsafe-webgpu", "--disable-background-networking"],
  });
  try {
    for (const bundler of Object.keys(built)) {
      for (const isolated of [true, false]) {
        const key = `${bundler}, ${isolated ? "isolated" : "not isolated"}`;
        const page = await browser.newPage();
        const log: string[] = [];
        page.on("console", (m) => log.push(`[${m.type()}] ${m.text()}`));
        page.on("pageerror", (e) => log.push(`[pageerror] ${e.message}`));
        page.on("response", (r) => r.status() >= 400 && log.push(`[http ${r.status()}] ${r.url()}`));
        const dir = built[bundler].slice(scratch.length + 1);
        await page.goto(`${origin}/${isolated ? "coi" : "plain"}/${dir}/index.html?threads=2`);
        try {
          await page.waitForFunction(() => (window as any).__webgradResult, undefined, { timeout: TIMEOUT_MS });
        } catch (e) {
          throw new Error(`${key}: no result: ${(e as Error).message}\n${log.join("\n")}`);
        }
        const r = (await page.evaluate(() => (window as any).__webgradResult)) as PageResult;
        await page.close();
        if (r.error) throw new Error(`${key}: the app threw: ${r.error}\n${log.join("\n")}`);
        results[key] = { r, log };
        console.log(`  ${key}: ${r.kernels}, ${r.threads} thread(s), loss ${r.losses[0].toFixed(4)} → ${r.losses.at(-1)!.toFixed(4)}, matmul max err ${r.matmulMaxErr.toExponential(1)}`);
      }
    }
  } finally {
    await browser.close().catch(() => {});
    server.closeAllConnections();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

for (const bundler of ["esbuild", "vite"]) {
  test(`${bundler}: cross-origin isolated page trains on 2 threads`, () => {
    const x = results[`${bundler}, isolated`];
    if (!x) return assert.unreachable("no result (the Chromium test above failed)");
    const { r } = x;
    assert.is(r.crossOriginIsolated, true);
    assert.is(r.threads, 2, r.summary);
    assert.ok(r.kernels.endsWith("-threads"), r.kernels);
    assert.ok(r.losses.every(Number.isFinite) && r.losses.at(-1)! < r.losses[0], `the loss fell: ${r.losses.join(", ")}`);
    assert.ok(r.matmulMaxErr < 1e-3, `the worker-split matmul matches (max err ${r.matmulMaxErr})`);
  });

  test(`${bundler}: a page without COOP/COEP trains on 1 thread and says which headers give threads`, () => {
    const x = results[`${bundler}, not isolated`];
    if (!x) return assert.unreachable("no result (the Chromium test above failed)");
    const { r, log } = x;
    assert.is(r.crossOriginIsolated, false);
    assert.is(r.threads, 1, r.summary);
    assert.not.ok(r.kernels.endsWith("-threads"), r.kernels);
    assert.ok(r.losses.every(Number.isFinite) && r.losses.at(-1)! < r.losses[0], `the loss fell: ${r.losses.join(", ")}`);
    for (const h of ["Cross-Origin-Opener-Policy: same-origin", "Cross-Origin-Embedder-Policy: require-corp"]) {
      assert.ok(r.summary.includes(h), `the summary names ${h}: ${r.summary}`);
      assert.ok(log.some((l) => l.includes(h)), `the console says ${h}:\n${log.join("\n")}`);
    }
  });
}

test.run();
