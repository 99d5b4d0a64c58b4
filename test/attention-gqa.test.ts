// Grouped-query attention and the KV cache (assembly/attention.ts's group and kvStride,
// kv_append_f32; host/ops/attention.ts; host/models/kv-cache.ts) against a float64
// reference that repeats each kv head for its group and materialises the softmax;
// dk and dv are the group's sums. Sk 1..70 and D 8..128 hit every key block and SIMD tail.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, kernels, randomF32, assertClose, variantSupported } from "./harness.js";
import * as wg from "../host/index.js";

/** Float64 attention of q [BH, Sq, D] over kv heads bh / group, rows kvStride apart; dk, dv summed per kv head. */
function reference(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dO: ArrayLike<number>,
                   BH: number, G: number, Sq: number, Sk: number, KS: number, D: number, scale: number, causal: boolean) {
  const o = new Float64Array(BH * Sq * D), dq = new Float64Array(BH * Sq * D);
  const dk = new Float64Array((BH / G) * Sk * D), dv = new Float64Array((BH / G) * Sk * D);
  const off = Sk - Sq;
  for (let h = 0; h < BH; h++) {
    const kh = Math.floor(h / G), ko = kh * KS * D, go = kh * Sk * D, qo = h * Sq * D;
    for (let i = 0; i < Sq; i++) {
      const s = new Float64Array(Sk).fill(-Infinity);
      let m = -Infinity;
      for (let j = 0; j < Sk; j++) {
        if (causal && j > i + off) continue;
        let t = 0;
        for (let d = 0; d < D; d++) t += q[qo + i * D + d] * k[ko + j * D + d];
        s[j] = t * scale;
        m = Math.max(m, s[j]);
      }
      if (m === -Infinity) continue;
      let l = 0;
      const p = s.map((x) => (x === -Infinity ? 0 : Math.exp(x - m)));
      for (const x of p) l += x;
      for (let j = 0; j < Sk; j++) p[j] /= l;
      const dP = new Float64Array(Sk);
      let di = 0;
      for (let j = 0; j < Sk; j++) {
        for (let d = 0; d < D; d++) {
          o[qo + i * D + d] += p[j] * v[ko + j * D + d];
          dP[j] += dO[qo + i * D + d] * v[ko + j * D + d];
        }
        di += p[j] * dP[j];
      }
      for (let j = 0; j < Sk; j++) {
        if (p[j] === 0) continue;
        const ds = scale * p[j] * (dP[j] - di);
        for (let d = 0; d < D; d++) {
          dq[qo + i * D + d] += ds * k[ko + j * D + d];
          dk[go + j * D + d] += ds * q[qo + i * D + d];
          dv[go + j * D + d] += p[j] * dO[qo + i * D + d];
        }
      }
    }
  }
  return { o, dq, dk, dv };
}

// [B·Hkv, group, Sq, Sk, kvStride, D, causal]: groups 1..4, Sk 1..70 (one and two key blocks,
// every 4-tail), D 8..128 with odd tails, Sq 1 (decoding) and blocks of queries, kvStride > Sk (a cache)
const CASES: number[][] = [
  [2, 1, 3, 5, 5, 8, 1], [2, 2, 1, 1, 1, 8, 1], [1, 3, 1, 7, 12, 13, 1], [3, 4, 2, 33, 40, 64, 1],
  [2, 2, 5, 70, 70, 17, 0], [1, 3, 17, 70, 80, 64, 1], [2, 4, 1, 65, 66, 128, 0], [1, 2, 20, 20, 20, 31, 1],
  [2, 3, 4, 9, 9, 9, 0], [1, 4, 33, 64, 64, 12, 1], [1, 2, 1, 69, 128, 64, 1], [3, 1, 6, 2, 2, 8, 1],
];

for (const variant of KERNEL_VARIANTS) {
  test(`${variant}: attention_f32 / attention_backward_f32 with group 1..4 and kvStride match float64`, () => {
    if (!variantSupported(variant)) return;
    const box = kernels(variant);
    for (const [BHkv, G, Sq, Sk, KS, D, causal] of CASES) {
      box.reset();
      const BH = BHkv * G, scale = 1 / Math.sqrt(D);
      const what = `${variant} BHkv${BHkv} G${G} Sq${Sq} Sk${Sk} KS${KS} D${D}${causal ? " causal" : ""}`;
      const qd = randomF32(BH * Sq * D, 1), kd = randomF32(BHkv * KS * D, 2), vd = randomF32(BHkv * KS * D, 3), gd = randomF32(BH * Sq * D, 4);
      const ref = reference(qd, kd, vd, gd, BH, G, Sq, Sk, KS, D, scale, !!causal);
      const q = box.putF32(qd), k = box.putF32(kd), v = box.putF32(vd), dO = box.putF32(gd);
      const nan = (n: number) => { const p = box.alloc(n * 4); box.f32(p, n).fill(NaN); return p; };
      const o = nan(BH * Sq * D), lse = nan(BH * Sq);
      const sc = nan(Math.ceil(Math.max(box.k.attention_scratch_bytes(Sq, Sk, D), box.k.attention_backward_scratch_bytes(Sq, Sk, D)) / 4));
      box.k.attention_f32(q, k, v, o, lse, BH, Sq, Sk, D, scale, causal, sc, G, KS);
      assertClose(box.f32(o, BH * Sq * D), ref.o, { rtol: 1e-4, atol: 2e-5, what: `${what} o` });
      if (KS !== Sk) continue; // the backward reads contiguous k, v (training keeps no cache)
      const dq = nan(BH * Sq * D), dk = nan(BHkv * Sk * D), dv = nan(BHkv * Sk * D);
      box.k.attention_backward_f32(q, k, v, o, lse, dO, dq, dk, dv, BH, Sq, Sk, D, scale, causal, sc, G);
      assertClose(box.f32(dq, BH * Sq * D), ref.dq, { rtol: 1e-3, atol: 5e-5, what: `${what} dq` });
      assertClose(box.f32(dk, BHkv * Sk * D), ref.dk, { rtol: 1e-3, atol: 5e-5, what: `${what} dk` });
      assertClose(box.f32(dv, BHkv * Sk * D), ref.dv, { rtol: 1e-3, atol: 5e-5, what: `${what} dv` });
    }
  });
}

test("kv_append_f32 writes rows [pos, pos + T) of each head and nothing else", () => {
  const box = kernels("simd");
  const BH = 3, T = 2, D = 5, maxS = 7, pos = 4;
  const x = box.putF32(randomF32(BH * T * D, 9));
  const cache = box.alloc(BH * maxS * D * 4);
  box.f32(cache, BH * maxS * D).fill(-7);
  box.k.kv_append_f32(x, cache, BH, T, D, maxS, pos);
  const c = box.f32(cache, BH * maxS * D), xv = box.f32(x, BH * T * D);
  for (let h = 0; h < BH; h++) for (let s = 0; s < maxS; s++) for (let d = 0; d < D; d++) {
    const want = s >= pos && s < pos + T ? xv[(h * T + s - pos) * D + d] : -7;
    assert.is(c[(h * maxS + s) * D + d], want, `head ${h} row ${s} col ${d}`);
  }
});

test("scaledDotProductAttention with enableGqa: k, v unrepeated, gradients summed over each group", async () => {
  await wg.init({ threads: 1, verbose: false });
  for (const [B, Hkv, G, Sq, Sk, D] of [[2, 3, 3, 4, 6, 8], [1, 2, 2, 1, 9, 16], [1, 1, 4, 5, 5, 12]]) {
    wg.scope(() => {
      const Hq = Hkv * G;
      const q = wg.tensor(randomF32(B * Hq * Sq * D, 1), { shape: [B, Hq, Sq, D], requiresGrad: true });
      const k = wg.tensor(randomF32(B * Hkv * Sk * D, 2), { shape: [B, Hkv, Sk, D], requiresGrad: true });
      const v = wg.tensor(randomF32(B * Hkv * Sk * D, 3), { shape: [B, Hkv, Sk, D], requiresGrad: true });
      const g = randomF32(B * Hq * Sq * D, 4);
      const o = wg.scaledDotProductAttention(q, k, v, { causal: true, enableGqa: true });
      o.mul(wg.tensor(g, { shape: [...o.shape] })).sum().backward();
      const ref = reference(q.dataSync(), k.dataSync(), v.dataSync(), g, B * Hq, G, Sq, Sk, Sk, D, 1 / Math.sqrt(D), true);
      const what = `B${B} Hkv${Hkv} G${G} Sq${Sq} Sk${Sk} D${D}`;
      assertClose(o.dataSync(), ref.o, { rtol: 1e-4, atol: 2e-5, what: `${what} o` });
      assertClose(q.grad!.dataSync(), ref.dq, { rtol: 1e-3, atol: 5e-5, what: `${what} dq` });
      assertClose(k.grad!.dataSync(), ref.dk, { rtol: 1e-3, atol: 5e-5, what: `${what} dk` });
      assertClose(v.grad!.dataSync(), ref.dv, { rtol: 1e-3, atol: 5e-5, what: `${what} dv` });
    });
  }
  const q = wg.zeros([1, 4, 2, 8]), k = wg.zeros([1, 3, 2, 8]);
  assert.throws(() => wg.scaledDotProductAttention(q, k, k, { enableGqa: true }), /multiple of k's and v's \(3, 3\)/);
  assert.throws(() => wg.scaledDotProductAttention(q, wg.zeros([1, 2, 2, 8]), wg.zeros([1, 2, 2, 8])), /pass enableGqa: true/);
});

test("StaticKVCache: a prefill then decode steps match attention over the concatenated keys, with no copy of the cache", async () => {
  await wg.init({ threads: 1, verbose: false });
  const B = 1, Hkv = 3, G = 3, D = 64, maxS = 40, nLayer = 2;
  const cache = new wg.models.StaticKVCache(nLayer, B, Hkv, maxS, D);
  let allK: wg.Tensor[] = [], allV: wg.Tensor[] = [];
  wg.noGrad(() => {
    for (const [step, T] of [[0, 7], [1, 1], [2, 1], [3, 3], [4, 1]]) {
      const k = wg.tensor(randomF32(B * Hkv * T * D, 10 + step), { shape: [B, Hkv, T, D] }).keep();
      const v = wg.tensor(randomF32(B * Hkv * T * D, 20 + step), { shape: [B, Hkv, T, D] }).keep();
      const q = wg.tensor(randomF32(B * Hkv * G * T * D, 30 + step), { shape: [B, Hkv * G, T, D] });
      allK.push(k); allV.push(v);
      for (let l = 0; l < nLayer; l++) cache.append(l, k, v);
      const got = cache.attend(1, q, { causal: true });
      const K = wg.cat(allK, 2), V = wg.cat(allV, 2);
      const want = wg.scaledDotProductAttention(q, K, V, { causal: true, enableGqa: true });
      assertClose(got.dataSync(), want.dataSync(), { rtol: 1e-5, atol: 1e-6, what: `step ${step}` });
      assert.is(cache.length, K.shape[2]);
    }
  });
  assert.throws(() => cache.append(0, wg.zeros([1, 3, 30, 64]), wg.zeros([1, 3, 30, 64])), /exceed maxSeq 40/);
  assert.throws(() => cache.append(0, wg.zeros([1, 2, 1, 64]), wg.zeros([1, 2, 1, 64])), /must be \[1, 3, T, 64\]/);
  cache.reset();
  assert.is(cache.length, 0);
  assert.throws(() => cache.attend(0, wg.zeros([1, 9, 1, 64])), /holds no positions yet/);
  cache.dispose();
  for (const t of [...allK, ...allV]) t.dispose();
});

test.run();
