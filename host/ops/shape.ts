// Shape ops that copy: transpose, permute, slice, cat, stack and expand (every
// tensor is contiguous, which keeps kernels simple). The views that share
// storage (reshape, flatten, unsqueeze, squeeze) are in view.ts, which the
// reductions use too.
// Kernels: movement.ts's gather_b32 (a strided copy of 32-bit words, so int32 too).

import { record } from "../tape.js";
import { backend, out, Tensor, axis, around, shapeStr, sizeOf, writeI32, checkInt, checkOneOf, checkOptions, type Shape } from "./util.js";
import { expandTo, sumTo, sum as reduceSum } from "./reduce.js";
import { full } from "./creation.js";

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

// ---- split, chunk, repeat, tile, pad (issue 15): slices, cats and one strided copy

function splitCheck(x: Tensor, dim: number, op: string): number {
  if (x.rank === 0) throw new Error(`${op}: a 0-d tensor has no dim to split`);
  return axis(dim, x.rank, op);
}

/**
 * Pieces along `dim` (copies): of splitSize each (the last may be smaller), or of the given sizes,
 * which must add up to the dim (torch.split).
 * @example wg.arange(5).split(2).map((t) => t.toArray()); // [[0, 1], [2, 3], [4]]
 * wg.split(wg.zeros([2, 6]), [1, 5], 1).map((t) => t.shape); // [[2, 1], [2, 5]]
 */
export function split(x: Tensor, splitSizeOrSections: number | number[], dim = 0): Tensor[] {
  const d = splitCheck(x, dim, "split");
  const n = x.shape[d];
  let sizes: number[];
  if (Array.isArray(splitSizeOrSections)) {
    sizes = splitSizeOrSections.map((s) => checkInt("split", "section size", s, 0));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== n) throw new Error(`split: sections [${sizes}] add up to ${total}, but dim ${d} of ${shapeStr(x.shape)} is ${n}`);
  } else {
    const s = checkInt("split", "splitSize", splitSizeOrSections, 0);
    if (s === 0 && n !== 0) throw new Error(`split: splitSize 0 cannot split dim ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
    const count = s === 0 ? 1 : Math.max(Math.ceil(n / s), 1);
    sizes = Array.from({ length: count }, (_, i) => (i < count - 1 ? s : n - s * (count - 1)));
  }
  let at = 0;
  return sizes.map((s) => {
    const t = slice(x, d, at, at + s);
    at += s;
    return t;
  });
}

/**
 * `chunks` pieces along `dim` of ⌈size / chunks⌉ each (the last smaller; fewer pieces when the
 * size runs out first), as torch.chunk.
 * @example wg.arange(5).chunk(3).map((t) => t.toArray()); // [[0, 1], [2, 3], [4]]
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const c = checkInt("chunk", "chunks", chunks, 1);
  const d = splitCheck(x, dim, "chunk");
  const n = x.shape[d];
  if (n === 0) return Array.from({ length: c }, () => slice(x, d, 0, 0));
  return split(x, Math.ceil(n / c), d);
}

/**
 * Tiles x `sizes[i]` times along each dim (torch's Tensor.repeat; sizes may add leading dims).
 * One strided copy; the gradient sums the copies.
 * @example wg.tensor([1, 2]).repeat(2, 2).toArray(); // [[1, 2, 1, 2], [1, 2, 1, 2]]
 */
export function repeat(x: Tensor, ...sizes: (number | number[])[]): Tensor {
  const reps = (sizes.length === 1 && Array.isArray(sizes[0]) ? sizes[0] : sizes).map((r) => checkInt("repeat", "repeat count", r, 0));
  if (reps.length < x.rank) throw new Error(`repeat: ${reps.length} repeat counts [${reps}] for a tensor of rank ${x.rank} (shape ${shapeStr(x.shape)}); give at least one per dim`);
  const xs = [...new Array(reps.length - x.rank).fill(1), ...x.shape];
  const st = contiguousStrides(xs);
  // view [r0, s0, r1, s1, …] with stride 0 along each r: y[a, i, b, j, …] = x[i, j, …]
  const shape2 = xs.flatMap((s, i) => [reps[i], s]);
  const strides2 = st.flatMap((s) => [0, s]);
  const y = reshape(stridedCopy(x, shape2, strides2).detach(), xs.map((s, i) => s * reps[i]));
  return record(y, "repeat", [x], (g) => {
    const g2 = reshape(g, shape2);
    const summed = reduceSum(g2, reps.map((_, i) => 2 * i));
    return [reshape(summed, [...x.shape])];
  });
}

/**
 * x repeated along each dim (torch.tile): as repeat, with `dims` padded by leading 1s when shorter than x's rank.
 * @example wg.tile(wg.tensor([[1, 2]]), [2]).toArray(); // [[1, 2, 1, 2]]
 */
export function tile(x: Tensor, dims: number[]): Tensor {
  if (!Array.isArray(dims)) throw new Error(`tile: dims must be an array of repeat counts, got ${JSON.stringify(dims) ?? String(dims)}`);
  return repeat(x, [...new Array(Math.max(x.rank - dims.length, 0)).fill(1), ...dims]);
}

const PAD_MODES = ["constant", "reflect", "replicate", "circular"] as const;
type PadMode = (typeof PAD_MODES)[number];

/**
 * Pads (or, with negative amounts in constant mode, crops) the last dims, as torch.nn.functional.pad:
 * `pad` is [left, right] of the last dim, then of the one before it, and so on. Modes: "constant"
 * (fills with `value`), "reflect" (mirrors without repeating the edge; each amount < the dim),
 * "replicate" (repeats the edge), "circular" (wraps around).
 * @example wg.pad(wg.tensor([[1, 2]]), [1, 2]).toArray(); // [[0, 1, 2, 0, 0]]
 * wg.pad(wg.tensor([1, 2, 3]), [2, 1], "reflect").toArray(); // [3, 2, 1, 2, 3, 2]
 * wg.pad(wg.tensor([1, 2, 3]), [1, 1], "replicate").toArray(); // [1, 1, 2, 3, 3]
 * wg.pad(wg.tensor([1]), [1, 0], { value: 7 }).toArray(); // [7, 1]
 */
export function pad(x: Tensor, pad: number[], modeOrOptions: PadMode | { mode?: PadMode; value?: number } = "constant", value?: number): Tensor {
  let mode: PadMode;
  if (typeof modeOrOptions === "object" && modeOrOptions !== null) {
    // PyTorch's keywords (F.pad(x, p, value=0.5)) as an options object
    checkOptions("pad", modeOrOptions, ["mode", "value"]);
    if (value !== undefined) throw new Error("pad: give value in the options object or as the fourth argument, not both");
    mode = modeOrOptions.mode ?? "constant";
    value = modeOrOptions.value;
  } else mode = modeOrOptions;
  checkOneOf("pad", "mode", mode, PAD_MODES);
  if (!Array.isArray(pad) || pad.length % 2 !== 0) throw new Error(`pad: pad must be an array of even length ([left, right] per dim from the last), got ${JSON.stringify(pad) ?? String(pad)}`);
  pad.forEach((p) => checkInt("pad", "pad amount", p));
  if (pad.length / 2 > x.rank) throw new Error(`pad: ${pad.length} amounts pad ${pad.length / 2} dims, but the tensor has shape ${shapeStr(x.shape)}`);
  if (value !== undefined && mode !== "constant") throw new Error(`pad: mode "${mode}" takes no value (got ${value})`);
  if (value !== undefined && typeof value !== "number") throw new Error(`pad: value must be a number, got ${JSON.stringify(value)}`);
  let y = x;
  for (let k = 0; k < pad.length / 2; k++) {
    const d = x.rank - 1 - k;
    let l = pad[2 * k], r = pad[2 * k + 1];
    if (l === 0 && r === 0) continue;
    const n = y.shape[d];
    if (mode === "constant") {
      // negative amounts crop
      if (l < 0 || r < 0) {
        if (-Math.min(l, 0) - Math.min(r, 0) > n) throw new Error(`pad: amounts [${l}, ${r}] crop more than dim ${d} of size ${n} (shape ${shapeStr(x.shape)})`);
        y = slice(y, d, Math.max(-l, 0), n - Math.max(-r, 0));
        l = Math.max(l, 0); r = Math.max(r, 0);
      }
      const edge = (m: number) => full(y.shape.map((s, i) => (i === d ? m : s)), value ?? 0, { dtype: y.dtype });
      const parts = [...(l ? [edge(l)] : []), y, ...(r ? [edge(r)] : [])];
      if (parts.length > 1) y = cat(parts, d);
      continue;
    }
    if (l < 0 || r < 0) throw new Error(`pad: mode "${mode}" takes no negative amounts, got [${l}, ${r}] for dim ${d}`);
    if (n === 0) throw new Error(`pad: mode "${mode}" cannot pad dim ${d} of size 0 (shape ${shapeStr(x.shape)})`);
    let left: Tensor[] = [], right: Tensor[] = [];
    if (mode === "reflect") {
      if (l >= n || r >= n) throw new Error(`pad: reflect amounts [${l}, ${r}] must be below the size ${n} of dim ${d} (shape ${shapeStr(x.shape)})`);
      left = Array.from({ length: l }, (_, i) => slice(y, d, l - i, l - i + 1));
      right = Array.from({ length: r }, (_, i) => slice(y, d, n - 2 - i, n - 1 - i));
    } else if (mode === "replicate") {
      const reps = (m: number) => y.shape.map((_, i) => (i === d ? m : 1));
      if (l) left = [repeat(slice(y, d, 0, 1), reps(l))];
      if (r) right = [repeat(slice(y, d, n - 1, n), reps(r))];
    } else {
      if (l > n || r > n) throw new Error(`pad: circular amounts [${l}, ${r}] must not exceed the size ${n} of dim ${d} (shape ${shapeStr(x.shape)})`);
      if (l) left = [slice(y, d, n - l, n)];
      if (r) right = [slice(y, d, 0, r)];
    }
    y = cat([...left, y, ...right], d);
  }
  return y === x ? clone(x) : y;
}
