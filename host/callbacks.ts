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
import type { Optimizer } from "./optim/optimizer.js";

/** An Optimizer (the class is not imported here: optim/ imports these callbacks' types). */
const isOptimizer = (x: unknown): x is Optimizer => !!x && typeof x === "object" && typeof (x as Optimizer).step === "function" && Array.isArray((x as Optimizer).params);

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
  /**
   * The lr of the 1cycle policy (torch's OneCycleLR, its lr only) as a schedule:
   * `new OneCycle({ totalSteps, ...opts }).lrAt(step)`; the base lr is not used
   * (maxLr sets the scale). For momentum cycling too, use the OneCycle callback.
   * @example wg.LearningRateSchedule.oneCycle(100, { maxLr: 0.1 }).lrAt(29, 1); // 0.1
   */
  static oneCycle(totalSteps: number, opts: Omit<OneCycleOptions, "totalSteps" | "optimizer">): LearningRateSchedule {
    const cycle = new OneCycle({ ...opts, totalSteps, cycleMomentum: false });
    return new LearningRateSchedule((s) => cycle.lrAt(Math.min(s, totalSteps - 1)));
  }

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

// ---------------------------------------------------------------------------
// PyTorch's OneCycleLR and ReduceLROnPlateau, as fit() callbacks and by hand.

/** The momentum a schedule can cycle: SGD's and RMSprop's momentum, Adam's betas[0]. */
function getMomentum(o: Optimizer): number | null {
  const a = o as unknown as { momentum?: number; betas?: [number, number] };
  if (Array.isArray(a.betas)) return a.betas[0];
  return typeof a.momentum === "number" ? a.momentum : null;
}
function setMomentum(o: Optimizer, m: number): void {
  const a = o as unknown as { momentum?: number; betas?: [number, number] };
  if (Array.isArray(a.betas)) a.betas = [m, a.betas[1]];
  else a.momentum = m;
}

export interface OneCycleOptions {
  /** The optimizer to drive by hand (step()); fit() drives its own. */
  optimizer?: Optimizer;
  /** The peak lr. */
  maxLr: number;
  /** Steps in the cycle (fit: epochs · steps per epoch); stepping past it is an error, as in torch. */
  totalSteps: number;
  /** The fraction of the cycle spent raising the lr (default 0.3). */
  pctStart?: number;
  /** "cos" (default) or "linear". */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (or Adam's beta1) inversely to the lr, between baseMomentum and maxMomentum (default true). */
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  /** The initial lr is maxLr / divFactor (default 25). */
  divFactor?: number;
  /** The final lr is the initial lr / finalDivFactor (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, back down to the initial lr, then annihilation), as torch's three_phase (default false). */
  threePhase?: boolean;
}

/**
 * The 1cycle policy, torch.optim.lr_scheduler.OneCycleLR: the lr rises from
 * maxLr/divFactor to maxLr over pctStart of totalSteps, then anneals to
 * maxLr/(divFactor·finalDivFactor); momentum (Adam's beta1) moves the other
 * way between maxMomentum and baseMomentum. In fit() it sets every
 * optimizer's lr before each step (the step counted over the whole run); by
 * hand, pass the optimizer and call step() after each optimizer step, as in torch.
 * @example
 * const sched = new wg.OneCycle({ maxLr: 0.1, totalSteps: 100 });
 * sched.lrAt(0); // 0.004
 * sched.lrAt(29); // 0.1
 */
export class OneCycle implements Callback {
  readonly maxLr: number;
  readonly totalSteps: number;
  readonly pctStart: number;
  readonly annealStrategy: "cos" | "linear";
  readonly cycleMomentum: boolean;
  readonly baseMomentum: number;
  readonly maxMomentum: number;
  readonly divFactor: number;
  readonly finalDivFactor: number;
  readonly threePhase: boolean;
  readonly optimizer?: Optimizer;
  /** Steps taken by hand (torch's last_epoch): the lr in use is lrAt(stepCount). */
  stepCount = 0;
  private phases: { end: number; lr: [number, number]; mom: [number, number] }[];
  constructor(o: OneCycleOptions) {
    const who = "OneCycle";
    checkOptions(who, o, ["optimizer", "maxLr", "totalSteps", "pctStart", "annealStrategy", "cycleMomentum", "baseMomentum", "maxMomentum", "divFactor", "finalDivFactor", "threePhase"]);
    this.maxLr = checkNumber(who, "maxLr", o.maxLr, 0);
    this.totalSteps = checkInt(who, "totalSteps", o.totalSteps, 1);
    this.pctStart = checkNumber(who, "pctStart", o.pctStart ?? 0.3, 0, 1);
    checkOneOf(who, "annealStrategy", o.annealStrategy, ["cos", "linear"]);
    this.annealStrategy = o.annealStrategy ?? "cos";
    checkBool(who, "cycleMomentum", o.cycleMomentum);
    this.cycleMomentum = o.cycleMomentum ?? true;
    this.baseMomentum = checkNumber(who, "baseMomentum", o.baseMomentum ?? 0.85, 0);
    this.maxMomentum = checkNumber(who, "maxMomentum", o.maxMomentum ?? 0.95, 0);
    this.divFactor = checkNumber(who, "divFactor", o.divFactor ?? 25, 0);
    this.finalDivFactor = checkNumber(who, "finalDivFactor", o.finalDivFactor ?? 1e4, 0);
    checkBool(who, "threePhase", o.threePhase);
    this.threePhase = o.threePhase ?? false;
    const init = this.maxLr / this.divFactor, min = init / this.finalDivFactor, T = this.totalSteps, p = this.pctStart;
    const [bm, mm] = [this.baseMomentum, this.maxMomentum];
    this.phases = this.threePhase
      ? [{ end: p * T - 1, lr: [init, this.maxLr], mom: [mm, bm] }, { end: 2 * p * T - 2, lr: [this.maxLr, init], mom: [bm, mm] }, { end: T - 1, lr: [init, min], mom: [mm, mm] }]
      : [{ end: p * T - 1, lr: [init, this.maxLr], mom: [mm, bm] }, { end: T - 1, lr: [this.maxLr, min], mom: [bm, mm] }];
    if (o.optimizer !== undefined) {
      this.optimizer = o.optimizer;
      this.apply([o.optimizer], 0);
    }
  }
  private at(step: number, which: "lr" | "mom"): number {
    if (!Number.isSafeInteger(step) || step < 0) throw new Error(`OneCycle: step must be a non-negative integer, got ${step}`);
    if (step > this.totalSteps) throw new Error(`OneCycle: tried to step ${step} times, more than totalSteps ${this.totalSteps}`);
    let start = 0;
    for (let i = 0; i < this.phases.length; i++) {
      const ph = this.phases[i];
      if (step <= ph.end || i === this.phases.length - 1) {
        const pct = (step - start) / (ph.end - start), [a, b] = ph[which];
        return this.annealStrategy === "cos" ? b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1) : (b - a) * pct + a;
      }
      start = ph.end;
    }
    throw new Error("unreachable");
  }
  /** The lr at step (0-based). @example new wg.OneCycle({ maxLr: 1, totalSteps: 10, annealStrategy: "linear" }).lrAt(0); // 0.04 */
  lrAt(step: number): number {
    return this.at(step, "lr");
  }
  /** The momentum (or beta1) at step (0-based). @example new wg.OneCycle({ maxLr: 1, totalSteps: 10 }).momentumAt(0); // 0.95 */
  momentumAt(step: number): number {
    return this.at(step, "mom");
  }
  private apply(opts: Optimizer[], step: number): void {
    const lr = this.lrAt(step), mom = this.cycleMomentum ? this.momentumAt(step) : null;
    for (const o of opts) {
      if (mom !== null) {
        const m = getMomentum(o);
        if (m === null) throw new Error(`OneCycle: ${o.constructor.name} has no momentum or betas to cycle; pass cycleMomentum: false`);
        if (m === 0 && !Array.isArray((o as unknown as { betas?: unknown }).betas)) {
          throw new Error(`OneCycle: ${o.constructor.name} was made with momentum 0, so it keeps no momentum buffer to cycle; give it a momentum > 0 or pass cycleMomentum: false`);
        }
        setMomentum(o, mom);
      }
      o.lr = lr;
    }
  }
  /**
   * By hand: one step done; sets the optimizer's lr (and momentum) for the next.
   * @example
   * const opt = new wg.optim.SGD(net.parameters(), { lr: 1, momentum: 0.9 });
   * const sched = new wg.OneCycle({ optimizer: opt, maxLr: 1, totalSteps: 10, pctStart: 0.2 });
   * sched.step(); // after opt.step()
   * opt.lr; // 1
   * opt.momentum; // 0.85
   */
  step(): void {
    if (!this.optimizer) throw new Error("OneCycle.step: no optimizer (pass { optimizer } to drive one by hand)");
    this.apply([this.optimizer], this.stepCount + 1);
    this.stepCount++;
  }
  onStepBegin(ctx: FitContext, step: number): void {
    this.apply(ctx.optimizers ?? [ctx.optimizer], step);
  }
}

export interface ReduceLROnPlateauOptions {
  /** The optimizer to drive by hand (step(metric)); fit() drives its own. */
  optimizer?: Optimizer;
  /** In fit(): the logged value watched at each epoch's end (default "valLoss"). */
  monitor?: Monitor;
  /** "min" (default): lower is better; "max": higher is. */
  mode?: "min" | "max";
  /** lr ·= factor on a plateau (default 0.1, < 1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** The least change that counts as an improvement (default 1e-4). */
  threshold?: number;
  /** "rel" (default): relative to the best; "abs": absolute. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** The lr never goes below this (default 0). */
  minLr?: number;
  /** A reduction smaller than this is skipped (default 1e-8). */
  eps?: number;
}

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau: multiplies the lr by factor when
 * the metric has not improved (by threshold, relative or absolute) for more
 * than patience epochs, then waits cooldown epochs; never below minLr. In
 * fit() it reads `monitor` at each epoch's end; by hand, call step(metric).
 * @example
 * const opt = new wg.optim.SGD(net.parameters(), { lr: 1 });
 * const sched = new wg.ReduceLROnPlateau({ optimizer: opt, patience: 0, factor: 0.5 });
 * sched.step(1); sched.step(2);
 * opt.lr; // 0.5
 */
export class ReduceLROnPlateau implements Callback {
  readonly optimizer?: Optimizer;
  readonly monitor: Monitor;
  readonly mode: "min" | "max";
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: "rel" | "abs";
  readonly cooldown: number;
  readonly minLr: number;
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  /**
   * `new ReduceLROnPlateau({ optimizer, ...opts })`, or torch's shape,
   * `new ReduceLROnPlateau(optimizer, opts)`.
   */
  constructor(optimizerOrOptions: ReduceLROnPlateauOptions | Optimizer = {}, opts: Omit<ReduceLROnPlateauOptions, "optimizer"> = {}) {
    const o: ReduceLROnPlateauOptions = isOptimizer(optimizerOrOptions) ? { ...opts, optimizer: optimizerOrOptions } : optimizerOrOptions;
    const who = "ReduceLROnPlateau";
    checkOptions(who, o, ["optimizer", "monitor", "mode", "factor", "patience", "threshold", "thresholdMode", "cooldown", "minLr", "eps"]);
    checkOneOf(who, "monitor", o.monitor, MONITORS);
    checkOneOf(who, "mode", o.mode, ["min", "max"]);
    checkOneOf(who, "thresholdMode", o.thresholdMode, ["rel", "abs"]);
    this.optimizer = o.optimizer;
    this.monitor = o.monitor ?? "valLoss";
    this.mode = o.mode ?? "min";
    this.factor = checkNumber(who, "factor", o.factor ?? 0.1, 0);
    if (this.factor >= 1) throw new Error(`${who}: factor should be < 1.0, got ${this.factor}`);
    this.patience = checkInt(who, "patience", o.patience ?? 10, 0);
    this.threshold = checkNumber(who, "threshold", o.threshold ?? 1e-4, 0);
    this.thresholdMode = o.thresholdMode ?? "rel";
    this.cooldown = checkInt(who, "cooldown", o.cooldown ?? 0, 0);
    this.minLr = checkNumber(who, "minLr", o.minLr ?? 0, 0);
    this.eps = checkNumber(who, "eps", o.eps ?? 1e-8, 0);
    this.best = this.mode === "min" ? Infinity : -Infinity;
  }
  private isBetter(a: number): boolean {
    const { best, threshold } = this;
    if (this.mode === "min") return this.thresholdMode === "rel" ? a < best * (1 - threshold) : a < best - threshold;
    return this.thresholdMode === "rel" ? a > best * (threshold + 1) : a > best + threshold;
  }
  /**
   * Takes one epoch's metric; reduces the lr of the given optimizers (by
   * default the one passed in the options) on a plateau. Returns whether it reduced.
   * @example
   * const opt = new wg.optim.SGD(net.parameters(), { lr: 1 });
   * const sched = new wg.ReduceLROnPlateau({ optimizer: opt, mode: "max", patience: 1 });
   * [sched.step(0.5), sched.step(0.4), sched.step(0.4)]; // [false, false, true]
   */
  step(metric: number, optimizers?: Optimizer[]): boolean {
    if (typeof metric !== "number" || Number.isNaN(metric)) throw new Error(`ReduceLROnPlateau.step: metric must be a number, got ${JSON.stringify(metric)}`);
    const opts = optimizers ?? (this.optimizer ? [this.optimizer] : null);
    if (!opts) throw new Error("ReduceLROnPlateau.step: no optimizer (pass { optimizer } to drive one by hand)");
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      for (const o of opts) {
        const next = Math.max(o.lr * this.factor, this.minLr);
        if (o.lr - next > this.eps) o.lr = next;
      }
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
      return true;
    }
    return false;
  }
  onEpochEnd(ctx: FitContext, log: EpochLog): void {
    const v = log[this.monitor];
    if (v === undefined) throw new Error(`ReduceLROnPlateau: "${this.monitor}" is not logged (pass validation data / metrics: ["accuracy"])`);
    this.step(v, ctx.optimizers ?? [ctx.optimizer]);
  }
}
