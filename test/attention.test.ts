// Attention kernels (assembly/attention.ts) against a float64 reference that
// materialises softmax(scale·QKᵀ + mask)·V and its textbook backward.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, loadKernels, randomF32, assertClose, variantSupported, type KernelBox } from "./harness.js";

interface Case {
  BH: number; Sq: number; Sk: number; D: number; scale: number; causal: boolean;
  q: Float32Array; k: Float32Array; v: Float32Array; dO: Float32Array;
}

interface Result { o: Float64Array | Float32Array; lse: Float64Array | Float32Array; dq: ArrayLike<number>; dk: ArrayLike<number>; dv: ArrayLike<number> }

function makeCase(BH: number, Sq: number, Sk: number, D: number, causal: boolean, seed: number, amp = 1, scale = 1 / Math.sqrt(D)): Case {
  const mul = (x: Float32Array) => (amp === 1 ? x : x.map((t) => t * amp));
  return {
    BH, Sq, Sk, D, scale, causal,
    q: mul(randomF32(BH * Sq * D, seed)), k: mul(randomF32(BH * Sk * D, seed + 1)),
    v: randomF32(BH * Sk * D, seed + 2), dO: randomF32(BH * Sq * D, seed + 3),
  };
}

/** Float64 reference: the full Sq×Sk probability matrix per head. Rows that see no key give o = 0, lse = -inf, zero grads. */
function reference(c: Case, inputs: { q: ArrayLike<number>; k: ArrayLike<number>; v: ArrayLike<number> } = c) {
  const { BH, Sq, Sk, D, scale, causal } = c;
  const { q, k, v } = inputs;
  const dO = c.dO;
  const o = new Float64Array(BH * Sq * D), lse = new Float64Array(BH * Sq);
  const dq = new Float64Array(BH * Sq * D), dk = new Float64Array(BH * Sk * D), dv = new Float64Array(BH * Sk * D);
  const off = Sk - Sq;
  const P = new Float64Array(Sq * Sk), dP = new Float64Array(Sq * Sk);
  for (let h = 0; h < BH; h++) {
    const qo = h * Sq * D, ko = h * Sk * D;
    for (let i = 0; i < Sq; i++) {
      let m = -Infinity;
      for (let j = 0; j < Sk; j++) {
        let s = -Infinity;
        if (!causal || j <= i + off) {
          s = 0;
          for (let d = 0; d < D; d++) s += q[qo + i * D + d] * k[ko + j * D + d];
          s *= scale;
        }
        P[i * Sk + j] = s;
        m = Math.max(m, s);
      }
      if (m === -Infinity) {
        for (let j = 0; j < Sk; j++) P[i * Sk + j] = 0;
        lse[h * Sq + i] = -Infinity;
        continue;
      }
      let l = 0;
      for (let j = 0; j < Sk; j++) l += (P[i * Sk + j] = Math.exp(P[i * Sk + j] - m));
      for (let j = 0; j < Sk; j++) P[i * Sk + j] /= l;
      lse[h * Sq + i] = m + Math.log(l);
      for (let j = 0; j < Sk; j++) {
        const p = P[i * Sk + j];
        for (let d = 0; d < D; d++) o[qo + i * D + d] += p * v[ko + j * D + d];
      }
    }
    // Backward: dV = Pᵀ dO, dP = dO Vᵀ, dS = P∘(dP − rowsum(P∘dP)), dQ = scale·dS K, dK = scale·dSᵀ Q.
    for (let i = 0; i < Sq; i++) {
      let di = 0;
      for (let j = 0; j < Sk; j++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += dO[qo + i * D + d] * v[ko + j * D + d];
        dP[i * Sk + j] = s;
        di += s * P[i * Sk + j];
      }
      for (let j = 0; j < Sk; j++) {
        const p = P[i * Sk + j];
        if (p === 0) continue;
        const ds = scale * p * (dP[i * Sk + j] - di);
        for (let d = 0; d < D; d++) {
          dv[ko + j * D + d] += p * dO[qo + i * D + d];
          dq[qo + i * D + d] += ds * k[ko + j * D + d];
          dk[ko + j * D + d] += ds * q[qo + i * D + d];
        }
      }
    }
  }
  return { o, lse, dq, dk, dv };
}

/** Runs forward and backward on the kernel, with NaN-filled scratch and outputs (nothing may be read before written). */
function runKernel(box: KernelBox, c: Case) {
  const { BH, Sq, Sk, D, scale, causal } = c;
  box.reset();
  const q = box.putF32(c.q), k = box.putF32(c.k), v = box.putF32(c.v), dO = box.putF32(c.dO);
  const nanBuf = (n: number) => { const p = box.alloc(n * 4); box.f32(p, n).fill(NaN); return p; };
  const o = nanBuf(BH * Sq * D), lse = nanBuf(BH * Sq);
  const dq = nanBuf(BH * Sq * D), dk = nanBuf(BH * Sk * D), dv = nanBuf(BH * Sk * D);
  const s1 = box.k.attention_scratch_bytes(Sq, Sk, D), s2 = box.k.attention_backward_scratch_bytes(Sq, Sk, D);
  const sc = nanBuf(Math.ceil(Math.max(s1, s2) / 4));
  box.k.attention_f32(q, k, v, o, lse, BH, Sq, Sk, D, scale, causal ? 1 : 0, sc);
  box.f32(sc, Math.ceil(Math.max(s1, s2) / 4)).fill(NaN);
  box.k.attention_backward_f32(q, k, v, o, lse, dO, dq, dk, dv, BH, Sq, Sk, D, scale, causal ? 1 : 0, sc);
  const get = (p: number, n: number) => box.f32(p, n).slice();
  return {
    o: get(o, BH * Sq * D), lse: get(lse, BH * Sq),
    dq: get(dq, BH * Sq * D), dk: get(dk, BH * Sk * D), dv: get(dv, BH * Sk * D),
  };
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Compares every output; atol is relative to the largest expected magnitude of that output. */
function compare(got: Result, want: Result, label: string, rtol = 2e-4, rel = 2e-5): void {
  for (const key of ["o", "lse", "dq", "dk", "dv"] as const) {
    // assertClose treats -inf (the lse of a row that sees no key) as a mismatch: check those by identity.
    const g = Array.from(got[key]), w = Array.from(want[key]);
    for (let i = 0; i < w.length; i++) {
      if (w[i] === -Infinity) {
        assert.is(g[i], -Infinity, `${label} ${key}: element ${i} should be -inf`);
        g[i] = w[i] = 0;
      }
    }
    assertClose(g, w, { rtol, atol: rel * Math.max(1, maxAbs(w)), what: `${label} ${key}` });
  }
}

function boxFor(variant: "simd" | "relaxed"): KernelBox {
  if (!variantSupported(variant)) {
    assert.unreachable(`variant ${variant} does not validate: run node with --experimental-wasm-relaxed-simd`);
  }
  return loadKernels(variant);
}

const SIZES = [1, 2, 5, 31, 32, 33, 64, 65, 100];
const DS = [1, 3, 4, 5, 8, 16, 17, 64];

for (const variant of KERNEL_VARIANTS.filter((v) => !v.endsWith("threads")) as ("simd" | "relaxed")[]) {
  test(`attention ${variant}: every D × Sq × Sk, causal on and off, BH 1–3`, () => {
    const box = boxFor(variant);
    let n = 0;
    for (const D of DS) for (const Sq of SIZES) for (const Sk of SIZES) for (const causal of [false, true]) {
      const BH = 1 + (n % 3);
      const c = makeCase(BH, Sq, Sk, D, causal, 100 + n);
      compare(runKernel(box, c), reference(c), `BH=${BH} Sq=${Sq} Sk=${Sk} D=${D} causal=${causal}`);
      n++;
    }
  });

  test(`attention ${variant}: every D on block-edge shapes`, () => {
    const box = boxFor(variant);
    const shapes: [number, number][] = [[33, 65], [65, 33], [64, 64], [1, 100], [100, 1], [17, 17]];
    let n = 0;
    for (const D of DS) for (const [Sq, Sk] of shapes) for (const causal of [false, true]) {
      const c = makeCase(2, Sq, Sk, D, causal, 900 + n++);
      compare(runKernel(box, c), reference(c), `Sq=${Sq} Sk=${Sk} D=${D} causal=${causal}`);
    }
  });

  test(`attention ${variant}: large scores (scale·qk ≈ ±50) stay finite and accurate`, () => {
    const box = boxFor(variant);
    for (const causal of [false, true]) {
      // q, k in [-6, 6): dot products over D = 16 have std ≈ 48.
      const c = makeCase(2, 37, 70, 16, causal, 4242, 6, 1);
      const got = runKernel(box, c), want = reference(c);
      for (const key of ["o", "lse", "dq", "dk", "dv"] as const) {
        assert.ok(got[key].every((x) => Number.isFinite(x)), `${key} has a non-finite value`);
      }
      assert.ok(maxAbs(want.lse) > 40, "the case really has large scores");
      compare(got, want, `large causal=${causal}`, 1e-3, 1e-4);
    }
  });

  test(`attention ${variant}: causal rows that see no key (Sq > Sk) give o = 0, lse = -inf, zero grads`, () => {
    const box = boxFor(variant);
    const c = makeCase(1, 9, 4, 8, true, 77);
    const got = runKernel(box, c);
    for (let i = 0; i < 5; i++) {
      assert.is(got.lse[i], -Infinity);
      for (let d = 0; d < 8; d++) {
        assert.is(got.o[i * 8 + d], 0);
        assert.is(got.dq[i * 8 + d], 0);
      }
    }
    assert.ok(Number.isFinite(got.lse[5]));
  });

  test(`attention ${variant}: splitting BH into two calls gives the same bits`, () => {
    const box = boxFor(variant);
    for (const causal of [false, true]) {
      const BH = 3, Sq = 33, Sk = 70, D = 20;
      const c = makeCase(BH, Sq, Sk, D, causal, 555);
      const whole = runKernel(box, c);
      // Heads [0, 1) and [1, 3) as two calls with offset pointers into the same buffers.
      box.reset();
      const q = box.putF32(c.q), k = box.putF32(c.k), v = box.putF32(c.v), dO = box.putF32(c.dO);
      const o = box.alloc(BH * Sq * D * 4), lse = box.alloc(BH * Sq * 4);
      const dq = box.alloc(BH * Sq * D * 4), dk = box.alloc(BH * Sk * D * 4), dv = box.alloc(BH * Sk * D * 4);
      const sc = box.alloc(Math.max(box.k.attention_scratch_bytes(Sq, Sk, D), box.k.attention_backward_scratch_bytes(Sq, Sk, D)));
      for (const [h0, nh] of [[0, 1], [1, 2]]) {
        const qo = h0 * Sq * D * 4, ko = h0 * Sk * D * 4, lo = h0 * Sq * 4;
        box.k.attention_f32(q + qo, k + ko, v + ko, o + qo, lse + lo, nh, Sq, Sk, D, c.scale, causal ? 1 : 0, sc);
        box.k.attention_backward_f32(q + qo, k + ko, v + ko, o + qo, lse + lo, dO + qo, dq + qo, dk + ko, dv + ko,
          nh, Sq, Sk, D, c.scale, causal ? 1 : 0, sc);
      }
      const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));
      const split = {
        o: box.f32(o, BH * Sq * D).slice(), lse: box.f32(lse, BH * Sq).slice(),
        dq: box.f32(dq, BH * Sq * D).slice(), dk: box.f32(dk, BH * Sk * D).slice(), dv: box.f32(dv, BH * Sk * D).slice(),
      };
      for (const key of ["o", "lse", "dq", "dk", "dv"] as const) {
        assert.equal(bits(split[key]), bits(whole[key]), `${key} differs (causal=${causal})`);
      }
    }
  });
}

test("attention: the reference backward matches finite differences, and so does the kernel", () => {
  const box = boxFor("simd");
  for (const causal of [false, true]) {
    const c = makeCase(2, 5, 7, 3, causal, 31);
    const loss = (inp: { q: ArrayLike<number>; k: ArrayLike<number>; v: ArrayLike<number> }) => {
      const o = reference(c, inp).o;
      let s = 0;
      for (let i = 0; i < o.length; i++) s += o[i] * c.dO[i];
      return s;
    };
    const base = { q: Float64Array.from(c.q), k: Float64Array.from(c.k), v: Float64Array.from(c.v) };
    const want = reference(c, base);
    const got = runKernel(box, c);
    const h = 1e-6;
    for (const [name, grad] of [["q", "dq"], ["k", "dk"], ["v", "dv"]] as const) {
      const x = base[name];
      const fd = new Float64Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const x0 = x[i];
        x[i] = x0 + h; const up = loss(base);
        x[i] = x0 - h; const dn = loss(base);
        x[i] = x0;
        fd[i] = (up - dn) / (2 * h);
      }
      assertClose(want[grad], fd, { rtol: 1e-6, atol: 1e-8, what: `reference ${grad} vs finite differences, causal=${causal}` });
      assertClose(got[grad], fd, { rtol: 2e-4, atol: 2e-5, what: `kernel ${grad} vs finite differences, causal=${causal}` });
    }
  }
});

test.run();
