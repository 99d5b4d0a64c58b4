// Shape ops that copy: transpose, permute, slice, cat, stack and expand (every
// tensor is contiguous, which keeps kernels simple). The views that share
// storage (reshape, flatten, unsqueeze, squeeze) are in view.ts, which the
// reductions use too.
// Kernels: movement.ts's gather_b32 (a strided copy of 32-bit words, so int32 too).

import { record } from "../tape.js";
import { backend, out, Tensor, axis, around, shapeStr, sizeOf, writeI32, type Shape } from "./util.js";
import { expandTo, sumTo } from "./reduce.js";

import { reshape, unsqueeze } from "./view.js";

export { reshape, flatten, unsqueeze, squeeze } from "./view.js";

/** Copies x viewed through `strides` (elements) into a contiguous tensor of `shape`: 32-bit words, bit for bit. */
function stridedCopy(x: Tensor, shape: number[], strides: number[], ptr = x.ptr): Tensor {
  const y = out(shape, x.dtype, "copy");
  if (y.size === 0) return y;
  const desc = writeI32([...shape, ...strides]);
  backend().kernels.gather_b32({ x: ptr, y: y.ptr, rank: shape.length, desc });
  return y;
}

function contiguousStrides(shape: Shape): number[] {
  const st = new Array(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

/**
 * Reorders dims (copies).
 * @example wg.zeros([2, 3, 4]).permute(2, 0, 1).shape; // [4, 2, 3]
 */
export function permute(x: Tensor, dims: number[]): Tensor {
  if (dims.length !== x.rank) throw new Error(`permute: ${dims.length} dims given for a tensor of rank ${x.rank}`);
  const p = dims.map((d) => axis(d, x.rank, "permute"));
  if (new Set(p).size !== p.length) throw new Error(`permute: dims [${dims}] repeat an axis`);
  const st = contiguousStrides(x.shape);
  const y = stridedCopy(x, p.map((d) => x.shape[d]), p.map((d) => st[d]));
  const inv = new Array(p.length);
  p.forEach((d, i) => (inv[d] = i));
  return record(y, "permute", [x], (g) => [permute(g, inv)]);
}

/** Swaps two dims (copies). @example wg.zeros([2, 3]).transpose(0, 1).shape; // [3, 2] */
export function transpose(x: Tensor, d0 = -2, d1 = -1): Tensor {
  if (x.rank < 2) return x;
  const a = axis(d0, x.rank, "transpose"), b = axis(d1, x.rank, "transpose");
  const p = x.shape.map((_, i) => i);
  [p[a], p[b]] = [p[b], p[a]];
  return permute(x, p);
}

/** Copies `len·inner` runs from src to dst for each of `outer` rows (cat, slice and their gradients). */
function copyRuns(src: number, srcRow: number, dst: number, dstRow: number, outer: number, run: number): void {
  // the backend's copy: in place on wasm, a copy kernel ordered with the recorded work on WebGPU
  const mm = backend().mm;
  if (srcRow === run && dstRow === run) mm.copy(dst, src, outer * run * 4); // contiguous runs merge into one
  else for (let o = 0; o < outer; o++) mm.copy(dst + o * dstRow * 4, src + o * srcRow * 4, run * 4);
}

/**
 * Elements start..end-1 along dim (copies; negative indices count from the end).
 * @example wg.arange(5).slice(0, 1, 3).toArray(); // [1, 2]
 */
export function slice(x: Tensor, dim: number, start: number, end?: number): Tensor {
  const d = axis(dim, x.rank, "slice");
  const n = x.shape[d];
  let s = start < 0 ? start + n : start;
  let e = end === undefined ? n : end < 0 ? end + n : end;
  s = Math.min(Math.max(s, 0), n);
  e = Math.min(Math.max(e, s), n);
  const [outer, len, inner] = around(x.shape, d);
  const shape = x.shape.map((v, i) => (i === d ? e - s : v));
  const y = out(shape, x.dtype, "slice");
  copyRuns(x.ptr + s * inner * 4, len * inner, y.ptr, (e - s) * inner, outer, (e - s) * inner);
  return record(y, "slice", [x], (g) => {
    const dx = out(x.shape, "float32", "slice backward");
    backend().kernels.fill_f32({ y: dx.ptr, n: dx.size, value: 0 });
    copyRuns(g.ptr, (e - s) * inner, dx.ptr + s * inner * 4, len * inner, outer, (e - s) * inner);
    return [dx];
  });
}

/**
 * Joins tensors along an existing dim.
 * @example wg.cat([wg.zeros([2, 1]), wg.ones([2, 2])], 1).shape; // [2, 3]
 */
export function cat(xs: Tensor[], dim = 0): Tensor {
  if (!xs.length) throw new Error("cat: needs at least one tensor");
  const r = xs[0].rank;
  const d = axis(dim, r, "cat");
  for (const t of xs) {
    if (t.rank !== r || t.shape.some((v, i) => i !== d && v !== xs[0].shape[i]) || t.dtype !== xs[0].dtype) {
      throw new Error(`cat: shapes ${xs.map((t) => shapeStr(t.shape)).join(", ")} differ outside dim ${d} (or dtypes differ)`);
    }
  }
  const total = xs.reduce((a, t) => a + t.shape[d], 0);
  const shape = xs[0].shape.map((v, i) => (i === d ? total : v));
  const y = out(shape, xs[0].dtype, "cat");
  const [outer, , inner] = around(shape, d);
  let at = 0;
  for (const t of xs) {
    const len = t.shape[d];
    copyRuns(t.ptr, len * inner, y.ptr + at * inner * 4, total * inner, outer, len * inner);
    at += len;
  }
  return record(y, "cat", xs, (g) => {
    let off = 0;
    return xs.map((t) => {
      const len = t.shape[d];
      const gi = out(t.shape, "float32", "cat backward");
      copyRuns(g.ptr + off * inner * 4, total * inner, gi.ptr, len * inner, outer, len * inner);
      off += len;
      return gi;
    });
  });
}

/** Joins tensors along a new dim. @example wg.stack([wg.zeros([3]), wg.ones([3])]).shape; // [2, 3] */
export function stack(xs: Tensor[], dim = 0): Tensor {
  return cat(xs.map((t) => unsqueeze(t, dim < 0 ? dim + t.rank + 1 : dim)), dim);
}

/** Broadcasts to `shape` (copies). @example wg.tensor([1, 2]).expand([3, 2]).shape; // [3, 2] */
export function expand(x: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  if (s.length < x.rank) throw new Error(`expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  const lead = s.length - x.rank;
  const xs = [...new Array(lead).fill(1), ...x.shape];
  xs.forEach((v, i) => {
    if (v !== 1 && v !== s[i]) throw new Error(`expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  });
  const y = expandTo(reshape(x.detach(), xs), s);
  return record(y, "expand", [x], (g) => [sumTo(g, x.shape)]);
}

/** A copy with its own storage. @example const t = wg.tensor([1, 2]), c = t.clone();
 * c.toArray(); // [1, 2] */
export function clone(x: Tensor): Tensor {
  const y = out(x.shape, x.dtype, "clone");
  backend().mm.copy(y.ptr, x.ptr, x.size * 4);
  return record(y, "clone", [x], (g) => [g]);
}
