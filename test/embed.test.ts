// embed.ts kernels against float64 references: row gather and scatter-add over
// every dim remainder of the 4- and 8-float vector bodies, n not a multiple of 4,
// repeated indices (backward sums in order of i, and accumulates onto dtable),
// unaligned pointers, and an n split of the forward giving the same bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels, putAt, putAtEnd } from "./harness.js";
import type { KernelBox } from "./harness.js";

function putI32At(box: KernelBox, data: ArrayLike<number>, shift: number): number {
  const p = box.alloc((data.length + shift) * 4 + 16) + shift * 4;
  box.i32(p, data.length).set(data);
  return p;
}

/** n indices into `rows` rows, with repeats (small rows) and the first and last row. */
function indices(n: number, rows: number, seed: number): Int32Array {
  const r = randomF32(n, seed);
  return Int32Array.from(r, (a, i) => (i === 0 ? rows - 1 : i === 1 ? 0 : Math.floor((a + 1) / 2 * rows)));
}

const DIMS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 33, 64];
const NS = [1, 2, 3, 5, 7, 13];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: embedding_f32 gathers rows, every dim remainder`, () => {
    const box = kernels(v);
    let seed = 1;
    for (const dim of DIMS) for (const n of NS) for (const rows of [1, 3, 10]) {
      box.reset();
      const table = randomF32(rows * dim, seed), idx = indices(n, rows, seed + 1);
      const pi = putI32At(box, idx, (seed + 1) % 4);
      // y has one guard float on each side: the kernel must not write past its n·dim floats.
      const guard = randomF32(n * dim + 2, seed + 2);
      const py = putAt(box, guard, (seed + 2) % 4) + 4;
      const pt = putAtEnd(box, table); // a read past the last row traps
      box.k.embedding_f32(pt, pi, py, n, dim, rows);
      const expect = Float64Array.from(guard);
      for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) expect[1 + i * dim + k] = table[idx[i] * dim + k];
      assertClose(box.f32(py - 4, n * dim + 2), expect, { rtol: 0, atol: 0, what: `${v} embedding n=${n} dim=${dim} rows=${rows}` });
      seed += 3;
    }
  });

  test(`${v}: embedding_backward_f32 accumulates rows in order of i, repeats summed`, () => {
    const box = kernels(v);
    let seed = 2000;
    for (const dim of DIMS) for (const n of NS) for (const rows of [1, 3, 10]) {
      box.reset();
      const dy = randomF32(n * dim, seed), idx = indices(n, rows, seed + 1);
      const dt0 = randomF32(rows * dim, seed + 2); // nonzero: the kernel adds onto dtable
      const pdy = putAt(box, dy, seed % 4), pi = putI32At(box, idx, (seed + 1) % 4), pdt = putAtEnd(box, dt0);
      box.k.embedding_backward_f32(pdy, pi, pdt, n, dim, rows);
      // In order of i, in f32: the exact bits of the sequential sum.
      const expect = Float32Array.from(dt0);
      for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) expect[idx[i] * dim + k] += dy[i * dim + k];
      assertClose(box.f32(pdt, rows * dim), expect, { rtol: 0, atol: 0, what: `${v} embedding backward n=${n} dim=${dim} rows=${rows}` });
      seed += 3;
    }
  });

  test(`${v}: embedding_f32 split over n gives the same bits`, () => {
    const box = kernels(v);
    const rows = 20, dim = 37, n = 23;
    const pt = putAt(box, randomF32(rows * dim, 5), 0), pi = putI32At(box, indices(n, rows, 6), 0);
    const whole = putAt(box, new Float32Array(n * dim), 0), split = putAt(box, new Float32Array(n * dim), 0);
    box.k.embedding_f32(pt, pi, whole, n, dim, rows);
    box.k.embedding_f32(pt, pi, split, 9, dim, rows);
    box.k.embedding_f32(pt, pi + 9 * 4, split + 9 * dim * 4, n - 9, dim, rows);
    assert.equal(Array.from(box.f32(split, n * dim)), Array.from(box.f32(whole, n * dim)));
  });

  test(`${v}: an index outside [0, rows) gives a NaN row forward and no gradient backward (nothing outside the table is touched)`, () => {
    const box = kernels(v);
    const rows = 4, dim = 9, idx = Int32Array.from([1, -1, 4, 3, 2147483647, 0]), n = idx.length;
    const table = randomF32(rows * dim, 11), dy = randomF32(n * dim, 12), dt0 = randomF32(rows * dim, 13);
    const pt = putAtEnd(box, table), pi = putI32At(box, idx, 0), py = putAt(box, new Float32Array(n * dim), 0);
    box.k.embedding_f32(pt, pi, py, n, dim, rows);
    const y = box.f32(py, n * dim);
    for (let i = 0; i < n; i++) for (let k = 0; k < dim; k++) {
      const ok = idx[i] >= 0 && idx[i] < rows, got = y[i * dim + k];
      if (ok ? got !== table[idx[i] * dim + k] : !Number.isNaN(got)) assert.unreachable(`${v} y[${i}, ${k}] = ${got} for index ${idx[i]}`);
    }
    const pdy = putAt(box, dy, 0), pdt = putAtEnd(box, dt0);
    box.k.embedding_backward_f32(pdy, pi, pdt, n, dim, rows);
    const expect = Float32Array.from(dt0);
    idx.forEach((t, i) => { if (t >= 0 && t < rows) for (let k = 0; k < dim; k++) expect[t * dim + k] += dy[i * dim + k]; });
    assert.equal(Array.from(box.f32(pdt, rows * dim)), Array.from(expect));
  });
}

test.run();
