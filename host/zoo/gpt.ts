// S7: a GPT (GPT-2's architecture, host/models/gpt.ts) trained character by
// character on the Chinese text of Debian's fortunes-zh (the `chinese` fortunes
// plus 300 Tang and 100 Song poems), then continuing the seed's prompt
// 「今天天气很好，阳光明媚。」. It reports validation loss in nats per character
// against a unigram baseline: the cross-entropy of the validation characters
// under the training characters' frequencies.
//
// The same command also runs real GPT-2 weights: `webgrad generate gpt
// --weights model.safetensors` with a Hugging Face GPT-2 file tokenises with
// GPT-2's byte-level BPE (r50k_base, shipped inside the npm gpt-tokenizer
// package: nothing is downloaded).
//
// Recipe (ours): 4 layers, 4 heads, width 128, context 64, batch 32, AdamW
// (lr 3e-3, betas 0.9/0.95, weight decay 0.1 on matrices only: two optimizers
// stepped together by fit()), linear warm-up then cosine to lr/10, gradient
// clipping at 1.0. Measured figures: docs/ZOO-GPT.md.

import { CharVocab } from "../data/text.js";
import * as ops from "../ops/index.js";
import { AdamW } from "../optim/index.js";
import { noGrad } from "../autograd.js";
import { manualSeed, rng } from "../random.js";
import { scope } from "../scope.js";
import { clipGradNorm } from "../train.js";
import { saveSafetensors, loadSafetensors } from "../io/checkpoint.js";
import { GPT, generateAsync, inferGPTConfig, loadGPT2Weights, type GPTConfig, type SamplingOptions } from "../models/gpt.js";
import type { ZooCommand, ProgressEvent } from "./command.js";
import { requireWeights, runBench, lossStep, weightsPath, int8Comparison, int8Lines } from "./common.js";
import { importOptional } from "./packages.js";
import { SEED_PROMPT, FORTUNES_ZH, readFortuneRecords, splitRecords, unigramCrossEntropy, evaluateLoss, trainOnWindows } from "./fortunes.js";

export { CharVocab };
// the corpus and the evaluation are shared with the llama entry (host/zoo/fortunes.ts); re-exported where they were
export { SEED_PROMPT, FORTUNES_ZH, readFortuneRecords, unigramCrossEntropy, evaluateLoss };

/** The corpus split by records (every 20th record to validation), encoded with a vocabulary built on the training part. */
export interface CharCorpus {
  vocab: CharVocab;
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Reads fortunes-zh, splits it 95/5 by record, and encodes both parts.
 * Records are joined by a blank line, so the model sees where one ends.
 * Pass `vocab` (a saved model's) to encode with it instead of building one.
 * @example const { vocab, train, validation } = await loadFortuneCorpus();
 */
export async function loadFortuneCorpus(opts: { paths?: string[]; minCount?: number; maxChars?: number; vocab?: CharVocab } = {}): Promise<CharCorpus> {
  const split = splitRecords(await readFortuneRecords(opts.paths));
  const trainText = split.train.join("\n\n") + "\n\n";
  const valText = split.validation.join("\n\n") + "\n\n";
  const cut = (s: string) => (opts.maxChars ? [...s].slice(0, opts.maxChars).join("") : s);
  const vocab = opts.vocab ?? CharVocab.fromText(trainText, { minCount: opts.minCount ?? 2, unk: true });
  return { vocab, train: vocab.encode(cut(trainText)), validation: vocab.encode(cut(valText)) };
}

export interface GptTrainOptions {
  steps?: number;
  batchSize?: number;
  /** Context length (n_positions). */
  context?: number;
  nEmbd?: number;
  nLayer?: number;
  nHead?: number;
  dropout?: number;
  lr?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clip?: number;
  seed?: number;
  /** Use only the first N characters of each split (tests). */
  maxChars?: number;
  corpus?: CharCorpus;
  /** Score only the first this many validation characters (quick runs; default all). */
  validationChars?: number;
  /** Evaluate on the validation split at the end (default true). */
  evaluate?: boolean;
  /** Steps per progress round (default 50). */
  logEvery?: number;
  onProgress?: (p: ProgressEvent) => void;
}

export interface GptTrainResult {
  model: GPT;
  vocab: CharVocab;
  /** Training loss of every step. */
  losses: number[];
  /** Validation loss in nats per character (NaN when not evaluated). */
  validationLoss: number;
  /** The unigram baseline on the same validation characters. */
  unigramLoss: number;
  validationTokens: number;
  trainTokens: number;
  seconds: number;
  stepsPerSecond: number;
}

/**
 * Trains the character-level GPT on fortunes-zh and reports validation loss against the unigram baseline.
 * @example
 * // a smoke run on a made-up text (the recipe: 400 steps on fortunes-zh, 128 wide, 4 layers)
 * const vocab = wg.data.CharVocab.fromText("abcdefgh");
 * const text = (n: number) => vocab.encode("abcdefgh".repeat(n));
 * const r = await trainGptChar({ steps: 4, corpus: { vocab, train: text(8), validation: text(2) }, batchSize: 4, context: 8, nEmbd: 16, nLayer: 1 });
 * r.losses.length; // 4
 * r.validationLoss < r.unigramLoss + 1; // true
 */
export async function trainGptChar(opts: GptTrainOptions = {}): Promise<GptTrainResult> {
  const steps = opts.steps ?? 400, B = opts.batchSize ?? 32, T = opts.context ?? 64, seed = opts.seed ?? 0;
  const corpus = opts.corpus ?? (await loadFortuneCorpus({ maxChars: opts.maxChars }));
  const { vocab, train } = corpus, validation = corpus.validation.subarray(0, opts.validationChars ?? corpus.validation.length);
  if (train.length < T + 2) throw new Error(`gpt: the training text has ${train.length} characters, fewer than the context ${T} + 2`);
  manualSeed(seed);
  const config: GPTConfig = { vocabSize: vocab.size, nPositions: T, nEmbd: opts.nEmbd ?? 128, nLayer: opts.nLayer ?? 4, nHead: opts.nHead ?? 4, dropout: opts.dropout ?? 0 };
  const model = new GPT(config);
  // weight decay on matrices only (nanoGPT/GPT-2 practice): not on biases, LayerNorm gains
  const named = model.namedParameters();
  const decay = named.filter(([, p]) => p.rank >= 2).map(([, p]) => p);
  const noDecay = named.filter(([, p]) => p.rank < 2).map(([, p]) => p);
  const lr = opts.lr ?? 3e-3, warmup = opts.warmupSteps ?? Math.min(100, Math.ceil(steps / 10));
  const optA = new AdamW(decay, { lr, betas: [0.9, 0.95], weightDecay: opts.weightDecay ?? 0.1 });
  const optB = new AdamW(noDecay, { lr, betas: [0.9, 0.95], weightDecay: 0 });
  const { losses, seconds } = await trainOnWindows(model, train, {
    steps, batchSize: B, context: T, seed, optimizer: [optA, optB], warmup, clip: opts.clip ?? 1, logEvery: opts.logEvery, onProgress: opts.onProgress,
  });
  let validationLoss = NaN, validationTokens = 0;
  if (opts.evaluate !== false) ({ loss: validationLoss, tokens: validationTokens } = await evaluateLoss(model, validation, T));
  const unigramLoss = unigramCrossEntropy(train, validation.subarray(1), vocab.size);
  return { model, vocab, losses, validationLoss, unigramLoss, validationTokens, trainTokens: train.length, seconds, stepsPerSecond: steps / seconds };
}

// ------------------------------------------------ saving and loading weights

/**
 * Saves the model with Hugging Face's GPT-2 names, and its config and character
 * vocabulary in the file's metadata, so `webgrad generate gpt --weights FILE` can rebuild it.
 */
export async function saveGptChar(path: string, model: GPT, vocab: CharVocab | null): Promise<void> {
  const meta: Record<string, string> = { format: "pt", config: JSON.stringify(model.config) };
  if (vocab) meta.webgrad_char_vocab = JSON.stringify(vocab.chars);
  await saveSafetensors(path, model.stateDict(), meta);
}

/** A way to turn text into ids and back. */
export interface TextTokenizer {
  name: string;
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The end-of-text id, when the tokenizer has one. */
  eot?: number;
}

/**
 * GPT-2's byte-level BPE (r50k_base) from the npm gpt-tokenizer package, whose
 * merge table ships inside the package (loaded on first use, no network).
 * @example
 * const tok = await gpt2Tokenizer();
 * tok.encode("Hello world"); // [15496, 995]
 */
export async function gpt2Tokenizer(): Promise<TextTokenizer> {
  const bpe = await importOptional("gpt-tokenizer", "gpt2Tokenizer", () => import("gpt-tokenizer/encoding/r50k_base"));
  return { name: "GPT-2 BPE (r50k_base)", encode: (t) => bpe.encode(t), decode: (ids) => bpe.decode(ids), eot: 50256 };
}

/** A character vocabulary as a TextTokenizer. */
export function charTokenizer(vocab: CharVocab): TextTokenizer {
  return { name: `characters (${vocab.size})`, encode: (t) => [...vocab.encode(t)], decode: (ids) => vocab.decode(ids) };
}

/**
 * Loads a safetensors file with GPT-2's HF names: our character model (config and
 * vocabulary in its metadata) or a Hugging Face GPT-2 (config read from the
 * shapes, GPT-2's BPE as tokenizer).
 * @example
 * const vocab = wg.data.CharVocab.fromText("hello world");
 * await saveGptChar("gpt.safetensors", new wg.models.GPT({ vocabSize: vocab.size, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2 }), vocab);
 * const { model, tokenizer } = await loadGptFile("gpt.safetensors");
 * model.config.nPositions; // 16
 * tokenizer.decode(tokenizer.encode("hello")); // "hello"
 */
export async function loadGptFile(path: string, opts: { nHead?: number } = {}): Promise<{ model: GPT; tokenizer: TextTokenizer; vocab?: CharVocab }> {
  const { tensors, metadata } = await loadSafetensors(path);
  let config: GPTConfig;
  try {
    config = metadata.config ? (JSON.parse(metadata.config) as GPTConfig) : inferGPTConfig(tensors, opts.nHead);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const model = new GPT({ ...config, dropout: 0 });
  try {
    loadGPT2Weights(model, tensors);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const vocab = metadata.webgrad_char_vocab ? new CharVocab(JSON.parse(metadata.webgrad_char_vocab)) : undefined;
  const tokenizer = vocab ? charTokenizer(vocab) : await gpt2Tokenizer();
  if (!metadata.webgrad_char_vocab && config.vocabSize < 50257) {
    throw new Error(`${path}: no character vocabulary in its metadata, and its vocabulary of ${config.vocabSize} is smaller than GPT-2's BPE (50257)`);
  }
  return { model, tokenizer, vocab };
}

/**
 * Text in, text out: encodes the prompt, generates with the KV cache, decodes the new tokens.
 * @example
 * const vocab = wg.data.CharVocab.fromText("今天天气很好");
 * const model = new wg.models.GPT({ vocabSize: vocab.size, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2 });
 * const text = await generateText(model, charTokenizer(vocab), "今天", { maxNewTokens: 5, temperature: 0.8, topK: 3, seed: 1 });
 * [...text].length; // 5 (untrained: five characters of the vocabulary at random)
 */
export async function generateText(model: GPT, tokenizer: TextTokenizer, prompt: string, opts: SamplingOptions & { maxNewTokens: number; seed?: number }): Promise<string> {
  const ids = await generateAsync(model, tokenizer.encode(prompt), { ...opts, stopToken: tokenizer.eot });
  return tokenizer.decode(ids);
}


const figure = (r: { validationLoss: number; validationTokens: number; unigramLoss: number }) =>
  `validation loss ${r.validationLoss.toFixed(3)} nats/char on ${r.validationTokens} characters; unigram baseline ${r.unigramLoss.toFixed(3)}`;

/** `webgrad train|eval|bench gpt` and `webgrad generate gpt --prompt ...`. */
export const cli: ZooCommand = {
  summary: "S7: GPT-2-style model, char-level on fortunes-zh; or HF GPT-2 weights",
  verbs: ["train", "eval", "generate", "bench"],
  options: {
    steps: { type: "string", help: "gpt: training steps (default 400, about 11 min on 2 busy cores)" },
    prompt: { type: "string", help: `gpt: text to continue (default ${SEED_PROMPT})` },
    tokens: { type: "string", help: "gpt: how many tokens to generate (default 200)" },
    "test-count": { type: "string", help: "gpt train: score the first N validation characters (default all; quick runs)" },
    temperature: { type: "string", help: "gpt: sampling temperature, 0 = greedy (default 0.8)" },
    "top-k": { type: "string", help: "gpt: keep the k most likely tokens (default 40, 0 = all)" },
    "top-p": { type: "string", help: "gpt: nucleus probability (default 0.95)" },
    heads: { type: "string", help: "gpt: attention heads of a HF GPT-2 file (default width/64)" },
  },
  async run(ctx) {
    const v = ctx.values;
    const weights = weightsPath(ctx, "gpt"), existing = () => requireWeights(ctx, "gpt", "pass --weights FILE (ours or a Hugging Face GPT-2 model.safetensors)");
    const sampling = {
      temperature: ctx.num(v.temperature, "temperature") ?? 0.8,
      topK: ctx.num(v["top-k"], "top-k") ?? 40,
      topP: ctx.num(v["top-p"], "top-p") ?? 0.95,
      seed: ctx.seed ?? 0,
      maxNewTokens: ctx.num(v.tokens, "tokens") ?? 200,
    };
    const prompt = (v.prompt as string | undefined) ?? SEED_PROMPT;
    if (ctx.verb === "train") {
      const progress = await ctx.progress();
      const r = await trainGptChar({ steps: ctx.num(v.steps, "steps"), batchSize: ctx.batchSize, validationChars: ctx.num(v["test-count"], "test-count"), seed: ctx.seed, onProgress: progress });
      progress.stop();
      ctx.log(`${r.model.numParameters()} parameters, vocabulary ${r.vocab.size} characters, ${r.trainTokens} training characters`);
      ctx.log(`${r.losses.length} steps in ${r.seconds.toFixed(1)} s (${r.stepsPerSecond.toFixed(2)} steps/s)`);
      ctx.log(figure(r));
      await saveGptChar(weights, r.model, r.vocab);
      ctx.log(`weights saved to ${weights} (\`webgrad eval gpt\` scores them again, \`webgrad generate gpt\` continues a prompt)`);
      ctx.log(`${prompt}${await generateText(r.model, charTokenizer(r.vocab), prompt, sampling)}`);
      return 0;
    }
    if (ctx.verb === "bench") {
      const B = 32, corpus = await loadFortuneCorpus();
      manualSeed(ctx.seed ?? 0);
      const model = new GPT({ vocabSize: corpus.vocab.size, nPositions: 64, nEmbd: 128, nLayer: 4, nHead: 4, dropout: 0 }), T = 64;
      const opt = new AdamW(model.parameters(), { lr: 3e-3, betas: [0.9, 0.95], weightDecay: 0.1 }), params = model.parameters();
      const random = rng(1), x = new Int32Array(B * T), y = new Int32Array(B * T);
      for (let b = 0; b < B; b++) {
        const s = Math.floor(random() * (corpus.train.length - T - 1));
        x.set(corpus.train.subarray(s, s + T), b * T);
        y.set(corpus.train.subarray(s + 1, s + 1 + T), b * T);
      }
      const ids = (a: Int32Array) => ops.tensor(a, { dtype: "int32", shape: [B, T] });
      return runBench(ctx, "gpt", {
        batchSize: B,
        trainStep: () => lossStep(opt, () => model.loss(ids(x), ids(y)), () => clipGradNorm(params, 1)),
        infer: () => model.forward(ids(x)),
        unit: `windows of ${T} characters`,
      });
    }
    if (ctx.verb === "eval") {
      const { model, vocab } = await loadGptFile(existing(), { nHead: ctx.num(v.heads, "heads") });
      if (!vocab) throw new Error(`gpt: ${weights} has no character vocabulary: \`eval gpt\` scores character models made by \`webgrad train gpt\` (use \`generate\` for GPT-2 files)`);
      const corpus = await loadFortuneCorpus({ vocab });
      const { loss, tokens } = await evaluateLoss(model, corpus.validation, model.config.nPositions);
      ctx.log(figure({ validationLoss: loss, validationTokens: tokens, unigramLoss: unigramCrossEntropy(corpus.train, corpus.validation.subarray(1), vocab.size) }));
      // int8: the attention and MLP projections (Conv1D, a Linear stored [in, out]) and the output head
      // (an int8 copy of the tied wte) on the int8 kernels; the embedding lookups stay f32. Timed on 16 windows of the context.
      const second = (await loadGptFile(existing(), { nHead: ctx.num(v.heads, "heads") })).model;
      const T = model.config.nPositions, B = 16;
      const x = ops.tensor(corpus.validation.subarray(0, B * T), { dtype: "int32", shape: [B, T] }).keep();
      const r = await int8Comparison(model, () => second, async (m) => (await evaluateLoss(m, corpus.validation, T)).loss, (m) => m.forward(x));
      x.dispose();
      for (const line of int8Lines(r, "loss", B)) ctx.log(line);
      return 0;
    }
    const { model, tokenizer } = await loadGptFile(existing(), { nHead: ctx.num(v.heads, "heads") });
    ctx.log(`${weights}: ${model.config.nLayer} layers, width ${model.config.nEmbd}, vocabulary ${model.config.vocabSize}, tokenizer ${tokenizer.name}`);
    const t0 = performance.now();
    const text = await generateText(model, tokenizer, prompt, sampling);
    ctx.log(`${prompt}${text}`);
    ctx.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return 0;
  },
};
