// An LSTM character-level language model on the Tang poems of Debian's
// fortunes-zh (/usr/share/games/fortunes/tang300): Embedding → LSTM → Linear
// over the characters, trained on the first 90% of the poems, validated on
// the last 10%. The figure is validation cross-entropy (nats per character)
// against the unigram baseline (the training text's character frequencies,
// add-one smoothed), the best a model that ignores context can do.
//
// Recipe: characters seen at least twice in training form the vocabulary
// (the rest map to UNK), embedding 64, one LSTM layer of 256, windows of 32
// characters, batch 32, Adam lr 3e-3 with gradient-norm clipping at 1,
// cosine decay to 10%, trained through fit() on rounds of random windows. The corpus is small (35,000 characters), so the model
// overfits within a few hundred steps: validation loss is measured every
// `evalEvery` steps and the best weights are kept (early stopping).

import * as nn from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { noGrad } from "../autograd.js";
import { manualSeed, rng } from "../random.js";
import { scope } from "../scope.js";
import { clipGradNorm, fit, LearningRateSchedule, type Callback } from "../train.js";
import type { ZooCommand } from "./command.js";
import { readFortunes, CharVocab } from "../data/text.js";
import { unigramCrossEntropy } from "./gpt.js";
import { saveEntryWeights, loadEntryModel, runBench, lossStep, stepRounds, roundEnd } from "./common.js";

export const TANG300 = "/usr/share/games/fortunes/tang300";

/**
 * Embedding → LSTM (batch-first) → Linear to the vocabulary.
 * @example
 * const m = new CharLSTM(100);
 * const [logits, [h, c]] = m.forward(wg.tensor([[1, 2, 3]], { dtype: "int32" }));
 * logits.shape; // [1, 3, 100] (batch, time, vocabulary)
 */
export class CharLSTM extends nn.Module {
  embed: nn.Embedding;
  lstm: nn.LSTM;
  head: nn.Linear;
  constructor(readonly vocab: number, embedDim = 64, hidden = 256, layers = 1) {
    super();
    this.embed = new nn.Embedding(vocab, embedDim);
    this.lstm = new nn.LSTM(embedDim, hidden, { numLayers: layers, batchFirst: true });
    this.head = new nn.Linear(hidden, vocab);
  }
  forward(ids: Tensor, state?: [Tensor, Tensor]): [Tensor, [Tensor, Tensor]] {
    const [h, s] = this.lstm.forward(this.embed.forward(ids), state);
    return [this.head.forward(h), s];
  }
}

export interface LstmTrainOptions {
  steps?: number;
  batchSize?: number;
  window?: number;
  lr?: number;
  hidden?: number;
  seed?: number;
  /** Use this text (poems) instead of tang300. */
  poems?: string[];
  onLog?: (step: number, loss: number, seconds: number) => void;
  logEvery?: number;
  /** Score only the first this many validation characters (quick runs; default all). */
  validationChars?: number;
  /** Validation every this many steps; the best weights are kept (default 100). */
  evalEvery?: number;
  onEval?: (step: number, valLoss: number) => void;
}

export interface LstmResult {
  /** The step whose weights gave valLoss. */
  bestStep: number;
  valLoss: number;
  unigramLoss: number;
  trainChars: number;
  valChars: number;
  vocab: number;
  steps: number;
  seconds: number;
  losses: number[];
  model: CharLSTM;
  chars: CharVocab;
  hidden: number;
}

/** The first 90% of the poems for training, the last 10% for validation, a blank line between poems. */
function splitPoems(poems: string[]): { trainText: string; valText: string } {
  const cut = Math.floor(poems.length * 0.9);
  return { trainText: poems.slice(0, cut).join("\n\n"), valText: poems.slice(cut).join("\n\n") };
}

/**
 * Mean cross-entropy of the model on `ids` in windows, without the tape (the
 * state carries over from window to window); each window's loss is read back
 * with await, so on every backend.
 */
export async function evaluateLm(model: CharLSTM, ids: Int32Array, window: number): Promise<number> {
  model.eval();
  let total = 0, count = 0;
  let state: [Tensor, Tensor] | undefined;
  for (let i = 0; i + 1 < ids.length; i += window) {
    const n = Math.min(window, ids.length - 1 - i);
    const r = scope(() => noGrad(() => {
      const x = tensor(ids.slice(i, i + n), { shape: [1, n], dtype: "int32" });
      const y = tensor(ids.slice(i + 1, i + 1 + n), { dtype: "int32" });
      const [logits, s] = model.forward(x, state);
      const loss = nn.crossEntropy(logits.reshape(n, model.vocab), y, { reduction: "sum" });
      return { loss, s: [s[0].keep(), s[1].keep()] as [Tensor, Tensor] };
    }));
    state?.forEach((t) => t.dispose());
    state = r.s;
    total += await r.loss.itemAsync();
    r.loss.dispose();
    count += n;
  }
  state?.forEach((t) => t.dispose());
  model.train();
  return total / count;
}

/**
 * Trains the character LSTM and reports validation loss against the unigram baseline.
 * @example
 * // a smoke run on ten made-up poems (the recipe: 600 steps on tang300, hidden 256)
 * const poems = Array.from({ length: 10 }, (_, i) => "春眠不觉晓处处闻啼鸟".slice(i % 3) + "夜来风雨声花落知多少");
 * const r = await trainLstm({ steps: 4, batchSize: 4, window: 8, hidden: 16, poems });
 * r.losses.length; // 1 (one round of 4 steps)
 * r.bestStep; // 4
 */
export async function trainLstm(opts: LstmTrainOptions = {}): Promise<LstmResult> {
  const steps = opts.steps ?? 600, bs = opts.batchSize ?? 32, T = opts.window ?? 32, baseLr = opts.lr ?? 3e-3, seed = opts.seed ?? 0;
  const { trainText, valText } = splitPoems(opts.poems ?? (await readFortunes(TANG300)));
  const chars = CharVocab.fromText(trainText, { minCount: 2 });
  const train = chars.encode(trainText), val = chars.encode(valText).subarray(0, opts.validationChars);
  if (train.length <= T + 1) throw new Error(`lstm: training text of ${train.length} characters is shorter than one window of ${T + 1}`);
  const unigramLoss = unigramCrossEntropy(train, val.subarray(1), chars.size);

  manualSeed(seed);
  const model = new CharLSTM(chars.size, 64, opts.hidden ?? 256);
  const params = model.parameters();
  const opt = new Adam(params, { lr: baseLr });
  const random = rng(seed + 3);
  const every = opts.logEvery ?? 100, evalEvery = opts.evalEvery ?? 100, t0 = performance.now();
  // random windows of the training text, a batch per step
  const { source, epochs } = stepRounds(steps, every, () => {
    const x = new Int32Array(bs * T), y = new Int32Array(bs * T);
    for (let b = 0; b < bs; b++) {
      const at = Math.floor(random() * (train.length - T - 1));
      x.set(train.subarray(at, at + T), b * T);
      y.set(train.subarray(at + 1, at + 1 + T), b * T);
    }
    return { x: tensor(x, { shape: [bs, T], dtype: "int32" }), y: tensor(y, { dtype: "int32" }), size: bs };
  });
  // validation every evalEvery steps (and at the end), keeping the best weights: the corpus is
  // small and the model overfits. Not fit's validation: it runs once a round, and evaluateLm
  // carries the LSTM's state from window to window, which a batch source cannot.
  const best = noGrad(() => params.map((p) => p.clone().keep()));
  let bestLoss = Infinity, bestStep = 0;
  const keepBest: Callback = {
    async onEpochEnd(_ctx, l) {
      const step = roundEnd(l.epoch, every, steps);
      if (step % evalEvery !== 0 && step !== steps) return;
      const v = await evaluateLm(model, val, 256);
      opts.onEval?.(step, v);
      if (v < bestLoss) {
        bestLoss = v;
        bestStep = step;
        noGrad(() => best.forEach((b, i) => b.copy_(params[i])));
      }
    },
  };
  const history = await fit(model, source, {
    optimizer: opt, epochs, clipGradNorm: 1, progress: false,
    forward: (m, b) => (m as CharLSTM).forward(b.x)[0].reshape(bs * T, chars.size),
    loss: "crossEntropy",
    callbacks: [LearningRateSchedule.cosine(steps, { floor: 0.1 }), keepBest],
    onEpoch: (l) => opts.onLog?.(roundEnd(l.epoch, every, steps), l.loss, (performance.now() - t0) / 1000),
  });
  noGrad(() => params.forEach((p, i) => p.copy_(best[i])));
  best.forEach((b) => b.dispose());
  const seconds = (performance.now() - t0) / 1000, losses = history.map((l) => l.loss);
  const valLoss = bestLoss;
  return { bestStep, valLoss, unigramLoss, trainChars: train.length, valChars: val.length, vocab: chars.size, steps, seconds, losses, model, chars, hidden: opts.hidden ?? 256 };
}

/**
 * Samples `length` characters after `prompt` (temperature, seeded); each
 * step's probabilities are read back with await, so on every backend.
 * @example
 * const chars = wg.data.CharVocab.fromText("春眠不觉晓，春眠不觉晓", { minCount: 2 });
 * const text = await sampleLstm(new CharLSTM(chars.size, 8, 16), chars, "春", 10, { temperature: 0.8, seed: 1 });
 * text[0]; // "春" (the prompt, then 10 characters: at random, untrained)
 * [...text].length; // 11
 */
export async function sampleLstm(model: CharLSTM, chars: CharVocab, prompt: string, length: number, opts: { temperature?: number; seed?: number } = {}): Promise<string> {
  const temperature = opts.temperature ?? 0.8, random = rng(opts.seed ?? 1);
  model.eval();
  let state: [Tensor, Tensor] | undefined;
  let ids = Array.from(chars.encode(prompt));
  const out: number[] = [];
  for (let i = 0; i < length; i++) {
    const r = scope(() => noGrad(() => {
      const [logits, s] = model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length], dtype: "int32" }), state);
      const last = logits.slice(1, ids.length - 1, ids.length).reshape(chars.size).div(temperature).softmax(-1);
      return { p: last, s: [s[0].keep(), s[1].keep()] as [Tensor, Tensor] };
    }));
    state?.forEach((t) => t.dispose());
    state = r.s;
    const p = await r.p.data();
    r.p.dispose();
    let u = random(), next = p.length - 1;
    for (let k = 1; k < p.length; k++) { // never sample UNK (id 0)
      u -= p[k] / (1 - p[0]);
      if (u <= 0) { next = k; break; }
    }
    out.push(next);
    ids = [next];
  }
  state?.forEach((t) => t.dispose());
  model.train();
  return prompt + chars.decode(out);
}

const figure = (valLoss: number, unigramLoss: number) => `validation ${valLoss.toFixed(3)} nats/char vs unigram baseline ${unigramLoss.toFixed(3)}`;

/** `webgrad train|eval|bench lstm`: the character LSTM on tang300, validation loss against the unigram baseline, and a sample. */
export const cli: ZooCommand = {
  summary: "LSTM character model on the Tang poems of fortunes-zh: validation nats/char against the unigram baseline",
  verbs: ["train", "eval", "bench"],
  options: {
    steps: { type: "string", help: "training steps (default: the recipe's)" },
    "test-count": { type: "string", help: "validation characters scored, the first N (default all; quick runs)" },
  },
  async run(ctx) {
    if (ctx.verb === "eval") {
      const { model, settings } = await loadEntryModel(ctx, "lstm", (s) => new CharLSTM(s.chars.length, 64, s.hidden));
      const chars = new CharVocab(settings.chars), { trainText, valText } = splitPoems(await readFortunes(TANG300));
      const val = chars.encode(valText).subarray(0, settings.validationChars);
      ctx.log(figure(await evaluateLm(model, val, 256), unigramCrossEntropy(chars.encode(trainText), val.subarray(1), chars.size)));
      return;
    }
    if (ctx.verb === "bench") {
      const { trainText } = splitPoems(await readFortunes(TANG300)), chars = CharVocab.fromText(trainText, { minCount: 2 }), ids = chars.encode(trainText);
      manualSeed(ctx.seed ?? 0);
      const bs = 32, T = 32, model = new CharLSTM(chars.size), params = model.parameters(), opt = new Adam(params, { lr: 3e-3 });
      const x = tensor(ids.slice(0, bs * T), { shape: [bs, T], dtype: "int32" }).keep(), y = tensor(ids.slice(1, bs * T + 1), { dtype: "int32" }).keep();
      return runBench(ctx, "lstm", {
        batchSize: bs,
        trainStep: () => lossStep(opt, () => nn.crossEntropy(model.forward(x)[0].reshape(bs * T, chars.size), y), () => clipGradNorm(params, 1)),
        infer: () => model.forward(x)[0],
        unit: `windows of ${T} characters`,
      });
    }
    const steps = ctx.num(ctx.values.steps, "steps") ?? (ctx.epochs ? ctx.epochs * 500 : undefined);
    const r = await trainLstm({ steps, batchSize: ctx.batchSize, validationChars: ctx.num(ctx.values["test-count"], "test-count"), seed: ctx.seed, onLog: (s, l, sec) => ctx.log(`step ${s}  loss ${l.toFixed(3)}  ${sec.toFixed(0)} s`),
      onEval: (s, v) => ctx.log(`step ${s}  validation ${v.toFixed(3)}`) });
    ctx.log(`sample: ${(await sampleLstm(r.model, r.chars, "春", 48, { seed: ctx.seed ?? 1 })).replace(/\n/g, " / ")}`);
    ctx.log(`${figure(r.valLoss, r.unigramLoss)} (best, at step ${r.bestStep}; ${r.vocab} characters, ${r.trainChars} train / ${r.valChars} validation), ${r.steps} steps in ${r.seconds.toFixed(0)} s`);
    await saveEntryWeights(ctx, "lstm", r.model.stateDict(), { chars: r.chars.chars, hidden: r.hidden, validationChars: r.valChars });
  },
};
