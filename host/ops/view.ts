// Views: same storage, new shape. No kernel runs; the gradient is the
// incoming one reshaped back. Kept apart from shape.ts (the copying shape ops)
// because reductions reshape and shape.ts's expand reduces: one file each way
// would import the other.

import { record } from "../tape.js";
import { Tensor, axis, shapeStr, sizeOf } from "./util.js";

/**
 * Same data, new shape (one dimension may be -1). Shares storage.
 * @example wg.arange(6).reshape(2, 3).shape; // [2, 3]
 */
export function reshape(x: Tensor, shape: number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = sizeOf(s.filter((_, i) => i !== neg));
    if (rest === 0 || x.size % rest !== 0) throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    s[neg] = x.size / rest;
  }
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`reshape: cannot reshape ${shapeStr(x.shape)} (${x.size} elements) to ${shapeStr(shape)}`);
  }
  x.ptr; // throws if released
  const y = new Tensor(x._s, s, x.dtype, x._be);
  return record(y, "reshape", [x], (g) => [reshape(g, [...x.shape])]);
}

/** Flattens dims startDim..endDim into one. @example wg.zeros([2, 3, 4]).flatten(1).shape; // [2, 12] */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.rank === 0) return reshape(x, [1]);
  const a = axis(startDim, x.rank, "flatten"), b = axis(endDim, x.rank, "flatten");
  const s = [...x.shape.slice(0, a), sizeOf(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)];
  return reshape(x, s);
}

/** Inserts a size-1 dim. @example wg.zeros([3]).unsqueeze(0).shape; // [1, 3] */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = dim < 0 ? dim + x.rank + 1 : dim;
  if (!Number.isInteger(d) || d < 0 || d > x.rank) throw new Error(`unsqueeze: dim ${dim} out of range for rank ${x.rank}`);
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return reshape(x, s);
}

/** Removes size-1 dims (or just `dim`). @example wg.zeros([1, 3, 1]).squeeze().shape; // [3] */
export function squeeze(x: Tensor, dim?: number): Tensor {
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = axis(dim, x.rank, "squeeze");
  if (x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}
