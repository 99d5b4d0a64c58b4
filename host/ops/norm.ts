// Layer and RMS normalisation over the last dim(s). Kernels: assembly/norm.ts.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, sizeOf } from "./util.js";

/**
 * PyTorch's layer_norm: normalises over the trailing `normalizedShape` dims,
 * then scales by weight and shifts by bias (both optional).
 * @example wg.layerNorm(wg.tensor([[1, 2, 3]]), [3]).toArray(); // [[-1.22…, 0, 1.22…]]
 */
export function layerNorm(x: Tensor, normalizedShape: number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  requireFloat(x, "layerNorm");
  const tail = x.shape.slice(x.rank - normalizedShape.length);
  if (tail.join() !== normalizedShape.join()) {
    throw new Error(`layerNorm: input ${shapeStr(x.shape)} does not end with normalized shape ${shapeStr(normalizedShape)}`);
  }
  const cols = sizeOf(normalizedShape), rows = cols ? x.size / cols : 0;
  for (const [t, n] of [[weight, "weight"], [bias, "bias"]] as const) {
    if (t && t.size !== cols) throw new Error(`layerNorm: ${n} ${shapeStr(t.shape)} must have ${cols} elements`);
  }
  const be = backend();
  const y = out(x.shape, "float32", "layerNorm");
  const mean = out([rows], "float32", "layerNorm mean");
  const rstd = out([rows], "float32", "layerNorm rstd");
  const wp = weight?.ptr ?? 0, bp = bias?.ptr ?? 0;
  be.kernels.layernorm_f32({ x: x.ptr, gamma: wp, beta: bp, y: y.ptr, mean: mean.ptr, rstd: rstd.ptr, rows, cols, eps });
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, "layerNorm", inputs, (g) => {
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, "float32", "layerNorm backward");
      be.kernels.layernorm_backward_f32({ x: x.ptr, dy: g.ptr, gamma: wp, mean: mean.ptr, rstd: rstd.ptr, dx: dx.ptr, rows, cols });
    }
    let dw: Tensor | null = null, db: Tensor | null = null;
    if ((weight && weight.requiresGrad) || (bias && bias.requiresGrad)) {
      dw = out(normalizedShape, "float32", "layerNorm backward");
      db = out(normalizedShape, "float32", "layerNorm backward");
      be.kernels.fill_f32({ y: dw.ptr, n: cols, value: 0 });
      be.kernels.fill_f32({ y: db.ptr, n: cols, value: 0 });
      be.kernels.layernorm_param_grad_f32({ x: x.ptr, dy: g.ptr, mean: mean.ptr, rstd: rstd.ptr, dgamma: dw.ptr, dbeta: db.ptr, rows, cols });
    }
    return [dx, ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  }, [mean, rstd]);
}

/**
 * PyTorch's rms_norm (and Llama's RMSNorm): x / √(mean(x²) + eps) over the
 * trailing `normalizedShape` dims, times weight when given. eps defaults to
 * float32's machine epsilon, as PyTorch's does.
 * @example wg.rmsNorm(wg.tensor([[3, 4]]), [2], null, 0).toArray(); // [[0.8485…, 1.1313…]]
 */
export function rmsNorm(x: Tensor, normalizedShape: number[], weight: Tensor | null = null, eps = 1.1920928955078125e-7): Tensor {
  requireFloat(x, "rmsNorm");
  const tail = x.shape.slice(x.rank - normalizedShape.length);
  if (tail.join() !== normalizedShape.join()) {
    throw new Error(`rmsNorm: input ${shapeStr(x.shape)} does not end with normalized shape ${shapeStr(normalizedShape)}`);
  }
  const cols = sizeOf(normalizedShape), rows = cols ? x.size / cols : 0;
  if (weight && weight.size !== cols) throw new Error(`rmsNorm: weight ${shapeStr(weight.shape)} must have ${cols} elements`);
  if (weight) requireFloat(weight, "rmsNorm");
  const be = backend();
  const y = out(x.shape, "float32", "rmsNorm");
  const rstd = out([rows], "float32", "rmsNorm rstd");
  const wp = weight?.ptr ?? 0;
  be.kernels.rmsnorm_f32({ x: x.ptr, weight: wp, y: y.ptr, rstd: rstd.ptr, rows, cols, eps });
  return record(y, "rmsNorm", weight ? [x, weight] : [x], (g) => {
    let dx: Tensor | null = null, dw: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, "float32", "rmsNorm backward");
      be.kernels.rmsnorm_backward_f32({ x: x.ptr, dy: g.ptr, weight: wp, rstd: rstd.ptr, dx: dx.ptr, rows, cols });
    }
    if (weight && weight.requiresGrad) {
      dw = out(weight.shape, "float32", "rmsNorm backward");
      be.kernels.fill_f32({ y: dw.ptr, n: cols, value: 0 });
      be.kernels.rmsnorm_param_grad_f32({ x: x.ptr, dy: g.ptr, rstd: rstd.ptr, dweight: dw.ptr, rows, cols });
    }
    return weight ? [dx, dw] : [dx];
  }, [rstd]);
}
