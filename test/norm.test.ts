// norm.ts kernels against float64 references, in the plain-SIMD and
// relaxed-SIMD binaries: layernorm_f32 with each of gamma/beta present or
// absent (pointer 0), its saved mean and rstd; layernorm_backward_f32 with and
// without gamma (and the reference's formula itself checked against central
// differences); layernorm_param_grad_f32, which ACCUMULATES into dgamma/dbeta
// (it must add to what is there, and two calls over a row split must equal one
// call bit for bit, since the host runs it over all rows on one thread).
// cols sweeps 1–1000, hitting every remainder of the 8- and 4-wide bodies.
// Rows cycle through a moderate row, a row with mean 1000 and std 1 (the
// two-pass variance keeps rstd to f32 precision there, where E[x²] − mean²
// would lose every digit), a small shifted row and a constant row (variance 0:
// rstd = 1/√eps). Outputs carry sentinels past their ends, and splitting rows
// (what the thread pool does for the forward and the input gradient) gives
// the same bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";

const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 15, 16, 17, 33, 100, 1000];
const ROWS = [1, 3, 5];
const EPS = 1e-5;
const SENTINEL = 777;

/** Row r mod 4: ±2; mean 1000 std 1 (uniform·√3); 0.5·u − 3; constant 2.5. */
function inputs(rows: number, cols: number, seed: number): Float32Array {
  const x = randomF32(rows * cols, seed);
  for (let i = 0; i < x.length; i++) {
    const r = Math.floor(i / cols) % 4;
    x[i] = r === 0 ? 2 * x[i] : r === 1 ? 1000 + Math.sqrt(3) * x[i] : r === 2 ? 0.5 * x[i] - 3 : 2.5;
  }
  return x;
}

function outBuf(box: KernelBox, n: number, fill = -5): number {
  const p = box.alloc(n * 4 + 16);
  box.f32(p, n + 1).fill(fill);
  box.f32(p, n + 1)[n] = SENTINEL;
  return p;
}

function assertSentinel(box: KernelBox, p: number, n: number, what: string): void {
  assert.is(box.f32(p, n + 1)[n], SENTINEL, `${what}: wrote past the end`);
}

// ---------------------------------------------------------------------------
// float64 references

function forwardRef(x: ArrayLike<number>, gamma: ArrayLike<number> | null, beta: ArrayLike<number> | null, rows: number, cols: number, eps = EPS) {
  const y = new Float64Array(rows * cols), mean = new Float64Array(rows), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[r * cols + c];
    const m = s / cols;
    let q = 0;
    for (let c = 0; c < cols; c++) q += (x[r * cols + c] - m) ** 2;
    const rs = 1 / Math.sqrt(q / cols + eps);
    mean[r] = m; rstd[r] = rs;
    for (let c = 0; c < cols; c++) {
      y[r * cols + c] = (x[r * cols + c] - m) * rs * (gamma ? gamma[c] : 1) + (beta ? beta[c] : 0);
    }
  }
  return { y, mean, rstd };
}

/** dx for given (saved) mean and rstd: rstd·(g − mean(g) − x̂·mean(g·x̂)), g = dy·gamma. */
function backwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number> | null, mean: ArrayLike<number>, rstd: ArrayLike<number>, rows: number, cols: number) {
  const dx = new Float64Array(rows * cols), scale = new Float64Array(rows); // scale: a size for the tolerance
  for (let r = 0; r < rows; r++) {
    let a = 0, b = 0, abs = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c, g = dy[i] * (gamma ? gamma[c] : 1), xh = (x[i] - mean[r]) * rstd[r];
      a += g; b += g * xh; abs += Math.abs(g) * (1 + Math.abs(xh));
    }
    a /= cols; b /= cols;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c, g = dy[i] * (gamma ? gamma[c] : 1), xh = (x[i] - mean[r]) * rstd[r];
      dx[i] = rstd[r] * (g - a - xh * b);
    }
    scale[r] = (rstd[r] * abs) / cols;
  }
  return { dx, scale };
}

const row = (a: ArrayLike<number>, r: number, cols: number) => Array.prototype.slice.call(a, r * cols, (r + 1) * cols) as number[];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: layernorm_f32 with and without gamma / beta, mean and rstd saved (incl. mean 1000, std 1)`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of COLS) for (const [useG, useB] of [[1, 1], [1, 0], [0, 1], [0, 0]]) {
      box.reset();
      const n = rows * cols, what = `${v} layernorm [${rows}, ${cols}] gamma ${useG} beta ${useB}`;
      const x = inputs(rows, cols, cols * 7 + rows);
      const gamma = useG ? Float32Array.from(randomF32(cols, cols + 1), (u) => 1 + 0.5 * u) : null;
      const beta = useB ? Float32Array.from(randomF32(cols, cols + 2), (u) => 0.3 * u) : null;
      const px = box.putF32(x), pg = gamma ? box.putF32(gamma) : 0, pb = beta ? box.putF32(beta) : 0;
      const py = outBuf(box, n), pm = outBuf(box, rows), prs = outBuf(box, rows);
      box.k.layernorm_f32(px, pg, pb, py, pm, prs, rows, cols, EPS);
      assertSentinel(box, py, n, `${what} y`);
      assertSentinel(box, pm, rows, `${what} mean`);
      assertSentinel(box, prs, rows, `${what} rstd`);
      const ref = forwardRef(x, gamma, beta, rows, cols);
      assertClose(box.f32(pm, rows), ref.mean, { rtol: 1e-6, atol: 1e-6, what: `${what} mean` });
      // two-pass: rstd is good to ~1e-7 even at mean 1000 (one-pass E[x²] − mean² is off by > 1e-2 there)
      assertClose(box.f32(prs, rows), ref.rstd, { rtol: 1e-6, atol: 0, what: `${what} rstd` });
      for (let r = 0; r < rows; r++) {
        // y inherits the f32 mean's rounding (≈ ulp(|mean|)), magnified by rstd·|gamma|
        const atol = (5e-7 * Math.abs(ref.mean[r]) + 1e-6) * ref.rstd[r] * 1.5;
        assertClose(row(box.f32(py, n), r, cols), row(ref.y, r, cols), { rtol: 1e-5, atol, what: `${what} y row ${r}` });
      }
    }
  });

  test(`${v}: layernorm_f32 at mean 1000, std 1 over many columns: rstd to 1e-6, normalised rows have mean 0, variance 1`, () => {
    const box = kernels(v);
    for (const cols of [64, 1000, 4099]) {
      box.reset();
      const x = Float32Array.from(randomF32(cols, cols), (u) => 1000 + Math.sqrt(3) * u);
      const py = box.alloc(cols * 4), pm = box.alloc(16), prs = box.alloc(16);
      box.k.layernorm_f32(box.putF32(x), 0, 0, py, pm, prs, 1, cols, EPS);
      const ref = forwardRef(x, null, null, 1, cols);
      assertClose(box.f32(prs, 1), ref.rstd, { rtol: 1e-6, atol: 0, what: `${v} cols ${cols} rstd` });
      let s = 0, q = 0;
      for (const yi of box.f32(py, cols)) { s += yi; q += yi * yi; }
      assert.ok(Math.abs(s / cols) < 1e-3, `${v} cols ${cols}: mean of y = ${s / cols}`);
      assert.ok(Math.abs(q / cols - 1) < 1e-3, `${v} cols ${cols}: variance of y = ${q / cols}`);
    }
  });

  test(`${v}: layernorm_backward_f32 with and without gamma (reference checked by central differences)`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of COLS) for (const useG of [1, 0]) {
      box.reset();
      const n = rows * cols, what = `${v} layernorm_backward [${rows}, ${cols}] gamma ${useG}`;
      const x = inputs(rows, cols, cols + 3 * rows), dy = randomF32(n, cols * 11 + rows);
      const gamma = useG ? Float32Array.from(randomF32(cols, cols + 5), (u) => 1 + 0.5 * u) : null;
      const fwd = forwardRef(x, null, null, rows, cols);
      const mean = Float32Array.from(fwd.mean), rstd = Float32Array.from(fwd.rstd); // as the forward saved them
      const pdx = outBuf(box, n);
      box.k.layernorm_backward_f32(box.putF32(x), box.putF32(dy), gamma ? box.putF32(gamma) : 0, box.putF32(mean), box.putF32(rstd), pdx, rows, cols);
      assertSentinel(box, pdx, n, what);
      const ref = backwardRef(x, dy, gamma, mean, rstd, rows, cols);
      for (let r = 0; r < rows; r++) {
        assertClose(row(box.f32(pdx, n), r, cols), row(ref.dx, r, cols), { rtol: 2e-6, atol: 4e-7 * ref.scale[r] + 1e-7, what: `${what} row ${r}` });
      }
      if (rows === 3 && cols <= 17) {
        // the reference formula is the true gradient of Σ dy·y (float64 central differences)
        const x64 = Float64Array.from(x), h = 1e-5;
        const loss = () => forwardRef(x64, gamma, null, rows, cols).y.reduce((s, yi, i) => s + yi * dy[i], 0);
        const exact = backwardRef(x64, dy, gamma, forwardRef(x64, null, null, rows, cols).mean, forwardRef(x64, null, null, rows, cols).rstd, rows, cols).dx;
        for (let i = 0; i < n; i++) {
          if (Math.floor(i / cols) % 4 === 3) continue; // the constant row: var + eps ≈ eps, too curved for h
          const x0 = x64[i];
          x64[i] = x0 + h; const up = loss();
          x64[i] = x0 - h; const down = loss();
          x64[i] = x0;
          assertClose([(up - down) / (2 * h)], [exact[i]], { rtol: 1e-4, atol: 1e-6, what: `${what} finite difference at ${i}` });
        }
      }
    }
  });

  test(`${v}: layernorm_param_grad_f32 accumulates into dgamma and dbeta (+= Σ dy·x̂, += Σ dy)`, () => {
    const box = kernels(v);
    for (const rows of [...ROWS, 64]) for (const cols of COLS) {
      box.reset();
      const n = rows * cols, what = `${v} param_grad [${rows}, ${cols}]`;
      const x = inputs(rows, cols, cols + rows), dy = randomF32(n, 2 * cols + rows);
      const fwd = forwardRef(x, null, null, rows, cols);
      const mean = Float32Array.from(fwd.mean), rstd = Float32Array.from(fwd.rstd);
      const g0 = randomF32(cols, cols + 77), b0 = randomF32(cols, cols + 78);
      const px = box.putF32(x), pdy = box.putF32(dy), pm = box.putF32(mean), prs = box.putF32(rstd);
      const pdg = outBuf(box, cols), pdb = outBuf(box, cols);
      box.f32(pdg, cols).set(g0);
      box.f32(pdb, cols).set(b0);
      box.k.layernorm_param_grad_f32(px, pdy, pm, prs, pdg, pdb, rows, cols);
      assertSentinel(box, pdg, cols, `${what} dgamma`);
      assertSentinel(box, pdb, cols, `${what} dbeta`);
      const dg = Float64Array.from(g0), db = Float64Array.from(b0), tg = new Float64Array(cols), tb = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c, xh = (x[i] - mean[r]) * rstd[r];
          dg[c] += dy[i] * xh; db[c] += dy[i];
          tg[c] += Math.abs(dy[i] * xh) + Math.abs(g0[c]); tb[c] += Math.abs(dy[i]) + Math.abs(b0[c]);
        }
      }
      // f32 running sums: error ~ ulp per add, relative to Σ|terms|
      for (let c = 0; c < cols; c++) {
        assertClose([box.f32(pdg, cols)[c]], [dg[c]], { rtol: 0, atol: 2e-7 * tg[c] + 1e-7, what: `${what} dgamma[${c}]` });
        assertClose([box.f32(pdb, cols)[c]], [db[c]], { rtol: 0, atol: 2e-7 * tb[c] + 1e-7, what: `${what} dbeta[${c}]` });
      }
      // rows [0, s) then [s, rows) on top of the same start equals one call, bit for bit
      const s = rows >> 1;
      const pdg2 = outBuf(box, cols), pdb2 = outBuf(box, cols);
      box.f32(pdg2, cols).set(g0);
      box.f32(pdb2, cols).set(b0);
      box.k.layernorm_param_grad_f32(px, pdy, pm, prs, pdg2, pdb2, s, cols);
      box.k.layernorm_param_grad_f32(px + s * cols * 4, pdy + s * cols * 4, pm + s * 4, prs + s * 4, pdg2, pdb2, rows - s, cols);
      assert.equal(Array.from(box.f32(pdg2, cols + 1)), Array.from(box.f32(pdg, cols + 1)), `${what}: dgamma over split rows`);
      assert.equal(Array.from(box.f32(pdb2, cols + 1)), Array.from(box.f32(pdb, cols + 1)), `${what}: dbeta over split rows`);
    }
  });

  test(`${v}: splitting rows (a thread's share) gives the same bits for layernorm_f32 and layernorm_backward_f32`, () => {
    const box = kernels(v);
    for (const cols of [1, 3, 4, 7, 9, 13, 17, 33, 100, 1000]) for (const affine of [1, 0]) {
      box.reset();
      const rows = 5, n = rows * cols, s = 2, so = s * cols * 4;
      const x = inputs(rows, cols, cols), dy = randomF32(n, cols + 1);
      const gamma = randomF32(cols, 3), beta = randomF32(cols, 4);
      const px = box.putF32(x), pdy = box.putF32(dy);
      const pg = affine ? box.putF32(gamma) : 0, pb = affine ? box.putF32(beta) : 0;
      const [ya, ma, ra, yb, mb, rb] = [n, rows, rows, n, rows, rows].map((k) => outBuf(box, k));
      box.k.layernorm_f32(px, pg, pb, ya, ma, ra, rows, cols, EPS);
      box.k.layernorm_f32(px, pg, pb, yb, mb, rb, s, cols, EPS);
      box.k.layernorm_f32(px + so, pg, pb, yb + so, mb + s * 4, rb + s * 4, rows - s, cols, EPS);
      for (const [a, b, k, name] of [[ya, yb, n, "y"], [ma, mb, rows, "mean"], [ra, rb, rows, "rstd"]] as const) {
        assert.equal(Array.from(box.f32(b, k + 1)), Array.from(box.f32(a, k + 1)), `${v} cols ${cols} affine ${affine}: ${name} over split rows`);
      }
      const da = outBuf(box, n), db = outBuf(box, n);
      box.k.layernorm_backward_f32(px, pdy, pg, ma, ra, da, rows, cols);
      box.k.layernorm_backward_f32(px, pdy, pg, ma, ra, db, s, cols);
      box.k.layernorm_backward_f32(px + so, pdy + so, pg, ma + s * 4, ra + s * 4, db + so, rows - s, cols);
      assert.equal(Array.from(box.f32(db, n + 1)), Array.from(box.f32(da, n + 1)), `${v} cols ${cols} gamma ${affine}: dx over split rows`);
    }
  });
}

// ---------------------------------------------------------------------------
// RMS norm (issue 17): rmsnorm_f32 (y, rstd saved), rmsnorm_backward_f32 (dx),
// rmsnorm_param_grad_f32 (accumulates dweight), weight present or absent, over
// cols hitting every remainder of the 8- and 4-wide bodies, and Llama widths.

const RMS_COLS = [...Array.from({ length: 17 }, (_, i) => i + 1), 33, 127, 576];

function rmsForwardRef(x: ArrayLike<number>, w: ArrayLike<number> | null, rows: number, cols: number, eps = EPS) {
  const y = new Float64Array(rows * cols), rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let q = 0;
    for (let c = 0; c < cols; c++) q += x[r * cols + c] ** 2;
    rstd[r] = 1 / Math.sqrt(q / cols + eps);
    for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] * rstd[r] * (w ? w[c] : 1);
  }
  return { y, rstd };
}

/** dx for a given (saved) rstd: rstd·(g − x̂·mean(g·x̂)), g = dy·w; scale: a size for the tolerance. */
function rmsBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, w: ArrayLike<number> | null, rstd: ArrayLike<number>, rows: number, cols: number) {
  const dx = new Float64Array(rows * cols), scale = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let b = 0, abs = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c, g = dy[i] * (w ? w[c] : 1), xh = x[i] * rstd[r];
      b += g * xh; abs += Math.abs(g) * (1 + Math.abs(xh));
    }
    b /= cols;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c, g = dy[i] * (w ? w[c] : 1);
      dx[i] = rstd[r] * (g - x[i] * rstd[r] * b);
    }
    scale[r] = (rstd[r] * abs) / cols;
  }
  return { dx, scale };
}

for (const v of KERNEL_VARIANTS) {
  test(`${v}: rmsnorm_f32 with and without weight, rstd saved; cols 1–17, 33, 127, 576`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of RMS_COLS) for (const useW of [1, 0]) {
      box.reset();
      const n = rows * cols, what = `${v} rmsnorm [${rows}, ${cols}] weight ${useW}`;
      const x = inputs(rows, cols, cols * 5 + rows);
      const w = useW ? Float32Array.from(randomF32(cols, cols + 9), (u) => 1 + 0.5 * u) : null;
      const py = outBuf(box, n), prs = outBuf(box, rows);
      box.k.rmsnorm_f32(box.putF32(x), w ? box.putF32(w) : 0, py, prs, rows, cols, EPS);
      assertSentinel(box, py, n, `${what} y`);
      assertSentinel(box, prs, rows, `${what} rstd`);
      const ref = rmsForwardRef(x, w, rows, cols);
      assertClose(box.f32(prs, rows), ref.rstd, { rtol: 1e-6, atol: 0, what: `${what} rstd` });
      assertClose(box.f32(py, n), ref.y, { rtol: 2e-6, atol: 1e-7, what: `${what} y` });
    }
  });

  test(`${v}: rmsnorm_backward_f32 with and without weight (reference checked by central differences)`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of RMS_COLS) for (const useW of [1, 0]) {
      box.reset();
      const n = rows * cols, what = `${v} rmsnorm_backward [${rows}, ${cols}] weight ${useW}`;
      const x = inputs(rows, cols, cols + 5 * rows), dy = randomF32(n, cols * 13 + rows);
      const w = useW ? Float32Array.from(randomF32(cols, cols + 6), (u) => 1 + 0.5 * u) : null;
      const rstd = Float32Array.from(rmsForwardRef(x, null, rows, cols).rstd);
      const pdx = outBuf(box, n);
      box.k.rmsnorm_backward_f32(box.putF32(x), box.putF32(dy), w ? box.putF32(w) : 0, box.putF32(rstd), pdx, rows, cols);
      assertSentinel(box, pdx, n, what);
      const ref = rmsBackwardRef(x, dy, w, rstd, rows, cols);
      for (let r = 0; r < rows; r++) {
        assertClose(row(box.f32(pdx, n), r, cols), row(ref.dx, r, cols), { rtol: 2e-6, atol: 4e-7 * ref.scale[r] + 1e-7, what: `${what} row ${r}` });
      }
      if (rows === 3 && cols <= 17) {
        // the reference formula is the true gradient of Σ dy·y (float64 central differences)
        const x64 = Float64Array.from(x), h = 1e-5;
        const loss = () => rmsForwardRef(x64, w, rows, cols).y.reduce((s, yi, i) => s + yi * dy[i], 0);
        const exact = rmsBackwardRef(x64, dy, w, rmsForwardRef(x64, null, rows, cols).rstd, rows, cols).dx;
        for (let i = 0; i < n; i++) {
          const x0 = x64[i];
          x64[i] = x0 + h; const up = loss();
          x64[i] = x0 - h; const down = loss();
          x64[i] = x0;
          assertClose([(up - down) / (2 * h)], [exact[i]], { rtol: 1e-4, atol: 1e-6, what: `${what} finite difference at ${i}` });
        }
      }
    }
  });

  test(`${v}: rmsnorm_param_grad_f32 accumulates into dweight (+= Σ dy·x·rstd), rows split = one call`, () => {
    const box = kernels(v);
    for (const rows of [...ROWS, 64]) for (const cols of RMS_COLS) {
      box.reset();
      const n = rows * cols, what = `${v} rms param_grad [${rows}, ${cols}]`;
      const x = inputs(rows, cols, 3 * cols + rows), dy = randomF32(n, 5 * cols + rows);
      const rstd = Float32Array.from(rmsForwardRef(x, null, rows, cols).rstd);
      const w0 = randomF32(cols, cols + 79);
      const px = box.putF32(x), pdy = box.putF32(dy), prs = box.putF32(rstd);
      const pdw = outBuf(box, cols);
      box.f32(pdw, cols).set(w0);
      box.k.rmsnorm_param_grad_f32(px, pdy, prs, pdw, rows, cols);
      assertSentinel(box, pdw, cols, `${what} dweight`);
      const dw = Float64Array.from(w0), tw = new Float64Array(cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
        const i = r * cols + c, t = dy[i] * x[i] * rstd[r];
        dw[c] += t; tw[c] += Math.abs(t) + Math.abs(w0[c]);
      }
      for (let c = 0; c < cols; c++) {
        assertClose([box.f32(pdw, cols)[c]], [dw[c]], { rtol: 0, atol: 2e-7 * tw[c] + 1e-7, what: `${what} dweight[${c}]` });
      }
      const s = rows >> 1, pdw2 = outBuf(box, cols);
      box.f32(pdw2, cols).set(w0);
      box.k.rmsnorm_param_grad_f32(px, pdy, prs, pdw2, s, cols);
      box.k.rmsnorm_param_grad_f32(px + s * cols * 4, pdy + s * cols * 4, prs + s * 4, pdw2, rows - s, cols);
      assert.equal(Array.from(box.f32(pdw2, cols + 1)), Array.from(box.f32(pdw, cols + 1)), `${what}: dweight over split rows`);
    }
  });

  test(`${v}: splitting rows gives the same bits for rmsnorm_f32 and rmsnorm_backward_f32 (dx may be dy)`, () => {
    const box = kernels(v);
    for (const cols of [1, 3, 4, 7, 9, 13, 17, 33, 127, 576]) for (const useW of [1, 0]) {
      box.reset();
      const rows = 5, n = rows * cols, s = 2, so = s * cols * 4;
      const x = inputs(rows, cols, cols + 2), dy = randomF32(n, cols + 3);
      const px = box.putF32(x), pdy = box.putF32(dy), pw = useW ? box.putF32(randomF32(cols, 8)) : 0;
      const [ya, ra, yb, rb] = [n, rows, n, rows].map((k) => outBuf(box, k));
      box.k.rmsnorm_f32(px, pw, ya, ra, rows, cols, EPS);
      box.k.rmsnorm_f32(px, pw, yb, rb, s, cols, EPS);
      box.k.rmsnorm_f32(px + so, pw, yb + so, rb + s * 4, rows - s, cols, EPS);
      assert.equal(Array.from(box.f32(yb, n + 1)), Array.from(box.f32(ya, n + 1)), `${v} cols ${cols}: y over split rows`);
      assert.equal(Array.from(box.f32(rb, rows + 1)), Array.from(box.f32(ra, rows + 1)), `${v} cols ${cols}: rstd over split rows`);
      const da = outBuf(box, n), db = outBuf(box, n);
      box.k.rmsnorm_backward_f32(px, pdy, pw, ra, da, rows, cols);
      box.k.rmsnorm_backward_f32(px, pdy, pw, ra, db, s, cols);
      box.k.rmsnorm_backward_f32(px + so, pdy + so, pw, ra + s * 4, db + so, rows - s, cols);
      assert.equal(Array.from(box.f32(db, n + 1)), Array.from(box.f32(da, n + 1)), `${v} cols ${cols}: dx over split rows`);
      box.k.rmsnorm_backward_f32(px, pdy, pw, ra, pdy, rows, cols);
      assert.equal(Array.from(box.f32(pdy, n)), Array.from(box.f32(da, n)), `${v} cols ${cols}: dx written over dy`);
    }
  });
}

test.run();
