// Cumulative sums and products along one dim. Kernels: assembly/scan.ts
// (scan_f32, cumprod_backward_f32), which see a tensor as [outer, len, inner]
// and scan along len, as the reductions do.

import { record } from "../tape.js";
import { backend, out, Tensor, axis, around, requireFloat, type Shape } from "./util.js";
import { ScanOp } from "../backends/abi.generated.js";

/** [outer, len, inner] around dim (a scalar is one element). */
function layout(x: Tensor, dim: number, op: string): [number, number, number] {
  const d = axis(dim, x.rank, op);
  return x.rank === 0 ? [1, 1, 1] : around(x.shape as Shape, d);
}

function scan(x: Tensor, dim: number, op: "cumsum" | "cumprod"): Tensor {
  requireFloat(x, op);
  const [outer, len, inner] = layout(x, dim, op);
  const K = backend().kernels;
  const y = out(x.shape, "float32", op);
  if (y.size > 0) K.scan_f32({ op: op === "cumsum" ? ScanOp.sum : ScanOp.prod, x: x.ptr, y: y.ptr, outer, len, inner, reverse: 0 });
  return record(y, op, [x], (g) => {
    const dx = out(x.shape, "float32", `${op} backward`);
    if (dx.size === 0) return [dx];
    // cumsum: each x[k] feeds every y[l ≥ k], so dx is dy summed from the end
    if (op === "cumsum") K.scan_f32({ op: ScanOp.sum, x: g.ptr, y: dx.ptr, outer, len, inner, reverse: 1 });
    else K.cumprod_backward_f32({ x: x.ptr, dy: g.ptr, dx: dx.ptr, outer, len, inner });
    return [dx];
  });
}

/**
 * Running sum along `dim` (torch.cumsum); the gradient is the reverse running sum.
 * @example wg.cumsum(wg.tensor([[1, 2, 3], [4, 5, 6]]), 1).toArray(); // [[1, 3, 6], [4, 9, 15]]
 */
export function cumsum(x: Tensor, dim: number): Tensor {
  return scan(x, dim, "cumsum");
}

/**
 * Running product along `dim` (torch.cumprod); the gradient is exact where x has zeros (no division).
 * @example wg.tensor([1, 2, 3, 4]).cumprod(0).toArray(); // [1, 2, 6, 24]
 */
export function cumprod(x: Tensor, dim: number): Tensor {
  return scan(x, dim, "cumprod");
}
