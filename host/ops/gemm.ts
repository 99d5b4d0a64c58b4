// Matrix products: matmul (with batch dims), linear, and the threaded GEMM
// driver every other op (conv, attention projections) calls.
// Kernels: assembly/gemm.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, scratch, sizeOf, fusedMaddWasm } from "./util.js";
import { reshape } from "./view.js";
import { add } from "./elementwise.js";
import { sumTo } from "./reduce.js";
import { splitRange } from "../backends/threads.js";

export const TRANS_A = 1, TRANS_B = 2, ACCUMULATE = 4;

/**
 * C this wide (4 panels of 8 columns) or wider takes the packed-A kernel: each A block
 * is packed once and read once per panel, so narrower C would spend a large share
 * packing (S1's 10-wide classifier keeps the in-place kernel).
 */
const PACK_A_MIN_N = 32;
const align16 = (x: number) => (x + 15) & ~15;

/**
 * C[m×n] (=, or += with ACCUMULATE) op(A)·op(B) on raw pointers, split over
 * threads along rows of C (B packed once) or, when C is wide and short,
 * along its columns (each thread packs its own panels). Either split keeps
 * every element's sum in the same order, so results do not depend on the thread count.
 */
export function gemmRaw(a: number, b: number, c: number, m: number, n: number, k: number,
                        lda: number, ldb: number, ldc: number, flags: number): void {
  const be = backend();
  const K = be.k;
  if (m === 0 || n === 0) return;
  const t = be.threads;
  const flops = 2 * m * n * k;
  // relaxed wasm: 5×8 tiles over A packed per block (gemm_packed_pa_f32, same bits, ~5% faster)
  // once C has enough 8-column panels to repay packing A. Not on the plain SIMD
  // binary: without fused madd its 10 chains need temporaries and it runs
  // 41 GFLOPS where the 4×8 kernel runs 46–48 (512³, 1000³, 512×768×3072, best of 8, one process)
  const packA = fusedMaddWasm(be) && n >= PACK_A_MIN_N && m >= 5 && k > 0;
  if (t === 1 || flops < 1 << 20) {
    if (!packA) {
      K.gemm_f32(a, b, c, m, n, k, lda, ldb, ldc, flags, scratch(K.gemm_packed_b_bytes(k, n)));
      return;
    }
    const bBytes = align16(K.gemm_packed_b_bytes(k, n));
    const packed = scratch(bBytes + K.gemm_packed_a_bytes());
    K.gemm_pack_b_f32(b, ldb, k, n, flags, packed);
    K.gemm_packed_pa_f32(a, lda, packed, c, ldc, m, n, k, flags, packed + bBytes);
    return;
  }
  if (m >= 16 * t || m * 4 >= n) {
    const bBytes = align16(K.gemm_packed_b_bytes(k, n));
    const ranges = splitRange(m, t, 4);
    const packed = scratch(bBytes + (packA ? ranges.length * K.gemm_packed_a_bytes() : 0));
    // panels packed in parallel too: at 1024³ a serial pack is ~4% of the threaded time
    be.split("gemm_pack_b_panels_f32", (n + 7) >> 3, 2 * k * n, (s, e) => [b, ldb, k, n, flags, packed, s, e]);
    const aStep = flags & TRANS_A ? 4 : lda * 4;
    if (packA) {
      // one A block buffer per thread
      const aBytes = K.gemm_packed_a_bytes();
      be.parallel("gemm_packed_pa_f32", ranges.map(([s, e], i) =>
        [a + s * aStep, lda, packed, c + s * ldc * 4, ldc, e - s, n, k, flags, packed + bBytes + i * aBytes]), flops);
      return;
    }
    be.split("gemm_packed_f32", m, flops, (s, e) => [a + s * aStep, lda, packed, c + s * ldc * 4, ldc, e - s, n, k, flags], 4);
    return;
  }
  // wide and short: split columns, one packed panel set per thread
  const ranges = splitRange(n, t, 8);
  const per = K.gemm_packed_b_bytes(k, ranges[0][1] - ranges[0][0]) + 64;
  const base = scratch(per * ranges.length);
  const bStep = flags & TRANS_B ? ldb * 4 : 4;
  be.parallel("gemm_f32", ranges.map(([s, e], i) => [a, b + s * bStep, c + s * 4, m, e - s, k, lda, ldb, ldc, flags, base + i * per]));
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
    gemmRaw(a.ptr, b.ptr, c.ptr, rows, n, k, k, n, n, 0);
    return record(c, "matmul", [a, b], (g) => {
      let da: Tensor | null = null, db: Tensor | null = null;
      if (a.requiresGrad) {
        da = out(a.shape, "float32", "matmul backward");
        gemmRaw(g.ptr, b.ptr, da.ptr, rows, k, n, n, n, k, TRANS_B);
      }
      if (b.requiresGrad) {
        db = out(b.shape, "float32", "matmul backward");
        gemmRaw(a.ptr, g.ptr, db.ptr, k, n, rows, k, n, n, TRANS_A);
      }
      return [da, db];
    });
  }
  if (batchA.join() !== batchB.join()) {
    throw new Error(`matmul: batch dims of ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ (broadcast batch dims by expand() first)`);
  }
  const batch = sizeOf(batchA);
  const c = out([...batchA, m, n], "float32", "matmul");
  for (let i = 0; i < batch; i++) gemmRaw(a.ptr + i * m * k * 4, b.ptr + i * k * n * 4, c.ptr + i * m * n * 4, m, n, k, k, n, n, 0);
  return record(c, "matmul", [a, b], (g) => {
    let da: Tensor | null = null, db: Tensor | null = null;
    if (a.requiresGrad) {
      da = out(a.shape, "float32", "matmul backward");
      for (let i = 0; i < batch; i++) gemmRaw(g.ptr + i * m * n * 4, b.ptr + i * k * n * 4, da.ptr + i * m * k * 4, m, k, n, n, n, k, TRANS_B);
    }
    if (b.requiresGrad) {
      db = out(b.shape, "float32", "matmul backward");
      for (let i = 0; i < batch; i++) gemmRaw(a.ptr + i * m * k * 4, g.ptr + i * m * n * 4, db.ptr + i * k * n * 4, k, n, m, k, n, n, TRANS_A);
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
  gemmRaw(x.ptr, w.ptr, y.ptr, rows, nOut, nIn, nIn, nIn, nOut, TRANS_B);
  const yw = record(y, "linear", [x, w], (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, "float32", "linear backward");
      gemmRaw(g.ptr, w.ptr, dx.ptr, rows, nIn, nOut, nOut, nIn, nIn, 0);
    }
    if (w.requiresGrad) {
      dw = out(w.shape, "float32", "linear backward");
      gemmRaw(g.ptr, x.ptr, dw.ptr, nOut, nIn, rows, nOut, nIn, nIn, TRANS_A);
    }
    return [dx, dw];
  });
  return b ? add(yw, b) : yw;
}

export { sumTo };
