// int8 inference: weights quantised once per output channel and packed for the
// int8 GEMM, activations quantised per row on the fly, i32 sums, and a fused
// epilogue (dequantise, bias, ReLU) writing f32. Inference only: nothing here
// records onto the tape.
// Kernels: assembly/quant.ts (kernels/quant.mjs), shaders/quant.wgsl; conv
// reuses im2col (assembly/conv.ts) and transpose (assembly/movement.ts).

import { backend, out, Tensor, requireFloat, shapeStr, checkPair } from "./util.js";
import { isGradEnabled } from "../tape.js";
import { convOutSize } from "./conv.js";

/**
 * A weight quantised to int8 for int8Linear / int8Conv2d: one symmetric scale
 * per output channel (the first axis), packed once for the int8 GEMM.
 */
export interface Int8Packed {
  /** Output channels (the weight's first axis) and the inputs each sums over (the other axes' product). */
  readonly outFeatures: number;
  readonly inFeatures: number;
  /** The weight's shape, for conv geometry and printing. */
  readonly shape: readonly number[];
  /** The packed int8 panels (an int32 tensor holding bytes; see kernels/quant.mjs). */
  readonly packed: Tensor;
  /** One f32 scale per output channel: W ≈ W_q · scale. */
  readonly scales: Tensor;
  /** Σ_k W_q[o, k] per output channel (int32): the activations' zero-point correction. */
  readonly wsum: Tensor;
  /** With `decode`: the weight-only row-major form that int8Linear streams for 1–4 rows (gemv_i8). */
  readonly rows?: Int8Rows;
}

/**
 * Weight-only int8 for batch-1 decoding (gemv_i8): W_q int8 [out, in] row-major,
 * one byte a weight, with an f32 scale per output channel and group of `group`
 * inputs (0: the whole row); activations stay f32.
 */
export interface Int8Rows {
  /** The int8 rows, out·in bytes (an int32 tensor holding bytes). */
  readonly q: Tensor;
  /** [out, ⌈in / group⌉] f32 scales (one column with group 0). */
  readonly scales: Tensor;
  readonly group: number;
}

/** Rows of x up to which int8Linear takes the weight-only GEMV when the weight has `rows`. */
const GEMV_I8_MAX_M = 4;

/**
 * Quantises a float weight [out, in] to weight-only int8 rows: scale = max|w|/127
 * per output channel and group of `group` inputs (0: per channel), W_q = round(w/scale).
 * @example
 * const r = quantizeWeightInt8Rows(wg.tensor([[1, -0.25, 0.5, 2]]), 2); // groups [1, -0.25], [0.5, 2]
 * r.scales.toArray(); // e.g. [[0.007874, 0.015748]]
 */
export function quantizeWeightInt8Rows(w: Tensor, group = 0): Int8Rows {
  requireFloat(w, "quantizeWeightInt8Rows");
  if (w.rank !== 2) throw new Error(`quantizeWeightInt8Rows: weight must be [out, in], got ${shapeStr(w.shape)}`);
  if (!Number.isInteger(group) || group < 0) throw new Error(`quantizeWeightInt8Rows: group must be 0 (per channel) or a positive number of inputs, got ${group}`);
  const [n, k] = w.shape;
  const G = group > 0 ? Math.ceil(k / group) : 1;
  const q = Tensor.empty([Math.max(1, Math.ceil((n * k) / 4))], "int32", "int8 weight rows", "persistent");
  const scales = Tensor.empty([n, G], "float32", "int8 weight row scales", "persistent");
  if (n * k > 0) backend().kernels.quantize_weights_i8_rows({ w: w.ptr, q: q.ptr, scales: scales.ptr, n, k, group });
  return { q, scales, group };
}

/** Bytes the packed panels take: 2 per weight of n rounded up to 8 and k to 4 (the largest binary's layout). */
const packedBytes = (n: number, k: number) => 2 * Math.ceil(n / 8) * 8 * Math.ceil(k / 4) * 4;

/**
 * Quantises a float weight [out, …] to int8 per output channel and packs it
 * for int8Linear / int8Conv2d (the tensors are kept: dispose them with
 * disposeInt8). scale[o] = max|w[o]|/127, W_q = round(w/scale).
 * @example
 * const q = quantizeWeightInt8(wg.tensor([[1, -0.25], [0.5, 2]])); // int8 rows [127, -32] and [32, 127]
 * q.scales.toArray(); // e.g. [0.007874, 0.015748]
 * q.wsum.toArray(); // [95, 159]
 */
export function quantizeWeightInt8(w: Tensor, opts: { decode?: boolean; group?: number } = {}): Int8Packed {
  requireFloat(w, "quantizeWeightInt8");
  if (opts.decode && w.rank !== 2) throw new Error(`quantizeWeightInt8: decode rows need a [out, in] weight, got ${shapeStr(w.shape)}`);
  if (w.rank < 2) throw new Error(`quantizeWeightInt8: weight must be [out, in, …], got ${shapeStr(w.shape)}`);
  const n = w.shape[0], k = w.size / n;
  const packed = Tensor.empty([packedBytes(n, k) / 4], "int32", "int8 weight", "persistent");
  const scales = Tensor.empty([n], "float32", "int8 weight scales", "persistent");
  const wsum = Tensor.empty([n], "int32", "int8 weight sums", "persistent");
  backend().kernels.quantize_weights_i8({ w: w.ptr, packed: packed.ptr, scales: scales.ptr, wsum: wsum.ptr, n, k });
  const rows = opts.decode ? quantizeWeightInt8Rows(w, opts.group ?? 0) : undefined;
  return { outFeatures: n, inFeatures: k, shape: [...w.shape], packed, scales, wsum, ...(rows ? { rows } : {}) };
}

/** Frees the tensors of quantizeWeightInt8. */
export function disposeInt8(w: Int8Packed): void {
  w.packed.dispose(); w.scales.dispose(); w.wsum.dispose();
  if (w.rows) { w.rows.q.dispose(); w.rows.scales.dispose(); }
}

/** Inference only: an input that needs a gradient is an error naming the op. */
function inferenceOnly(x: Tensor, op: string): void {
  if (isGradEnabled() && x.requiresGrad) {
    throw new Error(`${op}: int8 layers are inference only (no gradient flows through int8 weights); run it under wg.noGrad(), or train the float layer and quantise after`);
  }
}

/**
 * y = x·Wᵀ + b through the int8 GEMM: each row of x quantised to 7 bits with
 * its own scale and zero point, i32 sums against the int8 weight, dequantised
 * with the bias (and ReLU with `relu`) fused. x [..., in] → [..., out].
 * @example
 * const w = wg.randn([16, 32]), x = wg.randn([4, 32]);
 * const y = int8Linear(x, quantizeWeightInt8(w));
 * y.shape; // [4, 16]
 * y.sub(wg.linear(x, w)).abs().max().item() < 0.3; // true
 */
export function int8Linear(x: Tensor, w: Int8Packed, b: Tensor | null = null, opts: { relu?: boolean } = {}): Tensor {
  requireFloat(x, "int8Linear");
  if (b) requireFloat(b, "int8Linear bias");
  inferenceOnly(x, "int8Linear");
  const k = w.inFeatures, n = w.outFeatures;
  if (x.rank === 0 || x.shape[x.rank - 1] !== k) throw new Error(`int8Linear: input ${shapeStr(x.shape)} has ${x.shape[x.rank - 1] ?? 0} features, the int8 weight expects ${k}`);
  if (b && (b.rank !== 1 || b.shape[0] !== n)) throw new Error(`int8Linear: bias ${shapeStr(b.shape)} must be [${n}]`);
  const m = x.size / k;
  const y = out([...x.shape.slice(0, -1), n], "float32", "int8Linear");
  if (m > 0 && w.rows && m <= GEMV_I8_MAX_M && !opts.relu) {
    // decoding: stream the weight-only int8 rows once (1 byte a weight), x stays f32
    backend().kernels.gemv_i8({ x: x.ptr, w: w.rows.q.ptr, scales: w.rows.scales.ptr, bias: b ? b.ptr : 0, y: y.ptr, m, n, k, group: w.rows.group, ldy: n });
  } else if (m > 0) gemmInt8(x.ptr, m, k, k, false, w, b, y.ptr, n, !!opts.relu);
  return y;
}

/** Quantises m rows of x (row stride ldx, or columns with trans) and runs the int8 GEMM into y [m, ldy]. */
function gemmInt8(x: number, m: number, k: number, ldx: number, trans: boolean, w: Int8Packed, b: Tensor | null, y: number, ldy: number, relu: boolean): void {
  const K = backend().kernels;
  const qa = out([Math.ceil(m / 4) * Math.ceil(k / 4) * 4], "int32", "int8 activations");
  const sa = out([m], "float32", "int8 activation scales"), za = out([m], "int32", "int8 activation zero points");
  K.quantize_rows_u7({ x, q: qa.ptr, scale: sa.ptr, zero: za.ptr, m, k, ldx, trans: trans ? 1 : 0 });
  K.gemm_i8({ a: qa.ptr, sa: sa.ptr, za: za.ptr, w: w.packed.ptr, sw: w.scales.ptr, wsum: w.wsum.ptr, bias: b ? b.ptr : 0, y,
    m, n: w.outFeatures, k, ldy, relu: relu ? 1 : 0 });
  qa.dispose(); sa.dispose(); za.dispose();
}

/** conv2d's geometry options that int8Conv2d takes (no groups). */
export interface Int8Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /** Fuse a ReLU into the epilogue. */
  relu?: boolean;
}

/**
 * conv2d through the int8 GEMM: im2col, each output position's column of
 * inputs quantised to 7 bits with its own scale and zero point, the int8
 * product with per-output-channel weight scales, bias (and ReLU) fused.
 * x [N, C, H, W] and a weight quantised from [Cout, C, KH, KW] → [N, Cout, OH, OW].
 * @example
 * const w = wg.randn([8, 3, 3, 3]), x = wg.randn([2, 3, 10, 10]);
 * const y = int8Conv2d(x, quantizeWeightInt8(w), null, { padding: 1 });
 * y.shape; // [2, 8, 10, 10]
 * y.sub(wg.conv2d(x, w, null, { padding: 1 })).abs().max().item() < 0.5; // true
 */
export function int8Conv2d(x: Tensor, w: Int8Packed, b: Tensor | null = null, opts: Int8Conv2dOptions = {}): Tensor {
  requireFloat(x, "int8Conv2d");
  if (b) requireFloat(b, "int8Conv2d bias");
  inferenceOnly(x, "int8Conv2d");
  if (x.rank !== 4) throw new Error(`int8Conv2d: input must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (w.shape.length !== 4) throw new Error(`int8Conv2d: the int8 weight must come from a [Cout, C, KH, KW] weight, got ${shapeStr(w.shape)}`);
  const [N, C, H, W] = x.shape;
  const [Cout, Cw, KH, KW] = w.shape;
  if (C !== Cw) throw new Error(`int8Conv2d: input ${shapeStr(x.shape)} has ${C} channels, the int8 weight ${shapeStr(w.shape)} expects ${Cw}`);
  if (b && (b.rank !== 1 || b.shape[0] !== Cout)) throw new Error(`int8Conv2d: bias ${shapeStr(b.shape)} must be [${Cout}]`);
  const [SH, SW] = checkPair("int8Conv2d", "stride", opts.stride, [1, 1], 1), [PH, PW] = checkPair("int8Conv2d", "padding", opts.padding, [0, 0], 0);
  const [DH, DW] = checkPair("int8Conv2d", "dilation", opts.dilation, [1, 1], 1);
  const OH = convOutSize(H, KH, SH, PH, DH), OW = convOutSize(W, KW, SW, PW, DW);
  if (OH < 1 || OW < 1) throw new Error(`int8Conv2d: input ${shapeStr(x.shape)} is smaller than the kernel ${KH}x${KW}`);
  const P = OH * OW, CKK = C * KH * KW, NP = N * P;
  const K = backend().kernels;
  const col = out([CKK, NP], "float32", "int8Conv2d columns");
  K.im2col_f32({ x: x.ptr, col: col.ptr, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ldcol: NP });
  // rows of the product are output positions (columns of col): [N·P, Cout], then NCHW
  const yt = out([N, P, Cout], "float32", "int8Conv2d");
  gemmInt8(col.ptr, NP, CKK, NP, true, w, b, yt.ptr, Cout, !!opts.relu);
  col.dispose();
  const y = out([N, Cout, OH, OW], "float32", "int8Conv2d");
  K.transpose_f32({ x: yt.ptr, y: y.ptr, outer: N, a: P, b: Cout, inner: 1 });
  yt.dispose();
  return y;
}
