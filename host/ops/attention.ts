// Scaled dot-product attention, flash-style: the kernels never build the
// Sq×Sk score matrix; they keep a log-sum-exp per query row for backward.
// Kernels: assembly/attention.ts (the wasm backend splits batch·heads over threads).

import { record, isGradEnabled } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, sizeOf, checkOptions, checkBool, checkNumber } from "./util.js";

export interface AttentionOptions {
  /** Mask keys after each query (aligned bottom-right when Sk > Sq, as a KV cache needs). */
  causal?: boolean;
  /** Score scale (default 1/√D). */
  scale?: number;
  /**
   * Grouped-query attention, as PyTorch's enable_gqa: k and v have Hkv heads
   * (dim −3) where q has Hq, a multiple of Hkv; query head h reads kv head
   * ⌊h·Hkv/Hq⌋ (in place: the kernels take the group size, nothing is repeated).
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
  if (opts.scale !== undefined) checkNumber("scaledDotProductAttention", "scale", opts.scale);
  for (const [t, n] of [[q, "q"], [k, "k"], [v, "v"]] as const) {
    requireFloat(t, "attention");
    if (t.rank < 2) throw new Error(`attention: ${n} must be [..., S, D], got ${shapeStr(t.shape)}`);
  }
  // grouped-query attention: k and v keep their Hkv heads (never repeated); the kernels read
  // kv head ⌊h / group⌋ for query head h and the backward sums dk, dv over each group
  let group = 1;
  if (opts.enableGqa && q.rank >= 3 && k.rank === q.rank && v.rank === q.rank) {
    const Hq = q.shape[q.rank - 3], Hkv = k.shape[k.rank - 3];
    if (Hkv !== Hq) {
      if (Hkv < 1 || Hq % Hkv || v.shape[v.rank - 3] !== Hkv) {
        throw new Error(`attention: enableGqa needs q's heads (${Hq}) to be a multiple of k's and v's (${Hkv}, ${v.shape[v.rank - 3]})`);
      }
      group = Hq / Hkv;
    }
  }
  const lead = q.shape.slice(0, -2);
  const kvLead = group === 1 ? lead : [...lead.slice(0, -1), lead[lead.length - 1] / group];
  const Sq = q.shape[q.rank - 2], D = q.shape[q.rank - 1];
  const Sk = k.shape[k.rank - 2];
  if (k.shape.slice(0, -2).join() !== kvLead.join() || v.shape.slice(0, -2).join() !== kvLead.join() ||
      k.shape[k.rank - 1] !== D || v.shape[v.rank - 1] !== D || v.shape[v.rank - 2] !== Sk) {
    throw new Error(`attention: q ${shapeStr(q.shape)}, k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not fit (need [..., Sq, D], [..., Sk, D], [..., Sk, D]` +
      (opts.enableGqa ? ", k and v with Hq / group heads at dim -3)" : "; for fewer kv heads than query heads pass enableGqa: true)"));
  }
  const BH = sizeOf(lead);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const causal = opts.causal ? 1 : 0;
  const K = backend().kernels;
  const o = out(q.shape, "float32", "attention");
  const lse = out([BH, Sq], "float32", "attention lse");
  K.attention_f32({ q: q.ptr, k: k.ptr, v: v.ptr, o: o.ptr, lse: lse.ptr, BH, Sq, Sk, D, scale, causal, group, kvStride: Sk });
  return record(o, "attention", [q, k, v], (g) => {
    const dq = out(q.shape, "float32", "attention backward");
    const dk = out(k.shape, "float32", "attention backward");
    const dv = out(v.shape, "float32", "attention backward");
    K.attention_backward_f32({ q: q.ptr, k: k.ptr, v: v.ptr, o: o.ptr, lse: lse.ptr, dO: g.ptr, dq: dq.ptr, dk: dk.ptr, dv: dv.ptr, BH, Sq, Sk, D, scale, causal, group });
    return [dq, dk, dv];
  }, [lse]);
}

/**
 * Writes x [B, Hkv, T, D] into rows [pos, pos + T) of a preallocated cache
 * [B, Hkv, maxS, D] in place (no tape: decoding runs under noGrad), so a decode
 * step moves T rows per head instead of concatenating the whole cache.
 * The engine behind StaticKVCache (host/models/kv-cache.ts).
 *
 * @example
 * const cache = wg.zeros([1, 2, 8, 4]);
 * kvCacheWrite(cache, wg.ones([1, 2, 3, 4]), 5);
 * cache.sum().item(); // 24
 */
export function kvCacheWrite(cache: Tensor, x: Tensor, pos: number): void {
  requireFloat(cache, "kvCacheWrite");
  requireFloat(x, "kvCacheWrite");
  if (cache.rank !== 4 || x.rank !== 4 || x.shape[0] !== cache.shape[0] || x.shape[1] !== cache.shape[1] || x.shape[3] !== cache.shape[3]) {
    throw new Error(`kvCacheWrite: x ${shapeStr(x.shape)} does not fit the cache ${shapeStr(cache.shape)} (need x [B, Hkv, T, D] for a cache [B, Hkv, maxS, D])`);
  }
  const [B, H, maxS, D] = cache.shape, T = x.shape[2];
  if (!Number.isInteger(pos) || pos < 0 || pos + T > maxS) {
    throw new Error(`kvCacheWrite: rows [${pos}, ${pos + T}) do not fit a cache of ${maxS} positions; allocate a larger maxS`);
  }
  if (T === 0 || x.size === 0) return;
  backend().kernels.kv_append_f32({ x: x.ptr, cache: cache.ptr, BH: B * H, T, D, maxS, pos });
}

/**
 * Attention of q [B, Hq, Sq, D] over the first `length` rows of preallocated
 * caches k, v [B, Hkv, maxS, D] (Hq a multiple of Hkv: grouped-query
 * attention), read in place: nothing is copied or repeated. No gradient (the
 * cache is for decoding; training uses scaledDotProductAttention). causal aligns
 * bottom-right, so the Sq new queries are the last Sq of the `length` positions.
 *
 * @example
 * const k = wg.randn([1, 1, 8, 4], { seed: 1 }), v = wg.randn([1, 1, 8, 4], { seed: 2 });
 * const q = wg.randn([1, 2, 1, 4], { seed: 3 });
 * const a = cachedAttention(q, k, v, 5, { causal: true });
 * const b = wg.scaledDotProductAttention(q, k.slice(2, 0, 5), v.slice(2, 0, 5), { enableGqa: true });
 * a.sub(b).abs().max().item() < 1e-6; // true
 */
export function cachedAttention(q: Tensor, k: Tensor, v: Tensor, length: number, opts: { causal?: boolean; scale?: number } = {}): Tensor {
  checkOptions("cachedAttention", opts, ["causal", "scale"]);
  checkBool("cachedAttention", "causal", opts.causal);
  if (opts.scale !== undefined) checkNumber("cachedAttention", "scale", opts.scale);
  for (const [t, n] of [[q, "q"], [k, "k cache"], [v, "v cache"]] as const) {
    requireFloat(t, "cachedAttention");
    if (t.rank !== 4) throw new Error(`cachedAttention: ${n} must be [B, H, S, D], got ${shapeStr(t.shape)}`);
  }
  const [B, Hq, Sq, D] = q.shape;
  const [Bk, Hkv, maxS, Dk] = k.shape;
  if (Bk !== B || Dk !== D || v.shape.join() !== k.shape.join() || Hkv < 1 || Hq % Hkv) {
    throw new Error(`cachedAttention: q ${shapeStr(q.shape)} and caches k ${shapeStr(k.shape)}, v ${shapeStr(v.shape)} do not fit (need [B, Hq, Sq, D] and [B, Hkv, maxS, D] with Hq a multiple of Hkv)`);
  }
  if (!Number.isInteger(length) || length < 1 || length > maxS) throw new Error(`cachedAttention: length ${length} must be 1..${maxS} (the cache's positions)`);
  if (isGradEnabled() && q.requiresGrad) throw new Error("cachedAttention: no gradient flows through a KV cache; run decoding under wg.noGrad() (training uses scaledDotProductAttention)");
  const o = out(q.shape, "float32", "attention");
  const lse = out([B * Hq, Sq], "float32", "attention lse");
  backend().kernels.attention_f32({ q: q.ptr, k: k.ptr, v: v.ptr, o: o.ptr, lse: lse.ptr, BH: B * Hq, Sq, Sk: length, D,
    scale: opts.scale ?? 1 / Math.sqrt(D), causal: opts.causal ? 1 : 0, group: Hq / Hkv, kvStride: maxS });
  lse.dispose();
  return o;
}
