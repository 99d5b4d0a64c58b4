// webgrad's side of the llm group (bench/llm.ts), in its own Node process per
// thread count: the bench's Llama through the public API a user writes
// (wg.models.createCausalLM + loadCausalLMWeights, stream / generate, wg.lora),
// nothing private.
//
//   node dist/bench/llm-child.js '<json LlmChildJob>'   → one JSON line (LlmChildResult) on stdout
//
// Decode: llm.stream(prompt, greedy) and the gaps between the tokens it yields
// after the first (the first waits for the prompt's prefill), as a person
// streaming tokens sees them. Prefill: llm.generate(prompt of N tokens,
// { maxNewTokens: 1 }), wall time. Both read every token's logits back to JS.

import v8 from "node:v8";
import * as wg from "../host/index.js";
import { llamaTensors, promptText, type LlmPlan } from "./llm-weights.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

export interface LlmChildJob {
  plan: LlmPlan;
  threads: number;
  rounds: number;
  /** Which measurements: decode/prefill per dtype, the greedy check, LoRA steps. */
  dtypes: ("f32" | "int8")[];
  prefill: boolean;
  check: boolean;
  lora: boolean;
  /** "wasm" (default) or "webgpu" (LoRA only). */
  backend?: "wasm" | "webgpu";
}

export interface DecodeFigures { decodeMs: number[]; prefillMs: number[]; loadMs: number }
export interface LlmChildResult {
  ok: boolean;
  error?: string;
  threads: number;
  isa?: string;
  /** WebGPU: the adapter's description (SwiftShader is a CPU). */
  adapter?: string;
  f32?: DecodeFigures;
  int8?: DecodeFigures;
  checkTokens?: number[];
  /** The 10 most likely tokens and their log-softmax at each generated position (the f32 model). */
  checkLogprobs?: { id: number; logprob: number }[][];
  lora?: { stepMs: number[]; trainable: number; total: number; poolHighBytes: number; wasmMemoryBytes: number; maxRssBytes: number; loss0: number; lossLast: number } | { error: string };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ids = (text: string) => Array.from(text, (ch) => ch.charCodeAt(0));
const log = (s: string) => process.stderr.write(`[llm-child] ${s}\n`);

/**
 * The weights as JS-side stored tensors (what wg.io.loadSafetensors gives): the
 * model copies each into its own parameter, so the engine's memory never holds
 * the weights twice (its high-water mark is the model's, as after a load from disk).
 */
function weights(plan: LlmPlan): Record<string, wg.io.StoredTensor> {
  const out: Record<string, wg.io.StoredTensor> = {};
  for (const t of llamaTensors(plan.config)) out[t.name] = { dtype: "float32", shape: t.shape, data: t.make() };
  return out;
}

function build(plan: LlmPlan, dtype: "f32" | "int8"): { llm: wg.models.LlamaForCausalLM; loadMs: number } {
  const t0 = performance.now();
  const llm = wg.models.createCausalLM(plan.config as unknown as wg.models.LlamaConfig, { dtype: dtype === "int8" ? "int8" : "float32", init: false });
  const w = weights(plan);
  wg.models.loadCausalLMWeights(llm, w);
  return { llm, loadMs: performance.now() - t0 };
}

/**
 * log-softmax of the logits at each position from `from - 1` on (the
 * predictions of the generated tokens), one forward over the whole sequence:
 * the figures the bench compares with llama.cpp's logprobs.
 */
function logprobsAlong(llm: wg.models.LlamaForCausalLM, seq: number[], from: number): { id: number; logprob: number }[][] {
  return wg.scope(() => wg.noGrad(() => {
    const V = llm.config.vocab_size, S = seq.length - 1;
    const logits = llm.forward(wg.tensor(Int32Array.from(seq.slice(0, S)), { dtype: "int32", shape: [1, S] })).reshape(S, V);
    const lp = wg.logSoftmax(logits, -1).dataSync() as Float32Array;
    return Array.from({ length: S - from + 1 }, (_, i) => {
      const row = lp.subarray((from - 1 + i) * V, (from + i) * V);
      return Array.from(row, (logprob, id) => ({ id, logprob })).sort((a, b) => b.logprob - a.logprob).slice(0, 10);
    });
  }));
}

/** Per-token gaps (ms) of one streamed greedy continuation, first token excluded. */
async function decodeGaps(llm: wg.models.LlamaForCausalLM, prompt: number[], steps: number): Promise<number[]> {
  const times: number[] = [];
  for await (const _ of llm.stream(prompt, { maxNewTokens: steps + 1, stop: [] })) times.push(performance.now());
  return times.slice(1).map((t, i) => t - times[i]);
}

async function decodeFigures(plan: LlmPlan, dtype: "f32" | "int8", job: LlmChildJob, res: LlmChildResult): Promise<DecodeFigures> {
  const { llm, loadMs } = build(plan, dtype);
  const fig: DecodeFigures = { decodeMs: [], prefillMs: [], loadMs };
  const decodePrompt = ids(promptText(plan.promptTokens, 7)), prefillPrompt = ids(promptText(plan.prefillTokens, 8));
  if (job.check && dtype === "f32") {
    res.checkTokens = await llm.generate(decodePrompt, { maxNewTokens: plan.checkTokens, stop: [] });
    res.checkLogprobs = logprobsAlong(llm, [...decodePrompt, ...res.checkTokens], decodePrompt.length);
  }
  // one untimed round: V8's tier-up and the first touch of every page
  await decodeGaps(llm, decodePrompt, Math.min(8, plan.decodeSteps));
  if (job.prefill) await llm.generate(prefillPrompt, { maxNewTokens: 1, stop: [] });
  for (let r = 0; r < job.rounds; r++) {
    fig.decodeMs.push(median(await decodeGaps(llm, decodePrompt, plan.decodeSteps)));
    if (job.prefill) {
      const t0 = performance.now();
      await llm.generate(prefillPrompt, { maxNewTokens: 1, stop: [] });
      fig.prefillMs.push(performance.now() - t0);
    }
    log(`${job.threads}t ${dtype} round ${r}: decode ${fig.decodeMs.at(-1)!.toFixed(1)} ms/token${job.prefill ? `, prefill ${fig.prefillMs.at(-1)!.toFixed(0)} ms` : ""}`);
  }
  llm.dispose();
  return fig;
}

/** LoRA r 8 on q_proj, v_proj: steps of next-token loss on one sequence, AdamW on the adapters. */
async function loraFigures(plan: LlmPlan, job: LlmChildJob): Promise<LlmChildResult["lora"]> {
  const lora = (wg as { lora?: typeof wg.lora }).lora;
  if (!lora?.attach) return { error: "wg.lora.attach is not in this tree (issue 17 item 4 not merged)" };
  const { llm } = build(plan, "f32");
  lora.attach(llm, { r: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] });
  llm.train();
  const params = llm.parameters();
  const trainable = params.filter((p) => p.requiresGrad);
  const count = (ps: wg.Tensor[]) => ps.reduce((s, p) => s + p.size, 0);
  const opt = new wg.optim.AdamW(trainable, { lr: 1e-3 });
  const seq = ids(promptText(plan.loraSeq + 1, 9));
  const x = wg.tensor(Int32Array.from(seq.slice(0, -1)), { dtype: "int32", shape: [1, plan.loraSeq] }).keep();
  const y = wg.tensor(Int32Array.from(seq.slice(1)), { dtype: "int32", shape: [1, plan.loraSeq] }).keep();
  const stepMs: number[] = [];
  const losses: number[] = [];
  // one untimed step first (tier-up, first touch of the activations' pages)
  for (let s = 0; s <= plan.loraSteps; s++) {
    const t0 = performance.now();
    const lossT = wg.scope(() => {
      opt.zeroGrad();
      const l = llm.loss(x, y);
      l.backward();
      opt.step();
      return l;
    });
    const loss = (await lossT.data())[0]; // waits for the step (WebGPU runs it asynchronously)
    lossT.dispose();
    if (s > 0) stepMs.push(performance.now() - t0);
    losses.push(loss);
    log(`${job.threads}t lora step ${s}: ${(performance.now() - t0).toFixed(0)} ms, loss ${loss.toFixed(4)}`);
  }
  const m = wg.memory();
  const mem: number = (wg.backend() as { memory?: WebAssembly.Memory }).memory?.buffer.byteLength ?? 0;
  return { stepMs, trainable: count(trainable), total: count(params), poolHighBytes: m.high, wasmMemoryBytes: mem, maxRssBytes: process.resourceUsage().maxRSS * 1024, loss0: losses[0], lossLast: losses.at(-1)! };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as LlmChildJob;
  const res: LlmChildResult = { ok: true, threads: job.threads };
  try {
    const info = await wg.init({ threads: job.threads, verbose: false, ...(job.backend === "webgpu" ? { backend: "webgpu" } : {}) } as wg.InitOptions);
    res.isa = info.kernels;
    if (info.backend === "webgpu") res.adapter = /swiftshader/i.test(info.summary) ? "software (SwiftShader)" : info.summary;
    for (const d of job.dtypes) res[d] = await decodeFigures(job.plan, d, job, res);
    if (job.lora) {
      try {
        res.lora = await loraFigures(job.plan, job);
      } catch (e) {
        let why = String((e as Error)?.message ?? e).split("\n")[0];
        if (job.backend === "webgpu") {
          // webgrad's WebGPU heap is one buffer: the adapter's maxBufferSize / maxStorageBufferBindingSize cap the model plus its training activations
          try {
            why += ` (the WebGPU heap is one buffer, at most ${(wg.memory().limit / 2 ** 30).toFixed(2)} GiB on this adapter)`;
          } catch {}
        }
        res.lora = { error: why };
      }
    }
  } catch (e) {
    res.ok = false;
    res.error = String((e as Error)?.stack ?? e);
  }
  process.stdout.write(JSON.stringify(res) + "\n");
  wg.shutdown();
  process.exit(0);
}

await main();
