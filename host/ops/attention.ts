// Scaled dot-product attention, flash-style: the kernels never build the
// Sq×Sk score matrix; they keep a log-sum-exp per query row for backward.
// Kernels: assembly/attention.ts. Work splits over batch·heads.

import { record } from "../tape.js";
import { backend, out, Tensor, requireFloat, shapeStr, scratch, sizeOf, checkOptions, checkBool, checkNumber } from "./util.js";
import { splitRange } from "../backends/threads.js";

export interface AttentionOptions {
  /** Mask keys after each query (aligned bottom-right when Sk > Sq, as a KV cache needs). */
  causal?: boolean;
  /** Score scale (default 1/√D). */
  scale?: number;
}

/** Calls `kernel` over BH split into one range per thread, each with its own scratch. */
function splitHeads(kernel: string, BH: number, perCall: number, flops: number, args: (s: number, e: number, scratchPtr: number) => number[]): void {
  const be = backend();
  const t = flops < 1 << 18 ? 1 : be.threads;
  const ranges = splitRange(BH, t);
  const per = perCall + 64;
  const base = scratch(per * ranges.length);
  if (ranges.length <= 1) {
    be.k[kernel](...args(0, BH, base));
    return;
  }
  be.parallel(kernel, ranges.map(([s, e], i) => args(s, e, base + i * per)));
}

/**
 * softmax(q·kᵀ·scale + mask)·v over the last two dims; q [..., Sq, D], k and v [..., Sk, D].
 *
 * @example
 * const q = wg.randn([1, 2, 4, 8], { seed: 1 });
 * wg.scaledDotProductAttention(q, q, q, { causal: true }).shape; // [1, 2, 4, 8]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  checkOptions("scaledDotProductAttention", opts, ["causal", "scale"]);
  checkBool("scaledDotProductAttention", "causal", opts.causal);
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
  const K = backend().k;
  const o = out(q.shape, "float32", "attention");
  const lse = out([BH, Sq], "float32", "attention lse");
  const qs = Sq * D * 4, ks = Sk * D * 4;
  const flops = 4 * BH * Sq * Sk * D;
  splitHeads("attention_f32", BH, K.attention_scratch_bytes(Sq, Sk, D), flops, (s, e, sc) =>
    [q.ptr + s * qs, k.ptr + s * ks, v.ptr + s * ks, o.ptr + s * qs, lse.ptr + s * Sq * 4, e - s, Sq, Sk, D, scale, causal, sc]);
  return record(o, "attention", [q, k, v], (g) => {
    const dq = out(q.shape, "float32", "attention backward");
    const dk = out(k.shape, "float32", "attention backward");
    const dv = out(v.shape, "float32", "attention backward");
    splitHeads("attention_backward_f32", BH, K.attention_backward_scratch_bytes(Sq, Sk, D), flops * 2, (s, e, sc) =>
      [q.ptr + s * qs, k.ptr + s * ks, v.ptr + s * ks, o.ptr + s * qs, lse.ptr + s * Sq * 4, g.ptr + s * qs,
       dq.ptr + s * qs, dk.ptr + s * ks, dv.ptr + s * ks, e - s, Sq, Sk, D, scale, causal, sc]);
    return [dq, dk, dv];
  }, [lse]);
}
