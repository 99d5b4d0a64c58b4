// Layer normalisation over the last dim(s). Kernels: assembly/norm.ts.

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
  be.split("layernorm_f32", rows, rows * cols * 8, (s, e) =>
    [x.ptr + s * cols * 4, wp, bp, y.ptr + s * cols * 4, mean.ptr + s * 4, rstd.ptr + s * 4, e - s, cols, eps]);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, "layerNorm", inputs, (g) => {
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = out(x.shape, "float32", "layerNorm backward");
      be.split("layernorm_backward_f32", rows, rows * cols * 8, (s, e) =>
        [x.ptr + s * cols * 4, g.ptr + s * cols * 4, wp, mean.ptr + s * 4, rstd.ptr + s * 4, dx!.ptr + s * cols * 4, e - s, cols]);
    }
    let dw: Tensor | null = null, db: Tensor | null = null;
    if ((weight && weight.requiresGrad) || (bias && bias.requiresGrad)) {
      dw = out(normalizedShape, "float32", "layerNorm backward");
      db = out(normalizedShape, "float32", "layerNorm backward");
      be.k.fill_f32(dw.ptr, cols, 0);
      be.k.fill_f32(db.ptr, cols, 0);
      be.k.layernorm_param_grad_f32(x.ptr, g.ptr, mean.ptr, rstd.ptr, dw.ptr, db.ptr, rows, cols);
    }
    return [dx, ...(weight ? [dw] : []), ...(bias ? [db] : [])];
  }, [mean, rstd]);
}
