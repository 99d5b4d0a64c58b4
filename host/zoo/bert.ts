// A BERT-style encoder classifier on a generated task: is a digit string of
// length 6–12 a palindrome? Half the examples are palindromes; a quarter are
// palindromes with one digit changed (the hard negatives: only comparing
// mirrored positions tells them apart) and a quarter random strings. The
// figure is accuracy on 2,000 held-out strings that never occur in training.
//
// The model is BERT's shape at toy size: [CLS] + tokens, token and learned
// position embeddings, embedding LayerNorm, post-norm encoder layers with
// GELU, padding hidden by the key-padding mask, a tanh pooler on [CLS] and a
// linear classifier. Recipe: d_model 64, 4 heads, 2 layers, feed-forward
// 128, no dropout, AdamW lr 1e-3 with warm-up and cosine decay (to 5%), batch 64,
// trained and scored through fit() and evaluateAsync().

import * as nn from "../nn/index.js";
import { AdamW } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { manualSeed, rng } from "../random.js";
import type { ZooCommand } from "./command.js";
import { saveEntryWeights, loadEntryModel, runBench, lossStep, pct, stepRounds, roundEnd } from "./common.js";
import { fit, evaluateAsync, LearningRateSchedule } from "../train.js";

export const BERT_PAD = 0, BERT_CLS = 1, BERT_DIGIT0 = 2, BERT_VOCAB = 12;

/**
 * Embeddings (token + position, LayerNorm) → encoder → pooler → classifier.
 * @example
 * const ids = wg.tensor([[BERT_CLS, 3, 4, 3, BERT_PAD]], { dtype: "int32" });
 * const padMask = wg.tensor([[0, 0, 0, 0, 1]], { dtype: "int32" }); // padding is 1
 * new BertClassifier().forward(ids, padMask).shape; // [1, 2] (batch, classes)
 */
export class BertClassifier extends nn.Module {
  word_embeddings: nn.Embedding;
  position_embeddings: nn.LearnedPositionalEmbedding;
  embeddings_norm: nn.LayerNorm;
  encoder: nn.TransformerEncoder;
  pooler: nn.Linear;
  classifier: nn.Linear;
  constructor(readonly dModel = 64, layers = 2, nhead = 4, maxLen = 32, classes = 2) {
    super();
    this.word_embeddings = new nn.Embedding(BERT_VOCAB, dModel);
    this.word_embeddings.weight.mul_(0.02);
    this.position_embeddings = new nn.LearnedPositionalEmbedding(maxLen, dModel, { std: 0.02 });
    this.embeddings_norm = new nn.LayerNorm(dModel, 1e-12);
    this.encoder = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(dModel, nhead, { dimFeedforward: 2 * dModel, dropout: 0, activation: "gelu", batchFirst: true }), layers);
    this.pooler = new nn.Linear(dModel, dModel);
    this.classifier = new nn.Linear(dModel, classes);
  }
  /** ids int32 [B, S] (starting with CLS), padding int32 [B, S] (1 on PAD) → logits [B, classes]. */
  forward(ids: Tensor, padding: Tensor): Tensor {
    const B = ids.shape[0];
    const h = this.embeddings_norm.forward(this.position_embeddings.forward(this.word_embeddings.forward(ids)));
    const z = this.encoder.forward(h, { srcKeyPaddingMask: padding });
    const pooled = this.pooler.forward(z.slice(1, 0, 1).reshape(B, this.dModel)).tanh();
    return this.classifier.forward(pooled);
  }
}

/** A labelled example: half palindromes, a quarter one-digit-off palindromes, a quarter random strings. */
export function palindromeExample(random: () => number, minLen = 6, maxLen = 12): { digits: number[]; label: number } {
  const n = minLen + Math.floor(random() * (maxLen - minLen + 1));
  const digit = () => Math.floor(random() * 10);
  const isPal = (d: number[]) => d.every((v, i) => v === d[n - 1 - i]);
  const kind = random();
  if (kind < 0.75) {
    const half = Array.from({ length: Math.ceil(n / 2) }, digit);
    const d = Array.from({ length: n }, (_, i) => half[Math.min(i, n - 1 - i)]);
    if (kind >= 0.5) {
      const i = Math.floor(random() * Math.floor(n / 2)); // off the centre, so the change breaks the symmetry
      d[i] = (d[i] + 1 + Math.floor(random() * 9)) % 10;
    }
    return { digits: d, label: isPal(d) ? 1 : 0 };
  }
  const d = Array.from({ length: n }, digit);
  return { digits: d, label: isPal(d) ? 1 : 0 };
}

function encodeBatch(examples: { digits: number[] }[], S: number): { ids: Int32Array; pad: Int32Array } {
  const B = examples.length, ids = new Int32Array(B * S), pad = new Int32Array(B * S).fill(1);
  examples.forEach((e, b) => {
    ids[b * S] = BERT_CLS;
    pad[b * S] = 0;
    e.digits.forEach((d, i) => {
      ids[b * S + 1 + i] = BERT_DIGIT0 + d;
      pad[b * S + 1 + i] = 0;
    });
  });
  return { ids, pad };
}

type Example = { digits: number[]; label: number };

/** The held-out examples, drawn first from the training stream's generator (so training can skip them by value). */
function heldOutExamples(random: () => number, testCount: number, minLen: number, maxLen: number): Map<string, Example> {
  const held = new Map<string, Example>();
  for (let tries = 0; held.size < testCount && tries < testCount * 20; tries++) {
    const e = palindromeExample(random, minLen, maxLen);
    held.set(e.digits.join(""), e);
  }
  return held;
}

/**
 * Accuracy of the classifier on `tests` (and the majority-class baseline), in
 * eval mode, through evaluateAsync (so on every backend).
 * @example
 * const tests = [{ digits: [1, 2, 2, 1], label: 1 }, { digits: [1, 2, 3, 4], label: 0 }];
 * const s = await scoreBert(new BertClassifier(), tests, 13); // s.testAccuracy: 0.5 by chance untrained
 * s.testCount; // 2
 * s.majorityBaseline; // 0.5
 */
export async function scoreBert(model: BertClassifier, tests: Example[], S: number) {
  const batches = { length: Math.ceil(tests.length / 500), *[Symbol.iterator]() { for (let i = 0; i < tests.length; i += 500) yield bertBatch(tests.slice(i, i + 500), S); } };
  const { accuracy } = await evaluateAsync(model, batches, { loss: "crossEntropy", forward: bertForward });
  const positives = tests.filter((e) => e.label === 1).length;
  return { testAccuracy: accuracy, majorityBaseline: Math.max(positives, tests.length - positives) / tests.length, testCount: tests.length };
}

type BertBatch = { ids: Int32Array; pad: Int32Array; y: Tensor; size: number };

/** Examples as a batch for fit() and evaluate(): ids and padding on the host, labels as a tensor. */
function bertBatch(examples: Example[], S: number): BertBatch {
  return { ...encodeBatch(examples, S), y: tensor(Int32Array.from(examples, (e) => e.label), { dtype: "int32" }), size: examples.length };
}

const bertForward = (m: nn.Module, b: BertBatch): Tensor =>
  (m as BertClassifier).forward(tensor(b.ids, { shape: [b.size, b.ids.length / b.size], dtype: "int32" }), tensor(b.pad, { shape: [b.size, b.ids.length / b.size], dtype: "int32" }));

export interface BertTrainOptions {
  steps?: number;
  batchSize?: number;
  lr?: number;
  testCount?: number;
  minLen?: number;
  maxLen?: number;
  layers?: number;
  seed?: number;
  onLog?: (step: number, loss: number, seconds: number) => void;
  logEvery?: number;
}

/**
 * Trains the classifier and reports held-out accuracy.
 * @example
 * // a smoke run (the recipe: 3000 steps of batch 64, 2000 held-out strings)
 * const r = await trainBert({ steps: 5, batchSize: 8, testCount: 20, layers: 1 });
 * r.losses.length; // 1 (one round of 5 steps)
 * r.testCount; // 20
 */
export async function trainBert(opts: BertTrainOptions = {}) {
  const steps = opts.steps ?? 3000, bs = opts.batchSize ?? 64, seed = opts.seed ?? 0, baseLr = opts.lr ?? 1e-3;
  const minLen = opts.minLen ?? 6, maxLen = opts.maxLen ?? 12, S = maxLen + 1;
  manualSeed(seed);
  const model = new BertClassifier(64, opts.layers ?? 2, 4, S);
  const opt = new AdamW(model.parameters(), { lr: baseLr });
  const random = rng(seed + 13);
  const held = heldOutExamples(random, opts.testCount ?? 2000, minLen, maxLen);
  const warmup = Math.min(100, steps), every = opts.logEvery ?? 100, t0 = performance.now();
  const { source, epochs } = stepRounds(steps, every, () => {
    const ex: Example[] = [];
    while (ex.length < bs) {
      const e = palindromeExample(random, minLen, maxLen);
      if (!held.has(e.digits.join(""))) ex.push(e);
    }
    return bertBatch(ex, S);
  });
  const history = await fit(model, source, {
    optimizer: opt, loss: "crossEntropy", forward: bertForward, epochs, progress: false,
    callbacks: [LearningRateSchedule.cosine(steps, { warmup, floor: 0.05, reachFloor: true })],
    onEpoch: (l) => opts.onLog?.(roundEnd(l.epoch, every, steps), l.loss, (performance.now() - t0) / 1000),
  });
  const seconds = (performance.now() - t0) / 1000, losses = history.map((l) => l.loss);
  return { ...(await scoreBert(model, [...held.values()], S)), steps, seconds, losses, model };
}

const figure = (r: { testAccuracy: number; testCount: number; majorityBaseline: number }) =>
  `test accuracy ${pct(r.testAccuracy)} on ${r.testCount} held-out strings (majority class ${(r.majorityBaseline * 100).toFixed(1)}%)`;

/** `webgrad train|eval|bench bert`: the BERT-style palindrome classifier, held-out accuracy. */
export const cli: ZooCommand = {
  summary: "BERT-style encoder classifier: is a 6–12 digit string a palindrome? Held-out accuracy",
  verbs: ["train", "eval", "bench"],
  options: {
    steps: { type: "string", help: "training steps (default: the recipe's)" },
    "test-count": { type: "string", help: "held-out strings scored (default 2000; fewer for a quick run)" },
  },
  async run(ctx) {
    if (ctx.verb === "eval") {
      const { model, settings: s } = await loadEntryModel(ctx, "bert", (s) => new BertClassifier(64, s.layers, 4, s.maxLen + 1));
      ctx.log(figure(await scoreBert(model, [...heldOutExamples(rng(s.seed + 13), s.testCount, s.minLen, s.maxLen).values()], s.maxLen + 1)));
      return;
    }
    if (ctx.verb === "bench") {
      manualSeed(ctx.seed ?? 0);
      const S = 13, bs = 64, model = new BertClassifier(64, 2, 4, S), opt = new AdamW(model.parameters(), { lr: 1e-3 });
      const random = rng(1), ex = Array.from({ length: bs }, () => palindromeExample(random));
      const { ids, pad } = encodeBatch(ex, S), y = Int32Array.from(ex, (e) => e.label);
      const forward = () => model.forward(tensor(ids, { shape: [bs, S], dtype: "int32" }), tensor(pad, { shape: [bs, S], dtype: "int32" }));
      return runBench(ctx, "bert", {
        batchSize: bs,
        trainStep: () => lossStep(opt, () => nn.crossEntropy(forward(), tensor(y, { dtype: "int32" }))),
        infer: forward,
        unit: "strings",
      });
    }
    const steps = ctx.num(ctx.values.steps, "steps") ?? (ctx.epochs ? ctx.epochs * 500 : undefined), seed = ctx.seed ?? 0;
    const r = await trainBert({ steps, seed, batchSize: ctx.batchSize, testCount: ctx.num(ctx.values["test-count"], "test-count"), onLog: (s, l, sec) => ctx.log(`step ${s}  loss ${l.toFixed(4)}  ${sec.toFixed(0)} s`) });
    ctx.log(`${figure(r)}, ${r.steps} steps in ${r.seconds.toFixed(0)} s`);
    await saveEntryWeights(ctx, "bert", r.model.stateDict(), { seed, minLen: 6, maxLen: 12, layers: 2, testCount: r.testCount });
  },
};
