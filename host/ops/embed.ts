// Embedding lookup and its scatter-add gradient. Kernels: assembly/embed.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr } from "./util.js";

/**
 * Rows of `table` [num, dim] picked by int32 `indices` (any shape) → [...indices.shape, dim].
 * @example wg.embedding(wg.tensor([1, 0], { dtype: "int32" }), wg.eye(2)).toArray(); // [[0, 1], [1, 0]]
 */
export function embedding(indices: Tensor, table: Tensor): Tensor {
  requireFloat(table, "embedding");
  if (table.rank !== 2) throw new Error(`embedding: table must be [num, dim], got ${shapeStr(table.shape)}`);
  if (indices.dtype !== "int32") throw new Error(`embedding: indices must be int32, got ${indices.dtype}`);
  const [num, dim] = table.shape;
  const n = indices.size;
  const be = backend();
  // indices on the GPU cannot be read here without a sync: there the kernels give an out-of-range
  // index a row of NaNs (and no gradient), which shows as a NaN loss (docs/WEBGPU.md)
  if (be.name === "wasm") {
    const iv = indices.view() as Int32Array;
    for (let i = 0; i < iv.length; i++) {
      if (iv[i] < 0 || iv[i] >= num) throw new Error(`embedding: index ${iv[i]} at position ${i} is out of range for a table of ${num} rows`);
    }
  }
  const y = out([...indices.shape, dim], "float32", "embedding");
  be.split("embedding_f32", n, n * dim, (s, e) => [table.ptr, indices.ptr + s * 4, y.ptr + s * dim * 4, e - s, dim, num]);
  return record(y, "embedding", [table], (g) => {
    const dt = out(table.shape, "float32", "embedding backward");
    be.k.fill_f32(dt.ptr, dt.size, 0);
    be.k.embedding_backward_f32(g.ptr, indices.ptr, dt.ptr, n, dim, num);
    return [dt];
  });
}
