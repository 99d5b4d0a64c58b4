// The Keras-like training loop (S3 and every zoo recipe that wants one):
// fit() runs epochs of scoped steps over a DataLoader, validates after each
// epoch, computes metrics, calls callbacks (early stopping, learning-rate
// schedules) and clips gradients; evaluate() and predict() run without the tape.

import type { Module } from "./nn/module.js";
import type { Optimizer } from "./optim/optimizer.js";
import type { Tensor } from "./tensor.js";
import type { DataLoader } from "./data/loader.js";
import * as F from "./nn/functional.js";
import { noGrad } from "./autograd.js";
import { scope } from "./scope.js";
import { backend } from "./engine.js";
import { terminalBar, isTerminal } from "./progress.js";
import { saveCheckpoint } from "./io/checkpoint.js";
import type { FileStore } from "./io/files.js";
import * as ops from "./ops/index.js";
import { checkOptions, checkOneOf, checkInt, checkNumber, checkBool } from "./ops/util.js";
import { checkStore } from "./io/files.js";

export type LossName = "crossEntropy" | "binaryCrossEntropy" | "binaryCrossEntropyWithLogits" | "mse";

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
  optimizer: Optimizer;
  /** Steps per epoch. */
  steps: number;
  epochs: number;
  history: EpochLog[];
}

export interface FitOptions {
  optimizer: Optimizer;
  loss: LossName;
  epochs?: number;
  validation?: DataLoader;
  /** "accuracy" is the one metric computed per batch; precision/recall/F1 come from wg.metrics on predict(). */
  metrics?: "accuracy"[];
  callbacks?: Callback[];
  /** Rescales the gradients so their global L2 norm is at most this (torch's clip_grad_norm_). */
  clipGradNorm?: number;
  /** Called after every step (progress bars). */
  onStep?: (epoch: number, step: number, steps: number, loss: number) => void;
  /** A progress bar while each epoch runs: "auto" (default) shows one when stdout is a terminal and no onStep is given. */
  progress?: boolean | "auto";
  /** Called after every epoch (default: a plain log line on the console; pass () => {} for silence). */
  onEpoch?: (log: EpochLog) => void;
}

const LOSSES: LossName[] = ["crossEntropy", "binaryCrossEntropy", "binaryCrossEntropyWithLogits", "mse"];
const MONITORS: Monitor[] = ["loss", "valLoss", "accuracy", "valAccuracy"];
const FIT_OPTIONS = ["optimizer", "loss", "epochs", "validation", "metrics", "callbacks", "clipGradNorm", "onStep", "progress", "onEpoch"];

/** The loss option fit() and evaluate() need: one of the names lossOf knows (an unknown one returned undefined as the loss). */
function checkLoss(who: string, loss: unknown): void {
  if (loss === undefined) throw new Error(`${who}: the loss option is required (${LOSSES.join(", ")})`);
  checkOneOf(who, "loss", loss, LOSSES);
}

/** A clipping norm: > 0 (Infinity allowed: the norm without clipping); NaN or 0 would zero or NaN every gradient. */
function checkMaxNorm(who: string, v: unknown, name = "maxNorm"): void {
  if (typeof v !== "number" || !(v > 0)) throw new Error(`${who}: ${name} must be a number > 0, got ${JSON.stringify(v) ?? String(v)}`);
}

function checkFunction(who: string, name: string, v: unknown): void {
  if (v !== undefined && typeof v !== "function") throw new Error(`${who}: ${name} must be a function, got ${typeof v}`);
}

/** fit()'s options, all checked before the first step (a typo must not cost an epoch). */
function checkFitOptions(opts: FitOptions): void {
  if (typeof opts !== "object" || opts === null) throw new Error("fit: options { optimizer, loss } are required");
  checkOptions("fit", opts, FIT_OPTIONS);
  if (typeof opts.optimizer?.step !== "function") throw new Error("fit: optimizer must be an optimizer (wg.optim.SGD, Adam, AdamW)");
  checkLoss("fit", opts.loss);
  if (opts.epochs !== undefined) checkInt("fit", "epochs", opts.epochs, 0);
  if (opts.validation !== undefined && typeof (opts.validation as any)?.[Symbol.iterator] !== "function") throw new Error("fit: validation must be a DataLoader");
  if (opts.metrics !== undefined) {
    if (!Array.isArray(opts.metrics)) throw new Error(`fit: metrics must be an array, got ${JSON.stringify(opts.metrics)}`);
    for (const m of opts.metrics) if (m !== "accuracy") throw new Error(`fit: unknown metric ${JSON.stringify(m)} (fit computes "accuracy"; precision, recall and F1 come from wg.metrics on predict())`);
  }
  if (opts.callbacks !== undefined && (!Array.isArray(opts.callbacks) || opts.callbacks.some((c) => typeof c !== "object" || c === null))) throw new Error("fit: callbacks must be an array of callback objects");
  if (opts.clipGradNorm !== undefined) checkMaxNorm("fit", opts.clipGradNorm, "clipGradNorm");
  checkFunction("fit", "onStep", opts.onStep);
  checkFunction("fit", "onEpoch", opts.onEpoch);
  if (opts.progress !== undefined && opts.progress !== "auto") checkBool("fit", "progress", opts.progress);
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
function correct(name: LossName, out: Tensor, y: Tensor): number {
  const o = out.dataSync(), t = y.dataSync();
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

/**
 * Scales every gradient so the global L2 norm is at most maxNorm; returns the norm before clipping.
 * On WebGPU the norm stays on the device (reading it would stall the GPU every step): the
 * clipping runs there and this returns NaN; use clipGradNormTensor for the norm.
 * @example const norm = wg.clipGradNorm(model.parameters(), 1);
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  checkMaxNorm("clipGradNorm", maxNorm);
  if (backend().name !== "wasm") {
    clipGradNormTensor(params, maxNorm).dispose();
    return NaN;
  }
  // squares summed by the kernels, one number per parameter read back (not every gradient copied to JS)
  let sq = 0;
  for (const p of params) if (p.grad) sq += scope(() => noGrad(() => p.grad!.square().sum().item()));
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) for (const p of params) p.grad?.mul_(maxNorm / (norm + 1e-6));
  return norm;
}

/**
 * clipGradNorm with the norm kept as a tensor: every gradient is scaled by
 * min(1, maxNorm / (norm + 1e-6)) with kernels (no value read back), and the
 * norm before clipping is returned as a 0-d tensor (temporary: read it with
 * await norm.itemAsync() or keep() it). Works on every backend.
 * @example const norm = await wg.clipGradNormTensor(model.parameters(), 1).itemAsync();
 */
export function clipGradNormTensor(params: Tensor[], maxNorm: number): Tensor {
  checkMaxNorm("clipGradNormTensor", maxNorm);
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

/** The loops below made each batch through the loader and hand it to no one else: it goes once used. */
function disposeBatch(b: { x: Tensor; y: Tensor }): void {
  b.x.dispose();
  b.y.dispose();
}

/**
 * Loss (and accuracy) of `model` over every batch of `loader`, without the tape.
 *
 * @example
 * const { loss, accuracy } = wg.evaluate(model, testLoader, { loss: "crossEntropy" });
 */
export function evaluate(model: Module, loader: DataLoader, opts: { loss: LossName }): { loss: number; accuracy: number } {
  checkOptions("evaluate", opts, ["loss"]);
  checkLoss("evaluate", opts?.loss);
  const was = model.training;
  model.eval();
  let loss = 0, right = 0, n = 0;
  for (const b of loader) {
    scope(() => noGrad(() => {
      const out = model.forward(b.x);
      loss += lossOf(opts.loss, out, b.y).item() * b.size;
      right += correct(opts.loss, out, b.y);
      n += b.size;
    }));
    disposeBatch(b);
  }
  if (was) model.train();
  return { loss: loss / n, accuracy: right / n };
}

/**
 * The model's outputs for every batch of `loader`, concatenated (no tape).
 * @example const probs = wg.predict(model, testLoader); // Float32Array, one row per sample
 */
export function predict(model: Module, loader: DataLoader): Float32Array {
  const was = model.training;
  model.eval();
  const parts: Float32Array[] = [];
  for (const b of loader) {
    parts.push(scope(() => noGrad(() => model.forward(b.x).dataSync() as Float32Array)));
    disposeBatch(b);
  }
  if (was) model.train();
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/**
 * Keras-style training: epochs over `train`, validation after each, metrics,
 * callbacks. Every step runs in its own memory scope. Returns the history.
 *
 * @example
 * const history = await wg.fit(model, trainLoader, {
 *   optimizer: new wg.optim.Adam(model.parameters()), loss: "binaryCrossEntropy",
 *   epochs: 5, validation: valLoader, metrics: ["accuracy"],
 *   callbacks: [new wg.EarlyStopping({ patience: 2 })],
 * });
 */
export async function fit(model: Module, train: DataLoader, opts: FitOptions): Promise<EpochLog[]> {
  checkFitOptions(opts);
  const epochs = opts.epochs ?? 1, opt = opts.optimizer, cbs = opts.callbacks ?? [];
  const ctx: FitContext = { model, optimizer: opt, steps: train.length, epochs, history: [] };
  const wantAcc = opts.metrics?.includes("accuracy") ?? false;
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
      const l = scope(() => {
        opt.zeroGrad();
        const out = model.forward(b.x);
        const loss = lossOf(opts.loss, out, b.y);
        loss.backward();
        if (opts.clipGradNorm !== undefined) clipGradNorm(opt.params, opts.clipGradNorm);
        opt.step();
        if (wantAcc) right += correct(opts.loss, out, b.y);
        return loss.item();
      });
      disposeBatch(b);
      lossSum += l * b.size;
      n += b.size;
      step++;
      opts.onStep?.(epoch, step, ctx.steps, lossSum / n);
      bar?.update(step, { epoch: `${epoch + 1}/${epochs}`, loss: (lossSum / n).toFixed(4) });
    }
    bar?.stop();
    const log: EpochLog = { epoch: epoch + 1, loss: lossSum / n, lr: opt.lr, seconds: 0 };
    if (wantAcc) log.accuracy = right / n;
    if (opts.validation) {
      const v = evaluate(model, opts.validation, { loss: opts.loss });
      log.valLoss = v.loss;
      if (wantAcc) log.valAccuracy = v.accuracy;
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

type Monitor = "loss" | "valLoss" | "accuracy" | "valAccuracy";

/**
 * Stops when `monitor` has not improved by minDelta for `patience` epochs;
 * with restoreBest, puts back the best epoch's weights.
 * @example new wg.EarlyStopping({ monitor: "valLoss", patience: 3, restoreBest: true })
 */
export class EarlyStopping implements Callback {
  readonly monitor: Monitor;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBest: boolean;
  best = Infinity;
  bestEpoch = 0;
  stoppedEpoch = 0;
  private wait = 0;
  private saved: Float32Array[] | null = null;
  constructor(o: { monitor?: Monitor; patience?: number; minDelta?: number; restoreBest?: boolean } = {}) {
    checkOptions("EarlyStopping", o, ["monitor", "patience", "minDelta", "restoreBest"]);
    checkOneOf("EarlyStopping", "monitor", o.monitor, MONITORS);
    if (o.patience !== undefined) checkInt("EarlyStopping", "patience", o.patience, 0);
    if (o.minDelta !== undefined) checkNumber("EarlyStopping", "minDelta", o.minDelta, 0);
    checkBool("EarlyStopping", "restoreBest", o.restoreBest);
    this.monitor = o.monitor ?? "valLoss";
    this.patience = o.patience ?? 3;
    this.minDelta = o.minDelta ?? 0;
    this.restoreBest = o.restoreBest ?? false;
  }
  onEpochEnd(ctx: FitContext, log: EpochLog): void | "stop" {
    const raw = log[this.monitor];
    if (raw === undefined) throw new Error(`EarlyStopping: "${this.monitor}" is not logged (pass validation data / metrics: ["accuracy"])`);
    const v = this.monitor.toLowerCase().includes("accuracy") ? -raw : raw; // lower is better
    if (v < this.best - this.minDelta) {
      this.best = v;
      this.bestEpoch = log.epoch;
      this.wait = 0;
      if (this.restoreBest) this.saved = ctx.model.parameters().map((p) => p.dataSync() as Float32Array);
      return;
    }
    if (++this.wait >= this.patience) {
      this.stoppedEpoch = log.epoch;
      return "stop";
    }
  }
  onTrainEnd(ctx: FitContext): void {
    if (this.saved) ctx.model.parameters().forEach((p, i) => (p.view() as Float32Array).set(this.saved![i]));
  }
}

/**
 * Learning-rate schedule by step: lr = base·factor(step), set before every step.
 * Ready-made: LearningRateSchedule.step(every, gamma), .cosine(totalSteps, minLr), .warmup(steps, then).
 * @example callbacks: [wg.LearningRateSchedule.cosine(1000)]
 */
export class LearningRateSchedule implements Callback {
  private base = 0;
  constructor(readonly factor: (step: number, base: number) => number) {
    if (typeof factor !== "function") throw new Error(`LearningRateSchedule: factor must be a function (step, baseLr) => lr, got ${typeof factor}`);
  }
  onTrainBegin(ctx: FitContext): void {
    this.base = ctx.optimizer.lr;
  }
  onStepBegin(ctx: FitContext, step: number): void {
    ctx.optimizer.lr = this.factor(step, this.base);
  }
  /** lr·gamma^⌊step/every⌋ (torch's StepLR, counted in steps). */
  static step(every: number, gamma = 0.1): LearningRateSchedule {
    checkInt("LearningRateSchedule.step", "every", every, 1);
    checkNumber("LearningRateSchedule.step", "gamma", gamma, 0);
    return new LearningRateSchedule((s, b) => b * gamma ** Math.floor(s / every));
  }
  /** Cosine from the base lr down to minLr over totalSteps (torch's CosineAnnealingLR). */
  static cosine(totalSteps: number, minLr = 0): LearningRateSchedule {
    checkInt("LearningRateSchedule.cosine", "totalSteps", totalSteps, 1);
    checkNumber("LearningRateSchedule.cosine", "minLr", minLr, 0);
    return new LearningRateSchedule((s, b) => minLr + ((b - minLr) * (1 + Math.cos((Math.PI * Math.min(s, totalSteps)) / totalSteps))) / 2);
  }
  /** Linear warm-up from 0 over `steps`, then `then` (another schedule) or the base lr. */
  static warmup(steps: number, then?: LearningRateSchedule): LearningRateSchedule {
    checkInt("LearningRateSchedule.warmup", "steps", steps, 0);
    if (then !== undefined && !(then instanceof LearningRateSchedule)) throw new Error("LearningRateSchedule.warmup: then must be a LearningRateSchedule");
    return new LearningRateSchedule((s, b) => (s < steps ? (b * (s + 1)) / steps : then ? then.factor(s - steps, b) : b));
  }
}

/**
 * Saves a checkpoint (model, optimizer state and step: training resumes
 * exactly) at the end of every epoch, or only when `monitor` improved
 * (saveBestOnly). `path` may hold {epoch}, e.g. "ckpt-{epoch}.safetensors".
 * Files are written atomically; browsers keep them in OPFS or IndexedDB.
 * @example callbacks: [new wg.ModelCheckpoint({ path: "best.safetensors", monitor: "valLoss", saveBestOnly: true })]
 */
export class ModelCheckpoint implements Callback {
  readonly path: string;
  readonly monitor: Monitor;
  readonly saveBestOnly: boolean;
  readonly store?: FileStore;
  best = Infinity;
  /** Paths written so far, in order. */
  readonly saved: string[] = [];
  constructor(o: { path: string; monitor?: Monitor; saveBestOnly?: boolean; store?: FileStore }) {
    checkOptions("ModelCheckpoint", o, ["path", "monitor", "saveBestOnly", "store"]);
    if (!o?.path) throw new Error("ModelCheckpoint: a path is required");
    if (typeof o.path !== "string") throw new Error(`ModelCheckpoint: path must be a string, got ${typeof o.path}`);
    checkOneOf("ModelCheckpoint", "monitor", o.monitor, MONITORS);
    checkBool("ModelCheckpoint", "saveBestOnly", o.saveBestOnly);
    checkStore("ModelCheckpoint", o.store);
    this.path = o.path;
    this.monitor = o.monitor ?? "valLoss";
    this.saveBestOnly = o.saveBestOnly ?? false;
    this.store = o.store;
  }
  async onEpochEnd(ctx: FitContext, log: EpochLog): Promise<void> {
    if (this.saveBestOnly) {
      const raw = log[this.monitor];
      if (raw === undefined) throw new Error(`ModelCheckpoint: "${this.monitor}" is not logged (pass validation data / metrics: ["accuracy"])`);
      const v = this.monitor.toLowerCase().includes("accuracy") ? -raw : raw;
      if (!(v < this.best)) return;
      this.best = v;
    }
    const path = this.path.replaceAll("{epoch}", String(log.epoch));
    await saveCheckpoint(path, { model: ctx.model, optimizer: ctx.optimizer, step: log.epoch * ctx.steps, extra: { epoch: log.epoch, log }, store: this.store });
    this.saved.push(path);
  }
}
