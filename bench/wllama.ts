// wllama (npm @wllama/wllama: llama.cpp's server loop compiled to wasm) as the
// llm group's peer, in headless Chromium: its one binary uses wasm64 memory,
// a shared memory even on one thread, and JSPI, which Node 20 has none of, and
// it runs in a Worker it builds from a Blob. So: a local static server with
// cross-origin isolation (COOP/COEP, needed for the shared memory and for
// threads), a page that imports wllama's ESM build, and the bench's GGUF file
// given to it as a Blob. Timings are taken in the page (performance.now around
// the stream's tokens) and from llama.cpp's own (timings.prompt_ms, predicted_ms).

import { createServer, type Server } from "node:http";
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WLLAMA = join(ROOT, "node_modules", "@wllama", "wllama", "esm");
export const CHROMIUM = "/usr/bin/chromium";

const PAGE = `<!doctype html><meta charset="utf-8"><title>wllama bench</title>
<script type="module">
import { Wllama } from "/wllama/index.js";
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
window.wllamaBench = async (o) => {
  const w = new Wllama({ default: "/wllama/wasm/wllama.wasm" }, { suppressNativeLog: true });
  const blob = await (await fetch(o.model)).blob();
  const t0 = performance.now();
  await w.loadModel([blob], { n_threads: o.threads, n_ctx: o.nCtx, n_batch: o.nBatch, n_ubatch: o.nBatch, n_gpu_layers: 0,
    cache_type_k: "f32", cache_type_v: "f32", seed: 1 });
  const loadMs = performance.now() - t0;
  const say = (m) => console.info("[progress] " + o.model + " " + o.threads + "t: " + m);
  say("loaded in " + loadMs.toFixed(0) + " ms");
  const out = { loadMs, multithread: w.isMultithread(), threads: w.getNumThreads(), decode: [], prefill: [], checkText: null };
  const greedy = { temperature: 0, top_k: 1, ignore_eos: true, cache_prompt: false };
  if (o.checkTokens) {
    const r = await w.createCompletion({ prompt: o.checkPrompt, max_tokens: o.checkTokens, logprobs: 5, ...greedy });
    out.checkText = r.choices[0].text;
    out.checkLogprobs = r.choices[0].logprobs;
  }
  for (let round = 0; round < o.rounds; round++) {
    // decode: the gaps between streamed tokens after the first (the first waits for the prompt's prefill)
    const times = [];
    let timings = null;
    await w.createCompletion({ prompt: o.decodePrompt, max_tokens: o.decodeSteps + 1, ...greedy, stream: true,
      onData: (c) => { times.push(performance.now()); if (c.timings) timings = c.timings; } });
    const gaps = times.slice(1).map((t, i) => t - times[i]).slice(0, o.decodeSteps);
    out.decode.push({ medianMs: median(gaps), chunks: times.length, timings });
    say("round " + round + ": decode " + median(gaps).toFixed(1) + " ms/token");
    const p0 = performance.now();
    const r = await w.createCompletion({ prompt: o.prefillPrompt, max_tokens: 1, ...greedy });
    out.prefill.push({ wallMs: performance.now() - p0, timings: r.timings });
    say("round " + round + ": prefill " + (performance.now() - p0).toFixed(0) + " ms");
  }
  await w.exit();
  return out;
};
window.ready = true;
</script>`;

/** A static server with cross-origin isolation: the page, wllama's ESM build, and GGUF files by name. */
export function serve(files: Record<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store" };
    if (url.pathname === "/") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(PAGE);
      return;
    }
    let path: string | null = null;
    if (url.pathname.startsWith("/wllama/") && !url.pathname.includes("..")) path = join(WLLAMA, url.pathname.slice("/wllama/".length));
    else if (url.pathname.startsWith("/model/")) path = files[url.pathname.slice("/model/".length)] ?? null;
    if (!path || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404, headers).end();
      return;
    }
    const type = path.endsWith(".js") ? "text/javascript" : path.endsWith(".wasm") ? "application/wasm" : "application/octet-stream";
    res.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": statSync(path).size });
    createReadStream(path).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => {
    const a = server.address() as { port: number };
    resolve({ origin: `http://127.0.0.1:${a.port}`, close: () => new Promise((r) => server.close(() => r())) });
  }));
}

export interface WllamaJob {
  /** A key of the served files. */
  model: string;
  threads: number;
  nCtx: number;
  nBatch: number;
  rounds: number;
  decodePrompt: string;
  decodeSteps: number;
  prefillPrompt: string;
  checkPrompt: string;
  checkTokens: number;
}

export interface WllamaResult {
  loadMs: number;
  multithread: boolean;
  threads: number;
  checkText: string | null;
  decode: { medianMs: number; chunks: number; timings: any }[];
  prefill: { wallMs: number; timings: any }[];
}

/** Why wllama cannot run here, or null. */
export function wllamaUnavailable(): string | null {
  if (!existsSync(join(WLLAMA, "index.js"))) return "npm @wllama/wllama is not installed (npm install)";
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install chromium): wllama needs wasm64 and JSPI, which Node 20 lacks`;
  return null;
}

/**
 * Runs each job in a fresh page of one headless Chromium (a fresh profile), one at a time.
 * `log` gets the page's errors, for the bench to print when a job fails.
 */
export async function runWllama(files: Record<string, string>, jobs: WllamaJob[], log: (s: string) => void): Promise<(WllamaResult | { error: string })[]> {
  const pw = await import("playwright-core");
  const server = await serve(files);
  const userDataDir = mkdtempSync(join(tmpdir(), "webgrad-bench-chromium-"));
  const context = await pw.chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
      // a page in the background must not be throttled while it is timed
      "--disable-background-timer-throttling", "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"],
    timeout: 60_000,
  });
  const results: (WllamaResult | { error: string })[] = [];
  try {
    for (const job of jobs) {
      const page = await context.newPage();
      page.on("pageerror", (e) => log(`[wllama page] ${e.message}`));
      page.on("console", (m) => m.text().startsWith("[progress] ") && log(`[wllama] ${m.text().slice(11)}`));
      page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && log(`[wllama console] ${m.text()}`));
      page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && log(`[wllama http ${r.status()}] ${r.url()}`));
      try {
        await page.goto(`${server.origin}/`);
        await page.waitForFunction("window.ready === true", undefined, { timeout: 30_000 });
        const iso = await page.evaluate("crossOriginIsolated");
        if (!iso) throw new Error("the page is not cross-origin isolated (COOP/COEP headers missing)");
        results.push((await page.evaluate(`wllamaBench(${JSON.stringify({ ...job, model: `/model/${job.model}` })})`)) as WllamaResult);
      } catch (e) {
        results.push({ error: String((e as Error).message ?? e).split("\n")[0] });
      } finally {
        await page.close().catch(() => {});
      }
    }
  } finally {
    await context.close().catch(() => {});
    await server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
  return results;
}
