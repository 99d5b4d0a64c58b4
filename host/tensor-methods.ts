// The op methods of Tensor (x.add(y), x.matmul(w), loss.backward(), ...),
// added to its prototype here rather than written in tensor.ts, so that the
// data flows one way with no import cycle: ops import Tensor, and this file
// imports both. host/index.ts imports it, so every `wg.*` program has them.

import { Tensor, type Shape } from "./tensor.js";
import * as ops from "./ops/index.js";
import { runBackward, type BackwardOptions } from "./autograd.js";
import { checkOptions, checkBool } from "./ops/util.js";

declare module "./tensor.js" {
  interface Tensor {
    /**
     * Backpropagates from this tensor, accumulating `.grad` on every leaf that requires grad.
     *
     * @example
     * const w = wg.tensor([2], { requiresGrad: true });
     * w.mul(w).sum().backward();
     * w.grad.toArray(); // [4]
     */
    backward(opts?: BackwardOptions): void;

    // ---- element-wise ----
    add(o: Tensor | number): Tensor;
    sub(o: Tensor | number): Tensor;
    mul(o: Tensor | number): Tensor;
    div(o: Tensor | number): Tensor;
    pow(o: Tensor | number): Tensor;
    maximum(o: Tensor | number): Tensor;
    minimum(o: Tensor | number): Tensor;
    eq(o: Tensor | number): Tensor;
    gt(o: Tensor | number): Tensor;
    lt(o: Tensor | number): Tensor;
    ge(o: Tensor | number): Tensor;
    le(o: Tensor | number): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    abs(): Tensor;
    square(): Tensor;
    reciprocal(): Tensor;
    relu(): Tensor;
    sigmoid(): Tensor;
    tanh(): Tensor;
    gelu(approximate?: "none" | "tanh"): Tensor;
    silu(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    clamp(lo?: number | null, hi?: number | null): Tensor;
    float(): Tensor;
    int(): Tensor;
    // ---- shape ----
    reshape(...shape: (number | number[])[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    squeeze(dim?: number): Tensor;
    transpose(d0?: number, d1?: number): Tensor;
    readonly T: Tensor;
    permute(...dims: (number | number[])[]): Tensor;
    slice(dim: number, start: number, end?: number): Tensor;
    expand(shape: Shape): Tensor;
    clone(): Tensor;
    // ---- reductions ----
    sum(dim?: number | number[], keepdim?: boolean): Tensor;
    mean(dim?: number | number[], keepdim?: boolean): Tensor;
    max(dim?: number, keepdim?: boolean): Tensor;
    min(dim?: number, keepdim?: boolean): Tensor;
    argmax(dim?: number, keepdim?: boolean): Tensor;
    argmin(dim?: number, keepdim?: boolean): Tensor;
    // ---- linear algebra and nn ----
    matmul(o: Tensor): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    // ---- indexing along a dim (host/ops/indexing.ts) ----
    gather(dim: number, index: Tensor): Tensor;
    scatter(dim: number, index: Tensor, src: Tensor | number): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    maskedFill(mask: Tensor, value: number): Tensor;
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
    sort(dim?: number, descending?: boolean): ops.SortResult;
    argsort(dim?: number, descending?: boolean): Tensor;
    topk(k: number, dim?: number, largest?: boolean, sorted?: boolean): ops.SortResult;
    // ---- in place (no tape: for optimizers and initialisers) ----
    /** this -= alpha·o, in place. */
    sub_(o: Tensor, alpha?: number): this;
    /** this += alpha·o, in place. */
    add_(o: Tensor, alpha?: number): this;
    /** Sets every element to v, in place. */
    fill_(v: number): this;
    /** Copies o's data into this (same shape), in place. */
    copy_(o: Tensor): this;
    /** this *= s (a number), in place. */
    mul_(s: number): this;
    // ---- issue 15 item 2: rounding, scans, statistics, split/repeat (host/ops/elementwise.ts, scan.ts, stats.ts, shape.ts) ----
    floor(): Tensor;
    ceil(): Tensor;
    round(opts?: { decimals?: number }): Tensor;
    trunc(): Tensor;
    cumsum(dim: number): Tensor;
    cumprod(dim: number): Tensor;
    var(dim?: number | number[] | null, unbiased?: boolean | ops.VarOptions, keepdim?: boolean): Tensor;
    std(dim?: number | number[] | null, unbiased?: boolean | ops.VarOptions, keepdim?: boolean): Tensor;
    logsumexp(dim: number | number[], keepdim?: boolean): Tensor;
    split(splitSizeOrSections: number | number[], dim?: number): Tensor[];
    chunk(chunks: number, dim?: number): Tensor[];
    repeat(...sizes: (number | number[])[]): Tensor;
    tile(dims: number[]): Tensor;
  }
}

const P = Tensor.prototype;
P.backward = function (this: Tensor, opts: BackwardOptions = {}) {
  checkOptions("backward", opts, ["grad", "retainGraph"]);
  if (opts.grad !== undefined && !(opts.grad instanceof Tensor)) throw new Error(`backward: grad must be a tensor, got ${typeof opts.grad}`);
  checkBool("backward", "retainGraph", opts.retainGraph);
  runBackward(this, opts);
};
P.add = function (this: Tensor, o: Tensor | number) { return ops.add(this, o); };
P.sub = function (this: Tensor, o: Tensor | number) { return ops.sub(this, o); };
P.mul = function (this: Tensor, o: Tensor | number) { return ops.mul(this, o); };
P.div = function (this: Tensor, o: Tensor | number) { return ops.div(this, o); };
P.pow = function (this: Tensor, o: Tensor | number) { return ops.pow(this, o); };
P.maximum = function (this: Tensor, o: Tensor | number) { return ops.maximum(this, o); };
P.minimum = function (this: Tensor, o: Tensor | number) { return ops.minimum(this, o); };
P.eq = function (this: Tensor, o: Tensor | number) { return ops.eq(this, o); };
P.gt = function (this: Tensor, o: Tensor | number) { return ops.gt(this, o); };
P.lt = function (this: Tensor, o: Tensor | number) { return ops.lt(this, o); };
P.ge = function (this: Tensor, o: Tensor | number) { return ops.ge(this, o); };
P.le = function (this: Tensor, o: Tensor | number) { return ops.le(this, o); };
P.neg = function (this: Tensor, ) { return ops.neg(this); };
P.exp = function (this: Tensor, ) { return ops.exp(this); };
P.log = function (this: Tensor, ) { return ops.log(this); };
P.sqrt = function (this: Tensor, ) { return ops.sqrt(this); };
P.rsqrt = function (this: Tensor, ) { return ops.rsqrt(this); };
P.abs = function (this: Tensor, ) { return ops.abs(this); };
P.square = function (this: Tensor, ) { return ops.square(this); };
P.reciprocal = function (this: Tensor, ) { return ops.reciprocal(this); };
P.relu = function (this: Tensor, ) { return ops.relu(this); };
P.sigmoid = function (this: Tensor, ) { return ops.sigmoid(this); };
P.tanh = function (this: Tensor, ) { return ops.tanh(this); };
P.gelu = function (this: Tensor, approximate: "none" | "tanh" = "none") { return ops.gelu(this, approximate); };
P.silu = function (this: Tensor, ) { return ops.silu(this); };
P.sin = function (this: Tensor, ) { return ops.sin(this); };
P.cos = function (this: Tensor, ) { return ops.cos(this); };
P.clamp = function (this: Tensor, lo?: number | null, hi?: number | null) { return ops.clamp(this, lo, hi); };
P.float = function (this: Tensor, ) { return ops.cast(this, "float32"); };
P.int = function (this: Tensor, ) { return ops.cast(this, "int32"); };
P.reshape = function (this: Tensor, ...shape: (number | number[])[]) { return ops.reshape(this, shape.flat()); };
P.flatten = function (this: Tensor, startDim = 0, endDim = -1) { return ops.flatten(this, startDim, endDim); };
P.unsqueeze = function (this: Tensor, dim: number) { return ops.unsqueeze(this, dim); };
P.squeeze = function (this: Tensor, dim?: number) { return ops.squeeze(this, dim); };
P.transpose = function (this: Tensor, d0 = -2, d1 = -1) { return ops.transpose(this, d0, d1); };
Object.defineProperty(P, "T", { get(this: Tensor): Tensor { return ops.transpose(this, -2, -1); }, configurable: true });
P.permute = function (this: Tensor, ...dims: (number | number[])[]) { return ops.permute(this, dims.flat()); };
P.slice = function (this: Tensor, dim: number, start: number, end?: number) { return ops.slice(this, dim, start, end); };
P.expand = function (this: Tensor, shape: Shape) { return ops.expand(this, shape); };
P.clone = function (this: Tensor, ) { return ops.clone(this); };
P.sum = function (this: Tensor, dim?: number | number[], keepdim = false) { return ops.sum(this, dim, keepdim); };
P.mean = function (this: Tensor, dim?: number | number[], keepdim = false) { return ops.mean(this, dim, keepdim); };
P.max = function (this: Tensor, dim?: number, keepdim = false) { return ops.max(this, dim, keepdim); };
P.min = function (this: Tensor, dim?: number, keepdim = false) { return ops.min(this, dim, keepdim); };
P.argmax = function (this: Tensor, dim = -1, keepdim = false) { return ops.argmax(this, dim, keepdim); };
P.argmin = function (this: Tensor, dim = -1, keepdim = false) { return ops.argmin(this, dim, keepdim); };
P.matmul = function (this: Tensor, o: Tensor) { return ops.matmul(this, o); };
P.softmax = function (this: Tensor, dim = -1) { return ops.softmax(this, dim); };
P.logSoftmax = function (this: Tensor, dim = -1) { return ops.logSoftmax(this, dim); };
// indexing along a dim (host/ops/indexing.ts)
P.gather = function (this: Tensor, dim: number, index: Tensor) { return ops.gather(this, dim, index); };
P.scatter = function (this: Tensor, dim: number, index: Tensor, src: Tensor | number) { return ops.scatter(this, dim, index, src); };
P.scatterAdd = function (this: Tensor, dim: number, index: Tensor, src: Tensor) { return ops.scatterAdd(this, dim, index, src); };
P.indexSelect = function (this: Tensor, dim: number, index: Tensor) { return ops.indexSelect(this, dim, index); };
P.maskedFill = function (this: Tensor, mask: Tensor, value: number) { return ops.maskedFill(this, mask, value); };
P.tril = function (this: Tensor, diagonal = 0) { return ops.tril(this, diagonal); };
P.triu = function (this: Tensor, diagonal = 0) { return ops.triu(this, diagonal); };
P.sort = function (this: Tensor, dim = -1, descending = false) { return ops.sort(this, dim, descending); };
P.argsort = function (this: Tensor, dim = -1, descending = false) { return ops.argsort(this, dim, descending); };
P.topk = function (this: Tensor, k: number, dim = -1, largest = true, sorted = true) { return ops.topk(this, k, dim, largest, sorted); };
P.sub_ = function (this: Tensor, o: Tensor, alpha = 1) { ops.axpyInPlace(this, o, -alpha); return this; };
P.add_ = function (this: Tensor, o: Tensor, alpha = 1) { ops.axpyInPlace(this, o, alpha); return this; };
P.fill_ = function (this: Tensor, v: number) { ops.fillInPlace(this, v); return this; };
P.copy_ = function (this: Tensor, o: Tensor) { ops.copyInPlace(this, o); return this; };
P.mul_ = function (this: Tensor, s: number) { ops.scaleInPlace(this, s); return this; };

// ---- issue 15 item 2: rounding, scans, statistics, split/repeat ----
P.floor = function (this: Tensor) { return ops.floor(this); };
P.ceil = function (this: Tensor) { return ops.ceil(this); };
P.round = function (this: Tensor, opts?: { decimals?: number }) { return ops.round(this, opts); };
P.trunc = function (this: Tensor) { return ops.trunc(this); };
P.cumsum = function (this: Tensor, dim: number) { return ops.cumsum(this, dim); };
P.cumprod = function (this: Tensor, dim: number) { return ops.cumprod(this, dim); };
P.var = function (this: Tensor, dim?: number | number[] | null, unbiased?: boolean | ops.VarOptions, keepdim = false) { return ops.var(this, dim, unbiased, keepdim); };
P.std = function (this: Tensor, dim?: number | number[] | null, unbiased?: boolean | ops.VarOptions, keepdim = false) { return ops.std(this, dim, unbiased, keepdim); };
P.logsumexp = function (this: Tensor, dim: number | number[], keepdim = false) { return ops.logsumexp(this, dim, keepdim); };
P.split = function (this: Tensor, splitSizeOrSections: number | number[], dim = 0) { return ops.split(this, splitSizeOrSections, dim); };
P.chunk = function (this: Tensor, chunks: number, dim = 0) { return ops.chunk(this, chunks, dim); };
P.repeat = function (this: Tensor, ...sizes: (number | number[])[]) { return ops.repeat(this, ...sizes); };
P.tile = function (this: Tensor, dims: number[]) { return ops.tile(this, dims); };
