// What every zoo entry's `train`, `eval` and `bench` share: where the
// weights go and how they come back (safetensors, PyTorch names, the recipe's
// settings in the file's metadata so `eval` rebuilds the same model and test
// set), and the timing loop behind `bench`. Each entry supplies only what is
// its own: the model, one training step, one inference, the figure.

import { existsSync } from "node:fs";
import { saveSafetensors, loadSafetensors } from "../io/checkpoint.js";
import type { StoredTensor } from "../io/safetensors.js";
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor.js";
import type { Optimizer } from "../optim/optimizer.js";
import { tensor } from "../ops/creation.js";
import { crossEntropy } from "../nn/functional.js";
import { noGrad } from "../autograd.js";
import { scope } from "../scope.js";
import { rng } from "../random.js";
import type { CliContext } from "./command.js";
import type { BatchSource } from "../train.js";
import { quantizeDynamic, type QuantizableLayer } from "../deploy.js";

/**
 * The weights file of an entry: `--weights FILE`, or `<entry>.safetensors` in the current folder.
 * @example
 * weightsPath({ values: {} }, "logistic"); // "logistic.safetensors"
 * weightsPath({ values: { weights: "w.safetensors" } }, "logistic"); // "w.safetensors"
 */
export function weightsPath(ctx: Pick<CliContext, "values">, entry: string): string {
  return (ctx.values.weights as string | undefined) ?? `${entry}.safetensors`;
}

/**
 * Saves a state dict with the recipe's settings (JSON strings) in the metadata, and says where.
 * @example
 * const ctx = { values: {}, log: console.log };
 * await saveEntryWeights(ctx, "mlp-tabular", new wg.nn.Linear(4, 2).stateDict(), { seed: 0 }); // "mlp-tabular.safetensors"
 */
export async function saveEntryWeights(ctx: Pick<CliContext, "values" | "log">, entry: string, tensors: Record<string, Tensor>, settings: Record<string, unknown> = {}): Promise<string> {
  const path = weightsPath(ctx, entry);
  await saveSafetensors(path, tensors, { format: "pt", webgrad_entry: entry, webgrad_settings: JSON.stringify(settings) });
  ctx.log(`weights saved to ${path} (\`webgrad eval ${entry}${ctx.values.weights ? ` --weights ${path}` : ""}\` scores them again)`);
  return path;
}

/**
 * The weights file's path; a missing file is an error naming the command that makes it.
 * @example
 * requireWeights({ values: {} }, "gpt"); // throws "gpt: no weights at gpt.safetensors: train them first with `webgrad train gpt`"
 */
export function requireWeights(ctx: Pick<CliContext, "values">, entry: string, alternative = "pass --weights FILE"): string {
  const path = weightsPath(ctx, entry);
  if (!existsSync(path)) {
    throw new Error(`${entry}: no weights at ${path}: train them first with \`webgrad train ${entry}${ctx.values.weights ? ` --weights ${path}` : ""}\`, or ${alternative}`);
  }
  return path;
}

/** A weights file read back: its tensors, the settings it was trained with, and its path. */
export interface EntryWeights {
  path: string;
  tensors: Record<string, StoredTensor>;
  settings: Record<string, any>;
  metadata: Record<string, string>;
}

/**
 * Reads an entry's weights file (see requireWeights for a missing one).
 * @example
 * const ctx = { values: {}, log: console.log };
 * await saveEntryWeights(ctx, "mlp-tabular", new wg.nn.Linear(4, 2).stateDict(), { seed: 0 });
 * const { tensors, settings } = await loadEntryWeights(ctx, "mlp-tabular");
 * Object.keys(tensors).sort(); // ["bias", "weight"]
 * settings; // { seed: 0 }
 */
export async function loadEntryWeights(ctx: Pick<CliContext, "values">, entry: string): Promise<EntryWeights> {
  const path = requireWeights(ctx, entry);
  const { tensors, metadata } = await loadSafetensors(path);
  if (metadata.webgrad_entry && metadata.webgrad_entry !== entry) {
    throw new Error(`${entry}: ${path} holds the weights of "${metadata.webgrad_entry}", not "${entry}"`);
  }
  let settings: Record<string, any> = {};
  try {
    settings = metadata.webgrad_settings ? JSON.parse(metadata.webgrad_settings) : {};
  } catch {
    throw new Error(`${entry}: ${path} has unreadable settings in its metadata`);
  }
  return { path, tensors, settings, metadata };
}

/**
 * Builds a model with `build(settings)` and loads an entry's weights file into it.
 * @example
 * const ctx = { values: {}, log: console.log };
 * await saveEntryWeights(ctx, "tiny", new wg.nn.Linear(4, 2).stateDict(), { inputs: 4 });
 * const { model, settings } = await loadEntryModel(ctx, "tiny", (s) => new wg.nn.Linear(s.inputs, 2));
 * model.forward(wg.zeros([3, 4])).shape; // [3, 2]
 */
export async function loadEntryModel<M extends Module>(ctx: Pick<CliContext, "values" | "log">, entry: string, build: (settings: Record<string, any>) => M): Promise<{ model: M; settings: Record<string, any>; path: string }> {
  const w = await loadEntryWeights(ctx, entry);
  const model = build(w.settings);
  try {
    model.loadStateDict(w.tensors);
  } catch (e) {
    throw new Error(`${entry}: ${w.path} does not fit the model: ${(e as Error).message}`);
  }
  ctx.log(`loaded ${w.path}`);
  return { model, settings: w.settings, path: w.path };
}

/** What `bench` times: one training step and one inference of `batchSize` samples. */
export interface BenchSpec {
  batchSize: number;
  /** Forward, backward and the optimizer's step on one batch; returns the loss. */
  trainStep(): Tensor;
  /** One forward pass of a batch without the tape; returns the output (or a promise of it, for inference that reads tokens back as it goes). */
  infer(): Tensor | Promise<Tensor>;
  /** What a "sample" is, for the rate (default "samples"). */
  unit?: string;
}

/** An `async` function (its temporaries cannot live in a scope, which ends at its first await). */
const isAsync = (fn: () => unknown): boolean => fn.constructor?.name === "AsyncFunction";

/**
 * Median and best milliseconds of `fn` over `steps` runs after `warmup`
 * runs, each in its own scope and counted until its result is read back
 * (`await data()`), so a GPU's queued work is inside the time.
 */
export async function timeSteps(fn: () => Tensor | Promise<Tensor>, steps: number, warmup: number): Promise<{ median: number; best: number }> {
  const ms: number[] = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const out = isAsync(fn) ? await fn() : scope(fn as () => Tensor); // an async fn frees its own temporaries (a scope cannot span awaits)
    await out.data();
    out.dispose();
    if (i >= warmup) ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: ms[ms.length >> 1], best: ms[0] };
}

/**
 * `webgrad bench <entry>`: times the training step and inference at the
 * recipe's batch size (`--bench-steps N`, default 10, after 3 warm-up steps)
 * and prints a line each, with the engine's summary.
 * @example
 * const ctx = { values: { "bench-steps": "2" }, num: (v) => (v === undefined ? undefined : Number(v)), log: console.log, engine: "cpu" };
 * await runBench(ctx, "net", classifierBench(net, opt, [4, 1, 8, 8], 10)); // logs "bench net train step: median … ms …"
 */
export async function runBench(ctx: CliContext, entry: string, spec: BenchSpec): Promise<void> {
  const steps = Math.max(1, ctx.num(ctx.values["bench-steps"], "bench-steps") ?? 10), warmup = 3, unit = spec.unit ?? "samples";
  const line = (what: string, t: { median: number; best: number }) =>
    `bench ${entry} ${what}: median ${t.median.toFixed(2)} ms, best ${t.best.toFixed(2)} ms per batch of ${spec.batchSize}, ${Math.round((spec.batchSize * 1000) / t.median)} ${unit}/s`;
  ctx.log(line("train step", await timeSteps(spec.trainStep, steps, warmup)));
  ctx.log(line("inference", await timeSteps(isAsync(spec.infer) ? spec.infer : () => noGrad(spec.infer as () => Tensor), steps, warmup)));
  ctx.log(`(${steps} steps after ${warmup} warm-up; engine: ${ctx.engine ?? "unknown"})`);
}

/**
 * A bench for a classifier of float inputs: random inputs of `shape` (batch
 * first), random labels below `classes`, cross-entropy, the given optimizer.
 * @example
 * const bench = classifierBench(net, new wg.optim.AdamW(net.parameters()), [4, 1, 8, 8], 10);
 * bench.batchSize; // 4
 * bench.infer().shape; // [4, 10]
 */
export function classifierBench(model: Module, opt: Optimizer, shape: number[], classes: number, seed = 0): BenchSpec {
  const random = rng(seed), n = shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, () => random() * 2 - 1);
  const y = Int32Array.from({ length: shape[0] }, () => Math.floor(random() * classes));
  const forward = (): Tensor => model.forward(tensor(x, { shape }));
  return {
    batchSize: shape[0],
    trainStep: () => lossStep(opt, () => crossEntropy(forward(), tensor(y, { dtype: "int32" }))),
    infer: forward,
  };
}

/**
 * One optimizer step on `loss()`: zero the gradients, backward, step (after `beforeStep`, e.g. clipping); returns the loss.
 * @example trainStep: () => lossStep(opt, () => nn.mseLoss(model.forward(x), y))
 */
export function lossStep(opt: Optimizer, loss: () => Tensor, beforeStep?: () => void): Tensor {
  opt.zeroGrad();
  const l = loss();
  l.backward();
  beforeStep?.();
  opt.step();
  return l;
}

/** A percentage with two decimals. @example pct(0.98765); // "98.77%" */
export const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

/**
 * `steps` training steps of batches made by `next()` (random strings, random
 * windows of a text: no epochs), as fit()'s source: rounds of `every` steps are
 * its epochs, so fit logs the round's mean loss, validates and calls the
 * callbacks once a round (the last round may be shorter). A schedule over the
 * run is LearningRateSchedule.cosine(steps, …): fit counts steps across rounds.
 * @example
 * const { source, epochs } = stepRounds(25, 10, () => ({ x: wg.randn([8, 4]), y: wg.zeros([8, 1]), size: 8 }));
 * epochs; // 3 (rounds of 10, 10 and 5 steps)
 * const model = new wg.nn.Linear(4, 1);
 * await wg.fit(model, source, { optimizer: new wg.optim.SGD(model.parameters(), { lr: 0.01 }), loss: "mse", epochs });
 */
export function stepRounds<B extends { size: number }>(steps: number, every: number, next: () => B): { source: BatchSource<B>; epochs: number } {
  let done = 0;
  const length = Math.min(every, steps);
  const source: BatchSource<B> = {
    length,
    *[Symbol.iterator]() {
      for (let i = 0; i < length && done < steps; i++) {
        done++;
        yield next();
      }
    },
  };
  return { source, epochs: Math.ceil(steps / length) };
}

/** The last step of round `epoch` (1-based) of `every` steps in a run of `steps`. @example roundEnd(3, 100, 250); // 250 */
export const roundEnd = (epoch: number, every: number, steps: number): number => Math.min(epoch * Math.min(every, steps), steps);

// --- issue 16 item 2: int8 inference figures on the int8 kernels (quantizeDynamic) ---

/** What int8Comparison measured. */
export interface Int8Figures {
  /** The f32 model's score and the int8 copy's (accuracy, or a loss: whatever `score` returns). */
  f32: number;
  int8: number;
  /** Best milliseconds of one inference batch for each, timed alternately (best of `rounds`). */
  f32Ms: number;
  int8Ms: number;
  /** The layer kinds quantised. */
  layers: string[];
  /** The timed batch's size, where the entry records it. */
  batch?: number;
}

/**
 * int8 inference beside f32: `build()` makes a second model holding the same
 * float weights, quantizeDynamic swaps its Linear (and, with `layers`,
 * Conv2d) layers for the int8 ones, both are scored with `score`, and one
 * inference batch (`infer`) is timed on each, alternately, best of `rounds`
 * (so a busy machine slows both alike). The copy is released after.
 * @example
 * const make = () => { wg.manualSeed(1); return new wg.nn.Sequential(new wg.nn.Linear(8, 4)); };
 * const x = wg.randn([16, 8]).keep();
 * const r = await int8Comparison(make(), make, async (m) => m.forward(x).abs().mean().item(), (m) => m.forward(x), { rounds: 2 });
 * r.layers; // ["Linear"]
 * Math.abs(r.int8 - r.f32) < 0.05; // true
 */
export async function int8Comparison<M extends Module>(f32: M, build: () => M, score: (m: M) => Promise<number>, infer: (m: M) => Tensor,
                                                      opts: { layers?: QuantizableLayer[]; rounds?: number } = {}): Promise<Int8Figures> {
  const layers = opts.layers ?? ["Linear"];
  const q = quantizeDynamic(build(), { layers });
  const wasTraining = f32.training;
  f32.eval();
  const f32Score = await score(f32), int8Score = await score(q);
  const best = [Infinity, Infinity];
  for (let r = 0; r < (opts.rounds ?? 10) + 1; r++) {
    for (const [i, m] of [f32, q].entries()) {
      const t0 = performance.now();
      const out = scope(() => noGrad(() => infer(m)));
      await out.data();
      out.dispose();
      if (r > 0) best[i] = Math.min(best[i], performance.now() - t0); // round 0 warms up
    }
  }
  q.dispose();
  if (wasTraining) f32.train();
  return { f32: f32Score, int8: int8Score, f32Ms: best[0], int8Ms: best[1], layers };
}

/**
 * The two lines a zoo entry prints for int8Comparison: both scores (with the
 * difference) and both inference times (with the speed-up).
 * @example int8Lines({ f32: 0.9805, int8: 0.98, f32Ms: 9.4, int8Ms: 4.7, layers: ["Linear"] }, "accuracy", 500)[1]; // "inference of a batch of 500: f32 9.40 ms, int8 4.70 ms (int8 speed-up 2.00×)"
 */
export function int8Lines(r: Int8Figures, what: "accuracy" | "loss", batch: number): string[] {
  const show = (v: number) => (what === "accuracy" ? pct(v) : v.toFixed(4));
  const diff = what === "accuracy" ? `${((r.int8 - r.f32) * 100).toFixed(2)} points` : `${(((r.int8 - r.f32) / r.f32) * 100).toFixed(2)}%`;
  return [
    `int8 (${r.layers.join(" and ")} layers on the int8 kernels, wg.quantizeDynamic): ${what} ${show(r.int8)} against f32 ${show(r.f32)} (${diff})`,
    `inference of a batch of ${batch}: f32 ${r.f32Ms.toFixed(2)} ms, int8 ${r.int8Ms.toFixed(2)} ms (int8 speed-up ${(r.f32Ms / r.int8Ms).toFixed(2)}×)`,
  ];
}
