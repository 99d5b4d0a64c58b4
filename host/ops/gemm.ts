// Matrix products: matmul (with batch dims), linear, and the threaded GEMM
// driver every other op (conv, attention projections) calls.
// Kernels: assembly/gemm.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, sizeOf, broadcastShapes } from "./util.js";
import { reshape } from "./view.js";
import { add } from "./elementwise.js";
import { sumTo } from "./reduce.js";
import { expand } from "./shape.js";
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
 * Matrix product with PyTorch's rules (torch.matmul): a 1-D first operand is
 * promoted to [1, k] and a 1-D second operand to [k, 1], the added dim removed
 * from the result; the batch dims (all but the last two) of both operands
 * broadcast against each other, and the gradient of a broadcast operand is
 * summed over the batch dims it was repeated along.
 *
 * How it runs: a second operand with no batch (or batch 1) folds the first
 * operand's batch into rows, one GEMM; otherwise one batched GEMM, where an
 * operand with batch 1 is reused at stride 0 and an operand broadcast any
 * other way (batch [2, 1] against [1, 3]) is expanded (copied) first.
 *
 * @example
 * const c = wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([[5], [6]]));
 * c.toArray(); // [[17], [39]]
 * wg.ones([2, 3]).matmul(wg.ones([4, 3, 5])).shape; // [4, 2, 5]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  requireFloat(a, "matmul");
  requireFloat(b, "matmul");
  if (a.rank === 0 || b.rank === 0) throw new Error(`matmul: scalars have no matrix product (${shapeStr(a.shape)} @ ${shapeStr(b.shape)})`);
  if (a.rank === 1) {
    if (b.rank >= 2 && a.shape[0] !== b.shape[b.rank - 2]) throw new Error(`matmul: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}: inner dimensions ${a.shape[0]} and ${b.shape[b.rank - 2]} differ`);
    return reshape(matmul(reshape(a, [1, a.shape[0]]), b), b.rank === 1 ? [] : [...b.shape.slice(0, -2), b.shape[b.rank - 1]]);
  }
  if (b.rank === 1) {
    if (a.shape[a.rank - 1] !== b.shape[0]) throw new Error(`matmul: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}: inner dimensions ${a.shape[a.rank - 1]} and ${b.shape[0]} differ`);
    return reshape(matmul(a, reshape(b, [b.shape[0], 1])), a.shape.slice(0, -1) as number[]);
  }
  const m = a.shape[a.rank - 2], k = a.shape[a.rank - 1];
  const k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1];
  if (k !== k2) throw new Error(`matmul: ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}: inner dimensions ${k} and ${k2} differ`);
  const batchA = a.shape.slice(0, -2), batchB = b.shape.slice(0, -2);
  let batch: number[];
  try {
    batch = broadcastShapes(batchA, batchB, "matmul");
  } catch {
    throw new Error(`matmul: batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} cannot be broadcast (${shapeStr(batchA)} vs ${shapeStr(batchB)})`);
  }
  const nb = sizeOf(batch);
  const cShape = [...batch, m, n];
  if (sizeOf(batchB) === 1) {
    // B is one matrix: fold A's batch (expanded to the result's batch where B's leading 1s add dims) into rows, one GEMM
    const A = sizeOf(batchA) === nb ? a : expand(a, [...batch, m, k]);
    const rows = nb * m;
    const c = out(cShape, "float32", "matmul");
    if (c.size) gemm(A.ptr, b.ptr, c.ptr, rows, n, k, k, n, n, 0);
    return record(c, "matmul", [A, b], (g) => {
      let da: Tensor | null = null, db: Tensor | null = null;
      if (A.requiresGrad) {
        da = out(A.shape, "float32", "matmul backward");
        if (da.size) gemm(g.ptr, b.ptr, da.ptr, rows, k, n, n, n, k, TRANS_B);
      }
      if (b.requiresGrad) {
        // Σ over the batch of Aᵢᵀ·Gᵢ is one GEMM contracting over all rows
        db = out(b.shape, "float32", "matmul backward");
        if (db.size) gemm(A.ptr, g.ptr, db.ptr, k, n, rows, k, n, n, TRANS_A);
      }
      return [da, db];
    });
  }
  // batched: B has the full batch (expanded when broadcast other than as a whole); A has it too, or is one matrix reused at stride 0
  const B = sizeOf(batchB) === nb ? b : expand(b, [...batch, k, n]);
  const reuseA = sizeOf(batchA) === 1;
  const A = reuseA || sizeOf(batchA) === nb ? a : expand(a, [...batch, m, k]);
  const sA = reuseA ? 0 : m * k;
  const c = out(cShape, "float32", "matmul");
  if (c.size) gemm(A.ptr, B.ptr, c.ptr, m, n, k, k, n, n, 0, nb, sA, k * n, m * n);
  return record(c, "matmul", [A, B], (g) => {
    let da: Tensor | null = null, db: Tensor | null = null;
    if (A.requiresGrad) {
      // one product per batch entry; for a reused A they are summed over the batch
      const per = out(reuseA ? [nb, m, k] : A.shape, "float32", "matmul backward");
      if (per.size) gemm(g.ptr, B.ptr, per.ptr, m, k, n, n, n, k, TRANS_B, nb, m * n, k * n, m * k);
      da = reuseA ? reshape(sumTo(per, [m, k]).detach(), [...A.shape]) : per;
    }
    if (B.requiresGrad) {
      db = out(B.shape, "float32", "matmul backward");
      if (db.size) gemm(A.ptr, g.ptr, db.ptr, k, n, m, k, n, n, TRANS_A, nb, sA, m * n, k * n);
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
