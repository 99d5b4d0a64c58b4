// random.ts kernels, in the plain-SIMD and relaxed-SIMD binaries: the same
// (seed, offset) gives the same bits (and the same bits in both binaries); a
// call at offset k gives exactly elements [k, n) of a call at offset 0 (what
// threads rely on), for every remainder of 4; different seeds and neighbouring
// counters look independent; uniform mean/variance/histogram, normal
// mean/variance/skew/kurtosis/tails on 100k samples; dropout keeps ≈ 1 − p
// with the value 1/(1 − p), and masks exactly where uniform(0, 1) < p.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";

const NS = [0, 1, 3, 4, 5, 7, 8, 9, 31, 33, 1000];
const N_STATS = 100_000;

type Gen = "uniform" | "normal" | "dropout";

/** Runs one generator; writes a sentinel after the end to catch overruns. */
function gen(box: KernelBox, g: Gen, n: number, seed: number, offset: number, a = 0, b = 1): Float32Array {
  const p = box.alloc(n * 4 + 16);
  box.f32(p, n + 1)[n] = 12345;
  if (g === "uniform") box.k.rand_uniform_f32(p, n, seed, offset, a, b);
  else if (g === "normal") box.k.rand_normal_f32(p, n, seed, offset, a, b);
  else box.k.dropout_mask_f32(p, n, seed, offset, a);
  assert.is(box.f32(p, n + 1)[n], 12345, `${g} n=${n}: wrote past the end`);
  return box.f32(p, n).slice();
}

const bits = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

function moments(x: ArrayLike<number>) {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let m2 = 0, m3 = 0, m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    m2 += d * d; m3 += d * d * d; m4 += d * d * d * d;
  }
  m2 /= n; m3 /= n; m4 /= n;
  return { mean: m, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

/** Pearson correlation of two equal-length sequences. */
function corr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const mx = moments(x), my = moments(y);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - mx.mean) * (y[i] - my.mean);
  return s / x.length / Math.sqrt(mx.variance * my.variance);
}

const GENS: [Gen, number, number][] = [["uniform", -2, 3], ["normal", 1.5, 2], ["dropout", 0.3, 0]];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: determinism and the sub-range property, n sweep, all three generators`, () => {
    const box = kernels(v);
    for (const [g, a, b] of GENS) {
      for (const n of NS) {
        box.reset();
        const whole = gen(box, g, n, 42, 0, a, b);
        assert.equal(bits(gen(box, g, n, 42, 0, a, b)), bits(whole), `${v} ${g} n=${n}: not deterministic`);
        for (const k of [1, 2, 3, 4, 5, 7, 9, 31, 500]) {
          if (k >= n) continue;
          const tail = gen(box, g, n - k, 42, k, a, b);
          assert.equal(bits(tail), bits(whole.subarray(k)), `${v} ${g} n=${n}: offset ${k} differs from elements [${k}, ${n})`);
          // and a short middle piece, as a thread in the middle of a tensor would get
          const mid = gen(box, g, Math.min(5, n - k), 42, k, a, b);
          assert.equal(bits(mid), bits(whole.subarray(k, k + mid.length)), `${v} ${g} n=${n}: middle piece at ${k}`);
        }
      }
    }
  });

  test(`${v}: seeds and counters look independent`, () => {
    const box = kernels(v);
    const n = 20000;
    for (const [g, a, b] of GENS.slice(0, 2)) {
      const x0 = gen(box, g, n, 0, 0, a, b), x1 = gen(box, g, n, 1, 0, a, b), x7 = gen(box, g, n, 0x7fffffff, 0, a, b);
      assert.ok(Math.abs(corr(x0, x1)) < 0.03, `${v} ${g}: seeds 0 and 1 correlate ${corr(x0, x1)}`);
      assert.ok(Math.abs(corr(x0, x7)) < 0.03, `${v} ${g}: seeds 0 and 2^31-1 correlate`);
      // lag-1 and lag-4 autocorrelation (a lane pattern would show at lag 4)
      for (const lag of [1, 2, 4]) {
        const c = corr(x0.subarray(0, n - lag), x0.subarray(lag));
        assert.ok(Math.abs(c) < 0.03, `${v} ${g}: lag-${lag} autocorrelation ${c}`);
      }
      let same = 0;
      for (let i = 0; i < n; i++) if (x0[i] === x1[i]) same++;
      assert.ok(same < 10, `${v} ${g}: seeds 0 and 1 share ${same} values`);
    }
  });

  test(`${v}: rand_uniform_f32 on [lo, hi): range, mean, variance, 64-bin histogram (100k)`, () => {
    const box = kernels(v);
    const lo = -2, hi = 3;
    const x = gen(box, "uniform", N_STATS, 1234, 777, lo, hi);
    for (let i = 0; i < x.length; i++) if (!(x[i] >= lo && x[i] <= hi)) assert.unreachable(`${v} uniform: x[${i}] = ${x[i]} outside [${lo}, ${hi}]`);
    const m = moments(x);
    const w = hi - lo;
    // standard errors: mean w/√(12n) ≈ 0.0046; variance ≈ w²/(6√(5n)) ≈ 0.0066
    assert.ok(Math.abs(m.mean - (lo + hi) / 2) < 0.02, `${v} uniform mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - (w * w) / 12) < 0.03, `${v} uniform variance ${m.variance}`);
    const bins = new Array(64).fill(0);
    for (const xi of x) bins[Math.min(63, Math.floor(((xi - lo) / w) * 64))]++;
    const e = N_STATS / 64;
    const chi2 = bins.reduce((s, o) => s + ((o - e) * (o - e)) / e, 0);
    // 63 degrees of freedom: P(χ² > 110) ≈ 2e-4
    assert.ok(chi2 < 110, `${v} uniform histogram χ² = ${chi2}`);
    // u(0, 1) is a multiple of 2^-24 in [0, 1)
    const u = gen(box, "uniform", 4096, 9, 0, 0, 1);
    for (const ui of u) assert.ok(ui >= 0 && ui < 1 && Number.isInteger(ui * 2 ** 24), `${v} uniform(0,1) value ${ui}`);
  });

  test(`${v}: rand_normal_f32: mean, variance, skew, kurtosis, tail fractions (100k)`, () => {
    const box = kernels(v);
    const mean = 1.5, std = 2;
    const x = gen(box, "normal", N_STATS, 99, 0, mean, std);
    const m = moments(x);
    assert.ok(Math.abs(m.mean - mean) < 0.03, `${v} normal mean ${m.mean}`); // s.e. 0.0063
    assert.ok(Math.abs(m.variance / (std * std) - 1) < 0.025, `${v} normal variance ${m.variance}`); // s.e. 0.0045
    assert.ok(Math.abs(m.skew) < 0.04, `${v} normal skew ${m.skew}`); // s.e. 0.0077
    assert.ok(Math.abs(m.kurtosis - 3) < 0.08, `${v} normal kurtosis ${m.kurtosis}`); // s.e. 0.015
    const z = Array.from(x, (xi) => (xi - mean) / std);
    const frac = (t: number) => z.filter((zi) => Math.abs(zi) > t).length / z.length;
    assert.ok(Math.abs(frac(1) - 0.3173) < 0.01, `${v} normal P(|z|>1) = ${frac(1)}`);
    assert.ok(Math.abs(frac(2) - 0.0455) < 0.004, `${v} normal P(|z|>2) = ${frac(2)}`);
    assert.ok(Math.abs(frac(3) - 0.0027) < 0.001, `${v} normal P(|z|>3) = ${frac(3)}`);
    assert.ok(z.every((zi) => Number.isFinite(zi) && Math.abs(zi) < 6), `${v} normal: a non-finite or |z| ≥ 6 value`);
    // symmetric: as many above the mean as below
    assert.ok(Math.abs(z.filter((zi) => zi > 0).length / z.length - 0.5) < 0.01, `${v} normal: asymmetric`);
  });

  test(`${v}: dropout_mask_f32: values 0 or 1/(1−p), fraction ≈ p, and where uniform(0,1) < p`, () => {
    const box = kernels(v);
    for (const p of [0, 0.1, 0.5, 0.9]) {
      const mask = gen(box, "dropout", N_STATS, 5, 3, p);
      // the kernel gets p as an f32 and computes 1/(1 − p) in f32
      const pf = Math.fround(p);
      const keep = Math.fround(1 / Math.fround(1 - pf));
      let dropped = 0;
      for (const mi of mask) {
        if (mi === 0) dropped++;
        else if (mi !== keep) assert.unreachable(`${v} dropout p=${p}: value ${mi}, want 0 or ${keep}`);
      }
      // s.e. √(p(1−p)/n) ≤ 0.0016
      assert.ok(Math.abs(dropped / N_STATS - p) < 0.008, `${v} dropout p=${p}: dropped ${dropped / N_STATS}`);
      const u = gen(box, "uniform", 1000, 5, 3, 0, 1);
      for (let i = 0; i < 1000; i++) assert.is(mask[i] === 0, u[i] < Math.fround(p), `${v} dropout p=${p} element ${i}`);
      box.reset();
    }
    const all = gen(box, "dropout", 1000, 5, 0, 1);
    assert.ok(all.every((mi) => mi === 0), `${v} dropout p=1 drops everything`);
  });
}

test("simd and relaxed binaries give the same random bits", () => {
  const boxes = KERNEL_VARIANTS.map(kernels);
  for (const [g, a, b] of GENS) {
    const [x, y] = boxes.map((box) => gen(box, g, 1001, 31337, 12, a, b));
    assert.equal(bits(x), bits(y), `${g}: simd and relaxed differ`);
  }
});

test.run();
