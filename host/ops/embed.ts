// Embedding lookup and its scatter-add gradient. Kernels: assembly/embed.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, checkOptions, checkInt } from "./util.js";
import { ne } from "./elementwise.js";
import { arange } from "./creation.js";

/**
 * Rows of `table` [num, dim] picked by int32 `indices` (any shape) → [...indices.shape, dim].
 * With `paddingIdx` (negative counts from the end, as PyTorch's padding_idx) that row gets no gradient.
 * @example wg.embedding(wg.tensor([1, 0], { dtype: "int32" }), wg.eye(2)).toArray(); // [[0, 1], [1, 0]]
 */
export function embedding(indices: Tensor, table: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  requireFloat(table, "embedding");
  checkOptions("embedding", opts, ["paddingIdx"]);
  if (table.rank !== 2) throw new Error(`embedding: table must be [num, dim], got ${shapeStr(table.shape)}`);
  const pad = paddingRow("embedding", opts.paddingIdx, table.shape[0]);
  if (indices.dtype !== "int32") throw new Error(`embedding: indices must be int32, got ${indices.dtype}`);
  const [num, dim] = table.shape;
  const n = indices.size;
  const K = backend().kernels;
  const y = out([...indices.shape, dim], "float32", "embedding");
  // an index out of range: the wasm backend refuses it before writing; the GPU's kernel gives its
  // row NaNs (and no gradient), which shows as a NaN loss (docs/WEBGPU.md)
  K.embedding_f32({ table: table.ptr, idx: indices.ptr, y: y.ptr, n, dim, rows: num });
  return record(y, "embedding", [table], (g) => {
    const dt = out(table.shape, "float32", "embedding backward");
    K.fill_f32({ y: dt.ptr, n: dt.size, value: 0 });
    K.embedding_backward_f32({ dy: g.ptr, idx: indices.ptr, dtable: dt.ptr, n, dim, rows: num });
    if (pad === null) return [dt];
    // the padding row's gradient is zero: a [num, 1] row mask (made on the device, nothing read back)
    const keep = ne(arange(num).reshape(num, 1), pad);
    const masked = dt.mul(keep);
    dt.dispose();
    keep.dispose();
    return [masked];
  });
}

/** PyTorch's padding_idx: null/undefined for none, else an index in [-num, num) made non-negative. */
export function paddingRow(op: string, v: number | null | undefined, num: number): number | null {
  if (v === undefined || v === null) return null;
  const i = checkInt(op, "paddingIdx", v, -num, num - 1);
  return i < 0 ? i + num : i;
}
