// Matrix products: matmul (with batch dims), linear, and the threaded GEMM
// driver every other op (conv, attention projections) calls.
// Kernels: assembly/gemm.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, sizeOf } from "./util.js";
import { reshape } from "./view.js";
import { add } from "./elementwise.js";
import { sumTo } from "./reduce.js";
import { GemmFlags } from "../backends/abi.generated.js";

const { TRANS_A, TRANS_B } = GemmFlags;

/**
 * C[m×n] = op(A)·op(B) on raw pointers (flags: GemmFlags), `batch` times at the
 * given element strides; the backend schedules it (docs/KERNELS.md, gemm).
 */
function gemm(a: number, b: number, c: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number,
              batch = 1, strideA = 0, strideB = 0, strideC = 0): void {
  backend().kernels.gemm_f32({ a, b, c, m, n, k, lda, ldb, ldc, flags, batch, strideA, strideB, strideC });
}

/**
 * Matrix product with PyTorch's rules: 1-D operands are promoted, leading
 * (batch) dims broadcast when equal or when B is 2-D.
 *
 * @example
 * const c = wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([[5], [6]]));
 * c.toArray(); // [[17], [39]]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat(a, "matmul");
  requireFloat(b, "matmul");
  if (a.rank === 0 || b.rank === 0) throw new Error(`matmul: scalars have no matrix product (${shapeStr(a.shape)} @ ${shapeStr(b.shape)})`);
  if (a.rank === 1) return reshape(matmul(reshape(a, [1, a.shape[0]]), b), b.rank === 1 ? [] : [...b.shape.slice(0, -2), b.shape[b.rank - 1]]);
  if (b.rank === 1) return reshape(matmul(a, reshape(b, [b.shape[0], 1])), a.shape.slice(0, -1) as number[]);
  const m = a.shape[a.rank - 2], k = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1];
  if (k !== k2) throw new Error(`matmul: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}: inner dimensions ${k} and ${k2} differ`);
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  if (b.rank === 2) {
    // fold A's batch into rows: one big GEMM
    const rows = sizeOf(batchA) * m;
    const c = out([...batchA, m, n], "float32", "matmul");
    gemm(a.ptr, b.ptr, c.ptr, rows, n, k, k, n, n, 0);
    return record(c, "matmul", [a, b], (g) => {
      let da: Tensor | null = null, db: Tensor | null = null;
      if (a.requiresGrad) {
        da = out(a.shape, "float32", "matmul backward");
        gemm(g.ptr, b.ptr, da.ptr, rows, k, n, n, n, k, TRANS_B);
      }
      if (b.requiresGrad) {
        db = out(b.shape, "float32", "matmul backward");
        gemm(a.ptr, g.ptr, db.ptr, k, n, rows, k, n, n, TRANS_A);
      }
      return [da, db];
    });
  }
  if (batchA.join() !== batchB.join()) {
    throw new Error(`matmul: batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ (broadcast batch dims by expand() first)`);
  }
  const batch = sizeOf(batchA);
  const c = out([...batchA, m, n], "float32", "matmul");
  gemm(a.ptr, b.ptr, c.ptr, m, n, k, k, n, n, 0, batch, m * k, k * n, m * n);
  return record(c, "matmul", [a, b], (g) => {
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) {
      da = out(a.shape, "float32", "matmul backward");
      gemm(g.ptr, b.ptr, da.ptr, m, k, n, n, n, k, TRANS_B, batch, m * n, k * n, m * k);
    }
    if (b.requiresGrad) {
      db = out(b.shape, "float32", "matmul backward");
      gemm(a.ptr, g.ptr, db.ptr, k, n, m, k, n, n, TRANS_A, batch, m * k, m * n, k * n);
    }
    return [da, db];
  });
}

/**
 * y = x·Wᵀ + b with PyTorch's layout (W is [out, in]); x may have any leading dims.
 *
 * @example
 * const y = wg.linear(wg.ones([2, 3]), wg.ones([4, 3]), wg.zeros([4]));
 * y.shape; // [2, 4]
 */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  requireFloat(x, "linear");
  requireFloat(w, "linear weight"); // int32 bits read as floats otherwise
  if (b) requireFloat(b, "linear bias");
  if (w.rank !== 2) throw new Error(`linear: weight must be [out, in], got ${shapeStr(w.shape)}`);
  const [nOut, nIn] = w.shape;
  if (x.shape[x.rank - 1] !== nIn) {
    throw new Error(`linear: input ${shapeStr(x.shape)} has ${x.shape[x.rank - 1]} features, weight ${shapeStr(w.shape)} expects ${nIn}`);
  }
  if (b && (b.rank !== 1 || b.shape[0] !== nOut)) throw new Error(`linear: bias ${shapeStr(b.shape)} must be [${nOut}]`);
  const rows = x.size / nIn;
  const y = out([...x.shape.slice(0, -1), nOut], "float32", "linear");
  gemm(x.ptr, w.ptr, y.ptr, rows, nOut, nIn, nIn, nIn, nOut, TRANS_B);
  const yw = record(y, "linear", [x, w], (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, "float32", "linear backward");
      gemm(g.ptr, w.ptr, dx.ptr, rows, nIn, nOut, nOut, nIn, nIn, 0);
    }
    if (w.requiresGrad) {
      dw = out(w.shape, "float32", "linear backward");
      gemm(g.ptr, x.ptr, dw.ptr, nOut, nIn, rows, nOut, nIn, nIn, TRANS_A);
    }
    return [dx, dw];
  });
  return b ? add(yw, b) : yw;
}

export { sumTo, gemm };
