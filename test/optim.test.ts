// optim.ts kernels against float64 references that follow torch.optim's
// documented algorithms, in the plain-SIMD and relaxed-SIMD binaries, over
// several steps (state carried from step to step in the kernel's own buffers):
// sgd_f32 with momentum 0 (buf pointer 0: nothing may be read or written
// there), momentum (firstStep 1 copies d into the buffer without reading it:
// the buffer starts as NaN to prove it; then firstStep 0), dampening, weight
// decay and Nesterov; adam_f32 as Adam (L2 weight decay added to the gradient)
// and AdamW (decoupled = 1: p ·= 1 − lr·wd), with bc1 = 1 − β1^t and
// bc2 = 1 − β2^t per step. n sweeps 1–1000 so every remainder of the 4-wide
// body meets the scalar tail. Buffers carry sentinels past their ends, the
// gradient is never written, and splitting the element range at the starts
// the thread pool uses (multiples of 16) gives the same bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";

const NS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100, 1000];
const STEPS = 6;
const SENTINEL = 777;

/** n floats (set to data) followed by a sentinel. */
function buf(box: KernelBox, data: ArrayLike<number>): number {
  const p = box.alloc(data.length * 4 + 16);
  box.f32(p, data.length).set(data);
  box.f32(p, data.length + 1)[data.length] = SENTINEL;
  return p;
}

function assertSentinel(box: KernelBox, p: number, n: number, what: string): void {
  assert.is(box.f32(p, n + 1)[n], SENTINEL, `${what}: wrote past the end`);
}

/** The gradient of step t (1-based): mixed signs and magnitudes, some near 0. */
const grad = (n: number, t: number) => Float32Array.from(randomF32(n, 1000 * t + n), (u, i) => (i % 5 === 0 ? 0.01 * u : u));

// ---------------------------------------------------------------------------
// float64 references: torch.optim.SGD / Adam / AdamW, one step

interface SGDCfg { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }

function sgdRef(p: Float64Array, g: ArrayLike<number>, b: Float64Array, c: SGDCfg, t: number): void {
  for (let i = 0; i < p.length; i++) {
    let d = g[i];
    if (c.weightDecay !== 0) d += c.weightDecay * p[i];
    if (c.momentum !== 0) {
      b[i] = t === 1 ? d : c.momentum * b[i] + (1 - c.dampening) * d;
      d = c.nesterov ? d + c.momentum * b[i] : b[i];
    }
    p[i] -= c.lr * d;
  }
}

interface AdamCfg { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; decoupled: boolean }

function adamRef(p: Float64Array, g: ArrayLike<number>, m: Float64Array, v: Float64Array, c: AdamCfg, t: number): void {
  const bc1 = 1 - c.beta1 ** t, bc2 = 1 - c.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    let gi = g[i];
    if (c.decoupled) p[i] *= 1 - c.lr * c.weightDecay;
    else if (c.weightDecay !== 0) gi += c.weightDecay * p[i];
    m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
    v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
    const denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + c.eps;
    p[i] -= (c.lr / bc1) * (m[i] / denom);
  }
}

const SGD_CFGS: SGDCfg[] = [
  { lr: 0.1, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0, nesterov: false },
  { lr: 0.1, momentum: 0.8, dampening: 0.1, weightDecay: 0.05, nesterov: false },
  { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: true },
  { lr: 0.2, momentum: 0.7, dampening: 0, weightDecay: 0.1, nesterov: true },
];

const ADAM_CFGS: AdamCfg[] = [
  { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
  { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: false }, // Adam, L2
  { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, decoupled: true }, // AdamW
  { lr: 0.05, beta1: 0.8, beta2: 0.95, eps: 1e-3, weightDecay: 0.3, decoupled: true },
  { lr: 0.02, beta1: 0.5, beta2: 0.9, eps: 1e-6, weightDecay: 0.2, decoupled: false },
];

const sgdName = (c: SGDCfg) => `lr ${c.lr} mom ${c.momentum} damp ${c.dampening} wd ${c.weightDecay}${c.nesterov ? " nesterov" : ""}`;
const adamName = (c: AdamCfg) => `${c.decoupled ? "AdamW" : "Adam"} lr ${c.lr} betas ${c.beta1},${c.beta2} eps ${c.eps} wd ${c.weightDecay}`;

/** One sgd_f32 call over [s, e) of the buffers. */
function sgdCall(box: KernelBox, pp: number, pg: number, pb: number, s: number, e: number, c: SGDCfg, t: number): void {
  box.k.sgd_f32(pp + s * 4, pg + s * 4, pb ? pb + s * 4 : 0, e - s, c.lr, c.momentum, c.dampening, c.weightDecay, c.nesterov ? 1 : 0, t === 1 ? 1 : 0);
}

function adamCall(box: KernelBox, pp: number, pg: number, pm: number, pv: number, s: number, e: number, c: AdamCfg, t: number): void {
  const o = s * 4;
  box.k.adam_f32(pp + o, pg + o, pm + o, pv + o, e - s, c.lr, c.beta1, c.beta2, 1 - c.beta1, 1 - c.beta2, c.eps, c.weightDecay,
    c.lr / (1 - c.beta1 ** t), Math.sqrt(1 - c.beta2 ** t), c.decoupled ? 1 : 0);
}

/** The first multiple-of-16 split points inside [0, n), as splitRange(n, parts, 16) makes them. */
function splits(n: number): number[] {
  return [16, 32, 16 * Math.floor(n / 32), 16 * Math.floor(n / 16)].filter((s, i, a) => s > 0 && s < n && a.indexOf(s) === i);
}

for (const v of KERNEL_VARIANTS) {
  test(`${v}: sgd_f32 against torch.optim.SGD over ${STEPS} steps (momentum, dampening, weight decay, Nesterov)`, () => {
    const box = kernels(v);
    for (const c of SGD_CFGS) for (const n of NS) {
      box.reset();
      const what = `${v} sgd ${sgdName(c)} n ${n}`;
      const p0 = randomF32(n, n + 17);
      const pp = buf(box, p0), pg = buf(box, new Float32Array(n));
      // with momentum the buffer starts as NaN: the first step must overwrite it without reading it
      const pb = c.momentum ? buf(box, new Float32Array(n).fill(NaN)) : 0;
      const low = new Uint8Array(box.memory.buffer, 0, 65536).slice(); // buf pointer 0: this must stay untouched
      const p = Float64Array.from(p0), b = new Float64Array(n);
      for (let t = 1; t <= STEPS; t++) {
        const g = grad(n, t);
        box.f32(pg, n).set(g);
        sgdCall(box, pp, pg, pb, 0, n, c, t);
        sgdRef(p, g, b, c, t);
        const at = `${what} step ${t}`;
        assertSentinel(box, pp, n, `${at} p`);
        assert.equal(Array.from(box.f32(pg, n + 1)), [...g, SENTINEL], `${at}: gradient written`);
        assertClose(box.f32(pp, n), p, { rtol: 1e-6, atol: 2e-7 * t, what: `${at} p` });
        if (pb) {
          assertSentinel(box, pb, n, `${at} buf`);
          assertClose(box.f32(pb, n), b, { rtol: 2e-6, atol: 2e-7 * t, what: `${at} buf` });
        }
      }
      if (!pb) assert.ok(new Uint8Array(box.memory.buffer, 0, 65536).every((x, i) => x === low[i]), `${what}: memory at the buf pointer 0 changed`);
    }
  });

  test(`${v}: adam_f32 against torch.optim.Adam (L2) and AdamW (decoupled) over ${STEPS} steps`, () => {
    const box = kernels(v);
    for (const c of ADAM_CFGS) for (const n of NS) {
      box.reset();
      const what = `${v} ${adamName(c)} n ${n}`;
      const p0 = randomF32(n, n + 29);
      const pp = buf(box, p0), pg = buf(box, new Float32Array(n));
      const pm = buf(box, new Float32Array(n)), pv = buf(box, new Float32Array(n)); // torch starts m and v at 0
      const p = Float64Array.from(p0), m = new Float64Array(n), vv = new Float64Array(n);
      for (let t = 1; t <= STEPS; t++) {
        const g = grad(n, t);
        box.f32(pg, n).set(g);
        adamCall(box, pp, pg, pm, pv, 0, n, c, t);
        adamRef(p, g, m, vv, c, t);
        const at = `${what} step ${t}`;
        for (const [ptr, name] of [[pp, "p"], [pm, "m"], [pv, "v"]] as const) assertSentinel(box, ptr, n, `${at} ${name}`);
        assert.equal(Array.from(box.f32(pg, n + 1)), [...g, SENTINEL], `${at}: gradient written`);
        assertClose(box.f32(pm, n), m, { rtol: 1e-5, atol: 2e-7, what: `${at} m` });
        // the host passes 1 − β2 formed in float64, as torch does; an f32 1 − f32(0.999) would be
        // 1.29e-5 off 0.001 and fail this
        assertClose(box.f32(pv, n), vv, { rtol: 3e-6, atol: 1e-12, what: `${at} v` });
        // each step moves p by about lr; f32 gets that step right to ~1e-5 of lr
        assertClose(box.f32(pp, n), p, { rtol: 1e-6, atol: 1e-5 * c.lr * t, what: `${at} p` });
      }
    }
  });

  test(`${v}: adam_f32 step 1 moves each parameter by lr·sign(g) (bias correction), AdamW shrinks p with g = 0`, () => {
    const box = kernels(v);
    for (const n of [5, 17, 100]) {
      box.reset();
      const g = grad(n, 1), p0 = randomF32(n, 3);
      const pp = buf(box, p0), pm = buf(box, new Float32Array(n)), pv = buf(box, new Float32Array(n));
      box.k.adam_f32(pp, box.putF32(g), pm, pv, n, 0.01, 0.9, 0.999, 1 - 0.9, 1 - 0.999, 1e-12, 0, 0.01 / (1 - 0.9), Math.sqrt(1 - 0.999), 0);
      assertClose(box.f32(pp, n), Array.from(p0, (x, i) => x - 0.01 * Math.sign(g[i])), { rtol: 1e-6, atol: 1e-7, what: `${v} Adam step 1 n ${n}` });
      // AdamW with a zero gradient: m = v = 0, so only the decoupled decay acts
      const pp2 = buf(box, p0), pm2 = buf(box, new Float32Array(n)), pv2 = buf(box, new Float32Array(n));
      box.k.adam_f32(pp2, box.putF32(new Float32Array(n)), pm2, pv2, n, 0.1, 0.9, 0.999, 1 - 0.9, 1 - 0.999, 1e-8, 0.5, 0.1 / 0.1, Math.sqrt(0.001), 1);
      assertClose(box.f32(pp2, n), Array.from(p0, (x) => x * (1 - 0.1 * 0.5)), { rtol: 1e-6, atol: 0, what: `${v} AdamW decay n ${n}` });
    }
  });

  test(`${v}: splitting the element range at multiples of 16 (a thread's share) gives the same bits`, () => {
    const box = kernels(v);
    for (const n of [17, 33, 100, 1000, 1037]) for (const s of splits(n)) {
      for (const c of SGD_CFGS) {
        box.reset();
        const p0 = randomF32(n, n), pa = buf(box, p0), pb = buf(box, p0), pg = buf(box, new Float32Array(n));
        const ba = c.momentum ? buf(box, new Float32Array(n)) : 0, bb = c.momentum ? buf(box, new Float32Array(n)) : 0;
        for (let t = 1; t <= 3; t++) {
          box.f32(pg, n).set(grad(n, t));
          sgdCall(box, pa, pg, ba, 0, n, c, t);
          sgdCall(box, pb, pg, bb, 0, s, c, t);
          sgdCall(box, pb, pg, bb, s, n, c, t);
          const what = `${v} sgd ${sgdName(c)} n ${n} split at ${s} step ${t}`;
          assert.equal(Array.from(box.f32(pb, n + 1)), Array.from(box.f32(pa, n + 1)), `${what}: p`);
          if (ba) assert.equal(Array.from(box.f32(bb, n + 1)), Array.from(box.f32(ba, n + 1)), `${what}: buf`);
        }
      }
      for (const c of ADAM_CFGS) {
        box.reset();
        const p0 = randomF32(n, n + 1), z = new Float32Array(n), pg = buf(box, z);
        const [pa, ma, va] = [buf(box, p0), buf(box, z), buf(box, z)], [pb, mb, vb] = [buf(box, p0), buf(box, z), buf(box, z)];
        for (let t = 1; t <= 3; t++) {
          box.f32(pg, n).set(grad(n, t));
          adamCall(box, pa, pg, ma, va, 0, n, c, t);
          adamCall(box, pb, pg, mb, vb, 0, s, c, t);
          adamCall(box, pb, pg, mb, vb, s, n, c, t);
          const what = `${v} ${adamName(c)} n ${n} split at ${s} step ${t}`;
          for (const [a, b, name] of [[pa, pb, "p"], [ma, mb, "m"], [va, vb, "v"]] as const) {
            assert.equal(Array.from(box.f32(b, n + 1)), Array.from(box.f32(a, n + 1)), `${what}: ${name}`);
          }
        }
      }
    }
  });
}

test.run();
