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

// webgrad in the same browser: the built package (dist/host/index.js, as the demo page imports it) on the
// page's main thread (its thread pool spins rather than Atomics.wait there), and the very measurements
// bench/llm-child.ts makes in Node.
const WEBGRAD_PAGE = `<!doctype html><meta charset="utf-8"><title>webgrad bench</title>
<script type="module">
import * as wg from "/dist/host/index.js";
import { llamaTensors, promptText } from "/dist/bench/llm-weights.js";
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ids = (t) => Array.from(t, (c) => c.charCodeAt(0));
window.webgradBench = async (o) => {
  const info = await wg.init({ threads: o.threads, verbose: false });
  const say = (m) => console.info("[progress] webgrad " + o.threads + "t: " + m);
  const out = { threads: info.threads, kernels: info.kernels };
  for (const dtype of o.dtypes) {
    const llm = wg.models.createCausalLM(o.plan.config, { dtype: dtype === "int8" ? "int8" : "float32", init: false });
    const w = {};
    for (const t of llamaTensors(o.plan.config)) w[t.name] = { dtype: "float32", shape: t.shape, data: t.make() };
    wg.models.loadCausalLMWeights(llm, w);
    const decodePrompt = ids(promptText(o.plan.promptTokens, 7)), prefillPrompt = ids(promptText(o.plan.prefillTokens, 8));
    const gaps = async (steps) => {
      const times = [];
      for await (const _ of llm.stream(decodePrompt, { maxNewTokens: steps + 1, stop: [] })) times.push(performance.now());
      return times.slice(1).map((t, i) => t - times[i]);
    };
    await gaps(Math.min(8, o.plan.decodeSteps));
    await llm.generate(prefillPrompt, { maxNewTokens: 1, stop: [] });
    const fig = { decodeMs: [], prefillMs: [] };
    for (let r = 0; r < o.rounds; r++) {
      fig.decodeMs.push(median(await gaps(o.plan.decodeSteps)));
      const t0 = performance.now();
      await llm.generate(prefillPrompt, { maxNewTokens: 1, stop: [] });
      fig.prefillMs.push(performance.now() - t0);
      say(dtype + " round " + r + ": decode " + fig.decodeMs.at(-1).toFixed(1) + " ms/token, prefill " + fig.prefillMs.at(-1).toFixed(0) + " ms");
    }
    out[dtype] = fig;
    llm.dispose();
  }
  wg.shutdown();
  return out;
};
window.ready = true;
</script>`;

/** A static server with cross-origin isolation: the page, wllama's ESM build, and GGUF files by name. */
export function serve(files: Record<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp", "Cross-Origin-Resource-Policy": "same-origin", "Cache-Control": "no-store" };
    if (url.pathname === "/" || url.pathname === "/webgrad.html") {
      res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(url.pathname === "/" ? PAGE : WEBGRAD_PAGE);
      return;
    }
    let path: string | null = null;
    if (url.pathname.includes("..")) path = null;
    else if (url.pathname.startsWith("/wllama/")) path = join(WLLAMA, url.pathname.slice("/wllama/".length));
    else if (url.pathname.startsWith("/dist/") || url.pathname.startsWith("/node_modules/@huggingface/")) path = join(ROOT, url.pathname.slice(1));
    else if (url.pathname.startsWith("/model/")) path = files[url.pathname.slice("/model/".length)] ?? null;
    if (!path || !existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404, headers).end();
      return;
    }
    const type = path.endsWith(".js") || path.endsWith(".mjs") ? "text/javascript" : path.endsWith(".wasm") ? "application/wasm" : "application/octet-stream";
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

/** What the webgrad page returns: per dtype, per-round decode medians and prefill times (ms). */
export interface WebgradPageResult { threads: number; kernels: string; f32?: { decodeMs: number[]; prefillMs: number[] }; int8?: { decodeMs: number[]; prefillMs: number[] } }
export interface WebgradPageJob { threads: number; rounds: number; dtypes: ("f32" | "int8")[]; plan: unknown }

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
export async function runWllama(files: Record<string, string>, jobs: (WllamaJob | ({ webgrad: true } & WebgradPageJob))[], log: (s: string) => void): Promise<(WllamaResult | WebgradPageResult | { error: string })[]> {
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
  const results: (WllamaResult | WebgradPageResult | { error: string })[] = [];
  try {
    for (const job of jobs) {
      const page = await context.newPage();
      page.on("pageerror", (e) => log(`[wllama page] ${e.message}`));
      page.on("console", (m) => m.text().startsWith("[progress] ") && log(`[chromium] ${m.text().slice(11)}`));
      page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && log(`[wllama console] ${m.text()}`));
      page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && log(`[wllama http ${r.status()}] ${r.url()}`));
      try {
        const isWebgrad = "webgrad" in job;
        await page.goto(`${server.origin}/${isWebgrad ? "webgrad.html" : ""}`);
        await page.waitForFunction("window.ready === true", undefined, { timeout: 30_000 });
        const iso = await page.evaluate("crossOriginIsolated");
        if (!iso) throw new Error("the page is not cross-origin isolated (COOP/COEP headers missing)");
        results.push(isWebgrad
          ? ((await page.evaluate(`webgradBench(${JSON.stringify(job)})`)) as WebgradPageResult)
          : ((await page.evaluate(`wllamaBench(${JSON.stringify({ ...job, model: `/model/${(job as WllamaJob).model}` })})`)) as WllamaResult));
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
