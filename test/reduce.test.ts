// reduce.ts kernels against float64 references, in the plain-SIMD and
// relaxed-SIMD binaries: reduce_f32 (sum, mean, max, min), argmax/argmin and
// reduce_max_backward over [outer, len, inner] with len and inner sweeping the
// remainders of 4 and 16 (inner = 1 vectorises along len, inner ≥ 4 along inner,
// 2–3 are scalar), each axis of a 4-D tensor in turn, ties (first index wins),
// NaN, and sum_all_f32's error on long sums. Splitting `outer` (what threads do)
// gives the same bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox, Variant } from "./harness.js";

const OPS = { sum: 0, mean: 1, max: 2, min: 3 } as const;
type OpName = keyof typeof OPS;
const LENS = [1, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33, 200, 1000];
const INNERS = [1, 2, 3, 4, 5, 7, 8, 16, 17, 20, 33];
const OUTERS = [1, 3];

/** Reference reduction in float64; also returns Σ|x| per output (for the sum tolerance) and the arg index. */
function reference(x: ArrayLike<number>, outer: number, len: number, inner: number) {
  const n = outer * inner;
  const sum = new Float64Array(n), abs = new Float64Array(n), max = new Float64Array(n), min = new Float64Array(n);
  const argmax = new Int32Array(n), argmin = new Int32Array(n);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let s = 0, a = 0, mx = -Infinity, mn = Infinity, imx = -1, imn = -1;
      for (let l = 0; l < len; l++) {
        const v = x[(o * len + l) * inner + j];
        s += v; a += Math.abs(v);
        if (imx < 0 || v > mx || (Number.isNaN(v) && !Number.isNaN(mx))) { mx = v; imx = l; }
        if (imn < 0 || v < mn || (Number.isNaN(v) && !Number.isNaN(mn))) { mn = v; imn = l; }
      }
      const k = o * inner + j;
      sum[k] = s; abs[k] = a; max[k] = mx; min[k] = mn; argmax[k] = Math.max(imx, 0); argmin[k] = Math.max(imn, 0);
    }
  }
  return { sum, abs, max, min, argmax, argmin };
}

function checkReduce(box: KernelBox, v: Variant, x: Float32Array, outer: number, len: number, inner: number, what: string): void {
  const ref = reference(x, outer, len, inner);
  const px = box.putF32(x);
  const n = outer * inner;
  for (const [name, op] of Object.entries(OPS) as [OpName, number][]) {
    const py = box.alloc(n * 4 + 16);
    box.f32(py, n + 1)[n] = 777;
    box.k.reduce_f32(op, px, py, outer, len, inner);
    const got = box.f32(py, n);
    assert.is(box.f32(py, n + 1)[n], 777, `${v} reduce ${name} ${what}: wrote past the end`);
    if (name === "sum" || name === "mean") {
      const d = name === "mean" ? len : 1;
      // f32 summation error is relative to Σ|x|, not to the (possibly cancelled) sum
      for (let k = 0; k < n; k++) {
        const want = ref.sum[k] / d, tol = (1e-6 * ref.abs[k]) / d + 1e-6 * Math.abs(want) + 1e-7;
        if (Number.isNaN(want) ? Number.isNaN(got[k]) : Math.abs(got[k] - want) <= tol) continue;
        assert.unreachable(`${v} reduce ${name} ${what}: y[${k}] = ${got[k]}, want ${want} ± ${tol}`);
      }
    } else {
      assertClose(got, name === "max" ? ref.max : ref.min, { rtol: 0, atol: 0, what: `${v} reduce ${name} ${what}` });
    }
  }
  for (const [name, want] of [["argmax", ref.argmax], ["argmin", ref.argmin]] as const) {
    const py = box.alloc(n * 4 + 16);
    box.k[`${name}_f32`](px, py, outer, len, inner);
    const got = box.i32(py, n);
    for (let k = 0; k < n; k++) if (got[k] !== want[k]) assert.unreachable(`${v} ${name} ${what}: y[${k}] = ${got[k]}, want ${want[k]}`);
  }
}

/** Values with many exact ties (multiples of 1/4 in [-2, 2]) so "first index wins" is exercised. */
function tied(n: number, seed: number): Float32Array {
  return Float32Array.from(randomF32(n, seed), (u) => Math.round(u * 8) / 4);
}

for (const v of KERNEL_VARIANTS) {
  test(`${v}: reduce_f32 (sum/mean/max/min) and argmax/argmin over [outer, len, inner] sweeps`, () => {
    const box = kernels(v);
    for (const outer of OUTERS) for (const len of LENS) for (const inner of INNERS) {
      if (outer * len * inner > 40000) continue;
      box.reset();
      const what = `[${outer}, ${len}, ${inner}]`;
      checkReduce(box, v, randomF32(outer * len * inner, len * 31 + inner), outer, len, inner, what);
      checkReduce(box, v, tied(outer * len * inner, len + inner), outer, len, inner, `${what} ties`);
    }
  });

  test(`${v}: reduce_f32 and argmax/argmin over each axis of a [5, 6, 7, 9] tensor (and [2, 3, 4, 5])`, () => {
    const box = kernels(v);
    for (const shape of [[5, 6, 7, 9], [2, 3, 4, 5], [3, 17, 1, 4]]) {
      const x = tied(shape.reduce((p, s) => p * s, 1), shape[0]);
      for (let axis = 0; axis < shape.length; axis++) {
        box.reset();
        const outer = shape.slice(0, axis).reduce((p, s) => p * s, 1);
        const inner = shape.slice(axis + 1).reduce((p, s) => p * s, 1);
        checkReduce(box, v, x, outer, shape[axis], inner, `[${shape}] axis ${axis}`);
      }
    }
  });

  test(`${v}: NaN propagates through sum/mean/max/min; argmax/argmin pick the first NaN`, () => {
    const box = kernels(v);
    for (const inner of [1, 2, 4, 5]) for (const len of [3, 9, 33]) {
      box.reset();
      const x = randomF32(2 * len * inner, len + inner);
      x[(len + Math.floor(len / 2)) * inner] = NaN; // outer 1, column 0, middle row
      x[(len + len - 1) * inner] = NaN; // a later NaN in the same column
      checkReduce(box, v, x, 2, len, inner, `NaN [2, ${len}, ${inner}]`);
      const py = box.alloc(2 * inner * 4);
      box.k.reduce_f32(OPS.max, box.putF32(x), py, 2, len, inner);
      assert.ok(Number.isNaN(box.f32(py, 2 * inner)[inner]), `${v} max with NaN`);
    }
  });

  test(`${v}: reduce_max_backward_f32 routes dy to the first max (and min) only`, () => {
    const box = kernels(v);
    for (const outer of OUTERS) for (const len of [1, 3, 4, 5, 8, 9, 33, 200]) for (const inner of [1, 2, 3, 4, 5, 7, 16, 17]) {
      box.reset();
      const x = tied(outer * len * inner, outer + len * inner);
      if (len > 5) x[(2 * inner) + 0] = NaN; // column 0 of outer 0: the max/min is NaN, its first NaN gets dy
      const ref = reference(x, outer, len, inner);
      const px = box.putF32(x), pdy = box.putF32(randomF32(outer * inner, 3));
      const dy = box.f32(pdy, outer * inner).slice();
      for (const which of ["max", "min"] as const) {
        const py = box.alloc(outer * inner * 4);
        box.k.reduce_f32(OPS[which], px, py, outer, len, inner);
        const pdx = box.alloc(outer * len * inner * 4 + 16);
        box.f32(pdx, outer * len * inner).fill(99);
        box.k.reduce_max_backward_f32(px, py, pdy, pdx, outer, len, inner);
        const got = box.f32(pdx, outer * len * inner);
        const arg = which === "max" ? ref.argmax : ref.argmin;
        for (let o = 0; o < outer; o++) for (let l = 0; l < len; l++) for (let j = 0; j < inner; j++) {
          const want = arg[o * inner + j] === l ? dy[o * inner + j] : 0;
          const k = (o * len + l) * inner + j;
          if (got[k] !== want) assert.unreachable(`${v} ${which} backward [${outer}, ${len}, ${inner}] at (${o}, ${l}, ${j}): ${got[k]}, want ${want}`);
        }
      }
    }
  });

  test(`${v}: sum_all_f32: n sweep, and a long sum that naive f32 accumulation gets wrong`, () => {
    const box = kernels(v);
    for (const n of [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 511, 512, 513, 1000, 5000]) {
      box.reset();
      const x = randomF32(n, n + 5);
      const got = box.k.sum_all_f32(box.putF32(x), n);
      let s = 0, a = 0;
      for (const xi of x) { s += xi; a += Math.abs(xi); }
      assert.ok(Math.abs(got - s) <= 1e-6 * a + 1e-6 * Math.abs(s), `${v} sum_all n=${n}: ${got}, want ${s}`);
    }
    box.reset();
    const n = 2_000_000;
    const x = Float32Array.from(randomF32(n, 1), (u) => 0.5 + 0.5 * u); // all positive: Σ ≈ 1e6
    let s = 0, naive = Math.fround(0);
    for (const xi of x) { s += xi; naive = Math.fround(naive + xi); }
    const got = box.k.sum_all_f32(box.putF32(x), n);
    assert.ok(Math.abs(got - s) / s < 2e-7, `${v} sum_all 2M: relative error ${Math.abs(got - s) / s} (naive f32: ${Math.abs(naive - s) / s})`);
    // the same for reduce_f32 along len (inner = 1), sum and mean
    const py = box.alloc(8);
    box.k.reduce_f32(OPS.sum, box.putF32(x.subarray(0, 1_000_000)), py, 1, 1_000_000, 1);
    let s1 = 0;
    for (let i = 0; i < 1_000_000; i++) s1 += x[i];
    assert.ok(Math.abs(box.f32(py, 1)[0] - s1) / s1 < 2e-7, `${v} reduce sum along 1M`);
  });

  test(`${v}: splitting outer (a thread's share) gives the same bits`, () => {
    const box = kernels(v);
    for (const [len, inner] of [[33, 1], [9, 3], [17, 7], [5, 20], [1000, 1], [200, 17]]) {
      box.reset();
      const outer = 5;
      const x = randomF32(outer * len * inner, len);
      const px = box.putF32(x);
      for (const op of [0, 1, 2, 3]) {
        const py = box.alloc(outer * inner * 4), pz = box.alloc(outer * inner * 4);
        box.k.reduce_f32(op, px, py, outer, len, inner);
        box.k.reduce_f32(op, px, pz, 2, len, inner);
        box.k.reduce_f32(op, px + 2 * len * inner * 4, pz + 2 * inner * 4, 3, len, inner);
        assert.equal(Array.from(box.f32(pz, outer * inner)), Array.from(box.f32(py, outer * inner)), `${v} op ${op} [${outer}, ${len}, ${inner}]`);
      }
    }
  });
}

test.run();
