// The llm group of `npm run bench` (issue 17's speed section; --only llm runs
// it alone): a SmolLM-135M-shaped Llama with the bench's seeded random weights
// (bench/llm-weights.ts), run by webgrad in Node (bench/llm-child.ts, one
// process per thread count) and by wllama in headless Chromium
// (bench/wllama.ts) from GGUF F32 and Q8_0 files written by bench/gguf.ts.
//
// Rows: decode tokens/s at batch 1 after a prompt (median of the per-token
// gaps of a streamed greedy continuation, median over rounds), f32 and int8
// (wllama: F32 and Q8_0), 1 and 2 threads, each against the roofline
// copy bandwidth ÷ weight bytes read per token; prefill tokens/s; LoRA
// fine-tuning tokens/s and peak memory (webgrad only: wllama does not train).
// Before any time counts, webgrad's f32 logprobs of a greedy continuation are
// compared with llama.cpp's on the F32 file: both must compute the same function.
//
// Unlike the other workloads, each engine configuration runs all its rounds
// in a row (a 135M model takes seconds to load, and Chromium holds the peer),
// so a noisy neighbour is not spread evenly: the load average is printed.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { llmPlan, parameterCount, promptText, weightBytesPerToken, type LlmPlan } from "./llm-weights.js";
import { writeLlamaGguf, type GgufType } from "./gguf.js";
import { runWllama, wllamaUnavailable, type WllamaJob, type WllamaResult, type WebgradPageJob, type WebgradPageResult } from "./wllama.js";
import { measureBandwidth, type BandwidthResult } from "./ceiling.js";
import type { LlmChildJob, LlmChildResult } from "./llm-child.js";

export interface LlmRow {
  /** "decode f32", "decode int8", "prefill f32", "prefill int8", "lora". */
  task: string;
  /** webgrad in Node, webgrad-chromium in the page beside wllama's, wllama in Chromium. */
  engine: "webgrad" | "webgrad-chromium" | "wllama";
  threads: number;
  /** The weights' format: webgrad f32 / int8, wllama F32 / Q8_0. */
  format: string;
  tokensPerSec?: number;
  /** Decode: median ms per token; prefill: median ms for the prompt; lora: median ms per step. */
  medianMs?: number;
  roundsMs?: number[];
  /** Decode: weight bytes read per token and tokensPerSec ÷ (copy GB/s ÷ those bytes). */
  weightBytes?: number;
  ofRoofline?: number;
  /** llama.cpp's own figure (timings.predicted_per_second / prompt_per_second), beside the page's wall clock. */
  selfReported?: number;
  memory?: { poolHighBytes: number; wasmMemoryBytes: number; maxRssBytes: number };
  note?: string;
  error?: string;
}

export interface LlmReport {
  plan: LlmPlan;
  parameters: number;
  /** memory.copy bandwidth (read + written, GB/s) at 1 thread from the bench's ceilings; the roofline's numerator where bandwidth below is missing. */
  copyGBps: number;
  /** hk2's measureBandwidth at each thread count, measured in this run: each row's roofline uses its thread count's copyGBps. */
  bandwidth: BandwidthResult[];
  /** How webgrad's and llama.cpp's logprobs of the same greedy continuation agree (F32 weights), or why not compared. */
  check: { tokensCompared: number; maxAbsDiff: number; ok: boolean; detail: string } | { skipped: string };
  rows: LlmRow[];
  wllama: { version: string; where: string } | { skipped: string };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const childScript = fileURLToPath(new URL("./llm-child.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The WebGPU LoRA row's whole budget (start, upload, a warm-up step and a timed one) before it is called off. */
const WEBGPU_LORA_LIMIT_MS = 6 * 60_000;

function runChild(job: LlmChildJob, log: (s: string) => void, limitMs = 30 * 60_000): Promise<LlmChildResult> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    // as run.ts does for the GPU bench: Dawn's Vulkan loader reads these at process start
    const icd = "/usr/lib/chromium/vk_swiftshader_icd.json";
    if (job.backend === "webgpu" && !env.VK_ICD_FILENAMES && existsSync(icd) && !existsSync("/dev/nvidia0") && !existsSync("/dev/dri")) {
      env.VK_ICD_FILENAMES = icd;
      env.LD_LIBRARY_PATH = ["/usr/lib/chromium", env.LD_LIBRARY_PATH].filter(Boolean).join(":");
    }
    const p = spawn(process.execPath, ["--experimental-wasm-relaxed-simd", childScript, JSON.stringify(job)], { stdio: ["ignore", "pipe", "pipe"], env });
    const timer = setTimeout(() => {
      log(`llm child (${job.backend ?? "wasm"}, ${job.threads}t) still running after ${limitMs / 1000} s: stopped`);
      p.kill("SIGKILL");
    }, limitMs);
    p.on("exit", () => clearTimeout(timer));
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => String(d).trimEnd().split("\n").forEach((l) => log(l)));
    p.on("exit", (code) => {
      const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
      resolve(line ? JSON.parse(line) : { ok: false, threads: job.threads, error: code === null ? `did not finish within ${limitMs / 1000} s` : `llm child exited with code ${code} and no result` });
    });
  });
}

/** The GGUF files of this plan, written once into the OS temp folder and reused while the plan is unchanged. */
function ggufFiles(plan: LlmPlan, log: (s: string) => void): Record<string, string> {
  const key = createHash("sha256").update(JSON.stringify(plan.config) + GGUF_CACHE_VERSION).digest("hex").slice(0, 12);
  const dir = join(tmpdir(), "webgrad-bench-llm");
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const type of ["F32", "Q8_0"] as GgufType[]) {
    const path = join(dir, `${key}-${type}.gguf`);
    if (!existsSync(path)) {
      const t0 = performance.now();
      const size = writeLlamaGguf(`${path}.tmp`, plan.config, type);
      renameSync(`${path}.tmp`, path);
      log(`wrote ${path} (${(size / 2 ** 20).toFixed(1)} MiB, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    files[type] = path;
  }
  return files;
}
/** Bumped when bench/gguf.ts or the weights change what a file holds, so cached files are rewritten. */
const GGUF_CACHE_VERSION = "gguf-v1";

function wllamaVersion(): string {
  try {
    return JSON.parse(readFileSync(join(ROOT, "node_modules/@wllama/wllama/package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/** webgrad's logprobs against llama.cpp's at each generated position (top 5 of llama.cpp's, which webgrad's top 10 must hold). */
function compareLogprobs(mine: { id: number; logprob: number }[][] | undefined, theirs: any): LlmReport["check"] {
  const content = theirs?.content as { id: number; top_logprobs: { id: number; logprob: number }[] }[] | undefined;
  if (!mine || !content) return { skipped: "no logprobs from one side" };
  let maxAbsDiff = 0, tokens = 0;
  const problems: string[] = [];
  for (let i = 0; i < Math.min(mine.length, content.length); i++) {
    tokens++;
    for (const t of content[i].top_logprobs.slice(0, 5)) {
      const m = mine[i].find((x) => x.id === t.id);
      if (!m) {
        problems.push(`position ${i}: llama.cpp's token ${t.id} (logprob ${t.logprob.toFixed(4)}) is not in webgrad's top 10`);
        continue;
      }
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(m.logprob - t.logprob));
    }
  }
  // f32 sums in different orders through 30 layers: up to ~2e-3 in a logprob (1.8e-3 seen on the 135M shape); the q/k layout error moved them by 9e-2 on the quick model
  const ok = problems.length === 0 && maxAbsDiff < 5e-3;
  return { tokensCompared: tokens, maxAbsDiff, ok, detail: problems.length ? problems.slice(0, 3).join("; ") : `max |Δ logprob| ${maxAbsDiff.toExponential(2)} over the top 5 of ${tokens} positions` };
}

export async function runLlmGroup(opts: { quick: boolean; rounds: number; copyGBps: number; engines: Set<string>; webgpu: boolean; log: (s: string) => void }): Promise<LlmReport> {
  const { quick, rounds, copyGBps, log } = opts;
  const plan = llmPlan(quick);
  const c = plan.config;
  const threadCounts = [1, 2];
  // copy bandwidth at each thread count, in this run (buffers of 64 MiB a thread, ≫ L2; 16 MiB in quick mode)
  const bandwidth: BandwidthResult[] = [];
  for (const t of threadCounts) {
    try {
      bandwidth.push(await measureBandwidth(t, quick ? 16 : 64, quick ? 3 : 7));
    } catch (e) {
      log(`  copy bandwidth at ${t} threads not measured: ${(e as Error).message}`);
    }
  }
  const report: LlmReport = { plan, parameters: parameterCount(c), copyGBps, bandwidth, check: { skipped: "not run" }, rows: [], wllama: { skipped: "not asked for (--engines)" } };
  const copyAt = (threads: number) => bandwidth.find((b) => b.threads === threads)?.copyGBps ?? copyGBps;
  const roofline = (tokensPerSec: number, bytes: number, threads: number) => tokensPerSec / ((copyAt(threads) * 1e9) / bytes);
  let mine: LlmChildResult["checkLogprobs"];

  // webgrad, one process per thread count; LoRA at 2 threads
  if (opts.engines.has("webgrad")) {
    for (const threads of threadCounts) {
      const res = await runChild({ plan, threads, rounds, dtypes: ["f32", "int8"], prefill: true, check: threads === 1, lora: threads === 2 }, (l) => log(`  ${l}`));
      if (!res.ok) {
        report.rows.push({ task: "decode f32", engine: "webgrad", threads, format: "f32", error: res.error?.split("\n")[0] });
        continue;
      }
      if (res.checkLogprobs) mine = res.checkLogprobs;
      for (const dtype of ["f32", "int8"] as const) {
        const f = res[dtype];
        if (!f) continue;
        const ms = median(f.decodeMs), tps = 1000 / ms, bytes = weightBytesPerToken(c, dtype);
        report.rows.push({ task: `decode ${dtype}`, engine: "webgrad", threads, format: dtype, tokensPerSec: tps, medianMs: ms, roundsMs: f.decodeMs, weightBytes: bytes, ofRoofline: roofline(tps, bytes, threads) });
        if (f.prefillMs.length) {
          const pm = median(f.prefillMs);
          report.rows.push({ task: `prefill ${dtype}`, engine: "webgrad", threads, format: dtype, tokensPerSec: (plan.prefillTokens / pm) * 1000, medianMs: pm, roundsMs: f.prefillMs });
        }
      }
      if (res.lora) {
        if ("error" in res.lora) {
          // not there yet is reported, not a failure; a LoRA step that throws is
          const absent = res.lora.error.startsWith("wg.lora.attach is not in this tree");
          report.rows.push({ task: "lora", engine: "webgrad", threads, format: "f32 + LoRA r 8 (q_proj, v_proj)", ...(absent ? { note: res.lora.error } : { error: res.lora.error }) });
        }
        else {
          const sm = median(res.lora.stepMs);
          report.rows.push({ task: "lora", engine: "webgrad", threads, format: "f32 + LoRA r 8 (q_proj, v_proj)", tokensPerSec: (plan.loraSeq / sm) * 1000, medianMs: sm, roundsMs: res.lora.stepMs,
            memory: { poolHighBytes: res.lora.poolHighBytes, wasmMemoryBytes: res.lora.wasmMemoryBytes, maxRssBytes: res.lora.maxRssBytes },
            note: `${res.lora.trainable} trainable of ${res.lora.total} parameters; loss ${res.lora.loss0.toFixed(3)} → ${res.lora.lossLast.toFixed(3)}` });
        }
      }
    }
  }

  // LoRA on WebGPU (--llm-webgpu): in Node with the npm webgpu package; on this VM that is SwiftShader, a CPU,
  // whose 1 GiB buffer limit the 135M model's training step outgrows after minutes (docs/speed-notes.md), so not by default
  if (opts.engines.has("webgrad") && opts.webgpu) {
    const res = await runChild({ plan: { ...plan, loraSteps: 1 }, threads: 1, rounds: 1, dtypes: [], prefill: false, check: false, lora: true, backend: "webgpu" },
      (l) => log(`  ${l}`), WEBGPU_LORA_LIMIT_MS);
    const fmtName = `f32 + LoRA r 8 (q_proj, v_proj), WebGPU${res.adapter ? ` (${res.adapter})` : ""}`;
    // the software adapter not coping is reported, not a failure
    if (!res.ok || !res.lora) report.rows.push({ task: "lora webgpu", engine: "webgrad", threads: 1, format: fmtName, note: res.error?.split("\n")[0] ?? "no result" });
    else if ("error" in res.lora) report.rows.push({ task: "lora webgpu", engine: "webgrad", threads: 1, format: fmtName, note: res.lora.error });
    else {
      const sm = median(res.lora.stepMs);
      report.rows.push({ task: "lora webgpu", engine: "webgrad", threads: 1, format: fmtName, tokensPerSec: (plan.loraSeq / sm) * 1000, medianMs: sm, roundsMs: res.lora.stepMs,
        memory: { poolHighBytes: res.lora.poolHighBytes, wasmMemoryBytes: res.lora.wasmMemoryBytes, maxRssBytes: res.lora.maxRssBytes },
        note: `${res.lora.trainable} trainable of ${res.lora.total} parameters; loss ${res.lora.loss0.toFixed(3)} → ${res.lora.lossLast.toFixed(3)}` });
    }
  }

  // wllama in headless Chromium, from GGUF files of the same weights
  const why = opts.engines.has("wllama") ? wllamaUnavailable() : "not asked for (--engines)";
  if (why) report.wllama = { skipped: why };
  else {
    report.wllama = { version: wllamaVersion(), where: "headless Chromium (wasm64 + JSPI build; COOP/COEP page)" };
    const files = ggufFiles(plan, log);
    const job = (model: GgufType, threads: number): WllamaJob => ({
      model, threads, rounds, nCtx: Math.max(1024, plan.prefillTokens + 64), nBatch: plan.prefillTokens,
      decodePrompt: promptText(plan.promptTokens, 7), decodeSteps: plan.decodeSteps, prefillPrompt: promptText(plan.prefillTokens, 8),
      checkPrompt: promptText(plan.promptTokens, 7), checkTokens: model === "F32" && threads === 1 ? plan.checkTokens : 0,
    });
    // per thread count: webgrad in the page, then wllama F32 and Q8_0, one fresh page each
    const pageJob = (threads: number): { webgrad: true } & WebgradPageJob => ({ webgrad: true, threads, rounds, dtypes: ["f32", "int8"], plan });
    const jobs = threadCounts.flatMap((t) => [...(opts.engines.has("webgrad") ? [pageJob(t)] : []), job("F32", t), job("Q8_0", t)]);
    const results = await runWllama({ F32: files.F32, Q8_0: files.Q8_0 }, jobs, (l) => log(`  ${l}`));
    jobs.forEach((jb, i) => {
      const r = results[i];
      if ("webgrad" in jb) {
        if ("error" in r) {
          report.rows.push({ task: "decode f32", engine: "webgrad-chromium", threads: jb.threads, format: "f32", error: r.error });
          return;
        }
        const wr = r as WebgradPageResult;
        for (const dtype of ["f32", "int8"] as const) {
          const f = wr[dtype];
          if (!f) continue;
          const ms = median(f.decodeMs), tps = 1000 / ms, bytes = weightBytesPerToken(c, dtype), pm = median(f.prefillMs);
          const note = wr.threads !== jb.threads ? `asked for ${jb.threads} threads, ran ${wr.threads}` : undefined;
          report.rows.push({ task: `decode ${dtype}`, engine: "webgrad-chromium", threads: jb.threads, format: dtype, tokensPerSec: tps, medianMs: ms, roundsMs: f.decodeMs, weightBytes: bytes, ofRoofline: roofline(tps, bytes, jb.threads), note });
          report.rows.push({ task: `prefill ${dtype}`, engine: "webgrad-chromium", threads: jb.threads, format: dtype, tokensPerSec: (plan.prefillTokens / pm) * 1000, medianMs: pm, roundsMs: f.prefillMs, note });
        }
        return;
      }
      const j = jb as WllamaJob;
      const dtype = j.model === "F32" ? "f32" : "int8";
      if ("error" in r) {
        report.rows.push({ task: `decode ${dtype}`, engine: "wllama", threads: j.threads, format: j.model, error: r.error });
        return;
      }
      const w = r as WllamaResult & { checkLogprobs?: unknown };
      const note = w.threads !== j.threads || (j.threads > 1 && !w.multithread) ? `asked for ${j.threads} threads, ran ${w.threads}${w.multithread ? "" : " (single-thread)"}` : undefined;
      const ms = median(w.decode.map((d) => d.medianMs)), tps = 1000 / ms, bytes = weightBytesPerToken(c, j.model === "F32" ? "f32" : "q8_0");
      report.rows.push({ task: `decode ${dtype}`, engine: "wllama", threads: j.threads, format: j.model, tokensPerSec: tps, medianMs: ms, roundsMs: w.decode.map((d) => d.medianMs),
        weightBytes: bytes, ofRoofline: roofline(tps, bytes, j.threads), selfReported: median(w.decode.map((d) => d.timings?.predicted_per_second ?? NaN)), note });
      const pm = median(w.prefill.map((p) => p.wallMs));
      const promptN = w.prefill[0]?.timings?.prompt_n;
      report.rows.push({ task: `prefill ${dtype}`, engine: "wllama", threads: j.threads, format: j.model, tokensPerSec: (plan.prefillTokens / pm) * 1000, medianMs: pm, roundsMs: w.prefill.map((p) => p.wallMs),
        selfReported: median(w.prefill.map((p) => p.timings?.prompt_per_second ?? NaN)),
        note: [note, promptN !== plan.prefillTokens ? `llama.cpp counted ${promptN} prompt tokens, not ${plan.prefillTokens}` : ""].filter(Boolean).join("; ") || undefined });
      if (j.checkTokens) report.check = compareLogprobs(mine, w.checkLogprobs);
    });
  }
  return report;
}

const fmt = (x: number | undefined, d = 1) => (x === undefined || !Number.isFinite(x) ? "" : x.toFixed(d));

/** The group's table (Markdown), webgrad beside wllama at each thread count. */
export function printLlmReport(r: LlmReport, log: (s: string) => void): void {
  const c = r.plan.config;
  log(`\nllm: Llama ${c.hidden_size} hidden, ${c.num_hidden_layers} layers, ${c.num_attention_heads}/${c.num_key_value_heads} heads (q/kv), head_dim ${c.head_dim}, MLP ${c.intermediate_size}, vocab ${c.vocab_size}, tied embeddings; ` +
    `${(r.parameters / 1e6).toFixed(1)}M parameters, random weights from the bench's generator`);
  log(`  decode: ${r.plan.decodeSteps} greedy tokens after a ${r.plan.promptTokens}-token prompt, median per-token gap; prefill: ${r.plan.prefillTokens} tokens + 1 generated, wall clock; ` +
    `roofline = copy bandwidth (memory.copy, read + written, measured in this run: ${r.bandwidth.length ? r.bandwidth.map((b) => `${b.threads}t ${b.copyGBps.toFixed(1)} GB/s, read-only ${b.readGBps.toFixed(1)} GB/s`).join("; ") : `1t ${r.copyGBps.toFixed(1)} GB/s`}) ÷ weight bytes per token`);
  log(`  wllama: ${"skipped" in r.wllama ? `skipped: ${r.wllama.skipped}` : `${r.wllama.version}, ${r.wllama.where}`}`);
  log(`  same function: ${"skipped" in r.check ? `not compared (${r.check.skipped})` : `${r.check.ok ? "yes" : "NO"}: webgrad f32 vs llama.cpp F32 logprobs of the same greedy continuation, ${r.check.detail}`}`);
  const cell = (row: LlmRow | undefined) => {
    if (!row) return "";
    if (row.error) return `ERROR ${row.error.slice(0, 80)}`;
    const roof = row.ofRoofline !== undefined ? ` (${(row.ofRoofline * 100).toFixed(0)}% of roofline)` : "";
    return `${fmt(row.tokensPerSec)} tok/s${roof}${row.note ? ` [${row.note}]` : ""}`;
  };
  const find = (task: string, engine: string, threads: number) => r.rows.find((x) => x.task === task && x.engine === engine && x.threads === threads);
  const ratio = (a?: LlmRow, b?: LlmRow) => (a?.tokensPerSec && b?.tokensPerSec ? `${(a.tokensPerSec / b.tokensPerSec).toFixed(2)}×` : "");
  // the ratio is taken against webgrad in the same browser where it ran there, else against webgrad in Node
  const inPage = r.rows.some((x) => x.engine === "webgrad-chromium" && !x.error);
  log(`| row | ${[1, 2].map((t) => `webgrad ${t}t (Node) | ${inPage ? `webgrad ${t}t (Chromium) | ` : ""}wllama ${t}t (Chromium) | webgrad ÷ wllama ${t}t`).join(" | ")} |`);
  log(`|---|${[1, 2].map(() => (inPage ? "---|---|---|---" : "---|---|---")).join("|")}|`);
  for (const task of ["decode f32", "decode int8", "prefill f32", "prefill int8"]) {
    const label = task.replace("int8", "int8 (wllama Q8_0)").replace("f32", "f32 (wllama F32)");
    const cells = [1, 2].flatMap((t) => {
      const node = find(task, "webgrad", t), page = find(task, "webgrad-chromium", t), b = find(task, "wllama", t);
      return [cell(node), ...(inPage ? [cell(page)] : []), cell(b), ratio(inPage ? page : node, b)];
    });
    log(`| ${label} | ${cells.join(" | ")} |`);
  }
  for (const row of r.rows.filter((x) => x.task.startsWith("lora"))) {
    const mem = row.memory ? `; peak: pool ${(row.memory.poolHighBytes / 2 ** 20).toFixed(0)} MiB, wasm memory ${(row.memory.wasmMemoryBytes / 2 ** 20).toFixed(0)} MiB, process RSS ${(row.memory.maxRssBytes / 2 ** 20).toFixed(0)} MiB` : "";
    log(`  LoRA fine-tuning, ${r.plan.loraSeq} tokens a step, webgrad ${row.threads}t ${row.format}: ${row.error ? `ERROR: ${row.error}` : !row.tokensPerSec ? `not run: ${row.note}` : `${fmt(row.tokensPerSec)} tok/s (${fmt(row.medianMs, 0)} ms a step)${mem}; ${row.note}`}`);
  }
  if (!r.rows.some((x) => x.task === "lora webgpu")) log(`  LoRA on WebGPU: not run (--llm-webgpu runs it; on a software adapter the 135M model outgrows a 1 GiB buffer limit, see docs/speed-notes.md)`);
  const selfRep = r.rows.filter((x) => x.engine === "wllama" && x.selfReported !== undefined && Number.isFinite(x.selfReported));
  if (selfRep.length) log(`  llama.cpp's own timings (tok/s): ${selfRep.map((x) => `${x.task} ${x.threads}t ${fmt(x.selfReported)}`).join(", ")}`);
}
