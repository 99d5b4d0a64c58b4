// Max and average pooling over NCHW planes. Kernels: assembly/pool.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, checkOptions, checkPair } from "./util.js";
import { convOutSize } from "./conv.js";

export interface Pool2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  /** avgPool2d only: count padded zeros in the divisor (PyTorch's default true). */
  countIncludePad?: boolean;
  /**
   * Round the output size up instead of down (PyTorch's ceil_mode): a last,
   * partial window is kept when it starts inside the input or the left padding.
   */
  ceilMode?: boolean;
}

/** PyTorch's pooling output size: floor or ceil, and a window that would start in the right padding is dropped. */
export function poolOutSize(n: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

function geometry(op: string, x: Tensor, kernel: number | [number, number], opts: Pool2dOptions) {
  requireFloat(x, op);
  if (x.rank !== 4) throw new Error(`${op}: input must be [N, C, H, W], got ${shapeStr(x.shape)}`);
  const [N, C, H, W] = x.shape;
  checkOptions(op, opts, op === "avgPool2d" ? ["stride", "padding", "countIncludePad", "ceilMode"] : ["stride", "padding", "ceilMode"]);
  const ceil = opts.ceilMode ?? false;
  if (typeof ceil !== "boolean") throw new Error(`${op}: ceilMode must be true or false, got ${JSON.stringify(opts.ceilMode)}`);
  if (kernel === undefined) throw new Error(`${op}: kernel size is required`);
  const [KH, KW] = checkPair(op, "kernel", kernel, [0, 0], 1);
  const [SH, SW] = checkPair(op, "stride", opts.stride, [KH, KW], 1);
  const [PH, PW] = checkPair(op, "padding", opts.padding, [0, 0], 0);
  if (PH * 2 > KH || PW * 2 > KW) throw new Error(`${op}: padding ${PH},${PW} must be at most half the kernel ${KH}x${KW}`);
  const OH = poolOutSize(H, KH, SH, PH, 1, ceil), OW = poolOutSize(W, KW, SW, PW, 1, ceil);
  if (KH < 1 || KW < 1 || SH < 1 || SW < 1 || OH < 1 || OW < 1) {
    throw new Error(`${op}: kernel ${KH}x${KW} stride ${SH},${SW} does not fit input ${shapeStr(x.shape)}`);
  }
  // ceil mode's extra window reaches past the input: not the disjoint 2×2 tiling fast paths assume
  const partial = OH !== convOutSize(H, KH, SH, PH, 1) || OW !== convOutSize(W, KW, SW, PW, 1);
  return { N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, NC: N * C, partial };
}

/**
 * Max pooling, PyTorch's max_pool2d (stride defaults to the kernel size).
 * @example
 * wg.maxPool2d(wg.arange(16).reshape(1, 1, 4, 4), 2).toArray(); // [[[[5, 7], [13, 15]]]]
 * wg.maxPool2d(wg.arange(9).reshape(1, 1, 3, 3), 2, { ceilMode: true }).toArray(); // [[[[4, 5], [7, 8]]]]
 */
export function maxPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  const g = geometry("maxPool2d", x, kernel, opts);
  const { NC, H, W, OH, OW } = g;
  const be = backend();
  const y = out([g.N, g.C, OH, OW], "float32", "maxPool2d");
  const idx = out([g.N, g.C, OH, OW], "int32", "maxPool2d indices");
  be.kernels.maxpool2d_f32({ x: x.ptr, y: y.ptr, idx: idx.ptr, NC, H, W, KH: g.KH, KW: g.KW, SH: g.SH, SW: g.SW, PH: g.PH, PW: g.PW, OH, OW });
  // pool(relu(z)) = relu(pool(z)) (ReLU is monotone), so when x is a ReLU's output the
  // gradient goes straight to z through one fused kernel: the ReLU's backward and the
  // dense gradient between the two ops are skipped. Safe because the gradient of an
  // intermediate tensor is never observable (backward and wg.grad deliver to leaves only).
  const z = x._node?.name === "relu" ? x._node.inputs[0] : null;
  // the windows, for backends whose backward gathers per input element (WebGPU)
  const win = { KH: g.KH, KW: g.KW, SH: g.SH, SW: g.SW, PH: g.PH, PW: g.PW };
  if (z) {
    const tiled = g.KH === 2 && g.KW === 2 && g.SH === 2 && g.SW === 2 && g.PH === 0 && g.PW === 0 && !g.partial ? 1 : 0;
    return record(y, "maxPool2d(relu)", [z], (dy) => {
      const dz = out(z.shape, "float32", "maxPool2d(relu) backward");
      be.kernels.maxpool2d_relu_backward_f32({ dy: dy.ptr, idx: idx.ptr, y: y.ptr, dx: dz.ptr, NC, H, W, OH, OW, tiled, ...win });
      return [dz];
    }, [idx]);
  }
  return record(y, "maxPool2d", [x], (dy) => {
    const dx = out(x.shape, "float32", "maxPool2d backward");
    be.kernels.maxpool2d_backward_f32({ dy: dy.ptr, idx: idx.ptr, dx: dx.ptr, NC, H, W, OH, OW, ...win });
    return [dx];
  }, [idx]);
}

/**
 * Average pooling, PyTorch's avg_pool2d (a ceil-mode window past the input
 * divides by its part inside the input and padding).
 * @example
 * wg.avgPool2d(wg.ones([1, 1, 4, 4]), 2).shape; // [1, 1, 2, 2]
 * wg.avgPool2d(wg.arange(9).reshape(1, 1, 3, 3), 2, { ceilMode: true }).toArray(); // [[[[2, 3.5], [6.5, 8]]]]
 */
export function avgPool2d(x: Tensor, kernel: number | [number, number], opts: Pool2dOptions = {}): Tensor {
  const g = geometry("avgPool2d", x, kernel, opts);
  const { NC, H, W, OH, OW } = g;
  const cip = opts.countIncludePad === false ? 0 : 1;
  const be = backend();
  const y = out([g.N, g.C, OH, OW], "float32", "avgPool2d");
  const geo = { NC, H, W, KH: g.KH, KW: g.KW, SH: g.SH, SW: g.SW, PH: g.PH, PW: g.PW, OH, OW, countIncludePad: cip };
  be.kernels.avgpool2d_f32({ x: x.ptr, y: y.ptr, ...geo });
  return record(y, "avgPool2d", [x], (dy) => {
    const dx = out(x.shape, "float32", "avgPool2d backward");
    be.kernels.avgpool2d_backward_f32({ dy: dy.ptr, dx: dx.ptr, ...geo });
    return [dx];
  });
}
