// Module: the container of parameters and sub-modules, with PyTorch's names
// (so state dicts move between the two) and train/eval modes.

import { Tensor } from "../tensor.js";
import { copyInPlace } from "../ops/elementwise.js";
import { shapeStr, backend } from "../ops/util.js";

const PARAMS = new WeakSet<Tensor>();

/**
 * Marks a tensor as a parameter: persistent, requires grad, listed by parameters().
 * @example this.scale = wg.nn.parameter(wg.ones([4]));
 */
export function parameter(t: Tensor): Tensor {
  t.keep();
  t.requiresGrad = true;
  PARAMS.add(t);
  return t;
}

export function isParameter(t: unknown): t is Tensor {
  return t instanceof Tensor && PARAMS.has(t);
}

export abstract class Module {
  training = true;
  /** Names of tensor fields that are state but not parameters (running statistics). */
  protected _buffers = new Set<string>();

  abstract forward(...args: any[]): any;

  /** Children in declaration order, with PyTorch's names (array entries get their index). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) v.forEach((m, i) => m instanceof Module && out.push([`${k}.${i}`, m]));
    }
    return out;
  }

  /**
   * Every parameter with its dotted name, e.g. ["conv1.weight", t].
   * @example for (const [name, p] of net.namedParameters()) console.log(name, p.shape);
   */
  namedParameters(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of Object.entries(this)) if (isParameter(v)) out.push([prefix + k, v]);
    for (const [k, m] of this.namedChildren()) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  /** The parameters, for an optimizer. @example new wg.optim.SGD(net.parameters(), { lr: 0.1 }); */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const k of this._buffers) {
      const v = (this as any)[k];
      if (v instanceof Tensor) out.push([prefix + k, v]);
    }
    for (const [k, m] of this.namedChildren()) out.push(...m.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  /** Registers a persistent non-parameter tensor (saved in the state dict). */
  protected registerBuffer(name: string, t: Tensor): void {
    t.keep();
    (this as any)[name] = t;
    this._buffers.add(name);
  }

  /**
   * Parameters and buffers by PyTorch name (the tensors themselves, not copies).
   * @example const sd = net.stateDict(); Object.keys(sd); // ["conv1.weight", "conv1.bias", ...]
   */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's parameters and buffers. Shapes must match; with
   * strict (default) every name must be present on both sides. Every entry is
   * checked before the first is written, so a load is all or nothing.
   * @example net2.loadStateDict(net.stateDict());
   */
  loadStateDict(sd: Record<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>, { strict = true } = {}): { missing: string[]; unexpected: string[] } {
    const { missing, unexpected, pairs } = this.checkStateDict(sd, { strict });
    for (const [t, src] of pairs) {
      if (src instanceof Tensor) copyInPlace(t, src);
      else {
        // in the tensor's own dtype: int32 buffers (num_batches_tracked) must not pass through a Float32Array
        const Typed = t.dtype === "int32" ? Int32Array : Float32Array;
        backend().write(t.ptr, src.data instanceof Typed ? src.data : Typed.from(src.data));
      }
    }
    return { missing, unexpected };
  }

  /**
   * What loadStateDict(sd) would do, or the error it would throw, without writing anything.
   * @example net.checkStateDict(sd); // throws on a missing name, a wrong shape or a short array
   */
  checkStateDict(sd: Record<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>, { strict = true } = {}):
    { missing: string[]; unexpected: string[]; pairs: [Tensor, Tensor | { shape: readonly number[]; data: ArrayLike<number> }][] } {
    if (typeof sd !== "object" || sd === null) throw new Error(`loadStateDict: expected an object of tensors, got ${sd === null ? "null" : typeof sd}`);
    const mine = this.stateDict();
    // own names only: "constructor" or "toString" must not find Object.prototype's
    const missing = Object.keys(mine).filter((k) => !Object.hasOwn(sd, k));
    const unexpected = Object.keys(sd).filter((k) => !Object.hasOwn(mine, k));
    if (strict && (missing.length || unexpected.length)) {
      throw new Error(`loadStateDict: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`);
    }
    const pairs: [Tensor, Tensor | { shape: readonly number[]; data: ArrayLike<number> }][] = [];
    for (const [k, t] of Object.entries(mine)) {
      if (!Object.hasOwn(sd, k)) continue;
      const src = sd[k];
      if (!src || typeof src !== "object" || !Array.isArray(src.shape) && !(src instanceof Tensor)) throw new Error(`loadStateDict: ${k} is not a tensor or {shape, data}`);
      if (src.shape.join() !== t.shape.join()) {
        throw new Error(`loadStateDict: ${k} has shape ${shapeStr(src.shape)}, this module expects ${shapeStr(t.shape)}`);
      }
      if (src instanceof Tensor) {
        if (src.dtype !== t.dtype) throw new Error(`loadStateDict: ${k} is ${src.dtype}, this module's is ${t.dtype}`);
      } else {
        // a longer array would be written past the tensor into whatever lives next to it
        const n = (src.data as ArrayLike<number> | undefined)?.length;
        if (n !== t.size) throw new Error(`loadStateDict: ${k} has ${n ?? "no"} values for shape ${shapeStr(t.shape)} (${t.size})`);
      }
      pairs.push([t, src]);
    }
    return { missing, unexpected, pairs };
  }

  /** Training mode (dropout active). Returns this. */
  train(mode = true): this {
    this.training = mode;
    for (const [, m] of this.namedChildren()) m.train(mode);
    return this;
  }

  /** Evaluation mode. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.size, 0);
  }
}
