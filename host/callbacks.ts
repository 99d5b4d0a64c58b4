// The callbacks fit() ships with: early stopping, learning-rate schedules,
// checkpoints and weight averaging. Each is a few hooks on the Callback
// interface (host/train.ts), so a recipe's own idea fits in the same slot.

import type { Callback, FitContext, EpochLog } from "./train.js";
import type { Tensor } from "./tensor.js";
import { noGrad } from "./autograd.js";
import { saveCheckpoint } from "./io/checkpoint.js";
import type { FileStore } from "./io/files.js";
import { checkStore } from "./io/files.js";
import { checkOptions, checkOneOf, checkInt, checkNumber, checkBool } from "./ops/util.js";

type Monitor = "loss" | "valLoss" | "accuracy" | "valAccuracy";
const MONITORS: Monitor[] = ["loss", "valLoss", "accuracy", "valAccuracy"];

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

/** LearningRateSchedule.cosine's shape: a warm-up, a floor, where the curve ends. */
export interface CosineOptions {
  /** Linear warm-up steps first: lr·(s+1)/warmup at step s (default 0). */
  warmup?: number;
  /** The lr the cosine ends at, as a fraction of the base lr (default 0). */
  floor?: number;
  /** The same as an absolute lr (instead of floor). */
  minLr?: number;
  /**
   * true: the cosine starts at the warm-up's last step (its peak) and reaches
   * the floor on the last step, the curve evaluated after each step (the step
   * count is 1-based). false (default, torch's CosineAnnealingLR and
   * Hugging Face's warm-up schedule): the cosine starts on the step after the
   * warm-up and would reach the floor one step after the last.
   */
  reachFloor?: boolean;
}

/**
 * Learning-rate schedule by step: lr = factor(step, base lr), set before every
 * step (step counted from 0 over the whole run: epoch·steps + step). With
 * several optimizers each keeps its own base lr.
 * Ready-made: LearningRateSchedule.step(every, gamma), .cosine(totalSteps, { warmup, floor }), .warmup(steps, then).
 * @example const callbacks = [wg.LearningRateSchedule.cosine(1000, { warmup: 100, floor: 0.1 })]; // then fit(model, loader, { callbacks, … })
 */
export class LearningRateSchedule implements Callback {
  private bases: number[] = [];
  constructor(readonly factor: (step: number, base: number) => number) {
    if (typeof factor !== "function") throw new Error(`LearningRateSchedule: factor must be a function (step, baseLr) => lr, got ${typeof factor}`);
  }
  onTrainBegin(ctx: FitContext): void {
    this.bases = (ctx.optimizers ?? [ctx.optimizer]).map((o) => o.lr);
  }
  onStepBegin(ctx: FitContext, step: number): void {
    (ctx.optimizers ?? [ctx.optimizer]).forEach((o, i) => (o.lr = this.factor(step, this.bases[i])));
  }
  /** The lr at `step` (0-based) for a base lr: what the optimizer gets before that step. @example LearningRateSchedule.cosine(100).lrAt(50, 1); // 0.5 */
  lrAt(step: number, base: number): number {
    return this.factor(step, base);
  }
  /** lr·gamma^⌊step/every⌋ (torch's StepLR, counted in steps). */
  static step(every: number, gamma = 0.1): LearningRateSchedule {
    checkInt("LearningRateSchedule.step", "every", every, 1);
    checkNumber("LearningRateSchedule.step", "gamma", gamma, 0);
    return new LearningRateSchedule((s, b) => b * gamma ** Math.floor(s / every));
  }
  /**
   * Cosine from the base lr down to a floor over totalSteps (torch's
   * CosineAnnealingLR), after an optional linear warm-up (see CosineOptions).
   * The second argument may be the floor as an absolute lr (minLr), as before.
   * @example LearningRateSchedule.cosine(2500, { warmup: 200, floor: 0.05, reachFloor: true }) // S6's recipe
   */
  static cosine(totalSteps: number, opts: number | CosineOptions = {}): LearningRateSchedule {
    const who = "LearningRateSchedule.cosine";
    checkInt(who, "totalSteps", totalSteps, 1);
    const o: CosineOptions = typeof opts === "number" ? { minLr: opts } : opts;
    checkOptions(who, o, ["warmup", "floor", "minLr", "reachFloor"]);
    if (o.warmup !== undefined) checkInt(who, "warmup", o.warmup, 0);
    if (o.floor !== undefined) checkNumber(who, "floor", o.floor, 0);
    if (o.minLr !== undefined) checkNumber(who, "minLr", o.minLr, 0);
    if (o.floor !== undefined && o.minLr !== undefined) throw new Error(`${who}: give floor (a fraction of the base lr) or minLr (an lr), not both`);
    checkBool(who, "reachFloor", o.reachFloor);
    const w = o.warmup ?? 0, span = Math.max(1, totalSteps - w), shift = o.reachFloor ? 1 : 0;
    return new LearningRateSchedule((s, b) => {
      if (s < w) return (b * (s + 1)) / w;
      const m = o.minLr ?? (o.floor ?? 0) * b;
      return m + ((b - m) * (1 + Math.cos(Math.PI * Math.min(1, (s - w + shift) / span)))) / 2;
    });
  }
  /** Linear warm-up from 0 over `steps`, then `then` (another schedule) or the base lr. */
  static warmup(steps: number, then?: LearningRateSchedule): LearningRateSchedule {
    checkInt("LearningRateSchedule.warmup", "steps", steps, 0);
    if (then !== undefined && !(then instanceof LearningRateSchedule)) throw new Error("LearningRateSchedule.warmup: then must be a LearningRateSchedule");
    return new LearningRateSchedule((s, b) => (s < steps ? (b * (s + 1)) / steps : then ? then.factor(s - steps, b) : b));
  }
}

/**
 * Saves a checkpoint (model, optimizer state — the first optimizer's when fit
 * steps several — and step: training resumes
 * exactly) at the end of every epoch, or only when `monitor` improved
 * (saveBestOnly). `path` may hold {epoch}, e.g. "ckpt-{epoch}.safetensors".
 * Files are written atomically; browsers keep them in OPFS or IndexedDB.
 * @example const callbacks = [new wg.ModelCheckpoint({ path: "best.safetensors", monitor: "valLoss", saveBestOnly: true })]; // then fit(model, loader, { callbacks, … })
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

/**
 * Stochastic weight averaging: the running mean of the parameters at the ends
 * of the last `lastEpochs` epochs, copied into the model at the end of the last
 * epoch (before later callbacks and the caller score it; after an early stop,
 * at the end of training). Buffers (BatchNorm's running statistics) are not
 * averaged. With a constant lr the last iterate wanders around a minimum; the
 * average sits in its middle (Izmailov et al., 2018).
 * @example const callbacks = [new wg.WeightAveraging({ lastEpochs: 20 })]; // then fit(model, loader, { callbacks, … })
 */
export class WeightAveraging implements Callback {
  readonly lastEpochs: number;
  /** Epochs averaged so far. */
  count = 0;
  private averaged: Tensor[] | null = null;
  private applied = false;
  constructor(o: { lastEpochs: number }) {
    checkOptions("WeightAveraging", o, ["lastEpochs"]);
    checkInt("WeightAveraging", "lastEpochs", o?.lastEpochs, 1);
    this.lastEpochs = o.lastEpochs;
  }
  onTrainBegin(): void {
    this.free();
    this.count = 0;
    this.applied = false;
  }
  onEpochEnd(ctx: FitContext, log: EpochLog): void {
    if (log.epoch <= ctx.epochs - Math.min(ctx.epochs, this.lastEpochs)) return;
    const params = ctx.model.parameters(), k = this.count++;
    noGrad(() => {
      if (!this.averaged) this.averaged = params.map((p) => p.clone().keep());
      else this.averaged.forEach((a, i) => a.mul_(k / (k + 1)).add_(params[i], 1 / (k + 1)));
    });
    if (log.epoch === ctx.epochs) this.apply(ctx);
  }
  onTrainEnd(ctx: FitContext): void {
    if (!this.applied && this.averaged) this.apply(ctx);
    this.free();
  }
  private apply(ctx: FitContext): void {
    const params = ctx.model.parameters();
    noGrad(() => params.forEach((p, i) => p.copy_(this.averaged![i])));
    this.applied = true;
  }
  private free(): void {
    this.averaged?.forEach((a) => a.dispose());
    this.averaged = null;
  }
}
