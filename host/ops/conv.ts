// 2-D convolution (NCHW) and its gradients, two ways:
//
// Direct (stride 1, no dilation, OW ≥ 8: the usual 3×3 and 5×5 layers): the
// input is padded once into its own buffer and conv2d_direct_f32 runs the GEMM
// micro-kernel's 4×8 tile straight over it — no im2col matrix, no packing, and
// the padded input (C·Hp·Wp floats, ~KH·KW times smaller than the columns) is
// all the backward keeps. The weight gradient is conv2d_wgrad_f32, split over
// output channels; the input gradient is conv2d_direct_f32 again, over the padded
// output gradient with the weights rotated (inputGradDirect), or GEMM + col2im as
// below for inputs of fewer than 4 channels. (The wasm backend's schedule of
// conv2d_direct_f32 runs 3×3 layers as Winograd F(4×4, 3×3) when they are large
// enough: docs/speed-notes.md, "Winograd convolution".)
// Measured on S1 (64×1×28×28 → 16, 3×3), one thread: the step's conv forward
// and weight gradient went from 1.2 ms to 0.5 ms.
//
// im2col + GEMM (every other case). Layout choice: the columns of every image sit side by side in one
// [C·KH·KW, N·P] matrix (P = OH·OW). Forward runs one GEMM per image straight
// into NCHW output (no transpose), split over threads by image; the weight
// gradient is then a single GEMM over the whole batch (K = N·P), split over
// output channels, so sums run in the same order for any thread count.
// Kernels: assembly/conv.ts (im2col, col2im, bias) and assembly/gemm.ts; how they
// are split over threads or packed is the backend's (host/backends/wasm/schedules.ts).

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, checkOptions, checkPair } from "./util.js";
import { gemm } from "./gemm.js";
import { GemmFlags, ReduceOp } from "../backends/abi.generated.js";

const { TRANS_A, TRANS_B } = GemmFlags;

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /**
   * Split the channels into this many groups, each convolved with its own
   * filters (PyTorch's groups): weight [Cout, C/groups, KH, KW]. groups = C =
   * Cout is a depthwise convolution (its own kernel); others run one GEMM per group.
   */
  groups?: number;
}

export function convOutSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/**
 * 2-D convolution, PyTorch's conv2d: x [N, C, H, W], w [Cout, C/groups, KH, KW], b [Cout].
 *
 * @example
 * const y = wg.conv2d(wg.ones([1, 1, 4, 4]), wg.ones([2, 1, 3, 3]), null, { padding: 1 });
 * y.shape; // [1, 2, 4, 4]
 * wg.conv2d(wg.ones([1, 4, 5, 5]), wg.ones([4, 1, 3, 3]), null, { groups: 4 }).shape; // [1, 4, 3, 3]
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  requireFloat(x, "conv2d");
  requireFloat(w, "conv2d");
  if (b) requireFloat(b, "conv2d bias"); // an int32 bias would be read as float bits
  checkOptions("conv2d", opts, ["stride", "padding", "dilation", "groups"]);
  if (x.rank !== 4) throw new Error(`conv2d: input must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (w.rank !== 4) throw new Error(`conv2d: weight must be [Cout, C, KH, KW], got ${shapeStr(w.shape)}`);
  const [N, C, H, W] = x.shape;
  const [Cout, Cw, KH, KW] = w.shape;
  const G = opts.groups ?? 1;
  if (!Number.isSafeInteger(G) || G < 1) throw new Error(`conv2d: groups must be a positive integer, got ${JSON.stringify(opts.groups)}`);
  if (C % G || Cout % G) throw new Error(`conv2d: groups ${G} must divide the input channels (${C}) and the output channels (${Cout})`);
  if (C / G !== Cw) throw new Error(`conv2d: input ${shapeStr(x.shape)} has ${C} channels${G > 1 ? ` (${G} groups of ${C / G})` : ""}, weight ${shapeStr(w.shape)} expects ${Cw}${G > 1 ? " per group" : ""}`);
  if (b && (b.rank !== 1 || b.shape[0] !== Cout)) throw new Error(`conv2d: bias ${shapeStr(b.shape)} must be [${Cout}]`);
  const [SH, SW] = checkPair("conv2d", "stride", opts.stride, [1, 1], 1), [PH, PW] = checkPair("conv2d", "padding", opts.padding, [0, 0], 0);
  const [DH, DW] = checkPair("conv2d", "dilation", opts.dilation, [1, 1], 1);
  const OH = convOutSize(H, KH, SH, PH, DH), OW = convOutSize(W, KW, SW, PW, DW);
  if (OH < 1 || OW < 1) throw new Error(`conv2d: input ${shapeStr(x.shape)} is smaller than the kernel ${KH}x${KW} (dilation ${DH},${DW}, padding ${PH},${PW})`);
  const P = OH * OW, CKK = C * KH * KW, NP = N * P;
  const geo: Geometry = { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ldcol: NP };
  const K = backend().kernels;
  if (G > 1 && G === C && G === Cout) return conv2dDepthwise(x, w, b, geo);
  if (G > 1) return conv2dGrouped(x, w, b, geo, G);
  if (SH === 1 && SW === 1 && DH === 1 && DW === 1 && OW >= 8) return conv2dDirect(x, w, b, PH, PW, OH, OW);

  const col = out([CKK, NP], "float32", "conv2d columns");
  K.im2col_f32({ x: x.ptr, col: col.ptr, ...geo });
  const y = out([N, Cout, OH, OW], "float32", "conv2d");
  // one product per image, straight into NCHW: y[n] = W · col[:, n·P …]
  gemm(w.ptr, col.ptr, y.ptr, Cout, P, CKK, CKK, NP, P, 0, N, 0, P, Cout * P);
  if (b) K.bias_add_channels_f32({ y: y.ptr, bias: b.ptr, n: N, c: Cout, inner: P });

  const inputs = b ? [x, w, b] : [x, w];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) dx = inputGrad(x, w, g, geo);
    if (w.requiresGrad || (b && b.requiresGrad)) {
      // dY as [Cout, N·P]: one GEMM over the batch for dW, one row-sum for db
      const gt = out([Cout, NP], "float32", "conv2d backward");
      K.transpose_f32({ x: g.ptr, y: gt.ptr, outer: 1, a: N, b: Cout, inner: P });
      if (w.requiresGrad) {
        dw = out(w.shape, "float32", "conv2d backward");
        gemm(gt.ptr, col.ptr, dw.ptr, Cout, CKK, NP, NP, NP, CKK, TRANS_B);
      }
      if (b && b.requiresGrad) {
        db = out([Cout], "float32", "conv2d backward");
        K.reduce_f32({ op: ReduceOp.sum, x: gt.ptr, y: db.ptr, outer: Cout, len: NP, inner: 1 });
      }
      gt.dispose();
    }
    return b ? [dx, dw, db] : [dx, dw];
  }, [col]);
}

/** im2col's geometry: N images [C, H, W], a KH×KW kernel, its strides, padding and dilation, and the column matrix's row stride. */
type Geometry = { N: number; C: number; H: number; W: number; KH: number; KW: number; SH: number; SW: number; PH: number; PW: number; DH: number; DW: number; OH: number; OW: number; ldcol: number };

/** The direct path (see the top of this file); same contract as conv2d. */
function conv2dDirect(x: Tensor, w: Tensor, b: Tensor | null, PH: number, PW: number, OH: number, OW: number): Tensor {
  const K = backend().kernels;
  const [N, C, H, W] = x.shape;
  const [Cout, , KH, KW] = w.shape;
  const Hp = H + 2 * PH, Wp = W + 2 * PW, P = OH * OW;
  let xp = x;
  if (PH || PW) {
    xp = out([N, C, Hp, Wp], "float32", "conv2d padded input");
    K.pad2d_f32({ x: x.ptr, xp: xp.ptr, NC: N * C, H, W, PH, PW });
  }
  const y = out([N, Cout, OH, OW], "float32", "conv2d");
  K.conv2d_direct_f32({ xp: xp.ptr, w: w.ptr, y: y.ptr, N, C, Hp, Wp, KH, KW, Cout, bias: b ? b.ptr : 0 });
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = C >= 4 && PH <= KH - 1 && PW <= KW - 1 && W >= 8
        ? inputGradDirect(x, w, g, PH, PW, OH, OW)
        : inputGrad(x, w, g, { N, C, H, W, KH, KW, SH: 1, SW: 1, PH, PW, DH: 1, DW: 1, OH, OW, ldcol: N * P });
    }
    if (w.requiresGrad) {
      dw = out(w.shape, "float32", "conv2d backward");
      K.conv2d_wgrad_f32({ xp: xp.ptr, dy: g.ptr, dw: dw.ptr, N, C, Hp, Wp, KH, KW, O: Cout, Otot: Cout });
    }
    if (b && b.requiresGrad) {
      // Σ over positions, then over images (in order): [N·Cout, P] → [N, Cout] → [Cout]
      const perImage = out([N, Cout], "float32", "conv2d backward");
      db = out([Cout], "float32", "conv2d backward");
      K.reduce_f32({ op: ReduceOp.sum, x: g.ptr, y: perImage.ptr, outer: N * Cout, len: P, inner: 1 });
      K.reduce_f32({ op: ReduceOp.sum, x: perImage.ptr, y: db.ptr, outer: 1, len: N, inner: Cout });
      perImage.dispose();
    }
    return b ? [dx, dw, db] : [dx, dw];
  }, xp === x ? [] : [xp]);
}

/**
 * dx of a stride-1 convolution as a forward one (the direct path, padding ≤ KH − 1, KW − 1):
 * dx[n, c, h, w] = Σ_o Σ_kh,kw dy[n, o, h + PH − kh, w + PW − kw]·w[o, c, kh, kw] is
 * conv2d_direct_f32 over dy padded by (KH − 1 − PH, KW − 1 − PW) with the weights rotated
 * 180° and their channel axes swapped — so a backend's fast forward (the wasm one's
 * Winograd for 3×3) serves the input gradient too. C ≥ 4 (the host's rule): below it
 * the forward kernel's 1-channel tiles are slower than GEMM + col2im (S1's first layer).
 */
function inputGradDirect(x: Tensor, w: Tensor, g: Tensor, PH: number, PW: number, OH: number, OW: number): Tensor {
  const K = backend().kernels;
  const [N, C] = x.shape;
  const [Cout, , KH, KW] = w.shape;
  const QH = KH - 1 - PH, QW = KW - 1 - PW, Hq = OH + 2 * QH, Wq = OW + 2 * QW;
  let gp = g;
  if (QH || QW) {
    gp = out([N, Cout, Hq, Wq], "float32", "conv2d backward");
    K.pad2d_f32({ x: g.ptr, xp: gp.ptr, NC: N * Cout, H: OH, W: OW, PH: QH, PW: QW });
  }
  const wf = out([C, Cout, KH, KW], "float32", "conv2d backward");
  K.conv_flip_weights_f32({ w: w.ptr, wf: wf.ptr, Cout, C, KK: KH * KW });
  const dx = out(x.shape, "float32", "conv2d backward");
  K.conv2d_direct_f32({ xp: gp.ptr, w: wf.ptr, y: dx.ptr, N, C: Cout, Hp: Hq, Wp: Wq, KH, KW, Cout: C });
  wf.dispose();
  if (gp !== g) gp.dispose();
  return dx;
}

/** dx through GEMM + col2im (both paths): dcol = Wᵀ·dY per image, then the adjoint scatter. geo as im2col's. */
function inputGrad(x: Tensor, w: Tensor, g: Tensor, geo: Geometry): Tensor {
  const K = backend().kernels;
  const { N, C, KH, KW, OH, OW } = geo, Cout = w.shape[0];
  const CKK = C * KH * KW, P = OH * OW, NP = N * P;
  const dcol = out([CKK, NP], "float32", "conv2d backward");
  // dcol[:, n·P …] = Wᵀ · dY[n], one product per image
  gemm(w.ptr, g.ptr, dcol.ptr, CKK, P, Cout, CKK, P, NP, TRANS_A, N, 0, Cout * P, P);
  const dx = out(x.shape, "float32", "conv2d backward");
  K.fill_f32({ y: dx.ptr, n: dx.size, value: 0 });
  K.col2im_f32({ col: dcol.ptr, x: dx.ptr, ...geo });
  dcol.dispose();
  return dx;
}

/** Σ of g [N, Cout, P] over images and positions into [Cout] (the bias gradient, in the direct path's order). */
function biasGrad(g: Tensor, N: number, Cout: number, P: number): Tensor {
  const K = backend().kernels;
  const perImage = out([N, Cout], "float32", "conv2d backward");
  const db = out([Cout], "float32", "conv2d backward");
  K.reduce_f32({ op: ReduceOp.sum, x: g.ptr, y: perImage.ptr, outer: N * Cout, len: P, inner: 1 });
  K.reduce_f32({ op: ReduceOp.sum, x: perImage.ptr, y: db.ptr, outer: 1, len: N, inner: Cout });
  perImage.dispose();
  return db;
}

/** groups = C = Cout: the depthwise kernels (forward, input and weight gradients); w [C, 1, KH, KW]. */
function conv2dDepthwise(x: Tensor, w: Tensor, b: Tensor | null, geo: Geometry): Tensor {
  const K = backend().kernels;
  const { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW } = geo;
  const dims = { N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW };
  const y = out([N, C, OH, OW], "float32", "conv2d");
  K.depthwise_conv2d_f32({ x: x.ptr, w: w.ptr, y: y.ptr, ...dims });
  if (b) K.bias_add_channels_f32({ y: y.ptr, bias: b.ptr, n: N, c: C, inner: OH * OW });
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, "float32", "conv2d backward");
      K.depthwise_conv2d_backward_input_f32({ dy: g.ptr, w: w.ptr, dx: dx.ptr, ...dims });
    }
    if (w.requiresGrad) {
      dw = out(w.shape, "float32", "conv2d backward");
      K.depthwise_conv2d_backward_weight_f32({ x: x.ptr, dy: g.ptr, dw: dw.ptr, ...dims, Ctot: C });
    }
    if (b && b.requiresGrad) db = biasGrad(g, N, C, OH * OW);
    return b ? [dx, dw, db] : [dx, dw];
  });
}

/**
 * 1 < groups, not depthwise: im2col over all C channels (the rows of group j,
 * (c·KH + kh)·KW + kw for its C/G channels, are contiguous), then the usual
 * GEMMs once per group on its slices of the weight, the columns and the output.
 */
function conv2dGrouped(x: Tensor, w: Tensor, b: Tensor | null, geo: Geometry, G: number): Tensor {
  const K = backend().kernels;
  const { N, C, KH, KW, OH, OW } = geo, Cout = w.shape[0];
  const P = OH * OW, NP = N * P, Cg = C / G, Og = Cout / G, CgKK = Cg * KH * KW;
  const col = out([C * KH * KW, NP], "float32", "conv2d columns");
  K.im2col_f32({ x: x.ptr, col: col.ptr, ...geo });
  const y = out([N, Cout, OH, OW], "float32", "conv2d");
  for (let j = 0; j < G; j++) {
    gemm(w.ptr + j * Og * CgKK * 4, col.ptr + j * CgKK * NP * 4, y.ptr + j * Og * P * 4, Og, P, CgKK, CgKK, NP, P, 0, N, 0, P, Cout * P);
  }
  if (b) K.bias_add_channels_f32({ y: y.ptr, bias: b.ptr, n: N, c: Cout, inner: P });
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, "conv2d", inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad) {
      const dcol = out([C * KH * KW, NP], "float32", "conv2d backward");
      for (let j = 0; j < G; j++) {
        gemm(w.ptr + j * Og * CgKK * 4, g.ptr + j * Og * P * 4, dcol.ptr + j * CgKK * NP * 4, CgKK, P, Og, CgKK, P, NP, TRANS_A, N, 0, Cout * P, P);
      }
      dx = out(x.shape, "float32", "conv2d backward");
      K.fill_f32({ y: dx.ptr, n: dx.size, value: 0 });
      K.col2im_f32({ col: dcol.ptr, x: dx.ptr, ...geo });
      dcol.dispose();
    }
    if (w.requiresGrad) {
      const gt = out([Cout, NP], "float32", "conv2d backward");
      K.transpose_f32({ x: g.ptr, y: gt.ptr, outer: 1, a: N, b: Cout, inner: P });
      dw = out(w.shape, "float32", "conv2d backward");
      for (let j = 0; j < G; j++) {
        gemm(gt.ptr + j * Og * NP * 4, col.ptr + j * CgKK * NP * 4, dw.ptr + j * Og * CgKK * 4, Og, CgKK, NP, NP, NP, CgKK, TRANS_B);
      }
      gt.dispose();
    }
    if (b && b.requiresGrad) db = biasGrad(g, N, Cout, P);
    return b ? [dx, dw, db] : [dx, dw];
  }, [col]);
}

export interface Conv1dOptions {
  stride?: number | [number];
  padding?: number | [number];
  dilation?: number | [number];
}

/** A 1-D convolution's integer option (a number or a 1-tuple, as PyTorch's). */
function single(op: string, name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const s = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof s !== "number" || !Number.isInteger(s) || s < min || s > 2 ** 31 - 1) {
    throw new Error(`${op}: ${name} must be an integer ≥ ${min} (or a 1-tuple of one), got ${JSON.stringify(v) ?? String(v)}`);
  }
  return s;
}

/**
 * 1-D convolution, PyTorch's conv1d: x [N, C, L], w [Cout, C, K], b [Cout] → [N, Cout, OL];
 * conv2d over a height of 1 (so both of its paths and its gradients serve it).
 *
 * @example
 * const y = wg.conv1d(wg.ones([1, 1, 5]), wg.ones([2, 1, 3]), null, { padding: 1 });
 * y.shape; // [1, 2, 5]
 */
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  checkOptions("conv1d", opts, ["stride", "padding", "dilation"]);
  if (x.rank !== 3) throw new Error(`conv1d: input must be [N, C, L], got ${shapeStr(x.shape)}`);
  if (w.rank !== 3) throw new Error(`conv1d: weight must be [Cout, C, K], got ${shapeStr(w.shape)}`);
  const s = single("conv1d", "stride", opts.stride, 1, 1), p = single("conv1d", "padding", opts.padding, 0, 0);
  const d = single("conv1d", "dilation", opts.dilation, 1, 1);
  const [N, C, L] = x.shape, [Cout, Cw, K] = w.shape;
  if (C !== Cw) throw new Error(`conv1d: input ${shapeStr(x.shape)} has ${C} channels, weight ${shapeStr(w.shape)} expects ${Cw}`);
  const OL = convOutSize(L, K, s, p, d);
  if (OL < 1) throw new Error(`conv1d: input ${shapeStr(x.shape)} is shorter than the kernel ${K} (dilation ${d}, padding ${p})`);
  const y = conv2d(x.reshape(N, C, 1, L), w.reshape(Cout, Cw, 1, K), b, { stride: [1, s], padding: [0, p], dilation: [1, d] });
  return y.reshape(N, Cout, OL);
}

export interface ConvTranspose2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  outputPadding?: number | [number, number];
  dilation?: number | [number, number];
}

/**
 * Transposed 2-D convolution, PyTorch's conv_transpose2d: x [N, Cin, H, W],
 * w [Cin, Cout, KH, KW], b [Cout] → [N, Cout, OH, OW] with
 * OH = (H − 1)·stride − 2·padding + dilation·(KH − 1) + outputPadding + 1.
 * It is conv2d's input gradient run forward (GEMM Wᵀ·x per image, then col2im);
 * its own input gradient is conv2d of the output gradient (im2col + GEMM).
 *
 * @example
 * const y = wg.convTranspose2d(wg.ones([1, 1, 2, 2]), wg.ones([1, 1, 2, 2]), null, { stride: 2 });
 * y.shape; // [1, 1, 4, 4]
 */
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = "convTranspose2d";
  requireFloat(x, op);
  requireFloat(w, op);
  if (b) requireFloat(b, `${op} bias`);
  checkOptions(op, opts, ["stride", "padding", "outputPadding", "dilation"]);
  if (x.rank !== 4) throw new Error(`${op}: input must be [N, Cin, H, W], got ${shapeStr(x.shape)}`);
  if (w.rank !== 4) throw new Error(`${op}: weight must be [Cin, Cout, KH, KW], got ${shapeStr(w.shape)}`);
  const [N, Cin, H, W] = x.shape;
  const [Cw, Cout, KH, KW] = w.shape;
  if (Cin !== Cw) throw new Error(`${op}: input ${shapeStr(x.shape)} has ${Cin} channels, weight ${shapeStr(w.shape)} expects ${Cw}`);
  if (b && (b.rank !== 1 || b.shape[0] !== Cout)) throw new Error(`${op}: bias ${shapeStr(b.shape)} must be [${Cout}]`);
  const [SH, SW] = checkPair(op, "stride", opts.stride, [1, 1], 1), [PH, PW] = checkPair(op, "padding", opts.padding, [0, 0], 0);
  const [DH, DW] = checkPair(op, "dilation", opts.dilation, [1, 1], 1);
  const [QH, QW] = checkPair(op, "outputPadding", opts.outputPadding, [0, 0], 0);
  if ((QH >= SH && QH >= DH) || (QW >= SW && QW >= DW)) {
    throw new Error(`${op}: outputPadding (${QH}, ${QW}) must be smaller than either stride (${SH}, ${SW}) or dilation (${DH}, ${DW})`);
  }
  const OH = (H - 1) * SH - 2 * PH + DH * (KH - 1) + QH + 1, OW = (W - 1) * SW - 2 * PW + DW * (KW - 1) + QW + 1;
  if (OH < 1 || OW < 1) throw new Error(`${op}: input ${shapeStr(x.shape)} with kernel ${KH}x${KW} and padding ${PH},${PW} gives an empty output ${OH}x${OW}`);
  const P = H * W, CKK = Cout * KH * KW, NP = N * P;
  // the geometry of the conv2d whose input is this op's output (and whose output is x)
  const geo: Geometry = { N, C: Cout, H: OH, W: OW, KH, KW, SH, SW, PH, PW, DH, DW, OH: H, OW: W, ldcol: NP };
  const K = backend().kernels;
  const col = out([CKK, NP], "float32", `${op} columns`);
  // col[:, n·P …] = Wᵀ · x[n], one product per image; then the adjoint scatter into y
  gemm(w.ptr, x.ptr, col.ptr, CKK, P, Cin, CKK, P, NP, TRANS_A, N, 0, Cin * P, P);
  const y = out([N, Cout, OH, OW], "float32", op);
  K.fill_f32({ y: y.ptr, n: y.size, value: 0 });
  K.col2im_f32({ col: col.ptr, x: y.ptr, ...geo });
  col.dispose();
  const OP = OH * OW;
  if (b) K.bias_add_channels_f32({ y: y.ptr, bias: b.ptr, n: N, c: Cout, inner: OP });

  const inputs = b ? [x, w, b] : [x, w];
  return record(y, op, inputs, (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null, db: Tensor | null = null;
    if (x.requiresGrad || w.requiresGrad) {
      const gcol = out([CKK, NP], "float32", `${op} backward`);
      K.im2col_f32({ x: g.ptr, col: gcol.ptr, ...geo });
      if (x.requiresGrad) {
        // conv2d of g with w: dx[n] = W · gcol[:, n·P …]
        dx = out(x.shape, "float32", `${op} backward`);
        gemm(w.ptr, gcol.ptr, dx.ptr, Cin, P, CKK, CKK, NP, P, 0, N, 0, P, Cin * P);
      }
      if (w.requiresGrad) {
        // dW = x as [Cin, N·P] · gcolᵀ: one GEMM over the batch
        const xt = out([Cin, NP], "float32", `${op} backward`);
        K.transpose_f32({ x: x.ptr, y: xt.ptr, outer: 1, a: N, b: Cin, inner: P });
        dw = out(w.shape, "float32", `${op} backward`);
        gemm(xt.ptr, gcol.ptr, dw.ptr, Cin, CKK, NP, NP, NP, CKK, TRANS_B);
        xt.dispose();
      }
      gcol.dispose();
    }
    if (b && b.requiresGrad) {
      const perImage = out([N, Cout], "float32", `${op} backward`);
      db = out([Cout], "float32", `${op} backward`);
      K.reduce_f32({ op: ReduceOp.sum, x: g.ptr, y: perImage.ptr, outer: N * Cout, len: OP, inner: 1 });
      K.reduce_f32({ op: ReduceOp.sum, x: perImage.ptr, y: db.ptr, outer: 1, len: N, inner: Cout });
      perImage.dispose();
    }
    return b ? [dx, dw, db] : [dx, dw];
  });
}
