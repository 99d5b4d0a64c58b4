// A preallocated KV cache for decoding (Llama-family models): one [B, Hkv, maxS, D]
// buffer for keys and one for values per layer, allocated once. A decode step
// writes its new rows in place (kvCacheWrite) and attention reads the first
// `length` rows of each head where they lie (cachedAttention, grouped-query
// attention with the kv heads never repeated), so a step moves O(T) rows, not
// the O(S) that concatenating the cache costs (O(S²) over a generation).
// Kernels: kv_append_f32 and attention_f32 (its kvStride and group arguments).

import { Tensor } from "../tensor.js";
import { zeros } from "../ops/creation.js";
import { kvCacheWrite, cachedAttention } from "../ops/attention.js";

/**
 * Keys and values of every layer for up to `maxSeq` positions, preallocated.
 * Per decoding step (under wg.noGrad()), for each layer l: `append(l, k, v)`
 * with this step's k, v [B, Hkv, T, D] (after RoPE), then `attend(l, q)` with
 * q [B, Hq, T, D] → [B, Hq, T, D]; Hq a multiple of Hkv. Each layer keeps its own
 * count, so `attend(l, …)` sees the rows `append(l, …)` wrote; `length` is the
 * count every layer has (read it before a step for the new tokens' positions).
 *
 * @example
 * const cache = new StaticKVCache(2, 1, 1, 16, 4);
 * const q = wg.randn([1, 2, 3, 4], { seed: 1 }), k = wg.randn([1, 1, 3, 4], { seed: 2 });
 * for (let l = 0; l < 2; l++) cache.append(l, k, k);
 * cache.length; // 3
 * cache.attend(0, q, { causal: true }).shape; // [1, 2, 3, 4]
 * cache.dispose();
 */
export class StaticKVCache {
  /** Per layer: keys and values [B, Hkv, maxSeq, D] (rows past the layer's length are stale). */
  readonly keys: Tensor[];
  readonly values: Tensor[];
  private readonly filled: number[];

  constructor(readonly nLayer: number, readonly batch: number, readonly kvHeads: number, readonly maxSeq: number, readonly headDim: number) {
    for (const [n, v] of Object.entries({ nLayer, batch, kvHeads, maxSeq, headDim })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`StaticKVCache: ${n} must be a positive integer, got ${v}`);
    }
    const shape = [batch, kvHeads, maxSeq, headDim];
    this.keys = Array.from({ length: nLayer }, () => zeros(shape).keep());
    this.values = Array.from({ length: nLayer }, () => zeros(shape).keep());
    this.filled = new Array(nLayer).fill(0);
  }

  /** Positions every layer holds (0 after construction or reset()). */
  get length(): number {
    return Math.min(...this.filled);
  }

  /** Positions layer `layer` holds. */
  layerLength(layer: number): number {
    return this.filled[this.check(layer)];
  }

  /**
   * Writes this step's k, v [B, Hkv, T, D] of layer `layer` after its cached rows
   * (an error past maxSeq).
   *
   * @example
   * const cache = new StaticKVCache(1, 1, 2, 8, 4);
   * cache.append(0, wg.ones([1, 2, 3, 4]), wg.ones([1, 2, 3, 4]));
   * cache.layerLength(0); // 3
   */
  append(layer: number, k: Tensor, v: Tensor): void {
    const l = this.check(layer);
    const want = `[${this.batch}, ${this.kvHeads}, T, ${this.headDim}]`;
    for (const [t, n] of [[k, "k"], [v, "v"]] as const) {
      if (t.rank !== 4 || t.shape[0] !== this.batch || t.shape[1] !== this.kvHeads || t.shape[3] !== this.headDim) {
        throw new Error(`StaticKVCache.append: ${n} [${t.shape}] must be ${want}`);
      }
    }
    if (k.shape[2] !== v.shape[2]) throw new Error(`StaticKVCache.append: k has ${k.shape[2]} positions, v ${v.shape[2]}`);
    const T = k.shape[2], pos = this.filled[l];
    if (pos + T > this.maxSeq) {
      throw new Error(`StaticKVCache.append: ${pos} cached + ${T} new positions exceed maxSeq ${this.maxSeq}; make the cache larger or start over with reset()`);
    }
    kvCacheWrite(this.keys[l], k, pos);
    kvCacheWrite(this.values[l], v, pos);
    this.filled[l] = pos + T;
  }

  /**
   * Attention of q [B, Hq, T, D] over layer `layer`'s cached rows (append this
   * step's first); causal aligns the T queries with the last T rows.
   *
   * @example
   * const cache = new StaticKVCache(1, 1, 1, 8, 4);
   * const k = wg.randn([1, 1, 2, 4], { seed: 1 });
   * cache.append(0, k, k);
   * cache.attend(0, wg.randn([1, 3, 1, 4], { seed: 2 })).shape; // [1, 3, 1, 4]
   */
  attend(layer: number, q: Tensor, opts: { causal?: boolean; scale?: number } = {}): Tensor {
    const l = this.check(layer);
    if (this.filled[l] === 0) throw new Error(`StaticKVCache.attend: layer ${l} holds no positions yet; append() this step's k and v first`);
    return cachedAttention(q, this.keys[l], this.values[l], this.filled[l], opts);
  }

  /** Forgets every position (the buffers stay allocated). */
  reset(): void {
    this.filled.fill(0);
  }

  /** Frees the buffers; the cache cannot be used afterwards. */
  dispose(): void {
    for (const t of [...this.keys, ...this.values]) t.dispose();
    this.filled.fill(0);
  }

  private check(layer: number): number {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.nLayer) throw new Error(`StaticKVCache: layer ${layer} is out of range for ${this.nLayer} layers`);
    return layer;
  }
}
