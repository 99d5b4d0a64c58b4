// 2-D convolution (NCHW) and its gradients, two ways:
//
// Direct (stride 1, no dilation, OW ≥ 8: the usual 3×3 and 5×5 layers): the
// input is padded once into its own buffer and conv2d_direct_f32 runs the GEMM
// micro-kernel's 4×8 tile straight over it — no im2col matrix, no packing, and
// the padded input (C·Hp·Wp floats, ~KH·KW times smaller than the columns) is
// all the backward keeps. The weight gradient is conv2d_wgrad_f32, split over
// output channels; the input gradient goes through GEMM + col2im as below.
// Measured on S1 (64×1×28×28 → 16, 3×3), one thread: the step's conv forward
// and weight gradient went from 1.2 ms to 0.5 ms.
//
// im2col + GEMM (every other case). Layout choice: the columns of every image sit side by side in one
// [C·KH·KW, N·P] matrix (P = OH·OW). Forward runs one GEMM per image straight
// into NCHW output (no transpose), split over threads by image; the weight
// gradient is then a single GEMM over the whole batch (K = N·P), split over
// output channels, so sums run in the same order for any thread count.
// Kernels: assembly/conv.ts (im2col, col2im, bias) and assembly/gemm.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, scratch, fusedMaddWasm, checkOptions, checkPair } from "./util.js";
import { gemmRaw, TRANS_A, TRANS_B } from "./gemm.js";
import { splitRange } from "../backends/threads.js";

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
}

export function convOutSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * 2-D convolution, PyTorch's conv2d: x [N, C, H, W], w [Cout, C, KH, KW], b [Cout].
 *
 * @example
 * const y = wg.conv2d(wg.ones([1, 1, 4, 4]), wg.ones([2, 1, 3, 3]), null, { padding: 1 });
 * y.shape; // [1, 2, 4, 4]
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  requireFloat(x, "conv2d");
  requireFloat(w, "conv2d");
  if (b) requireFloat(b, "conv2d bias"); // an int32 bias would be read as float bits
  checkOptions("conv2d", opts, ["stride", "padding", "dilation"]);
  if (x.rank !== 4) throw new Error(`conv2d: input must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (w.rank !== 4) throw new Error(`conv2d: weight must be [Cout, C, KH, KW], got ${shapeStr(w.shape)}`);
  const [N, C, H, W] = x.shape;
  const [Cout, Cw, KH, KW] = w.shape;
  if (C !== Cw) throw new Error(`conv2d: input ${shapeStr(x.shape)} has ${C} channels, weight ${shapeStr(w.shape)} expects ${Cw}`);
  if (b && (b.rank !== 1 || b.shape[0] !== Cout)) throw new Error(`conv2d: bias ${shapeStr(b.shape)} must be [${Cout}]`);
  const [SH, SW] = checkPair("conv2d", "stride", opts.stride, [1, 1], 1), [PH, PW] = checkPair("conv2d", "padding", opts.padding, [0, 0], 0);
  const [DH, DW] = checkPair("conv2d", "dilation", opts.dilation, [1, 1], 1);
  const OH = convOutSize(H, KH, SH, PH, DH), OW = convOutSize(W, KW, SW, PW, DW);
  if (OH < 1 || OW < 1) throw new Error(`conv2d: input ${shapeStr(x.shape)} is smaller than the kernel ${KH}x${KW} (dilation ${DH},${DW}, padding ${PH},${PW})`);
  const P = OH * OW, CKK = C * KH * KW, NP = N * P;
  const geo = [C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW];
  const be = backend();
  const K = be.k;
  if (SH === 1 && SW === 1 && DH === 1 && DW === 1 && OW >= 8) return conv2dDirect(x, w, b, PH, PW, OH, OW);

  const col = out([CKK, NP], "float32", "conv2d columns");
  const imgs = [...Array(N).keys()];
  be.parallel("im2col_f32", imgs.map((n) => [x.ptr + n * C * H * W * 4, col.ptr + n * P * 4, ...geo, NP]), NP * CKK);
  const y = out([N, Cout, OH, OW], "float32", "conv2d");
  perImageGemm(imgs, (n, s) => [w.ptr, col.ptr + n * P * 4, y.ptr + n * Cout * P * 4, Cout, P, CKK, CKK, NP, P, 0, s], Cout, P, CKK);
  if (b) K.bias_add_channels_f32(y.ptr, b.ptr, N, Cout, P);

  const inputs = b ? [x, w, b] : [x, w];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) dx = inputGrad(x, w, g, geo);
    if (w.requiresGrad || (b && b.requiresGrad)) {
      // dY as [Cout, N·P]: one GEMM over the batch for dW, one row-sum for db
      const gt = out([Cout, NP], "float32", "conv2d backward");
      K.transpose_f32(g.ptr, gt.ptr, 1, N, Cout, P);
      if (w.requiresGrad) {
        dw = out(w.shape, "float32", "conv2d backward");
        gemmRaw(gt.ptr, col.ptr, dw.ptr, Cout, CKK, NP, NP, NP, CKK, TRANS_B);
      }
      if (b && b.requiresGrad) {
        db = out([Cout], "float32", "conv2d backward");
        K.reduce_f32(0, gt.ptr, db.ptr, Cout, NP, 1);
      }
      gt.dispose();
    }
    return b ? [dx, dw, db] : [dx, dw];
  }, [col]);
}

/** One GEMM per image, spread over threads in one dispatch; each thread's calls share one packing scratch. */
function perImageGemm(imgs: number[], args: (n: number, scratchPtr: number) => number[], m: number, n: number, k: number): void {
  const be = backend();
  const per = be.k.gemm_packed_b_bytes(k, n) + 64;
  const ranges = splitRange(imgs.length, be.threads);
  const base = scratch(per * ranges.length);
  // be.parallel deals calls to threads in these same contiguous ranges, so range i owns scratch slot i
  const calls = ranges.flatMap(([s, e], i) => imgs.slice(s, e).map((img) => args(img, base + i * per)));
  be.parallel("gemm_f32", calls, 2 * m * n * k * imgs.length);
}

/**
 * How many output channels conv2d_direct_pw_f32 runs in 5-channel tiles: the most
 * groups of 5 that leave a multiple of 4 (4-channel tiles) — a lone channel runs in
 * the slow 1-row tile, so 16 channels stay 4 × 4 and 64 become 12 × 5 + 4.
 */
export function fiveChannelGroups(cout: number): number {
  for (let g = Math.floor(cout / 5); g > 0; g--) if ((cout - 5 * g) % 4 === 0) return g;
  return 0;
}

/** The direct path (see the top of this file); same contract as conv2d. */
function conv2dDirect(x: Tensor, w: Tensor, b: Tensor | null, PH: number, PW: number, OH: number, OW: number): Tensor {
  const be = backend();
  const K = be.k;
  const [N, C, H, W] = x.shape;
  const [Cout, , KH, KW] = w.shape;
  const Hp = H + 2 * PH, Wp = W + 2 * PW, P = OH * OW, CKK = C * KH * KW;
  let xp = x;
  if (PH || PW) {
    xp = out([N, C, Hp, Wp], "float32", "conv2d padded input");
    be.split("pad2d_f32", N * C, N * C * Hp * Wp, (s, e) => [x.ptr + s * H * W * 4, xp.ptr + s * Hp * Wp * 4, e - s, H, W, PH, PW]);
  }
  const y = out([N, Cout, OH, OW], "float32", "conv2d");
  const groups = fiveChannelGroups(Cout);
  if (fusedMaddWasm(be) && groups > 0) {
    // relaxed wasm: 5×8 tiles over weights packed 5 channels per tap, the bias fused in
    // (conv 32×32×32×32→64: 25.5 → 24.4 ms alone, one thread, CPU time; see docs/speed-notes.md)
    const w5 = scratch(groups * 5 * CKK * 4);
    K.conv_pack_w5_f32(w.ptr, groups, CKK, w5);
    be.split("conv2d_direct_pw_f32", N, 2 * N * Cout * P * CKK, (s, e) =>
      [xp.ptr + s * C * Hp * Wp * 4, w.ptr, w5, b ? b.ptr : 0, y.ptr + s * Cout * P * 4, e - s, C, Hp, Wp, KH, KW, Cout, groups]);
  } else {
    be.split("conv2d_direct_f32", N, 2 * N * Cout * P * CKK, (s, e) =>
      [xp.ptr + s * C * Hp * Wp * 4, w.ptr, y.ptr + s * Cout * P * 4, e - s, C, Hp, Wp, KH, KW, Cout]);
    if (b) K.bias_add_channels_f32(y.ptr, b.ptr, N, Cout, P);
  }
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) dx = inputGrad(x, w, g, [C, H, W, KH, KW, 1, 1, PH, PW, 1, 1, OH, OW]);
    if (w.requiresGrad) {
      dw = out(w.shape, "float32", "conv2d backward");
      be.split("conv2d_wgrad_f32", Cout, 2 * N * Cout * P * CKK, (s, e) =>
        [xp.ptr, g.ptr + s * P * 4, dw!.ptr + s * CKK * 4, N, C, Hp, Wp, KH, KW, e - s, Cout]);
    }
    if (b && b.requiresGrad) {
      // Σ over positions, then over images (in order): [N·Cout, P] → [N, Cout] → [Cout]
      const perImage = out([N, Cout], "float32", "conv2d backward");
      db = out([Cout], "float32", "conv2d backward");
      K.reduce_f32(0, g.ptr, perImage.ptr, N * Cout, P, 1);
      K.reduce_f32(0, perImage.ptr, db.ptr, 1, N, Cout);
      perImage.dispose();
    }
    return b ? [dx, dw, db] : [dx, dw];
  }, xp === x ? [] : [xp]);
}

/** dx through GEMM + col2im (both paths): dcol = Wᵀ·dY per image, then the adjoint scatter. geo as im2col's. */
function inputGrad(x: Tensor, w: Tensor, g: Tensor, geo: number[]): Tensor {
  const be = backend();
  const [N, C, H, W] = x.shape, Cout = w.shape[0];
  const CKK = C * geo[3] * geo[4], P = geo[11] * geo[12], NP = N * P;
  const dcol = out([CKK, NP], "float32", "conv2d backward");
  const imgs = [...Array(N).keys()];
  perImageGemm(imgs, (n, s) => [w.ptr, g.ptr + n * Cout * P * 4, dcol.ptr + n * P * 4, CKK, P, Cout, CKK, P, NP, TRANS_A, s], CKK, P, Cout);
  const dx = out(x.shape, "float32", "conv2d backward");
  be.k.fill_f32(dx.ptr, dx.size, 0);
  be.parallel("col2im_f32", imgs.map((n) => [dcol.ptr + n * P * 4, dx.ptr + n * C * H * W * 4, ...geo, NP]), NP * CKK);
  dcol.dispose();
  return dx;
}
