// Rotary position embeddings (RoPE) in Hugging Face's "rotate half" layout:
// the first and second halves of each head's D features are the pairs rotated
// together, as LlamaForCausalLM and its relatives compute them. Kernel:
// assembly/rope.ts (one kernel both ways: the backward of a rotation is the
// rotation by the opposite angle).

import { record, isGradEnabled } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr } from "./util.js";
import { add, mul, neg } from "./elementwise.js";
import { cat, slice } from "./shape.js";

/**
 * Rotates x [..., S, D] by the angles whose cosines and sines are cos, sin
 * [S, D/2] (position s, frequency i): out = x·cos + rotate_half(x)·sin, with
 * cos and sin repeated over both halves, as transformers'
 * apply_rotary_pos_emb does. The gradient flows to x; cos and sin are
 * normally constants (a table of positions), and when one of them does
 * require a gradient the op is computed from differentiable pieces instead,
 * so that gradient flows too (slower, same values).
 * @example
 * const x = wg.tensor([[[1, 0]]]), c = wg.tensor([[0]]), s = wg.tensor([[1]]);
 * wg.rope(x, c, s).toArray(); // [[[0, 1]]]
 */
export function rope(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  requireFloat(x, "rope");
  if (x.rank < 2) throw new Error(`rope: x must be [..., S, D], got ${shapeStr(x.shape)}`);
  const S = x.shape[x.rank - 2], D = x.shape[x.rank - 1];
  if (D % 2) throw new Error(`rope: the head size D = ${D} must be even`);
  for (const [t, n] of [[cos, "cos"], [sin, "sin"]] as const) {
    if (t.rank !== 2 || t.shape[0] !== S || t.shape[1] !== D / 2) throw new Error(`rope: ${n} must be [S, D/2] = [${S}, ${D / 2}], got ${shapeStr(t.shape)}`);
    requireFloat(t, "rope");
  }
  if (isGradEnabled() && (cos.requiresGrad || sin.requiresGrad)) return ropeComposite(x, cos, sin);
  const rows = S * D ? x.size / (S * D) : 0;
  const K = backend().kernels;
  const y = out(x.shape, "float32", "rope");
  K.rope_f32({ x: x.ptr, cos: cos.ptr, sin: sin.ptr, y: y.ptr, rows, S, D, sign: 1 });
  // cos and sin are inputs so the tape keeps them alive for the backward (their gradient: none)
  return record(y, "rope", [x, cos, sin], (g) => {
    const dx = out(x.shape, "float32", "rope backward");
    K.rope_f32({ x: g.ptr, cos: cos.ptr, sin: sin.ptr, y: dx.ptr, rows, S, D, sign: -1 });
    return [dx, null, null];
  });
}

/** rope from slices, cat and products: differentiable in cos and sin as well. */
function ropeComposite(x: Tensor, cos: Tensor, sin: Tensor): Tensor {
  const last = x.rank - 1, D = x.shape[last];
  const x1 = slice(x, last, 0, D / 2), x2 = slice(x, last, D / 2);
  const c = cat([cos, cos], 1), s = cat([sin, sin], 1);
  return add(mul(x, c), mul(cat([neg(x2), x1], last), s));
}
