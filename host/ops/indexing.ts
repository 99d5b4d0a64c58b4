// Indexing along a dim: gather / scatter / scatterAdd, indexSelect, oneHot,
// maskedFill, tril / triu, and the per-row stable sort behind sort, argsort and
// topk. Kernels: assembly/indexing.ts (gather_dim_b32, scatter_dim_f32,
// index_select_b32, index_add_f32, sort_f32); every tensor is contiguous, so a
// kernel sees it as [outer, len, inner] around the dim.
//
// Indices are int32. An index out of range is an error on wasm, raised before
// anything is written; on WebGPU the host cannot read indices without a sync, so
// there a gathered / selected one reads NaN (a NaN loss says so) and a scattered
// one writes nothing (docs/WEBGPU.md).
//
// Gradients: gather's is a scatter-add, indexSelect's an index-add, scatter's a
// gather (and the scattered positions of self get none), sort's and topk's go to
// the positions their values came from.

import { record } from "../tape.js";
import { backend, out, Tensor, axis, around, shapeStr, checkInt, checkBool, type Shape } from "./util.js";
import { reshape } from "./view.js";
import { slice, expand } from "./shape.js";
import { where, cast } from "./elementwise.js";
import { tensor } from "./creation.js";

function requireIndex(index: Tensor, op: string): void {
  if (!(index instanceof Tensor)) throw new Error(`${op}: index must be an int32 tensor, got ${typeof index}`);
  if (index.dtype !== "int32") throw new Error(`${op}: index must be int32, got ${index.dtype} of shape ${shapeStr(index.shape)}`);
}

function requireTensor(x: unknown, op: string, name: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor, got ${x === null ? "null" : typeof x}`);
}

/** A zero-filled float32 temporary (gradients that a kernel then adds into). */
function zerosRaw(shape: Shape, what: string): Tensor {
  const z = out(shape, "float32", what);
  if (z.size) backend().kernels.fill_f32({ y: z.ptr, n: z.size, value: 0 });
  return z;
}

/** A copy of t's storage as a new temporary (no tape). */
function copyRaw(t: Tensor, dtype = t.dtype, what = "copy"): Tensor {
  const y = out(t.shape, dtype, what);
  if (y.size) backend().mm.copy(y.ptr, t.ptr, t.size * 4);
  return y;
}

/** Runs the gather kernel: y[o, j, i] = x[o, idx[o, j, i], i] (x [outer, lenX, inner]), no tape. */
function gatherRaw(x: Tensor, d: number, index: Tensor, what: string): Tensor {
  const y = out(index.shape, x.dtype, what);
  if (y.size === 0) return y;
  const [outer, lenI, inner] = around(index.shape, d);
  backend().kernels.gather_dim_b32({ x: x.ptr, idx: index.ptr, y: y.ptr, outer, lenX: x.shape[d], lenI, inner });
  return y;
}

/** y[o, idx[o, j, i], i] (=|+=) src[o, j, i] into y [outer, lenY, inner] in place, no tape. */
function scatterInto(y: Tensor, d: number, index: Tensor, src: Tensor, accumulate: boolean): void {
  if (index.size === 0) return;
  const [outer, lenI, inner] = around(index.shape, d);
  backend().kernels.scatter_dim_f32({ src: src.ptr, idx: index.ptr, y: y.ptr, outer, lenY: y.shape[d], lenI, inner, accumulate: accumulate ? 1 : 0 });
}

/** Rank-0 tensors index as [1] (PyTorch allows dim 0 / −1 on them). */
const atLeast1d = (t: Tensor) => (t.rank === 0 ? reshape(t, [1]) : t);

/**
 * Values of `x` picked along `dim` by int32 `index` (same rank as x, no larger than x in any
 * other dim): out[i][j][k] = x[i][index[i][j][k]][k] for dim = 1; out has index's shape.
 * The gradient scatter-adds into x. float32 or int32 x.
 * @example wg.gather(wg.tensor([[1, 2], [3, 4]]), 1, wg.tensor([[0, 0], [1, 0]], { dtype: "int32" })).toArray(); // [[1, 1], [4, 3]]
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireTensor(x, "gather", "input");
  requireIndex(index, "gather");
  if (index.rank !== x.rank) throw new Error(`gather: index ${shapeStr(index.shape)} must have the rank of input ${shapeStr(x.shape)}`);
  const d = axis(dim, x.rank, "gather");
  const rank0 = x.rank === 0;
  let xs = atLeast1d(x);
  const idx = atLeast1d(index);
  for (let i = 0; i < xs.rank; i++) {
    if (i !== d && idx.shape[i] > xs.shape[i]) throw new Error(`gather: index ${shapeStr(index.shape)} is larger than input ${shapeStr(x.shape)} in dim ${i}`);
  }
  // index smaller than x outside dim: gather from the part of x it covers (slice is differentiable)
  for (let i = 0; i < xs.rank; i++) if (i !== d && idx.shape[i] < xs.shape[i]) xs = slice(xs, i, 0, idx.shape[i]);
  const y0 = gatherRaw(xs, d, idx, "gather");
  const y = rank0 ? reshape(y0, []) : y0;
  return record(y, "gather", [xs], (g) => {
    const dx = zerosRaw(xs.shape, "gather backward");
    scatterInto(dx, d, idx, atLeast1d(g), true);
    return [dx];
  });
}

function scatterOp(op: "scatter" | "scatterAdd", x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  requireTensor(x, op, "input");
  requireIndex(index, op);
  if (x.dtype !== "float32") throw new Error(`${op}: expected a float32 input, got ${x.dtype} of shape ${shapeStr(x.shape)}`);
  if (index.rank !== x.rank) throw new Error(`${op}: index ${shapeStr(index.shape)} must have the rank of input ${shapeStr(x.shape)}`);
  const d = axis(dim, x.rank, op);
  const xs = atLeast1d(x), idx = atLeast1d(index);
  for (let i = 0; i < xs.rank; i++) {
    // PyTorch allows index smaller than input outside dim; here the kernels walk index and
    // input on one [outer, ·, inner] grid, so they must agree there
    if (i !== d && idx.shape[i] !== xs.shape[i]) throw new Error(`${op}: index ${shapeStr(index.shape)} must match input ${shapeStr(x.shape)} in every dim but dim ${d} (dim ${i}: ${idx.shape[i]} vs ${xs.shape[i]})`);
  }
  let s: Tensor;
  if (typeof src === "number") {
    s = out(idx.shape, "float32", `${op} value`);
    if (s.size) backend().kernels.fill_f32({ y: s.ptr, n: s.size, value: src });
  } else {
    requireTensor(src, op, "src");
    if (src.dtype !== "float32") throw new Error(`${op}: expected a float32 src, got ${src.dtype} of shape ${shapeStr(src.shape)}`);
    if (src.rank !== x.rank) throw new Error(`${op}: src ${shapeStr(src.shape)} must have the rank of input ${shapeStr(x.shape)}`);
    s = atLeast1d(src);
    for (let i = 0; i < s.rank; i++) {
      if (s.shape[i] < idx.shape[i]) throw new Error(`${op}: src ${shapeStr(src.shape)} is smaller than index ${shapeStr(index.shape)} in dim ${i}`);
    }
    for (let i = 0; i < s.rank; i++) if (s.shape[i] > idx.shape[i]) s = slice(s, i, 0, idx.shape[i]);
  }
  const acc = op === "scatterAdd";
  const y0 = copyRaw(xs, "float32", op);
  scatterInto(y0, d, idx, s, acc);
  const y = x.rank === 0 ? reshape(y0, []) : y0;
  const inputs = typeof src === "number" ? [xs] : [xs, s];
  return record(y, op, inputs, (g) => {
    const g1 = atLeast1d(g);
    let dx: Tensor = g1;
    if (!acc) {
      // the positions scatter overwrote take no gradient from self
      dx = copyRaw(g1, "float32", `${op} backward`);
      scatterInto(dx, d, idx, zerosRaw(idx.shape, `${op} backward`), false);
    }
    return typeof src === "number" ? [dx] : [dx, gatherRaw(g1, d, idx, `${op} backward`)];
  });
}

/**
 * A copy of `x` with src's values written along `dim` at int32 `index`: out[i][index[i][j]] = src[i][j]
 * for dim = 1 (a repeated index keeps the last write). `src` may be a number. Index must match
 * x in every dim but `dim`; src must be at least as large as index. Gradient: to x where nothing
 * was written, to src gathered back.
 * @example wg.scatter(wg.zeros([3]), 0, wg.tensor([2, 0], { dtype: "int32" }), wg.tensor([5, 6])).toArray(); // [6, 0, 5]
 */
export function scatter(x: Tensor, dim: number, index: Tensor, src: Tensor | number): Tensor {
  return scatterOp("scatter", x, dim, index, src);
}

/**
 * As scatter, adding instead of writing (repeats sum, in order of index).
 * @example wg.scatterAdd(wg.ones([3]), 0, wg.tensor([2, 2, 0], { dtype: "int32" }), wg.tensor([1, 2, 3])).toArray(); // [4, 1, 4]
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return scatterOp("scatterAdd", x, dim, index, src);
}

/**
 * The entries of `x` at int32 positions `index` (1-D) along `dim`; the gradient index-adds into x.
 * float32 or int32 x.
 * @example wg.indexSelect(wg.tensor([[1, 2, 3], [4, 5, 6]]), 1, wg.tensor([2, 0], { dtype: "int32" })).toArray(); // [[3, 1], [6, 4]]
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  requireTensor(x, "indexSelect", "input");
  requireIndex(index, "indexSelect");
  if (index.rank > 1) throw new Error(`indexSelect: index must be 1-D, got shape ${shapeStr(index.shape)}`);
  const d = axis(dim, x.rank, "indexSelect");
  const xs = atLeast1d(x);
  const n = index.size;
  const [outer, lenX, inner] = around(xs.shape, d);
  const shape = x.rank === 0 ? [...index.shape] : xs.shape.map((v, i) => (i === d ? n : v));
  const y = out(shape, x.dtype, "indexSelect");
  const K = backend().kernels;
  if (y.size) K.index_select_b32({ x: xs.ptr, idx: index.ptr, y: y.ptr, outer, lenX, n, inner });
  else if (lenX === 0 && n > 0) throw new Error(`indexSelect: cannot select from dim ${d} of size 0 (input ${shapeStr(x.shape)})`);
  return record(y, "indexSelect", [xs], (g) => {
    const dx = zerosRaw(xs.shape, "indexSelect backward");
    if (g.size) K.index_add_f32({ dy: g.ptr, idx: index.ptr, dx: dx.ptr, outer, lenX, n, inner });
    return [dx];
  });
}

/**
 * One-hot rows of int32 class indices: [...index.shape, numClasses] int32 (PyTorch gives int64).
 * numClasses = −1 takes max(index) + 1 (reads the indices: wasm only, or an awaited tensor).
 * @example wg.oneHot(wg.tensor([0, 2], { dtype: "int32" }), 3).toArray(); // [[1, 0, 0], [0, 0, 1]]
 */
export function oneHot(index: Tensor, numClasses = -1): Tensor {
  requireIndex(index, "oneHot");
  checkInt("oneHot", "numClasses", numClasses, -1, 2 ** 31 - 1);
  let C = numClasses;
  if (C === -1) {
    const v = index.toArray() as unknown;
    const flat = (Array.isArray(v) ? (v as unknown[]).flat(Infinity) : [v]) as number[];
    C = flat.length ? Math.max(...flat) + 1 : 0;
    if (flat.some((t) => t < 0)) throw new Error(`oneHot: class values must be non-negative, got ${Math.min(...flat)}`);
  }
  const n = index.size;
  const y = zerosRaw([n, C], "oneHot");
  if (n > 0) {
    const ones = out([n, 1], "float32", "oneHot");
    backend().kernels.fill_f32({ y: ones.ptr, n, value: 1 });
    try {
      scatterInto(y, 1, reshape(index.detach(), [n, 1]), ones, false);
    } catch (e) {
      throw new Error(`oneHot: class values must be in [0, ${C}) (${(e as Error).message})`);
    }
    ones.dispose();
  }
  const r = cast(y, "int32");
  y.dispose();
  return reshape(r, [...index.shape, C]);
}

/**
 * `x` with `value` where `mask` (float32 or int32, broadcast to x's shape) is not 0; the
 * gradient flows to x where the mask is 0.
 * @example wg.maskedFill(wg.tensor([1, 2, 3]), wg.tensor([0, 1, 0], { dtype: "int32" }), -1).toArray(); // [1, -1, 3]
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  requireTensor(x, "maskedFill", "input");
  requireTensor(mask, "maskedFill", "mask");
  if (x.dtype !== "float32") throw new Error(`maskedFill: expected a float32 input, got ${x.dtype} of shape ${shapeStr(x.shape)}`);
  if (typeof value !== "number") throw new Error(`maskedFill: value must be a number, got ${JSON.stringify(value) ?? String(value)}`);
  let m = mask.dtype === "int32" ? cast(mask, "float32") : mask.detach();
  if (m.shape.join() !== x.shape.join()) {
    if (m.rank > x.rank || m.shape.some((v, i) => v !== 1 && v !== x.shape[x.rank - m.rank + i])) {
      throw new Error(`maskedFill: mask ${shapeStr(mask.shape)} cannot be broadcast to input ${shapeStr(x.shape)}`);
    }
    m = expand(m, x.shape);
  }
  const fill = out(x.shape, "float32", "maskedFill");
  if (fill.size) backend().kernels.fill_f32({ y: fill.ptr, n: fill.size, value });
  return where(m, fill, x);
}

function triangle(op: "tril" | "triu", x: Tensor, diagonal: number): Tensor {
  requireTensor(x, op, "input");
  checkInt(op, "diagonal", diagonal);
  if (x.rank < 2) throw new Error(`${op}: input must have at least 2 dims, got shape ${shapeStr(x.shape)}`);
  const R = x.shape[x.rank - 2], C = x.shape[x.rank - 1];
  const keep = new Float32Array(R * C);
  for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) keep[i * C + j] = (op === "tril" ? j - i <= diagonal : j - i >= diagonal) ? 1 : 0;
  const m0 = tensor(keep, { shape: [R, C] });
  const m = x.rank === 2 ? m0 : expand(m0, x.shape);
  // int32 x goes through float32 (exact for |values| ≤ 2^24: masks and counts)
  const xf = x.dtype === "int32" ? cast(x, "float32") : x;
  const y = where(m, xf, zerosRaw(x.shape, op));
  return x.dtype === "int32" ? cast(y, "int32") : y;
}

/**
 * The lower triangle of the last two dims (j − i ≤ diagonal), zeros above.
 * @example wg.tril(wg.ones([2, 2])).toArray(); // [[1, 0], [1, 1]]
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle("tril", x, diagonal);
}

/**
 * The upper triangle of the last two dims (j − i ≥ diagonal), zeros below.
 * @example wg.triu(wg.ones([2, 2]), 1).toArray(); // [[0, 1], [0, 0]]
 */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle("triu", x, diagonal);
}

/** values / indices of a sort or top-k. */
export interface SortResult { values: Tensor; indices: Tensor }

/** The first k of each row's stable sort along dim (NaN largest), with the values' gradient. */
function sortK(op: string, x: Tensor, dim: number, k: number, descending: boolean): SortResult {
  if (x.dtype !== "float32") throw new Error(`${op}: expected a float32 input, got ${x.dtype} of shape ${shapeStr(x.shape)}`);
  const d = axis(dim, x.rank, op);
  const xs = atLeast1d(x);
  const [outer, len, inner] = around(xs.shape, d);
  const shape = x.rank === 0 ? [] : xs.shape.map((v, i) => (i === d ? k : v));
  const values = out(shape, "float32", `${op} values`), indices = out(shape, "int32", `${op} indices`);
  if (values.size) backend().kernels.sort_f32({ x: xs.ptr, values: values.ptr, indices: indices.ptr, outer, len, inner, k, descending: descending ? 1 : 0 });
  // backward keeps its own copy of the indices: the caller may dispose the ones it got
  const saved = xs.requiresGrad ? copyRaw(indices, "int32", `${op} saved indices`) : null;
  record(values, op, [xs], (g) => {
    const dx = zerosRaw(xs.shape, `${op} backward`);
    if (g.size) backend().kernels.scatter_dim_f32({ src: g.ptr, idx: saved!.ptr, y: dx.ptr, outer, lenY: len, lenI: k, inner, accumulate: 1 });
    return [dx];
  }, saved ? [saved] : []);
  return { values, indices };
}

/**
 * Sorts along `dim` (stable: equal values keep their order; NaN sorts as the largest):
 * { values, indices } (int32 positions in x). The gradient of values flows to where each came from.
 * @example wg.sort(wg.tensor([3, 1, 2])).indices.toArray(); // [1, 2, 0]
 */
export function sort(x: Tensor, dim = -1, descending = false): SortResult {
  requireTensor(x, "sort", "input");
  checkBool("sort", "descending", descending);
  const d = axis(dim, x.rank, "sort");
  return sortK("sort", x, d, x.rank === 0 ? 1 : x.shape[d], descending);
}

/**
 * The int32 positions that sort `x` along `dim` (stable, NaN largest).
 * @example wg.argsort(wg.tensor([3, 1, 2]), -1, true).toArray(); // [0, 2, 1]
 */
export function argsort(x: Tensor, dim = -1, descending = false): Tensor {
  const { values, indices } = sort(x, dim, descending);
  values.dispose();
  return indices;
}

/**
 * The k largest (or smallest) entries along `dim` and their int32 positions: { values, indices },
 * in sorted order (also when sorted is false; ties in order of position, NaN largest).
 * The gradient of values flows to the selected positions.
 * @example wg.topk(wg.tensor([1, 5, 3, 4]), 2).values.toArray(); // [5, 4]
 */
export function topk(x: Tensor, k: number, dim = -1, largest = true, sorted = true): SortResult {
  requireTensor(x, "topk", "input");
  const d = axis(dim, x.rank, "topk");
  const len = x.rank === 0 ? 1 : x.shape[d];
  checkInt("topk", "k", k, 0, len);
  checkBool("topk", "largest", largest);
  checkBool("topk", "sorted", sorted);
  return sortK("topk", x, d, k, largest);
}
