// Optimizers: one fused kernel pass per parameter (assembly/optim.ts), split
// over threads by element range. State lives as long as the optimizer.

import { Tensor } from "../tensor.js";
import { backend } from "../engine.js";
import { zeros } from "../ops/creation.js";
import { checkNumber, checkOptions } from "../ops/util.js";
import { add, div, maximum, mul, sqrt, sub, fillInPlace } from "../ops/elementwise.js";
import { noGrad } from "../autograd.js";
import { scope } from "../scope.js";

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Steps taken. */
  stepCount = 0;
  constructor(params: Iterable<Tensor>, public lr: number) {
    this.params = [...params];
    if (!this.params.length) throw new Error(`${this.constructor.name}: got no parameters`);
    for (const p of this.params) {
      if (p.dtype !== "float32") throw new Error(`${this.constructor.name}: parameter of dtype ${p.dtype} cannot be optimised`);
    }
    checkNumber(this.constructor.name, "lr", lr, 0);
  }

  /** Drops every parameter's gradient (set to none, as PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    const ps = this.params.filter((p) => p.grad);
    this.prepare(ps);
    this.stepCount++;
    for (const p of ps) this.update(p, p.grad!);
  }

  /**
   * Makes every state tensor the coming updates need, before any of them
   * runs: running out of memory then leaves every parameter and every state
   * as it was, instead of a step applied to half the model.
   */
  private prepare(ps: Tensor[]): void {
    const keys = this.stateKeys();
    const made: [Tensor, string][] = [];
    try {
      for (const p of ps) {
        for (const k of keys) {
          if (!this.perParam.get(p)?.[k]) {
            this.state(p, k);
            made.push([p, k]);
          }
        }
      }
    } catch (e) {
      for (const [p, k] of made) {
        const s = this.perParam.get(p)!;
        s[k].dispose();
        delete s[k];
      }
      throw e;
    }
  }

  /**
   * Frees the optimizer's state (momentum buffers, moments) now; the
   * parameters are untouched. Without it the state goes when the optimizer
   * is collected.
   *
   * @example
   * const opt = new wg.optim.Adam(net.parameters());
   * opt.dispose();
   */
  dispose(): void {
    for (const s of this.perParam.values()) for (const t of Object.values(s)) t.dispose();
    this.perParam.clear();
    this.counts.clear();
  }

  /**
   * Applies one update with the given gradients, one per parameter in order
   * (null skips one): the GradientTape style, Keras's apply_gradients.
   *
   * @example
   * const { value, grads } = wg.grad(() => wg.nn.functional.crossEntropy(model.forward(x), y), opt.params);
   * opt.applyGradients(grads);
   * opt.stepCount; // 1
   */
  applyGradients(grads: (Tensor | null)[]): void {
    if (grads.length !== this.params.length) {
      throw new Error(`${this.constructor.name}.applyGradients: ${grads.length} gradients for ${this.params.length} parameters`);
    }
    grads.forEach((g, i) => {
      const p = this.params[i];
      if (g && g.shape.join() !== p.shape.join()) {
        throw new Error(`${this.constructor.name}.applyGradients: gradient ${i} has shape [${g.shape}], its parameter [${p.shape}]`);
      }
    });
    this.prepare(this.params.filter((_, i) => grads[i]));
    this.stepCount++;
    grads.forEach((g, i) => g && this.update(this.params[i], g));
  }

  protected abstract update(p: Tensor, g: Tensor): void;

  /** Per-parameter state tensors (momentum buffers, moments), persistent. */
  protected readonly perParam = new Map<Tensor, Record<string, Tensor>>();
  /** Per-parameter update counts (Adam's t; SGD's "has a momentum buffer started"). */
  protected readonly counts = new Map<Tensor, number>();

  protected state(p: Tensor, key: string): Tensor {
    let s = this.perParam.get(p);
    if (!s) this.perParam.set(p, (s = {}));
    if (!s[key]) {
      const t = zeros(p.shape).keep();
      const v = this.initialState(key);
      if (v !== 0) fillInPlace(t, v);
      s[key] = t;
    }
    return s[key];
  }

  /** The value a state tensor starts at (Adagrad's sum: initialAccumulatorValue; 0 otherwise). */
  protected initialState(_key: string): number {
    return 0;
  }

  /** Counts one more update of p; returns the new count. */
  protected count(p: Tensor): number {
    const t = (this.counts.get(p) ?? 0) + 1;
    this.counts.set(p, t);
    return t;
  }

  /**
   * The state as torch names it (`state.<param index>.<key>`), plus the counters,
   * for checkpoints.
   * @example const { tensors, meta } = opt.stateDict();
   */
  stateDict(): { tensors: Record<string, Tensor>; meta: { stepCount: number; lr: number; counts: number[] } } {
    const tensors: Record<string, Tensor> = {};
    this.params.forEach((p, i) => {
      for (const [k, t] of Object.entries(this.perParam.get(p) ?? {})) tensors[`state.${i}.${k}`] = t;
    });
    return { tensors, meta: { stepCount: this.stepCount, lr: this.lr, counts: this.params.map((p) => this.counts.get(p) ?? 0) } };
  }

  /** The names of the state tensors this optimizer keeps per parameter (exp_avg, momentum_buffer, ...). */
  protected abstract stateKeys(): string[];

  /**
   * Restores what stateDict() gave (tensors may be any {shape, data}); training
   * resumes exactly. Everything is checked before anything is written.
   * @example
   * const saved = opt.stateDict(); // or read back from a checkpoint
   * opt.loadStateDict(saved.tensors, saved.meta);
   */
  loadStateDict(tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, meta: { stepCount: number; lr: number; counts: number[] }): void {
    const writes = this.checkStateDict(tensors, meta);
    for (const [p, key, data] of writes) {
      const st = this.state(p, key);
      backend().write(st.ptr, data instanceof Float32Array ? data : Float32Array.from(data));
    }
    this.params.forEach((p, i) => (meta.counts[i] ? this.counts.set(p, meta.counts[i]) : this.counts.delete(p)));
    this.stepCount = meta.stepCount;
    this.lr = meta.lr;
  }

  /**
   * Throws what loadStateDict would, without writing anything; returns the writes it would make.
   * @example
   * const saved = opt.stateDict();
   * opt.checkStateDict(saved.tensors, { ...saved.meta, counts: [] }); // throws
   */
  checkStateDict(tensors: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>, meta: { stepCount: number; lr: number; counts: number[] }): [Tensor, string, ArrayLike<number>][] {
    const who = `${this.constructor.name}.loadStateDict`;
    if (typeof meta !== "object" || meta === null) throw new Error(`${who}: meta must be {stepCount, lr, counts}`);
    if (!Array.isArray(meta.counts) || !meta.counts.every((c) => Number.isSafeInteger(c) && c >= 0)) {
      throw new Error(`${who}: counts must be an array of non-negative integers, got ${JSON.stringify(meta.counts)}`);
    }
    if (meta.counts.length !== this.params.length) {
      throw new Error(`${who}: state for ${meta.counts.length} parameters, this optimizer has ${this.params.length}`);
    }
    if (!Number.isSafeInteger(meta.stepCount) || meta.stepCount < 0) throw new Error(`${who}: stepCount must be a non-negative integer, got ${JSON.stringify(meta.stepCount)}`);
    // a string or NaN here would turn every weight into NaN on the next step
    if (typeof meta.lr !== "number" || !Number.isFinite(meta.lr) || meta.lr < 0) throw new Error(`${who}: lr must be a finite number ≥ 0, got ${JSON.stringify(meta.lr)}`);
    if (typeof tensors !== "object" || tensors === null) throw new Error(`${who}: tensors must be an object`);
    const keys = this.stateKeys(), seen = new Set<string>(), writes: [Tensor, string, ArrayLike<number>][] = [];
    for (const name of Object.keys(tensors)) {
      const src = tensors[name];
      // only this optimizer's own state names: "__proto__" or "constructor" would reach Object.prototype
      const m = /^state\.(0|[1-9]\d{0,8})\.([a-z_]+)$/.exec(name);
      const p = m ? this.params[+m[1]] : undefined;
      if (!m || !p || !keys.includes(m[2])) throw new Error(`${who}: unexpected entry ${JSON.stringify(name)} (this optimizer keeps ${keys.map((k) => `state.<i>.${k}`).join(", ") || "no state tensors"})`);
      if (!src || !Array.isArray(src.shape) || src.shape.join() !== p.shape.join()) throw new Error(`${who}: ${name} has shape [${src?.shape}], parameter ${m[1]} [${p.shape}]`);
      if (src.data?.length !== p.size) throw new Error(`${who}: ${name} has ${src.data?.length ?? "no"} values, parameter ${m[1]} has ${p.size}`);
      seen.add(name);
      writes.push([p, m[2], src.data]);
    }
    // a parameter that has taken steps needs all its state: zeros in its place would silently change the run
    this.params.forEach((_, i) => {
      if (!meta.counts[i]) return;
      for (const k of keys) if (!seen.has(`state.${i}.${k}`)) throw new Error(`${who}: parameter ${i} has taken ${meta.counts[i]} steps but its state.${i}.${k} is missing`);
    });
    return writes;
  }

}

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov and weight
 * decay, exactly as torch.optim.SGD.
 *
 * @example
 * const opt = new wg.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
 * const loss = wg.nn.functional.crossEntropy(net.forward(x), y);
 * opt.zeroGrad(); loss.backward(); opt.step();
 */
export class SGD extends Optimizer {
  /** Mutable so a schedule (OneCycle) can cycle it. */
  momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    checkOptions("SGD", opts, ["lr", "momentum", "dampening", "weightDecay", "nesterov"]);
    super(params, opts.lr);
    this.momentum = checkNumber("SGD", "momentum", opts.momentum ?? 0, 0);
    this.dampening = checkNumber("SGD", "dampening", opts.dampening ?? 0);
    this.weightDecay = checkNumber("SGD", "weightDecay", opts.weightDecay ?? 0, 0);
    this.nesterov = opts.nesterov ?? false;
    if (typeof this.nesterov !== "boolean") throw new Error(`SGD: nesterov must be true or false, got ${JSON.stringify(this.nesterov)}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error("SGD: Nesterov momentum requires a momentum > 0 and zero dampening");
    }
  }
  protected override stateKeys(): string[] {
    return this.momentum ? ["momentum_buffer"] : [];
  }
  protected update(p: Tensor, g: Tensor): void {
    const buf = this.momentum ? this.state(p, "momentum_buffer") : null;
    const first = this.count(p) === 1 ? 1 : 0;
    const { lr, momentum, dampening, weightDecay } = this;
    const nest = this.nesterov ? 1 : 0;
    backend().kernels.sgd_f32({ p: p.ptr, g: g.ptr, buf: buf ? buf.ptr : 0, n: p.size, lr, momentum, dampening, weightDecay, nesterov: nest, firstStep: first });
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Divide by the running maximum of the second moment (state max_exp_avg_sq), as torch's amsgrad. */
  amsgrad?: boolean;
}

/**
 * Adam (torch.optim.Adam: L2 weight decay added to the gradient; amsgrad as torch's).
 * @example
 * const opt = new wg.optim.Adam(net.parameters(), { lr: 1e-3 });
 * new wg.optim.Adam(net.parameters(), { amsgrad: true }).amsgrad; // true
 */
export class Adam extends Optimizer {
  /** Mutable so a schedule (OneCycle) can cycle betas[0]. */
  betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly amsgrad: boolean;
  protected readonly decoupled: number = 0;
  constructor(params: Iterable<Tensor>, opts: AdamOptions = {}) {
    checkOptions(new.target.name, opts, ["lr", "betas", "eps", "weightDecay", "amsgrad"]);
    super(params, opts.lr ?? 1e-3);
    const who = this.constructor.name, betas = opts.betas ?? [0.9, 0.999];
    if (!Array.isArray(betas) || betas.length !== 2) throw new Error(`${who}: betas must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
    this.betas = [checkNumber(who, "betas[0]", betas[0], 0, 1, false, true), checkNumber(who, "betas[1]", betas[1], 0, 1, false, true)];
    this.eps = checkNumber(who, "eps", opts.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber(who, "weightDecay", opts.weightDecay ?? this.defaultWeightDecay(), 0);
    this.amsgrad = checkBoolOpt(who, "amsgrad", opts.amsgrad);
  }
  protected defaultWeightDecay(): number {
    return 0;
  }
  protected override stateKeys(): string[] {
    return this.amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];
  }
  protected update(p: Tensor, g: Tensor): void {
    const m = this.state(p, "exp_avg"), v = this.state(p, "exp_avg_sq");
    const t = this.count(p);
    const [b1, b2] = this.betas;
    // formed in float64, as torch does with Python floats (see assembly/optim.ts)
    const stepSize = this.lr / (1 - powInt(b1, t)), bc2Sqrt = Math.sqrt(1 - powInt(b2, t));
    const { lr, eps, weightDecay, decoupled } = this;
    if (this.amsgrad) {
      // a composite of element-wise ops (no fused kernel): torch's order of operations
      const vmax = this.state(p, "max_exp_avg_sq");
      inPlace(() => {
        if (decoupled && weightDecay) p.mul_(1 - lr * weightDecay);
        const gd = !decoupled && weightDecay ? add(g, mul(p, weightDecay)) : g;
        m.mul_(b1).add_(gd, 1 - b1);
        v.mul_(b2).add_(mul(gd, gd), 1 - b2);
        vmax.copy_(maximum(vmax, v));
        p.add_(div(m, add(div(sqrt(vmax), bc2Sqrt), eps)), -stepSize);
      });
      return;
    }
    backend().kernels.adam_f32({ p: p.ptr, g: g.ptr, m: m.ptr, v: v.ptr, n: p.size, lr, beta1: b1, beta2: b2, c1: 1 - b1, c2: 1 - b2, eps, weightDecay, stepSize, bc2Sqrt, decoupled });
  }
}

/**
 * AdamW: decoupled weight decay (default 0.01), as torch.optim.AdamW.
 * @example const opt = new wg.optim.AdamW(net.parameters(), { lr: 3e-4, weightDecay: 0.1 });
 */
export class AdamW extends Adam {
  protected override readonly decoupled: number = 1;
  protected override defaultWeightDecay(): number {
    return 0.01;
  }
}

/** Runs an in-place update with no tape, freeing its temporaries. */
function inPlace(fn: () => void): void {
  noGrad(() => scope(fn));
}

function checkBoolOpt(who: string, name: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new Error(`${who}: ${name} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

/**
 * RMSprop, as torch.optim.RMSprop: square_avg = α·square_avg + (1 − α)·g²
 * (g with L2 weight decay added); centered subtracts grad_avg² (the running
 * mean of g) under the root; with momentum, momentum_buffer = μ·buf + g/(√· + eps).
 * State: square_avg, momentum_buffer (momentum > 0), grad_avg (centered).
 * @example const opt = new wg.optim.RMSprop(net.parameters(), { lr: 0.01, alpha: 0.9, momentum: 0.5, centered: true });
 */
export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  /** Mutable so a schedule (OneCycle) can cycle it. */
  momentum: number;
  readonly centered: boolean;
  constructor(params: Iterable<Tensor>, opts: RMSpropOptions = {}) {
    checkOptions("RMSprop", opts, ["lr", "alpha", "eps", "weightDecay", "momentum", "centered"]);
    super(params, opts.lr ?? 1e-2);
    this.alpha = checkNumber("RMSprop", "alpha", opts.alpha ?? 0.99, 0);
    this.eps = checkNumber("RMSprop", "eps", opts.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber("RMSprop", "weightDecay", opts.weightDecay ?? 0, 0);
    this.momentum = checkNumber("RMSprop", "momentum", opts.momentum ?? 0, 0);
    this.centered = checkBoolOpt("RMSprop", "centered", opts.centered);
  }
  protected override stateKeys(): string[] {
    return ["square_avg", ...(this.momentum > 0 ? ["momentum_buffer"] : []), ...(this.centered ? ["grad_avg"] : [])];
  }
  protected update(p: Tensor, g: Tensor): void {
    const sq = this.state(p, "square_avg");
    const buf = this.momentum > 0 ? this.state(p, "momentum_buffer") : null;
    const ga = this.centered ? this.state(p, "grad_avg") : null;
    this.count(p);
    const { lr, alpha, eps, weightDecay, momentum } = this;
    inPlace(() => {
      const gd = weightDecay ? add(g, mul(p, weightDecay)) : g;
      sq.mul_(alpha).add_(mul(gd, gd), 1 - alpha);
      let avg: Tensor;
      if (ga) {
        ga.mul_(alpha).add_(gd, 1 - alpha);
        avg = add(sqrt(sub(sq, mul(ga, ga))), eps);
      } else {
        avg = add(sqrt(sq), eps);
      }
      if (buf) {
        buf.mul_(momentum).add_(div(gd, avg), 1);
        p.add_(buf, -lr);
      } else {
        p.add_(div(gd, avg), -lr);
      }
    });
  }
}

export interface AdagradOptions {
  lr?: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
}

/**
 * Adagrad, as torch.optim.Adagrad: sum += g² (g with L2 weight decay added;
 * sum starts at initialAccumulatorValue), p −= clr·g/(√sum + eps) with
 * clr = lr / (1 + (t − 1)·lrDecay) at step t. State: sum.
 * @example const opt = new wg.optim.Adagrad(net.parameters(), { lr: 0.1, initialAccumulatorValue: 0.1 });
 */
export class Adagrad extends Optimizer {
  readonly lrDecay: number;
  readonly weightDecay: number;
  readonly initialAccumulatorValue: number;
  readonly eps: number;
  constructor(params: Iterable<Tensor>, opts: AdagradOptions = {}) {
    checkOptions("Adagrad", opts, ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps"]);
    super(params, opts.lr ?? 1e-2);
    this.lrDecay = checkNumber("Adagrad", "lrDecay", opts.lrDecay ?? 0, 0);
    this.weightDecay = checkNumber("Adagrad", "weightDecay", opts.weightDecay ?? 0, 0);
    this.initialAccumulatorValue = checkNumber("Adagrad", "initialAccumulatorValue", opts.initialAccumulatorValue ?? 0, 0);
    this.eps = checkNumber("Adagrad", "eps", opts.eps ?? 1e-10, 0);
  }
  protected override stateKeys(): string[] {
    return ["sum"];
  }
  protected override initialState(): number {
    return this.initialAccumulatorValue;
  }
  protected update(p: Tensor, g: Tensor): void {
    const sum = this.state(p, "sum");
    const t = this.count(p);
    const clr = this.lr / (1 + (t - 1) * this.lrDecay);
    const { weightDecay, eps } = this;
    inPlace(() => {
      const gd = weightDecay ? add(g, mul(p, weightDecay)) : g;
      sum.add_(mul(gd, gd), 1);
      p.add_(div(gd, add(sqrt(sum), eps)), -clr);
    });
  }
}

/**
 * b^t for an integer t ≥ 0 by squaring: IEEE multiplications only, so every
 * JavaScript engine gets the same bits (engines' Math.pow and ** differ in the
 * last place, which init({ deterministic: true }) must not see).
 * @example powInt(0.9, 3); // 0.729 (to the last bit on every runtime)
 */
export function powInt(b: number, t: number): number {
  let r = 1, x = b;
  for (let n = t; n > 0; n >>= 1) {
    if (n & 1) r *= x;
    x *= x;
  }
  return r;
}
