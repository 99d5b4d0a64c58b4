// Module: the container of parameters and sub-modules, with PyTorch's names
// (so state dicts move between the two) and train/eval modes.

import { Tensor } from "../tensor.js";
import { copyInPlace } from "../ops/elementwise.js";
import { shapeStr, backend, checkOptions, checkBool } from "../ops/util.js";
import { countCallNodes } from "../autograd.js";
import { tensorsIn } from "../scope.js";
import type { MemoryManager } from "../memory/manager.js";
import { formatModule, builtinExtraRepr } from "./repr.js";

const INSPECT_NODE: unique symbol = Symbol.for("nodejs.util.inspect.custom");
const INSPECT_DENO: unique symbol = Symbol.for("Deno.customInspect");

const PARAMS = new WeakSet<Tensor>();

/**
 * Marks a tensor as a parameter: persistent, requires grad, listed by parameters().
 * @example
 * class Scale extends wg.nn.Module {
 *   scale = wg.nn.parameter(wg.ones([4]));
 *   forward(x: wg.Tensor) { return x.mul(this.scale); }
 * }
 * new Scale().parameters().length; // 1
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

/** Tensors a module tree holds in its own fields (a cache a forward() stored): they escape its call. */
function heldTensors(m: Module, out: Tensor[] = []): Tensor[] {
  for (const v of Object.values(m)) {
    if (v instanceof Tensor) out.push(v);
    else if (v instanceof Module) heldTensors(v, out);
    else if (Array.isArray(v)) for (const x of v) x instanceof Module ? heldTensors(x, out) : x instanceof Tensor && out.push(x);
  }
  return out;
}

/**
 * One top-level module call (see host/memory/manager.ts): what it returns,
 * and what the module tree holds afterwards, escape; the temporaries it made
 * otherwise are released as soon as no backward() can need them.
 */
function callModule(m: Module, forward: (...a: any[]) => any, args: any[]): any {
  let mm: MemoryManager;
  try {
    mm = backend().mm;
  } catch {
    return forward.apply(m, args); // no engine yet: the forward's first op says so
  }
  const rec = mm.beginCall(`${m.constructor.name}.forward()`);
  if (!rec) return forward.apply(m, args);
  let result: any;
  try {
    result = forward.apply(m, args);
  } catch (e) {
    mm.endCall(rec, []);
    mm.trimScratch();
    throw e;
  }
  if (result && typeof result.then === "function") {
    mm.endCall(rec, rec.storages.slice()); // an async forward: everything made so far may still be used
    return result;
  }
  const outs = tensorsIn(result);
  heldTensors(m, outs);
  rec.pending = countCallNodes(rec, outs);
  mm.endCall(rec, outs.map((t) => t._s));
  return result;
}

export abstract class Module {
  training = true;
  /** Names of tensor fields that are state but not parameters (running statistics). */
  protected _buffers = new Set<string>();

  constructor() {
    // this.forward is the most derived class's method here: wrap it so each top-level call is tracked
    const forward = this.forward;
    Object.defineProperty(this, "forward", {
      value: (...args: any[]) => callModule(this, forward, args),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }

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
   * @example
   * const net2 = new wg.nn.Linear(4, 2);
   * net2.loadStateDict(new wg.nn.Linear(4, 2).stateDict()); // { missing: [], unexpected: [] }
   */
  loadStateDict(sd: Record<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>, opts: { strict?: boolean } = {}): { missing: string[]; unexpected: string[] } {
    const strict = checkStrict("loadStateDict", opts);
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
   * @example
   * const sd = net.stateDict();
   * net.checkStateDict(sd).pairs.length; // 6
   * net.checkStateDict({ ...sd, "fc.bias": wg.zeros([3]) }); // throws on a missing name, a wrong shape or a short array
   */
  checkStateDict(sd: Record<string, Tensor | { shape: readonly number[]; data: ArrayLike<number> }>, opts: { strict?: boolean } = {}):
    { missing: string[]; unexpected: string[]; pairs: [Tensor, Tensor | { shape: readonly number[]; data: ArrayLike<number> }][] } {
    const strict = checkStrict("checkStateDict", opts);
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

  /**
   * Frees every parameter, its gradient and every buffer now (the module is
   * unusable afterwards). Without it they go when the module is collected.
   *
   * @example
   * const net = new wg.nn.Linear(784, 10);
   * net.dispose();
   */
  dispose(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
      p.dispose();
    }
    for (const [, b] of this.namedBuffers()) b.dispose();
  }

  /** Number of trainable values. */
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.size, 0);
  }

  /**
   * What this module's printed line shows between its parentheses, as PyTorch's
   * extra_repr (the built-in layers give theirs; "" by default). Override it in a layer of your own.
   * @example new wg.nn.Linear(4, 2).extraRepr(); // "in_features=4, out_features=2, bias=True"
   */
  extraRepr(): string {
    return builtinExtraRepr(this);
  }

  /**
   * The layer tree as PyTorch prints it; console.log(net) prints it too (Node, Bun, Deno).
   * @example String(new wg.nn.Sequential(new wg.nn.Linear(4, 2))); // "Sequential(\n  (0): Linear(in_features=4, out_features=2, bias=True)\n)"
   */
  toString(): string {
    return formatModule(this);
  }
  /** @internal console.log / util.inspect in Node and Bun. */
  [INSPECT_NODE](): string {
    return formatModule(this);
  }
  /** @internal console.log / Deno.inspect in Deno. */
  [INSPECT_DENO](): string {
    return formatModule(this);
  }
}

/** loadStateDict's options: only strict, true or false (a misspelt "strict" once loaded strictly without a word). */
function checkStrict(who: string, opts: { strict?: boolean }): boolean {
  checkOptions(who, opts, ["strict"]);
  return checkBool(who, "strict", opts.strict) ?? true;
}
