// The fortunes-zh corpus and the language-model evaluation that the `gpt` and
// `llama` zoo entries share: the same records, the same 95/5 split by record,
// the same windowed validation loss, so the two entries' figures are measured
// on the same text the same way.

import { existsSync } from "node:fs";
import { readFortunes } from "../data/text.js";
import * as ops from "../ops/index.js";
import { evaluateAsync, fit, LearningRateSchedule } from "../train.js";
import { rng } from "../random.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { ProgressEvent } from "./command.js";
import { stepRounds } from "./common.js";
import { crossEntropy } from "../nn/functional.js";
import type { Module } from "../nn/module.js";
import type { Tensor } from "../tensor.js";

/** The seed's prompt. */
export const SEED_PROMPT = "今天天气很好，阳光明媚。";
/** Debian fortunes-zh's files, in the order they are read. */
export const FORTUNES_ZH = ["chinese", "tang300", "song100"].map((f) => `/usr/share/games/fortunes/${f}`);
/** The 300 Tang poems alone (the `llama` entry's fine-tuning corpus). */
export const TANG300 = "/usr/share/games/fortunes/tang300";

/**
 * The records of fortune files (host/data/text.ts's reader: colour codes,
 * nested ones too, stripped), one list for all the files.
 * @example (await readFortuneRecords(FORTUNES_ZH)).length; // ≈ 5,700 records
 */
export async function readFortuneRecords(paths: string[] = FORTUNES_ZH): Promise<string[]> {
  const missing = paths.find((p) => !existsSync(p));
  if (missing) throw new Error(`fortunes: ${missing} not found (Debian/Ubuntu: apt-get install fortunes-zh)`);
  return (await Promise.all(paths.map((p) => readFortunes(p)))).flat();
}

/**
 * Splits records into training and validation: every `every`-th record
 * (0, every, 2·every, …) goes to validation. Splitting by record keeps a poem
 * whole on one side.
 * @example splitRecords(["a", "b", "c", "d"], 2); // { train: ["b", "d"], validation: ["a", "c"] }
 */
export function splitRecords(records: string[], every = 20): { train: string[]; validation: string[] } {
  return { train: records.filter((_, i) => i % every !== 0), validation: records.filter((_, i) => i % every === 0) };
}

/**
 * The unigram baseline: mean −log p(token) over `evaluate`, p being the token
 * frequencies of `train` (add-one smoothed so no token has probability 0), in nats.
 * @example unigramCrossEntropy(Int32Array.of(0, 0, 1), Int32Array.of(0, 1), 2); // ≈ 0.71
 */
export function unigramCrossEntropy(train: Int32Array, evaluate: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize).fill(1);
  for (const t of train) counts[t]++;
  const total = train.length + vocabSize;
  let nll = 0;
  for (const t of evaluate) nll -= Math.log(counts[t] / total);
  return nll / evaluate.length;
}

/** A causal language model: int32 ids [batch, seq] in, logits [batch, seq, vocab] out. */
export type CausalLanguageModel = Module & { forward(ids: Tensor): Tensor };

/**
 * Mean loss (nats per token) of `model` predicting every token of `ids` after
 * the first, in non-overlapping windows of `context` tokens (each window's
 * first target sees one token of context, as in nanoGPT's evaluation).
 * Returns the loss and how many tokens it averaged over.
 * @example
 * const ids = Int32Array.from({ length: 50 }, (_, i) => i % 7);
 * const { loss, tokens } = await evaluateLoss(gpt, ids, 16); // loss: nats per token
 * tokens; // 49
 */
export async function evaluateLoss(model: CausalLanguageModel, ids: Int32Array, context: number, batch = 16): Promise<{ loss: number; tokens: number }> {
  const windows: number[] = [];
  for (let s = 0; s + 1 < ids.length; s += context) windows.push(s);
  // windows of one batch must share T: the last, shorter window runs alone
  const groups: { starts: number[]; T: number }[] = [];
  for (let w = 0; w < windows.length; w += batch) {
    const byLen = new Map<number, number[]>();
    for (const s of windows.slice(w, w + batch)) {
      const T = Math.min(context, ids.length - 1 - s);
      byLen.set(T, [...(byLen.get(T) ?? []), s]);
    }
    for (const [T, starts] of byLen) groups.push({ starts, T });
  }
  // a batch's size is its tokens, so evaluateAsync's mean is per token
  const batches = {
    length: groups.length,
    *[Symbol.iterator]() {
      for (const { starts, T } of groups) {
        const x = new Int32Array(starts.length * T), y = new Int32Array(starts.length * T);
        starts.forEach((s, b) => {
          x.set(ids.subarray(s, s + T), b * T);
          y.set(ids.subarray(s + 1, s + 1 + T), b * T);
        });
        yield { x: ops.tensor(x, { dtype: "int32", shape: [starts.length, T] }), y: ops.tensor(y, { dtype: "int32" }), size: starts.length * T };
      }
    },
  };
  // the loss as a function, not the name: a name would also read every logit back for an accuracy
  const { loss } = await evaluateAsync(model, batches, {
    forward: (m, b) => {
      const logits = (m as CausalLanguageModel).forward(b.x);
      return logits.reshape(b.size, logits.shape[logits.shape.length - 1]);
    },
    loss: (logits, b) => crossEntropy(logits, b.y),
  });
  return { loss, tokens: groups.reduce((n, g) => n + g.starts.length * g.T, 0) };
}

/** How trainOnWindows trains. */
export interface WindowTrainOptions {
  steps: number;
  batchSize: number;
  /** Tokens per window. */
  context: number;
  /** Seeds the windows' positions (rng(seed + 7)). */
  seed: number;
  /** One optimizer, or several stepped together (weight decay on matrices only). */
  optimizer: Optimizer | Optimizer[];
  /** Linear warm-up steps before the cosine decay to lr/10. */
  warmup: number;
  /** Gradient-norm clipping (default 1). */
  clip?: number;
  /** Steps per progress round (default 50). */
  logEvery?: number;
  onProgress?: (p: ProgressEvent) => void;
}

/**
 * Trains a causal language model on `steps` batches of random windows of
 * `ids` (next-token cross-entropy), through wg.fit with a warm-up + cosine
 * schedule and gradient clipping; the gpt and llama entries' loop. Returns
 * the training loss of every step and the seconds it took.
 * @example
 * const ids = Int32Array.from({ length: 200 }, (_, i) => i % 7);
 * const { losses } = await trainOnWindows(gpt, ids, { steps: 3, batchSize: 2, context: 8, seed: 0, optimizer: new wg.optim.AdamW(gpt.parameters()), warmup: 1 });
 * losses.length; // 3
 */
export async function trainOnWindows(model: CausalLanguageModel, ids: Int32Array, opts: WindowTrainOptions): Promise<{ losses: number[]; seconds: number }> {
  const { steps, batchSize: B, context: T } = opts;
  if (ids.length < T + 2) throw new Error(`trainOnWindows: the training text has ${ids.length} tokens, fewer than the context ${T} + 2`);
  const random = rng(opts.seed + 7), every = opts.logEvery ?? 50;
  // one pass over random windows has no epochs: fit's epochs are rounds of logEvery steps
  // (a bar per round on terminals, a log line per round elsewhere); samples are tokens
  const { source, epochs } = stepRounds(steps, every, () => {
    const x = new Int32Array(B * T), y = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      const s = Math.floor(random() * (ids.length - T - 1));
      x.set(ids.subarray(s, s + T), b * T);
      y.set(ids.subarray(s + 1, s + 1 + T), b * T);
    }
    return { x: ops.tensor(x, { dtype: "int32", shape: [B, T] }), y: ops.tensor(y, { dtype: "int32" }), size: B };
  });
  const losses: number[] = [];
  const t0 = performance.now();
  let smooth = 0;
  await fit(model, source, {
    optimizer: opts.optimizer, epochs, clipGradNorm: opts.clip ?? 1, progress: false, onEpoch: () => {},
    forward: (m, b) => {
      const logits = (m as CausalLanguageModel).forward(b.x);
      return logits.reshape(B * T, logits.shape[logits.shape.length - 1]);
    },
    loss: "crossEntropy",
    callbacks: [LearningRateSchedule.cosine(steps, { warmup: opts.warmup, floor: 0.1 })],
    onStep: (round, inStep, inRound, _mean, loss) => {
      const step = round * Math.min(every, steps) + inStep - 1;
      losses.push(loss);
      smooth = step === 0 ? loss : 0.95 * smooth + 0.05 * loss;
      const el = (performance.now() - t0) / 1000, left = Math.min(inRound, steps - round * Math.min(every, steps));
      opts.onProgress?.({ epoch: round, epochs, step: inStep, steps: left, loss: smooth, samplesPerSec: ((step + 1) * B * T) / el, done: inStep === left });
    },
  });
  return { losses, seconds: (performance.now() - t0) / 1000 };
}
