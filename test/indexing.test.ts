// indexing.ts kernels against plain references: gather / scatter along a dim over
// [outer, len, inner] shapes (inner 1 — the last-dim path — and strided), index
// select / index add over every inner remainder of the 4- and 8-float vector
// bodies (guard words on both sides, a read past the last row traps), repeated
// indices (scatter keeps the last, adds sum in order of j), out-of-range indices
// (NaN words gathered, nothing scattered), splits over outer giving the same bits,
// and the stable sort (ties by position, ±0 equal, NaN largest, both directions,
// first k) over lengths around its runs of 8 and merge widths.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, randomF32, kernels, putAt, putAtEnd } from "./harness.js";
import type { KernelBox } from "./harness.js";

function putI32At(box: KernelBox, data: ArrayLike<number>, shift: number): number {
  const p = box.alloc((data.length + shift) * 4 + 16) + shift * 4;
  box.i32(p, data.length).set(data);
  return p;
}

/** n indices into [0, len), with repeats and both ends. */
function indices(n: number, len: number, seed: number): Int32Array {
  const r = randomF32(n, seed);
  return Int32Array.from(r, (a, i) => (i === 0 ? len - 1 : i === 1 ? 0 : Math.min(len - 1, Math.floor((a + 1) / 2 * len))));
}

const bits = (a: ArrayLike<number>) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const SHAPES: [number, number, number, number][] = [ // outer, lenX, lenI, inner
  [1, 1, 1, 1], [1, 5, 3, 1], [3, 4, 7, 1], [2, 6, 6, 3], [4, 3, 5, 2], [1, 9, 2, 5], [5, 2, 8, 17],
];
const INNERS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 33];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: gather_dim_b32 and scatter_dim_f32 (write and accumulate) against references`, () => {
    const box = kernels(v);
    let seed = 1;
    for (const [outer, lenX, lenI, inner] of SHAPES) {
      box.reset();
      const x = randomF32(outer * lenX * inner, seed), idx = indices(outer * lenI * inner, lenX, seed + 1);
      const px = putAtEnd(box, x), pi = putI32At(box, idx, seed % 4);
      const guard = randomF32(outer * lenI * inner + 2, seed + 2);
      const py = putAt(box, guard, (seed + 1) % 4) + 4;
      box.k.gather_dim_b32(px, pi, py, outer, lenX, lenI, inner);
      const expect = Float32Array.from(guard);
      for (let o = 0; o < outer; o++) for (let j = 0; j < lenI; j++) for (let i = 0; i < inner; i++) {
        const e = (o * lenI + j) * inner + i;
        expect[1 + e] = x[(o * lenX + idx[e]) * inner + i];
      }
      assert.equal(bits(box.f32(py - 4, guard.length)), bits(expect), `${v} gather ${[outer, lenX, lenI, inner]}`);
      for (const acc of [0, 1]) {
        const src = randomF32(outer * lenI * inner, seed + 3), y0 = randomF32(outer * lenX * inner, seed + 4);
        const ps = putAt(box, src, 1), pyy = putAtEnd(box, y0);
        box.k.scatter_dim_f32(ps, pi, pyy, outer, lenX, lenI, inner, acc);
        const want = Float32Array.from(y0);
        for (let o = 0; o < outer; o++) for (let j = 0; j < lenI; j++) for (let i = 0; i < inner; i++) {
          const e = (o * lenI + j) * inner + i, q = (o * lenX + idx[e]) * inner + i;
          want[q] = acc ? want[q] + src[e] : src[e];
        }
        assert.equal(bits(box.f32(pyy, want.length)), bits(want), `${v} scatter acc=${acc} ${[outer, lenX, lenI, inner]}`);
      }
      seed += 5;
    }
  });

  test(`${v}: index_select_b32 / index_add_f32, every inner remainder, repeats summed in order`, () => {
    const box = kernels(v);
    let seed = 100;
    for (const inner of INNERS) for (const [outer, lenX, n] of [[1, 1, 1], [2, 3, 5], [3, 10, 7]]) {
      box.reset();
      const x = randomF32(outer * lenX * inner, seed), idx = indices(n, lenX, seed + 1);
      const px = putAtEnd(box, x), pi = putI32At(box, idx, seed % 4);
      const guard = randomF32(outer * n * inner + 2, seed + 2);
      const py = putAt(box, guard, (seed + 1) % 4) + 4;
      box.k.index_select_b32(px, pi, py, outer, lenX, n, inner);
      const expect = Float32Array.from(guard);
      for (let o = 0; o < outer; o++) for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) expect[1 + (o * n + j) * inner + i] = x[(o * lenX + idx[j]) * inner + i];
      assert.equal(bits(box.f32(py - 4, guard.length)), bits(expect), `${v} index_select inner=${inner} ${[outer, lenX, n]}`);
      const dy = randomF32(outer * n * inner, seed + 3), dx0 = randomF32(outer * lenX * inner, seed + 4);
      const pdy = putAt(box, dy, seed % 3), pdx = putAtEnd(box, dx0);
      box.k.index_add_f32(pdy, pi, pdx, outer, lenX, n, inner);
      const want = Float32Array.from(dx0);
      for (let o = 0; o < outer; o++) for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) want[(o * lenX + idx[j]) * inner + i] += dy[(o * n + j) * inner + i];
      assert.equal(bits(box.f32(pdx, want.length)), bits(want), `${v} index_add inner=${inner} ${[outer, lenX, n]}`);
      seed += 5;
    }
  });

  test(`${v}: out-of-range indices gather NaN words and scatter / add nothing`, () => {
    const box = kernels(v);
    const lenX = 4, inner = 3, idx = Int32Array.from([1, -1, 4, 3, 2147483647, 0]), n = idx.length;
    const x = randomF32(lenX * inner, 7), px = putAtEnd(box, x), pi = putI32At(box, idx, 0);
    const py = putAt(box, new Float32Array(n * inner), 0);
    box.k.index_select_b32(px, pi, py, 1, lenX, n, inner);
    const y = box.f32(py, n * inner);
    for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) {
      const ok = idx[j] >= 0 && idx[j] < lenX, got = y[j * inner + i];
      if (ok ? got !== x[idx[j] * inner + i] : !Number.isNaN(got)) assert.unreachable(`index_select y[${j}, ${i}] = ${got} for index ${idx[j]}`);
    }
    const pg = putAt(box, new Float32Array(n), 0);
    box.k.gather_dim_b32(px, pi, pg, 1, lenX * inner, n, 1);
    box.f32(pg, n).forEach((g, j) => assert.ok(idx[j] >= 0 && idx[j] < lenX * inner ? g === x[idx[j]] : Number.isNaN(g), `gather ${j}`));
    const dx0 = randomF32(lenX * inner, 8), pdx = putAtEnd(box, dx0), dy = randomF32(n * inner, 9), pdy = putAt(box, dy, 0);
    box.k.index_add_f32(pdy, pi, pdx, 1, lenX, n, inner);
    const want = Float32Array.from(dx0);
    idx.forEach((t, j) => { if (t >= 0 && t < lenX) for (let i = 0; i < inner; i++) want[t * inner + i] += dy[j * inner + i]; });
    assert.equal(Array.from(box.f32(pdx, want.length)), Array.from(want));
    const s0 = randomF32(lenX, 10), ps = putAtEnd(box, s0), src = putAt(box, randomF32(n, 11), 0);
    box.k.scatter_dim_f32(src, pi, ps, 1, lenX, n, 1, 0);
    const sw = Float32Array.from(s0), sv = box.f32(src, n);
    idx.forEach((t, j) => { if (t >= 0 && t < lenX) sw[t] = sv[j]; });
    assert.equal(Array.from(box.f32(ps, lenX)), Array.from(sw));
  });

  test(`${v}: splits over outer give the same bits`, () => {
    const box = kernels(v);
    const outer = 7, lenX = 9, lenI = 5, inner = 6, m = lenI * inner;
    const px = putAt(box, randomF32(outer * lenX * inner, 21), 0), pi = putI32At(box, indices(outer * m, lenX, 22), 0);
    const whole = putAt(box, new Float32Array(outer * m), 0), split = putAt(box, new Float32Array(outer * m), 0);
    box.k.gather_dim_b32(px, pi, whole, outer, lenX, lenI, inner);
    box.k.gather_dim_b32(px, pi, split, 3, lenX, lenI, inner);
    box.k.gather_dim_b32(px + 3 * lenX * inner * 4, pi + 3 * m * 4, split + 3 * m * 4, outer - 3, lenX, lenI, inner);
    assert.equal(bits(box.f32(split, outer * m)), bits(box.f32(whole, outer * m)));
  });
}

/** The reference: a stable sort of positions by (NaN largest, ±0 equal), ascending or descending. */
function refSort(row: number[], descending: boolean): number[] {
  const rank = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const cmp = (a: number, b: number) => {
    const x = row[a], y = row[b];
    const nx = Number.isNaN(x), ny = Number.isNaN(y);
    let c = nx && ny ? 0 : nx ? 1 : ny ? -1 : rank(x) < rank(y) ? -1 : rank(x) > rank(y) ? 1 : 0;
    if (descending) c = -c;
    return c !== 0 ? c : a - b;
  };
  return row.map((_, i) => i).sort(cmp);
}

/** Rows with ties, ±0, NaN and ±∞ mixed in. */
function sortRows(n: number, seed: number): Float32Array {
  const r = randomF32(n, seed);
  return Float32Array.from(r, (a, i) => (i % 11 === 3 ? NaN : i % 13 === 5 ? -0 : i % 13 === 6 ? 0 : i % 17 === 7 ? -Infinity : i % 19 === 2 ? Infinity : Math.round(a * 6) / 2));
}

for (const v of KERNEL_VARIANTS) {
  test(`${v}: sort_f32 is a stable sort, NaN largest, both directions, first k, strided rows`, () => {
    const box = kernels(v);
    let seed = 300;
    for (const len of [1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 33, 64, 65, 100, 257]) for (const [outer, inner] of [[1, 1], [3, 1], [2, 3]]) for (const descending of [0, 1]) {
      box.reset();
      const x = sortRows(outer * len * inner, seed++);
      const k = (seed % 3 === 0) ? Math.max(1, len >> 1) : len;
      const px = putAtEnd(box, x);
      const pv = putAt(box, new Float32Array(outer * k * inner), 1), pi = putI32At(box, new Int32Array(outer * k * inner), 2);
      const sc = box.alloc(16 * len + 8);
      box.k.sort_f32(px, pv, pi, outer, len, inner, k, descending, sc);
      const gotV = box.f32(pv, outer * k * inner), gotI = box.i32(pi, outer * k * inner);
      for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
        const row = Array.from({ length: len }, (_, j) => x[(o * len + j) * inner + i]);
        const order = refSort(row, !!descending).slice(0, k);
        const gi = order.map((_, r) => gotI[(o * k + r) * inner + i]), gv = order.map((_, r) => gotV[(o * k + r) * inner + i]);
        const what = `${v} sort len=${len} outer=${outer} inner=${inner} k=${k} desc=${descending} (o=${o}, i=${i})`;
        assert.equal(gi, order, what);
        assert.equal(bits(gv), bits(order.map((j) => row[j])), what);
      }
    }
  });
}

test.run();
