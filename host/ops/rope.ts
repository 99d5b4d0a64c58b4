// Rotary position embeddings (RoPE) in Hugging Face's "rotate half" layout:
// the first and second halves of each head's D features are the pairs rotated
// together, as LlamaForCausalLM and its relatives compute them.
// Composite for now; the fused kernel lands with issue 17's kernels (assembly/rope.ts).

import { Tensor, requireFloat, shapeStr } from "./util.js";
import { add, mul, neg } from "./elementwise.js";
import { cat, slice } from "./shape.js";

/**
 * Rotates x [..., S, D] by the angles whose cosines and sines are cos, sin
 * [S, D/2] (position s, frequency i): out = x·cos + rotate_half(x)·sin, with
 * cos and sin repeated over both halves, as transformers'
 * apply_rotary_pos_emb does.
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
  }
  const last = x.rank - 1;
  const x1 = slice(x, last, 0, D / 2), x2 = slice(x, last, D / 2);
  const c = cat([cos, cos], 1), s = cat([sin, sin], 1);
  return add(mul(x, c), mul(cat([neg(x2), x1], last), s));
}
