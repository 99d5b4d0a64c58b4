// The Keras-like training loop, the one every zoo recipe but S2 trains with:
// fit() runs epochs of scoped steps over a DataLoader or any batch source
// (batches generated per step, several inputs through a forward function, a
// loss of its own), validates after each epoch, computes metrics, calls
// callbacks (host/callbacks.ts: early stopping, learning-rate schedules,
// checkpoints, weight averaging) and clips gradients; evaluate(),
// evaluateAsync() and predict() run without the tape.

import type { Module } from "./nn/module.js";
import type { Optimizer } from "./optim/optimizer.js";
import { Tensor } from "./tensor.js";
import * as F from "./nn/functional.js";
import { noGrad } from "./autograd.js";
import { scope, tensorsIn } from "./scope.js";
import { backend } from "./engine.js";
import { terminalBar, isTerminal } from "./progress.js";
import * as ops from "./ops/index.js";
import { checkOptions, checkOneOf, checkInt, checkBool } from "./ops/util.js";

export type LossName = "crossEntropy" | "binaryCrossEntropy" | "binaryCrossEntropyWithLogits" | "mse";

/** A DataLoader's batch: inputs x, targets y, and how many samples. */
export interface Batch {
  x: Tensor;
  y: Tensor;
  size: number;
}

/**
 * What fit(), evaluate() and predict() iterate: a DataLoader, or any iterable
 * of batches with a `length` (batches per pass). A batch is any object with a
 * `size` (samples, for the mean loss); the tensors in it are disposed once the
 * step used them. A source that makes its batches on the fly (random windows of
 * a text, strings drawn per step) is a few lines.
 *
 * @example
 * // 100 steps per "epoch" of random sequences: fit's epochs become rounds of 100 steps
 * const rounds: wg.BatchSource<{ ids: Int32Array; size: number }> = {
 *   length: 100,
 *   *[Symbol.iterator]() { for (let i = 0; i < 100; i++) yield { ids: Int32Array.from({ length: 8 }, (_, j) => (i + j) % 5), size: 1 }; },
 * };
 */
export interface BatchSource<B extends { size: number } = Batch> extends Iterable<B> {
  readonly length: number;
}

/** The model's output for a batch (default: model.forward(batch.x)), for models of several inputs. */
export type ForwardFn<B> = (model: Module, batch: B) => Tensor;
/** A loss computed from the output and the batch (masks, weights, reshapes), returning a 0-d tensor. */
export type LossFn<B> = (output: Tensor, batch: B) => Tensor;
/** Validation by hand (a stateful evaluation, a held-out generator): the loss and, optionally, an accuracy. */
export type ValidationFn = (model: Module) => { loss: number; accuracy?: number } | Promise<{ loss: number; accuracy?: number }>;

export interface EpochLog {
  epoch: number;
  loss: number;
  accuracy?: number;
  valLoss?: number;
  valAccuracy?: number;
  lr: number;
  seconds: number;
}

/** Hooks fit() calls; return "stop" from onEpochEnd to end training. fit() awaits the epoch-level hooks, so they may be async (saving a checkpoint). */
export interface Callback {
  onTrainBegin?(ctx: FitContext): void | Promise<void>;
  onStepBegin?(ctx: FitContext, step: number): void;
  onEpochEnd?(ctx: FitContext, log: EpochLog): void | "stop" | Promise<void | "stop">;
  onTrainEnd?(ctx: FitContext): void | Promise<void>;
}

export interface FitContext {
  model: Module;
  /** The first (usually the only) optimizer. */
  optimizer: Optimizer;
  /** Every optimizer fit() steps (several when parameter groups need different settings). */
  optimizers: Optimizer[];
  /** Steps per epoch. */
  steps: number;
  epochs: number;
  history: EpochLog[];
}

export interface FitOptions<B extends { size: number } = Batch> {
  /** One optimizer, or several stepped together (e.g. weight decay on matrices only: two AdamW over two parameter groups). */
  optimizer: Optimizer | Optimizer[];
  /** A loss name, or a function of (output, batch) for a loss of its own (a mask, a reshape). */
  loss: LossName | LossFn<B>;
  /** The output for a batch (default model.forward(batch.x)): for models of several inputs. */
  forward?: ForwardFn<B>;
  epochs?: number;
  /** Batches to score after every epoch (with the same forward and loss), or a function that scores the model. */
  validation?: BatchSource<B> | ValidationFn;
  /** "accuracy" is the one metric computed per batch (a loss name and batch.y needed); precision/recall/F1 come from wg.metrics on predict(). */
  metrics?: "accuracy"[];
  callbacks?: Callback[];
  /** Rescales the gradients so their global L2 norm is at most this (torch's clip_grad_norm_). */
  clipGradNorm?: number;
  /** Called after every step (progress bars) with the epoch's mean loss so far and this step's loss. */
  onStep?: (epoch: number, step: number, steps: number, loss: number, stepLoss: number) => void;
  /** A progress bar while each epoch runs: "auto" (default) shows one when stdout is a terminal and no onStep is given. */
  progress?: boolean | "auto";
  /** Called after every epoch (default: a plain log line on the console; pass () => {} for silence). */
  onEpoch?: (log: EpochLog) => void;
}

const LOSSES: LossName[] = ["crossEntropy", "binaryCrossEntropy", "binaryCrossEntropyWithLogits", "mse"];
const FIT_OPTIONS = ["optimizer", "loss", "forward", "epochs", "validation", "metrics", "callbacks", "clipGradNorm", "onStep", "progress", "onEpoch"];

/** The loss option fit() and evaluate() need: one of the names lossOf knows, or a function. */
function checkLoss(who: string, loss: unknown): void {
  if (loss === undefined) throw new Error(`${who}: the loss option is required (${LOSSES.join(", ")}, or a function (output, batch) => loss)`);
  if (typeof loss !== "function") checkOneOf(who, "loss", loss, LOSSES);
}

/** A clipping norm: > 0 (Infinity allowed: the norm without clipping); NaN or 0 would zero or NaN every gradient. */
function checkMaxNorm(who: string, v: unknown, name = "maxNorm"): void {
  if (typeof v !== "number" || !(v > 0)) throw new Error(`${who}: ${name} must be a number > 0, got ${JSON.stringify(v) ?? String(v)}`);
}

function checkFunction(who: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "function") throw new Error(`${who}: ${name} must be a function, got ${typeof v}`);
}

function isSource(v: unknown): boolean {
  return typeof (v as any)?.[Symbol.iterator] === "function" && Number.isInteger((v as any).length);
}

/** fit()'s options, all checked before the first step (a typo must not cost an epoch). */
function checkFitOptions(opts: FitOptions<any>): void {
  if (typeof opts !== "object" || opts === null) throw new Error("fit: options { optimizer, loss } are required");
  checkOptions("fit", opts, FIT_OPTIONS);
  const opt = Array.isArray(opts.optimizer) ? opts.optimizer : [opts.optimizer];
  if (!opt.length || opt.some((o) => typeof o?.step !== "function")) throw new Error("fit: optimizer must be an optimizer (wg.optim.SGD, Adam, AdamW) or a non-empty array of them");
  checkLoss("fit", opts.loss);
  checkFunction("fit", "forward", opts.forward);
  if (opts.epochs !== undefined) checkInt("fit", "epochs", opts.epochs, 0);
  if (opts.validation !== undefined && typeof opts.validation !== "function" && !isSource(opts.validation)) throw new Error("fit: validation must be a DataLoader (any iterable of batches with a length) or a function (model) => { loss, accuracy? }");
  if (opts.metrics !== undefined) {
    if (!Array.isArray(opts.metrics)) throw new Error(`fit: metrics must be an array, got ${JSON.stringify(opts.metrics)}`);
    for (const m of opts.metrics) if (m !== "accuracy") throw new Error(`fit: unknown metric ${JSON.stringify(m)} (fit computes "accuracy"; precision, recall and F1 come from wg.metrics on predict())`);
    if (opts.metrics.length && typeof opts.loss === "function") throw new Error("fit: the accuracy metric needs a loss name (it reads the output as class scores or one binary output); score a custom loss's model with a validation function");
  }
  if (opts.callbacks !== undefined && (!Array.isArray(opts.callbacks) || opts.callbacks.some((c) => typeof c !== "object" || c === null))) throw new Error("fit: callbacks must be an array of callback objects");
  if (opts.clipGradNorm !== undefined) checkMaxNorm("fit", opts.clipGradNorm, "clipGradNorm");
  checkFunction("fit", "onStep", opts.onStep);
  checkFunction("fit", "onEpoch", opts.onEpoch);
  if (opts.progress !== undefined && opts.progress !== "auto") checkBool("fit", "progress", opts.progress);
}

/** model.forward(batch.x), the default forward; a batch without x needs the forward option. */
function defaultForward(who: string): ForwardFn<any> {
  return (model, b) => {
    if (!(b?.x instanceof Tensor)) throw new Error(`${who}: the batch has no tensor x: pass a forward option (model, batch) => output`);
    return model.forward(b.x);
  };
}

/** The loss of a batch: a named loss against batch.y, or the caller's function. */
function lossFor<B>(who: string, loss: LossName | LossFn<B>): LossFn<B> {
  if (typeof loss === "function") return loss;
  return (out, b: any) => {
    if (!(b?.y instanceof Tensor)) throw new Error(`${who}: the batch has no tensor y for the "${loss}" loss: pass a loss function (output, batch) => loss`);
    return lossOf(loss, out, b.y);
  };
}

function lossOf(name: LossName, out: Tensor, y: Tensor): Tensor {
  switch (name) {
    case "crossEntropy": return F.crossEntropy(out, y);
    case "binaryCrossEntropy": return F.binaryCrossEntropy(out, y.rank === out.rank ? y : y.reshape([...out.shape]));
    case "binaryCrossEntropyWithLogits": return F.binaryCrossEntropyWithLogits(out, y.rank === out.rank ? y : y.reshape([...out.shape]));
    case "mse": return F.mseLoss(out, y.rank === out.rank ? y : y.reshape([...out.shape]));
  }
}

/** Correct predictions in a batch: argmax for class scores, a threshold for one binary output. */
function countCorrect(name: LossName, out: Tensor, o: ArrayLike<number>, t: ArrayLike<number>): number {
  let c = 0;
  if (out.rank === 2 && out.shape[1] > 1) {
    const k = out.shape[1];
    for (let i = 0; i < out.shape[0]; i++) {
      let best = 0;
      for (let j = 1; j < k; j++) if (o[i * k + j] > o[i * k + best]) best = j;
      c += best === t[i] ? 1 : 0;
    }
    return c;
  }
  const threshold = name === "binaryCrossEntropyWithLogits" ? 0 : 0.5;
  for (let i = 0; i < o.length; i++) c += (o[i] > threshold ? 1 : 0) === (t[i] > 0.5 ? 1 : 0) ? 1 : 0;
  return c;
}

/** countCorrect on values read back (every backend). */
async function correct(name: LossName, out: Tensor, y: Tensor): Promise<number> {
  return countCorrect(name, out, await out.data(), await y.data());
}

/**
 * Scales every gradient by min(1, maxNorm / (norm + 1e-6)), norm being the L2
 * norm of all of them together (PyTorch's clip_grad_norm_), and returns that
 * norm before clipping as a 0-d tensor, on every backend: kernels compute and
 * apply it, nothing is read back (so a WebGPU step never stalls on it). Read it
 * with `.item()` on wasm or `await norm.itemAsync()` anywhere; it is a
 * temporary (keep() it to hold it past a scope).
 *
 * @example
 * const w = wg.tensor([3, 4], { requiresGrad: true });
 * w.mul(w).sum().mul(0.5).backward(); // grad [3, 4]: norm 5
 * wg.clipGradNorm([w], 1).item(); // 5
 * w.grad!.toArray(); // e.g. [0.6, 0.8] (scaled by 1 / 5)
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): Tensor {
  checkMaxNorm("clipGradNorm", maxNorm);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => !!g);
  const norm = noGrad(() => scope(() => {
    let sq: Tensor = ops.zeros([]);
    for (const g of grads) sq = sq.add(g.square().sum());
    return sq.sqrt();
  }));
  noGrad(() => scope(() => {
    const factor = ops.minimum(norm.add(1e-6).reciprocal().mul(maxNorm), 1);
    for (const g of grads) ops.copyInPlace(g, g.mul(factor));
  }));
  return norm;
}

/**
 * The same as clipGradNorm, under the name it had when clipGradNorm returned a
 * number (kept so code written then still runs).
 * @example const norm = await wg.clipGradNormTensor(model.parameters(), 1).itemAsync();
 */
export const clipGradNormTensor = clipGradNorm;

/** The loops below made each batch through the source and hand it to no one else: its tensors go once used. */
function disposeBatch(b: unknown): void {
  for (const t of tensorsIn(b)) t.dispose();
}

export interface EvaluateOptions<B extends { size: number } = Batch> {
  /** A loss name (then accuracy is computed too) or a function (output, batch) => loss (accuracy NaN). */
  loss: LossName | LossFn<B>;
  /** The output for a batch (default model.forward(batch.x)). */
  forward?: ForwardFn<B>;
}

function checkEvaluate(who: string, loader: unknown, opts: EvaluateOptions<any>): void {
  checkOptions(who, opts, ["loss", "forward"]);
  checkLoss(who, opts?.loss);
  checkFunction(who, "forward", opts.forward);
  if (!isSource(loader)) throw new Error(`${who}: batches must be a DataLoader (any iterable of batches with a length)`);
}

/** One batch scored without the tape: its loss (0-d) and, for a named loss, the output (for accuracy). */
function scoreBatch<B extends { size: number }>(model: Module, b: B, forward: ForwardFn<B>, loss: LossFn<B>, named: boolean): { loss: Tensor; out?: Tensor } {
  return scope(() => noGrad(() => {
    const out = forward(model, b);
    return named ? { loss: loss(out, b), out } : { loss: loss(out, b) };
  }));
}

/**
 * Loss (and accuracy) of `model` over every batch of `loader`, without the
 * tape, in eval mode. Synchronous: on the wasm backend; evaluateAsync runs on every backend.
 *
 * @example
 * // model: a small image classifier; loader: 16 labelled [1, 8, 8] images in batches of 4
 * const { loss, accuracy } = wg.evaluate(model, loader, { loss: "crossEntropy" });
 * accuracy * 16; // 2 (samples right, untrained)
 */
export function evaluate<B extends { size: number } = Batch>(model: Module, loader: BatchSource<B>, opts: EvaluateOptions<B>): { loss: number; accuracy: number } {
  checkEvaluate("evaluate", loader, opts);
  const forward = opts.forward ?? defaultForward("evaluate"), loss = lossFor("evaluate", opts.loss), named = typeof opts.loss === "string";
  const was = model.training;
  model.eval();
  let sum = 0, right = 0, n = 0;
  try {
    for (const b of loader) {
      const r = scoreBatch(model, b, forward, loss, named);
      sum += r.loss.item() * b.size;
      if (r.out) right += correctSync(opts.loss as LossName, r.out, (b as any).y);
      n += b.size;
      disposeBatch(r);
      disposeBatch(b);
    }
  } finally {
    model.train(was);
  }
  return { loss: sum / n, accuracy: named ? right / n : NaN };
}

/**
 * evaluate() on every backend: each batch's loss and output are read back with
 * await (a WebGPU readback), so it resolves to the same figures.
 *
 * @example
 * const { accuracy } = await wg.evaluateAsync(model, loader, { loss: "crossEntropy" });
 * accuracy === wg.evaluate(model, loader, { loss: "crossEntropy" }).accuracy; // true
 */
export async function evaluateAsync<B extends { size: number } = Batch>(model: Module, loader: BatchSource<B>, opts: EvaluateOptions<B>): Promise<{ loss: number; accuracy: number }> {
  checkEvaluate("evaluateAsync", loader, opts);
  const forward = opts.forward ?? defaultForward("evaluateAsync"), loss = lossFor("evaluateAsync", opts.loss), named = typeof opts.loss === "string";
  const was = model.training;
  model.eval();
  let sum = 0, right = 0, n = 0;
  try {
    for (const b of loader) {
      const r = scoreBatch(model, b, forward, loss, named);
      try {
        sum += (await r.loss.itemAsync()) * b.size;
        if (r.out) right += await correct(opts.loss as LossName, r.out, (b as any).y);
      } finally {
        disposeBatch(r);
        disposeBatch(b);
      }
      n += b.size;
    }
  } finally {
    model.train(was);
  }
  return { loss: sum / n, accuracy: named ? right / n : NaN };
}

/** correct() on the wasm backend, without awaiting. */
function correctSync(name: LossName, out: Tensor, y: Tensor): number {
  return countCorrect(name, out, out.dataSync(), y.dataSync());
}

/**
 * The model's outputs for every batch of `loader`, concatenated (no tape).
 * @example
 * const logits = wg.predict(model, loader); // a Float32Array, one row per sample
 * logits.length; // 160 (16 samples × 10 classes)
 */
export function predict<B extends { size: number } = Batch>(model: Module, loader: BatchSource<B>, opts: { forward?: ForwardFn<B> } = {}): Float32Array {
  checkOptions("predict", opts, ["forward"]);
  checkFunction("predict", "forward", opts.forward);
  const forward = opts.forward ?? defaultForward("predict");
  const was = model.training;
  model.eval();
  const parts: Float32Array[] = [];
  try {
    for (const b of loader) {
      parts.push(scope(() => noGrad(() => forward(model, b).dataSync() as Float32Array)));
      disposeBatch(b);
    }
  } finally {
    model.train(was);
  }
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * Keras-style training: epochs over `train`, validation after each, metrics,
 * callbacks. Every step runs in its own memory scope; the step's loss is read
 * back with await, so the same loop runs on every backend. Returns the history.
 * `train` may be any source of batches (see BatchSource); `forward` and a loss
 * function cover models of several inputs and losses of their own; `optimizer`
 * may be several (parameter groups).
 *
 * @example
 * const history = await wg.fit(model, loader, {
 *   optimizer: new wg.optim.Adam(model.parameters()), loss: "crossEntropy",
 *   epochs: 3, validation: loader, metrics: ["accuracy"],
 *   callbacks: [new wg.EarlyStopping({ patience: 2 })],
 * });
 * history.length; // 3
 * Object.keys(history[0]).sort(); // ["accuracy", "epoch", "loss", "lr", "seconds", "valAccuracy", "valLoss"]
 * @example
 * // two inputs and a masked loss, 30 steps of generated batches with a warm-up then a cosine
 * import { Seq2SeqTransformer } from "./zoo/transformer.js";
 * const seq2seq = new Seq2SeqTransformer(16, 2, 1, 32); // vocabulary 13: 0 padding, 1 begin, 2 end
 * // "3 4" reversed: the decoder reads [begin, 4, 3, pad] and predicts [4, 3, end, -]; the mask drops the pad
 * const makeBatch = () => ({
 *   src: wg.tensor([[3, 4, 0]], { dtype: "int32" }), tgt: wg.tensor([[1, 4, 3, 0]], { dtype: "int32" }),
 *   next: wg.tensor([4, 3, 2, 0], { dtype: "int32" }), mask: wg.tensor([1, 1, 1, 0]), count: 3, size: 1,
 * });
 * const history = await wg.fit(seq2seq, { length: 30, *[Symbol.iterator]() { for (let i = 0; i < 30; i++) yield makeBatch(); } }, {
 *   optimizer: new wg.optim.Adam(seq2seq.parameters()), epochs: 1,
 *   forward: (m, b) => m.forward(b.src, b.tgt).reshape(4, 13),
 *   loss: (out, b) => wg.nn.crossEntropy(out, b.next, { reduction: "none" }).mul(b.mask).sum().div(b.count),
 *   callbacks: [wg.LearningRateSchedule.cosine(30, { warmup: 3 })],
 * });
 * history.length; // 1
 */
export async function fit<B extends { size: number } = Batch>(model: Module, train: BatchSource<B>, opts: FitOptions<B>): Promise<EpochLog[]> {
  checkFitOptions(opts);
  if (!isSource(train)) throw new Error("fit: train must be a DataLoader (any iterable of batches with a length)");
  const epochs = opts.epochs ?? 1, optimizers = Array.isArray(opts.optimizer) ? opts.optimizer : [opts.optimizer], cbs = opts.callbacks ?? [];
  const ctx: FitContext = { model, optimizer: optimizers[0], optimizers, steps: train.length, epochs, history: [] };
  const wantAcc = opts.metrics?.includes("accuracy") ?? false;
  const forward = opts.forward ?? defaultForward("fit"), loss = lossFor("fit", opts.loss);
  const params = optimizers.flatMap((o) => o.params);
  const onEpoch = opts.onEpoch ?? ((l: EpochLog) => console.log(formatEpoch(l, epochs)));
  backend(); // fail now, not mid-epoch, when init() was not called
  for (const c of cbs) await c.onTrainBegin?.(ctx);
  const showBar = opts.progress === true || ((opts.progress ?? "auto") === "auto" && !opts.onStep && isTerminal());
  model.train();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const t0 = performance.now();
    let lossSum = 0, right = 0, n = 0, step = 0;
    const bar = showBar ? await terminalBar(ctx.steps, "epoch {epoch} |{bar}| {value}/{total} · loss {loss}", { epoch: `${epoch + 1}/${epochs}`, loss: "-" }) : null;
    for (const b of train) {
      cbs.forEach((c) => c.onStepBegin?.(ctx, epoch * ctx.steps + step));
      const r = scope(() => {
        for (const o of optimizers) o.zeroGrad();
        const out = forward(model, b);
        const l = loss(out, b);
        l.backward();
        if (opts.clipGradNorm !== undefined) clipGradNorm(params, opts.clipGradNorm).dispose();
        for (const o of optimizers) o.step();
        return wantAcc ? { l, out } : { l };
      });
      let l: number;
      try {
        l = await r.l.itemAsync(); // at once on wasm, a readback on WebGPU
        if (r.out) right += await correct(opts.loss as LossName, r.out, (b as any).y);
      } finally {
        disposeBatch(r);
        disposeBatch(b);
      }
      lossSum += l * b.size;
      n += b.size;
      step++;
      opts.onStep?.(epoch, step, ctx.steps, lossSum / n, l);
      bar?.update(step, { epoch: `${epoch + 1}/${epochs}`, loss: (lossSum / n).toFixed(4) });
    }
    bar?.stop();
    const log: EpochLog = { epoch: epoch + 1, loss: lossSum / n, lr: optimizers[0].lr, seconds: 0 };
    if (wantAcc) log.accuracy = right / n;
    if (opts.validation) {
      const v = typeof opts.validation === "function" ? await opts.validation(model) : await evaluateAsync(model, opts.validation, { loss: wantAcc ? opts.loss : loss, forward: opts.forward }); // a function: no outputs read back for an accuracy nobody asked for
      log.valLoss = v.loss;
      if (wantAcc || (typeof opts.validation === "function" && v.accuracy !== undefined)) log.valAccuracy = v.accuracy;
    }
    log.seconds = (performance.now() - t0) / 1000;
    ctx.history.push(log);
    onEpoch(log);
    let stop = false;
    for (const c of cbs) if ((await c.onEpochEnd?.(ctx, log)) === "stop") stop = true;
    if (stop) break;
    await new Promise((r) => setTimeout(r, 0)); // let a browser page breathe between epochs
  }
  for (const c of cbs) await c.onTrainEnd?.(ctx);
  return ctx.history;
}

/** "epoch 2/5  loss 0.1234  accuracy 96.10%  val_loss …  (3.2 s)", Keras's line. */
export function formatEpoch(l: EpochLog, epochs: number): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  return [
    `epoch ${l.epoch}/${epochs}`, `loss ${l.loss.toFixed(4)}`,
    l.accuracy !== undefined ? `accuracy ${pct(l.accuracy)}` : "",
    l.valLoss !== undefined ? `val_loss ${l.valLoss.toFixed(4)}` : "",
    l.valAccuracy !== undefined ? `val_accuracy ${pct(l.valAccuracy)}` : "",
    `(${l.seconds.toFixed(1)} s)`,
  ].filter(Boolean).join("  ");
}


export { EarlyStopping, LearningRateSchedule, ModelCheckpoint, WeightAveraging, type CosineOptions } from "./callbacks.js";
export { OneCycle, ReduceLROnPlateau, type OneCycleOptions, type ReduceLROnPlateauOptions } from "./callbacks.js";
