// Scaled dot-product attention, flash-style: the kernels never build the
// Sq×Sk score matrix; they keep a log-sum-exp per query row for backward.
// Kernels: assembly/attention.ts (the wasm backend splits batch·heads over threads).

import { record } from "../tape.js";
import { expand } from "./shape.js";
import { reshape, unsqueeze } from "./view.js";
import { backend, out, Tensor, requireFloat, shapeStr, sizeOf, checkOptions, checkBool, checkNumber } from "./util.js";

export interface AttentionOptions {
  /** Mask keys after each query (aligned bottom-right when Sk > Sq, as a KV cache needs). */
  causal?: boolean;
  /** Score scale (default 1/√D). */
  scale?: number;
  /**
   * Grouped-query attention, as PyTorch's enable_gqa: k and v have Hkv heads
   * (dim −3) where q has Hq, a multiple of Hkv; query head h reads kv head
   * ⌊h·Hkv/Hq⌋.
   */
  enableGqa?: boolean;
}

/**
 * softmax(q·kᵀ·scale + mask)·v over the last two dims; q [..., Sq, D], k and v [..., Sk, D].
 *
 * @example
 * const q = wg.randn([1, 2, 4, 8], { seed: 1 });
 * wg.scaledDotProductAttention(q, q, q, { causal: true }).shape; // [1, 2, 4, 8]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  checkOptions("scaledDotProductAttention", opts, ["causal", "scale", "enableGqa"]);
  checkBool("scaledDotProductAttention", "causal", opts.causal);
  checkBool("scaledDotProductAttention", "enableGqa", opts.enableGqa);
  if (opts.enableGqa && q.rank >= 3 && k.rank === q.rank && v.rank === q.rank) {
    const Hq = q.shape[q.rank - 3], Hkv = k.shape[k.rank - 3];
    if (Hkv !== Hq) {
      if (Hkv < 1 || Hq % Hkv || v.shape[v.rank - 3] !== Hkv) {
        throw new Error(`attention: enableGqa needs q's heads (${Hq}) to be a multiple of k's and v's (${Hkv}, ${v.shape[v.rank - 3]})`);
      }
      // composite for now: each kv head repeated for its group (the GQA kernel lands with issue 17's kernels)
      const grow = (t: Tensor) => {
        const s = t.shape, r = t.rank;
        const e = expand(unsqueeze(t, r - 2), [...s.slice(0, r - 2), Hq / Hkv, ...s.slice(r - 2)]);
        return reshape(e, [...s.slice(0, r - 3), Hq, ...s.slice(r - 2)]);
      };
      return scaledDotProductAttention(q, grow(k), grow(v), { causal: opts.causal, scale: opts.scale });
    }
  }
  if (opts.scale !== undefined) checkNumber("scaledDotProductAttention", "scale", opts.scale);
  for (const [t, n] of [[q, "q"], [k, "k"], [v, "v"]] as const) {
    requireFloat(t, "attention");
    if (t.rank < 2) throw new Error(`attention: ${n} must be [..., S, D], got ${shapeStr(t.shape)}`);
  }
  const lead = q.shape.slice(0, -2);
  const Sq = q.shape[q.rank - 2], D = q.shape[q.rank - 1];
  const Sk = k.shape[k.rank - 2];
  if (k.shape.slice(0, -2).join() !== lead.join() || v.shape.slice(0, -2).join() !== lead.join() ||
      k.shape[k.rank - 1] !== D || v.shape[v.rank - 1] !== D || v.shape[v.rank - 2] !== Sk) {
    throw new Error(`attention: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not fit (need [..., Sq, D], [..., Sk, D], [..., Sk, D])`);
  }
  const BH = sizeOf(lead);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const causal = opts.causal ? 1 : 0;
  const K = backend().kernels;
  const o = out(q.shape, "float32", "attention");
  const lse = out([BH, Sq], "float32", "attention lse");
  K.attention_f32({ q: q.ptr, k: k.ptr, v: v.ptr, o: o.ptr, lse: lse.ptr, BH, Sq, Sk, D, scale, causal });
  return record(o, "attention", [q, k, v], (g) => {
    const dq = out(q.shape, "float32", "attention backward");
    const dk = out(k.shape, "float32", "attention backward");
    const dv = out(v.shape, "float32", "attention backward");
    K.attention_backward_f32({ q: q.ptr, k: k.ptr, v: v.ptr, o: o.ptr, lse: lse.ptr, dO: g.ptr, dq: dq.ptr, dk: dk.ptr, dv: dv.ptr, BH, Sq, Sk, D, scale, causal });
    return [dq, dk, dv];
  }, [lse]);
}
