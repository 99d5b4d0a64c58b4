// Reductions along axes: sum, mean, max, min, argmax, argmin, and sumTo
// (the broadcast gradient's way home). Kernels: assembly/reduce.ts, which see
// a tensor as [outer, len, inner] and reduce over len.

import { record } from "../tape.js";
import { backend, out, Tensor, axis, around, requireFloat, sizeOf, writeI32, type Shape } from "./util.js";
import { reshape } from "./view.js";
import { ReduceOp as R, BinaryOp } from "../backends/abi.generated.js";

function dimsOf(x: Tensor, dim: number | number[] | undefined, op: string): number[] {
  if (dim === undefined) return x.shape.map((_, i) => i);
  const ds = (Array.isArray(dim) ? dim : [dim]).map((d) => axis(d, x.rank, op));
  return [...new Set(ds)].sort((a, b) => a - b);
}

function keptShape(shape: Shape, dims: number[], keepdim: boolean): number[] {
  const s: number[] = [];
  shape.forEach((d, i) => {
    if (!dims.includes(i)) s.push(d);
    else if (keepdim) s.push(1);
  });
  return s;
}

/** Reduces one axis with kernel op `code`, no tape. */
function reduceAxis(x: Tensor, dim: number, op: R, what: string): Tensor {
  const [outer, len, inner] = around(x.shape, dim);
  const shape = x.shape.map((d, i) => (i === dim ? 1 : d));
  const y = out(shape, "float32", what);
  if (len === 0) {
    backend().kernels.fill_f32({ y: y.ptr, n: y.size, value: op === R.max ? -Infinity : op === R.min ? Infinity : op === R.mean ? NaN : 0 });
    return y;
  }
  backend().kernels.reduce_f32({ op, x: x.ptr, y: y.ptr, outer, len, inner });
  return y;
}

function sumOrMean(x: Tensor, dim: number | number[] | undefined, keepdim: boolean, mean: boolean): Tensor {
  const op = mean ? "mean" : "sum";
  requireFloat(x, op);
  const dims = dimsOf(x, dim, op);
  let y = x;
  let count = 1;
  if (dims.length === x.rank && x.rank > 0) {
    // whole-tensor: one pass over contiguous memory
    y = out([], "float32", op);
    backend().kernels.reduce_f32({ op: mean ? R.mean : R.sum, x: x.ptr, y: y.ptr, outer: 1, len: x.size, inner: 1 });
    count = x.size;
  } else {
    for (const d of dims) {
      y = reduceAxis(y, d, R.sum, op);
      count *= x.shape[d];
    }
    if (mean && dims.length) backend().kernels.scale_f32({ x: y.ptr, y: y.ptr, n: y.size, alpha: 1 / count });
  }
  const result = reshape(y.detach(), keptShape(x.shape, dims, keepdim));
  return record(result, op, [x], (g) => {
    const gk = reshape(g, keptShape(x.shape, dims, true));
    return [expandTo(gk, x.shape, mean ? 1 / count : 1)];
  });
}

/**
 * Sum over `dim` (all axes when omitted).
 * @example wg.tensor([[1, 2], [3, 4]]).sum(1).toArray(); // [3, 7]
 */
export function sum(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return sumOrMean(x, dim, keepdim, false);
}

/**
 * Mean over `dim` (all axes when omitted).
 * @example wg.tensor([[1, 2], [3, 4]]).mean().item(); // 2.5
 */
export function mean(x: Tensor, dim?: number | number[], keepdim = false): Tensor {
  return sumOrMean(x, dim, keepdim, true);
}

function maxMin(x: Tensor, dim: number | undefined, keepdim: boolean, isMax: boolean): Tensor {
  const op = isMax ? "max" : "min";
  requireFloat(x, op);
  const flat = dim === undefined;
  const src = flat ? reshape(x.detach(), [x.size]) : x;
  const d = flat ? 0 : axis(dim!, x.rank, op);
  if (src.shape[d] === 0) throw new Error(`${op}: cannot reduce an empty dimension of shape [${x.shape}]`);
  const y = reduceAxis(src, d, isMax ? R.max : R.min, op);
  const kept = flat ? (keepdim ? x.shape.map(() => 1) : []) : keptShape(x.shape, [d], keepdim);
  const result = reshape(y.detach(), kept);
  return record(result, op, [x], (g) => {
    if (flat) return [evenlyDistribute(x, y, g)];
    // along a dim: the whole gradient to the index max(dim)/min(dim) returns, the first extreme (PyTorch's rule)
    const [outer, len, inner] = around(src.shape, d);
    const dx = out(x.shape, "float32", `${op} backward`);
    backend().kernels.reduce_max_backward_f32({ x: src.ptr, y: y.ptr, dy: g.ptr, dx: dx.ptr, outer, len, inner });
    return [dx];
  });
}

/**
 * The gradient of a full max()/min() (PyTorch's evenly_distribute_backward): g
 * split evenly among the elements equal to the result y (the NaNs when y is NaN);
 * no tape (backward runs with it off).
 */
function evenlyDistribute(x: Tensor, y: Tensor, g: Tensor): Tensor {
  const K = backend().kernels, n = x.size;
  // x (flat) against a one-element operand at stride 0: binary_strided_f32 (elementwise.ts imports this file, so its ops are out of reach)
  const withOne = (op: BinaryOp, a: Tensor, one: Tensor, into: Tensor) =>
    K.binary_strided_f32({ op, a: a.ptr, b: one.ptr, y: into.ptr, rank: 1, desc: writeI32([n, 1, 0]) });
  const hit = out([n], "float32", "max/min backward"), nan = out([n], "float32", "max/min backward");
  const yNaN = out([1], "float32", "max/min backward"), count = out([1], "float32", "max/min backward"), share = out([1], "float32", "max/min backward");
  withOne(BinaryOp.eq, x, y, hit); // 1 where x == y
  K.binary_f32({ op: BinaryOp.ne, a: x.ptr, b: x.ptr, y: nan.ptr, n }); // 1 where x is NaN
  K.binary_f32({ op: BinaryOp.ne, a: y.ptr, b: y.ptr, y: yNaN.ptr, n: 1 });
  withOne(BinaryOp.mul, nan, yNaN, nan); // ... and y is NaN
  K.binary_f32({ op: BinaryOp.add, a: hit.ptr, b: nan.ptr, y: hit.ptr, n });
  K.reduce_f32({ op: R.sum, x: hit.ptr, y: count.ptr, outer: 1, len: n, inner: 1 });
  K.binary_f32({ op: BinaryOp.div, a: g.ptr, b: count.ptr, y: share.ptr, n: 1 });
  const dx = out(x.shape, "float32", "max/min backward");
  withOne(BinaryOp.mul, hit, share, dx);
  for (const t of [hit, nan, yNaN, count, share]) t.dispose();
  return dx;
}

/**
 * Max over `dim` (of everything when omitted). Ties, as PyTorch: the full
 * max() splits the gradient evenly among the tied maxima; max(dim) sends it
 * to the first maximum of each slice (the index PyTorch returns).
 * @example wg.tensor([1, 5, 2]).max().item(); // 5
 */
export function max(x: Tensor, dim?: number, keepdim = false): Tensor {
  return maxMin(x, dim, keepdim, true);
}
/** Min over `dim` (of everything when omitted); ties as max(). @example wg.tensor([1, 5, 2]).min().item(); // 1 */
export function min(x: Tensor, dim?: number, keepdim = false): Tensor {
  return maxMin(x, dim, keepdim, false);
}

function argReduce(x: Tensor, dim: number, keepdim: boolean, kernel: "argmax_f32" | "argmin_f32"): Tensor {
  const op = kernel === "argmax_f32" ? "argmax" : "argmin";
  requireFloat(x, op);
  const d = axis(dim, x.rank, op);
  const [outer, len, inner] = around(x.shape, d);
  if (len === 0) throw new Error(`${op}: cannot reduce an empty dimension of shape [${x.shape}]`);
  const y = out(keptShape(x.shape, [d], keepdim), "int32", op);
  backend().kernels[kernel]({ x: x.ptr, y: y.ptr, outer, len, inner });
  return y;
}

/** Index of the max along `dim` (int32). @example wg.tensor([[1, 9], [8, 2]]).argmax(1).toArray(); // [1, 0] */
export function argmax(x: Tensor, dim = -1, keepdim = false): Tensor {
  return argReduce(x, dim, keepdim, "argmax_f32");
}
/** Index of the min along `dim` (int32). @example wg.tensor([3, 1, 2]).argmin().item(); // 1 */
export function argmin(x: Tensor, dim = -1, keepdim = false): Tensor {
  return argReduce(x, dim, keepdim, "argmin_f32");
}

/** Broadcasts g (same rank as shape, 1 on reduced axes) to `shape`, times `scale`; no tape. */
export function expandTo(g: Tensor, shape: Shape, scale = 1): Tensor {
  const y = out(shape, "float32", "expand");
  const desc: number[] = [...shape];
  // y = g (broadcast) · scale, through binary_strided with a scalar operand
  const st: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = g.shape[i] === 1 && shape[i] !== 1 ? 0 : s;
    s *= g.shape[i];
  }
  const sc = out([1], "float32", "scale");
  backend().write(sc.ptr, Float32Array.of(scale));
  const p = writeI32([...desc, ...st, ...shape.map(() => 0)]);
  backend().kernels.binary_strided_f32({ op: BinaryOp.mul, a: g.ptr, b: sc.ptr, y: y.ptr, rank: shape.length, desc: p });
  sc.dispose();
  return y;
}

/** Sums a broadcast result back down to `shape` (the gradient of broadcasting); no tape. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const lead = g.rank - shape.length;
  let y = g;
  for (let i = 0; i < g.rank; i++) {
    const target = i < lead ? 1 : shape[i - lead];
    if (g.shape[i] !== target) y = reduceAxis(y, i, R.sum, "sum (broadcast backward)");
  }
  return reshape(y.detach(), [...shape]);
}

export { sizeOf };
