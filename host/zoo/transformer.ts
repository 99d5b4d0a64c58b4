// S6: an encoder–decoder Transformer trained end to end on a task the code
// makes: reverse (default) or sort a string of 1–10 digits. Greedy decoding
// from BOS until EOS; the figure is exact-sequence accuracy on held-out
// strings that never occur in training.
//
// Recipe: d_model 64, 4 heads, 2 encoder + 2 decoder layers (post-norm,
// feed-forward 128, no dropout), sinusoidal positions on scaled embeddings,
// Adam (lr 1e-3 with a 200-step linear warm-up, then cosine decay to 5%;
// fit() with LearningRateSchedule.cosine),
// batch 64 of fresh random strings per step; loss on target tokens only
// (padding ignored). Sources are padded at the end with PAD, and the model
// sees the padding (no key-padding mask), so every attention call takes the
// fused kernel.

import * as nn from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { cat } from "../ops/shape.js";
import { noGrad } from "../autograd.js";
import { manualSeed, rng } from "../random.js";
import { scope } from "../scope.js";
import type { ZooCommand } from "./command.js";
import { saveEntryWeights, loadEntryModel, runBench, lossStep, pct, stepRounds, roundEnd } from "./common.js";
import { fit, LearningRateSchedule } from "../train.js";

/** Token ids: 0 padding, 1 begin, 2 end, 3..12 the digits 0..9. */
export const PAD = 0, BOS = 1, EOS = 2, DIGIT0 = 3, VOCAB = 13;

export type Seq2SeqTask = "reverse" | "sort";

/** The answer the task asks for. @example target("reverse", [1, 2, 3]); // [3, 2, 1] */
export function target(task: Seq2SeqTask, digits: number[]): number[] {
  return task === "reverse" ? [...digits].reverse() : [...digits].sort((a, b) => a - b);
}

/**
 * A source-embedding → Transformer → vocabulary projection, batch-first.
 * @example
 * const m = new Seq2SeqTransformer();
 * const src = wg.tensor([[4, 5, 6]], { dtype: "int32" }), tgtIn = wg.tensor([[BOS, 6, 5, 4]], { dtype: "int32" });
 * m.forward(src, tgtIn).shape; // [1, 4, 13] (batch, target length, vocabulary)
 */
export class Seq2SeqTransformer extends nn.Module {
  src_embed: nn.Embedding;
  tgt_embed: nn.Embedding;
  pos: nn.PositionalEncoding;
  transformer: nn.Transformer;
  generator: nn.Linear;
  constructor(readonly dModel = 64, nhead = 4, layers = 2, dimFeedforward = 128, vocab = VOCAB) {
    super();
    this.src_embed = new nn.Embedding(vocab, dModel);
    this.tgt_embed = new nn.Embedding(vocab, dModel);
    this.pos = new nn.PositionalEncoding(dModel, { dropout: 0, maxLen: 64, batchFirst: true });
    this.transformer = new nn.Transformer({ dModel, nhead, numEncoderLayers: layers, numDecoderLayers: layers, dimFeedforward, dropout: 0, batchFirst: true });
    this.generator = new nn.Linear(dModel, vocab);
  }
  private embed(e: nn.Embedding, ids: Tensor): Tensor {
    return this.pos.forward(e.forward(ids).mul(Math.sqrt(this.dModel)));
  }
  /** Encodes int32 source ids [B, S] to memory [B, S, d]. */
  encode(src: Tensor): Tensor {
    return this.transformer.encoder.forward(this.embed(this.src_embed, src));
  }
  /** Logits [B, T, vocab] for target prefixes [B, T] over memory. */
  decode(tgtIn: Tensor, memory: Tensor): Tensor {
    return this.generator.forward(this.transformer.decoder.forward(this.embed(this.tgt_embed, tgtIn), memory, { tgtIsCausal: true }));
  }
  forward(src: Tensor, tgtIn: Tensor): Tensor {
    return this.decode(tgtIn, this.encode(src));
  }
}

interface Batch {
  src: Int32Array;
  tgtIn: Int32Array;
  tgtOut: Int32Array;
  /** 1 where tgtOut is a real token (digits and EOS), 0 on padding. */
  weight: Float32Array;
  count: number;
}

/** Pads each string to maxLen (sources) and maxLen + 1 (targets with BOS / EOS). */
function makeBatch(task: Seq2SeqTask, strings: number[][], maxLen: number): Batch {
  const B = strings.length, T = maxLen + 1;
  const src = new Int32Array(B * maxLen), tgtIn = new Int32Array(B * T), tgtOut = new Int32Array(B * T), weight = new Float32Array(B * T);
  let count = 0;
  strings.forEach((s, b) => {
    const t = target(task, s);
    s.forEach((d, i) => (src[b * maxLen + i] = DIGIT0 + d));
    tgtIn[b * T] = BOS;
    t.forEach((d, i) => {
      tgtIn[b * T + i + 1] = DIGIT0 + d;
      tgtOut[b * T + i] = DIGIT0 + d;
      weight[b * T + i] = 1;
    });
    tgtOut[b * T + t.length] = EOS;
    weight[b * T + t.length] = 1;
    count += t.length + 1;
  });
  return { src, tgtIn, tgtOut, weight, count };
}

function randomString(random: () => number, minLen: number, maxLen: number): number[] {
  const n = minLen + Math.floor(random() * (maxLen - minLen + 1));
  return Array.from({ length: n }, () => Math.floor(random() * 10));
}

/**
 * Greedy decoding: the memory once, then one decoder pass per output token
 * over the growing prefix; stops when every row has emitted EOS. Each step's
 * tokens are read back with await (at once on wasm, a readback on WebGPU),
 * as PyTorch's loop reads them with .tolist().
 * @example
 * const out = await greedyDecode(new Seq2SeqTransformer(), [[1, 2, 3], [4, 5]], 10);
 * out.length; // 2 (one digit list per string: [[3, 2, 1], [5, 4]] once trained on "reverse")
 */
export async function greedyDecode(model: Seq2SeqTransformer, strings: number[][], maxLen: number): Promise<number[][]> {
  const wasTraining = model.training;
  model.eval();
  const B = strings.length;
  const src = new Int32Array(B * maxLen);
  strings.forEach((s, b) => s.forEach((d, i) => (src[b * maxLen + i] = DIGIT0 + d)));
  const memory = scope(() => noGrad(() => model.encode(tensor(src, { shape: [B, maxLen], dtype: "int32" }))));
  let prefix = tensor(new Int32Array(B).fill(BOS), { shape: [B, 1], dtype: "int32" });
  const seqs: number[][] = strings.map(() => []);
  const done = new Array(B).fill(false);
  try {
    for (let step = 0; step <= maxLen && done.some((d) => !d); step++) {
      const next = scope(() => noGrad(() => {
        const T = prefix.shape[1];
        return model.decode(prefix, memory).slice(1, T - 1, T).reshape(B, VOCAB).argmax(1);
      }));
      const nv = await next.data();
      for (let b = 0; b < B; b++) {
        if (done[b]) continue;
        if (nv[b] === EOS) done[b] = true;
        else seqs[b].push(nv[b] - DIGIT0);
      }
      const grown = scope(() => cat([prefix, next.reshape(B, 1)], 1));
      prefix.dispose();
      next.dispose();
      prefix = grown;
    }
  } finally {
    prefix.dispose();
    memory.dispose();
    model.train(wasTraining);
  }
  return seqs;
}

/**
 * The held-out strings: drawn first from the training stream's generator, so
 * the same seed always holds out the same strings and training skips them by
 * value. Short strings (few possibilities) are left to training: the test is
 * of lengths ≥ 5.
 */
function heldOutStrings(random: () => number, count: number, minLen: number, maxLen: number): Map<string, number[]> {
  const heldOut = new Map<string, number[]>();
  while (heldOut.size < count) {
    const s = randomString(random, Math.max(minLen, Math.min(5, maxLen)), maxLen);
    heldOut.set(s.join(""), s);
  }
  return heldOut;
}

/**
 * Exact-sequence and token accuracy of greedy decoding on `tests`.
 * @example
 * const s = await scoreSeq2Seq(new Seq2SeqTransformer(), "reverse", [[1, 2, 3]], 10);
 * s.testCount; // 1
 * s.examples[0].expected; // "321"
 * // s.exactAccuracy is 1 once the model is trained on "reverse"
 */
export async function scoreSeq2Seq(model: Seq2SeqTransformer, task: Seq2SeqTask, tests: number[][], maxLen: number) {
  let exact = 0, tokOk = 0, tokAll = 0;
  const examples: { input: string; output: string; expected: string }[] = [];
  for (let i = 0; i < tests.length; i += 250) {
    const chunk = tests.slice(i, i + 250);
    const pred = await greedyDecode(model, chunk, maxLen);
    chunk.forEach((s, j) => {
      const want = target(task, s), got = pred[j];
      if (got.join() === want.join()) exact++;
      want.forEach((d, k) => (tokOk += got[k] === d ? 1 : 0));
      tokAll += want.length;
      if (examples.length < 3) examples.push({ input: s.join(""), output: got.join(""), expected: want.join("") });
    });
  }
  return { exactAccuracy: exact / tests.length, tokenAccuracy: tokOk / tokAll, testCount: tests.length, examples };
}

export interface TransformerTrainOptions {
  task?: Seq2SeqTask;
  steps?: number;
  batchSize?: number;
  lr?: number;
  warmup?: number;
  minLen?: number;
  maxLen?: number;
  /** Held-out strings (never seen in training). */
  testCount?: number;
  seed?: number;
  dModel?: number;
  layers?: number;
  onLog?: (step: number, loss: number, seconds: number) => void;
  logEvery?: number;
}

export interface TransformerResult {
  task: Seq2SeqTask;
  exactAccuracy: number;
  tokenAccuracy: number;
  testCount: number;
  steps: number;
  seconds: number;
  losses: number[];
  examples: { input: string; output: string; expected: string }[];
  model: Seq2SeqTransformer;
}

/**
 * Trains S6 and reports exact-sequence accuracy of greedy decoding on held-out strings.
 * @example
 * // a smoke run (the recipe's 2500 steps reach ≥ 0.99 exact accuracy)
 * const r = await trainTransformer({ steps: 10, batchSize: 8, testCount: 10, dModel: 16, layers: 1 });
 * r.steps; // 10
 * r.testCount; // 10
 */
export async function trainTransformer(opts: TransformerTrainOptions = {}): Promise<TransformerResult> {
  const task = opts.task ?? "reverse", steps = opts.steps ?? 2500, bs = opts.batchSize ?? 64, seed = opts.seed ?? 0;
  const minLen = opts.minLen ?? 1, maxLen = opts.maxLen ?? 10, warmup = opts.warmup ?? 200, baseLr = opts.lr ?? 1e-3;
  manualSeed(seed);
  const model = new Seq2SeqTransformer(opts.dModel ?? 64, 4, opts.layers ?? 2, 2 * (opts.dModel ?? 64));
  const opt = new Adam(model.parameters(), { lr: baseLr });
  // held-out strings first, kept out of training by value; short strings (few
  // possibilities) are left to training, so the test is of lengths ≥ 5
  const random = rng(seed + 7);
  const heldOut = heldOutStrings(random, opts.testCount ?? 1000, minLen, maxLen);
  const T = maxLen + 1, every = opts.logEvery ?? 100, t0 = performance.now();
  // a fresh batch of strings per step, none of them held out
  const { source, epochs } = stepRounds(steps, every, () => {
    const strings: number[][] = [];
    while (strings.length < bs) {
      const s = randomString(random, minLen, maxLen);
      if (!heldOut.has(s.join(""))) strings.push(s);
    }
    return { ...makeBatch(task, strings, maxLen), size: bs };
  });
  const history = await fit(model, source, {
    optimizer: opt, epochs, progress: false,
    forward: (m, b) => (m as Seq2SeqTransformer).forward(tensor(b.src, { shape: [bs, maxLen], dtype: "int32" }), tensor(b.tgtIn, { shape: [bs, T], dtype: "int32" })).reshape(bs * T, VOCAB),
    // loss on target tokens only: padding weighs 0
    loss: (logits, b) => nn.crossEntropy(logits, tensor(b.tgtOut, { dtype: "int32" }), { reduction: "none" }).mul(tensor(b.weight)).sum().div(b.count),
    callbacks: [LearningRateSchedule.cosine(steps, { warmup, floor: 0.05, reachFloor: true })],
    onEpoch: (l) => opts.onLog?.(roundEnd(l.epoch, every, steps), l.loss, (performance.now() - t0) / 1000),
  });
  const seconds = (performance.now() - t0) / 1000, losses = history.map((l) => l.loss);
  const score = await scoreSeq2Seq(model, task, [...heldOut.values()], maxLen);
  return { task, ...score, steps, seconds, losses, model };
}

const figure = (task: string, r: { exactAccuracy: number; tokenAccuracy: number; testCount: number }) =>
  `${task}: exact-sequence accuracy ${pct(r.exactAccuracy)} (token accuracy ${pct(r.tokenAccuracy)}) on ${r.testCount} held-out strings`;

/** `webgrad train|eval|bench transformer`: S6, exact-sequence accuracy of greedy decoding on held-out strings. */
export const cli: ZooCommand = {
  summary: "S6: encoder–decoder Transformer reversing (or sorting) digit strings, greedy decoding, held-out exact-sequence accuracy",
  verbs: ["train", "eval", "bench"],
  options: {
    task: { type: "string", help: "reverse (default) or sort" },
    steps: { type: "string", help: "training steps (default: the recipe's)" },
    "test-count": { type: "string", help: "held-out strings scored (default 1000; fewer for a quick run)" },
  },
  async run(ctx) {
    if (ctx.verb === "eval") {
      const { model, settings: s } = await loadEntryModel(ctx, "transformer", (s) => new Seq2SeqTransformer(s.dModel, 4, s.layers, 2 * s.dModel));
      const tests = [...heldOutStrings(rng(s.seed + 7), s.testCount, s.minLen, s.maxLen).values()];
      ctx.log(figure(s.task, await scoreSeq2Seq(model, s.task, tests, s.maxLen)));
      return;
    }
    if (ctx.verb === "bench") {
      manualSeed(ctx.seed ?? 0);
      const model = new Seq2SeqTransformer(), opt = new Adam(model.parameters(), { lr: 1e-3 }), bs = 64, maxLen = 10, T = maxLen + 1;
      const random = rng(1), strings = Array.from({ length: bs }, () => randomString(random, 1, maxLen));
      const b = makeBatch("reverse", strings, maxLen);
      return runBench(ctx, "transformer", {
        batchSize: bs,
        trainStep: () => lossStep(opt, () => {
          const logits = model.forward(tensor(b.src, { shape: [bs, maxLen], dtype: "int32" }), tensor(b.tgtIn, { shape: [bs, T], dtype: "int32" }));
          return nn.crossEntropy(logits.reshape(bs * T, VOCAB), tensor(b.tgtOut, { dtype: "int32" }));
        }),
        // greedy decoding of the whole batch, as eval runs it (each token is read back before the next step)
        infer: async () => tensor((await greedyDecode(model, strings, maxLen)).map((s) => s.length)),
        unit: "strings",
      });
    }
    const task = (ctx.values.task as string | undefined) ?? "reverse";
    if (task !== "reverse" && task !== "sort") throw new Error(`transformer: --task must be reverse or sort, got ${task}`);
    const steps = ctx.num(ctx.values.steps, "steps") ?? (ctx.epochs ? ctx.epochs * 500 : undefined);
    const seed = ctx.seed ?? 0;
    const r = await trainTransformer({ task, steps, seed, batchSize: ctx.batchSize, testCount: ctx.num(ctx.values["test-count"], "test-count"), onLog: (s, l, sec) => ctx.log(`step ${s}  loss ${l.toFixed(4)}  ${sec.toFixed(0)} s`) });
    for (const e of r.examples) ctx.log(`${e.input} → ${e.output} (expected ${e.expected})`);
    ctx.log(`${figure(r.task, r)}, ${r.steps} steps in ${r.seconds.toFixed(0)} s`);
    await saveEntryWeights(ctx, "transformer", r.model.stateDict(), { task, seed, minLen: 1, maxLen: 10, dModel: 64, layers: 2, testCount: r.testCount });
  },
};
