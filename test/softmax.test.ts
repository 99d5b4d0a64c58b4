// softmax.ts kernels against float64 references, in the plain-SIMD and
// relaxed-SIMD binaries: softmax_f32 and log_softmax_f32 (forward), their
// backwards from the saved output, and the fused softmax_xent_f32 with its
// backward (dlossStride 1: one upstream gradient per row; 0: one broadcast
// over all rows, as a mean's; and the scale factor). cols sweeps 1–1000 so
// every remainder of the 4-wide body meets the scalar tail, over several rows
// per call: a moderate row, a row with a large offset (+1000) and spread ±30
// (the max subtraction must keep exp from overflowing, and log-softmax must
// not lose the offset), and a near-uniform row. Masked rows: −inf entries give
// probability 0 (log-probability −inf), an all −inf row gives NaN, as PyTorch
// does; a NaN input poisons its row only. Every output has a sentinel past its
// end, and splitting rows (what the thread pool does) gives the same bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";

const COLS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100, 1000];
const ROWS = [1, 3, 5];
const SENTINEL = 777;

/** rows × cols logits; row r mod 3: ±4, 1000 ± 30, ±0.01. */
function logits(rows: number, cols: number, seed: number): Float32Array {
  const x = randomF32(rows * cols, seed);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      x[i] = r % 3 === 0 ? 4 * x[i] : r % 3 === 1 ? 1000 + 30 * x[i] : 0.01 * x[i];
    }
  }
  return x;
}

/** Labels that put the target at the first column, the last one, and in between. */
function labelsFor(rows: number, cols: number): Int32Array {
  return Int32Array.from({ length: rows }, (_, r) => (r === 0 ? 0 : r === 1 ? cols - 1 : (r * 7 + 3) % cols));
}

/** An output buffer of n floats followed by a sentinel. */
function outBuf(box: KernelBox, n: number): number {
  const p = box.alloc(n * 4 + 16);
  box.f32(p, n + 1).fill(-5);
  box.f32(p, n + 1)[n] = SENTINEL;
  return p;
}

function assertSentinel(box: KernelBox, p: number, n: number, what: string): void {
  assert.is(box.f32(p, n + 1)[n], SENTINEL, `${what}: wrote past the end`);
}

// ---------------------------------------------------------------------------
// float64 references

/** Per row: max and log Σ e^(x − max) (so logsumexp = max + lse). */
function rowStats(x: ArrayLike<number>, r: number, cols: number): { mx: number; lse: number } {
  let mx = -Infinity;
  for (let c = 0; c < cols; c++) mx = Math.max(mx, x[r * cols + c]);
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - mx);
  return { mx, lse: Math.log(s) };
}

function softmaxRef(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const { mx, lse } = rowStats(x, r, cols);
    for (let c = 0; c < cols; c++) y[r * cols + c] = Math.exp(x[r * cols + c] - mx - lse);
  }
  return y;
}

function logSoftmaxRef(x: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const { mx, lse } = rowStats(x, r, cols);
    for (let c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] - mx - lse;
  }
  return y;
}

/** Absolute tolerance for values of size ~|logsumexp| computed in f32 (a few ulps of it). */
function lseTol(x: ArrayLike<number>, r: number, cols: number): number {
  const { mx, lse } = rowStats(x, r, cols);
  return 4e-7 * (Math.abs(mx) + Math.abs(lse)) + 1e-6;
}

const row = (a: ArrayLike<number>, r: number, cols: number) => Array.prototype.slice.call(a, r * cols, (r + 1) * cols) as number[];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: softmax_f32 and log_softmax_f32 over a cols sweep (offset, wide and near-uniform rows)`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of COLS) {
      box.reset();
      const n = rows * cols, what = `${v} [${rows}, ${cols}]`;
      const x = logits(rows, cols, cols * 13 + rows);
      const px = box.putF32(x), py = outBuf(box, n), pl = outBuf(box, n);
      box.k.softmax_f32(px, py, rows, cols);
      box.k.log_softmax_f32(px, pl, rows, cols);
      assertSentinel(box, py, n, `${what} softmax`);
      assertSentinel(box, pl, n, `${what} log_softmax`);
      const p = softmaxRef(x, rows, cols), lp = logSoftmaxRef(x, rows, cols);
      assertClose(box.f32(py, n), p, { rtol: 2e-6, atol: 1e-9, what: `${what} softmax` });
      for (let r = 0; r < rows; r++) {
        assertClose(row(box.f32(pl, n), r, cols), row(lp, r, cols), { rtol: 1e-6, atol: lseTol(x, r, cols), what: `${what} log_softmax row ${r}` });
        let s = 0;
        for (const pi of row(box.f32(py, n), r, cols)) s += pi;
        assert.ok(Math.abs(s - 1) < 1e-5, `${what} softmax row ${r} sums to ${s}`);
      }
      assert.equal(Array.from(box.f32(px, n)), Array.from(x), `${what}: input modified`);
    }
  });

  test(`${v}: masked (−inf) entries give 0 / −inf; an all −inf row and a NaN row give NaN, other rows unharmed`, () => {
    const box = kernels(v);
    for (const cols of COLS) {
      box.reset();
      const rows = 4, n = rows * cols, what = `${v} cols ${cols}`;
      const x = Float32Array.from(randomF32(n, cols + 1), (u) => 3 * u);
      const masked = (c: number) => cols > 1 && c % 3 !== 1; // row 0: every column but 1, 4, 7, … (column 1 stays)
      for (let c = 0; c < cols; c++) if (masked(c)) x[c] = -Infinity;
      for (let c = 0; c < cols; c++) x[cols + c] = -Infinity; // row 1: all masked
      x[2 * cols + (cols >> 1)] = NaN; // row 2: one NaN
      const px = box.putF32(x), py = outBuf(box, n), pl = outBuf(box, n);
      box.k.softmax_f32(px, py, rows, cols);
      box.k.log_softmax_f32(px, pl, rows, cols);
      const y = box.f32(py, n), l = box.f32(pl, n);
      // row 0 against the reference over the unmasked columns only
      const keep = Array.from({ length: cols }, (_, c) => c).filter((c) => !masked(c));
      const sub = keep.map((c) => x[c]);
      const p = softmaxRef(sub, 1, sub.length), lp = logSoftmaxRef(sub, 1, sub.length);
      assertClose(keep.map((c) => y[c]), p, { rtol: 2e-6, atol: 0, what: `${what} softmax unmasked` });
      assertClose(keep.map((c) => l[c]), lp, { rtol: 1e-6, atol: 1e-6, what: `${what} log_softmax unmasked` });
      for (let c = 0; c < cols; c++) {
        if (!masked(c)) continue;
        assert.ok(y[c] >= 0 && y[c] <= 2 ** -126, `${what} softmax masked col ${c}: ${y[c]}`);
        assert.is(l[c], -Infinity, `${what} log_softmax masked col ${c}`);
      }
      for (const r of [1, 2]) {
        for (let c = 0; c < cols; c++) {
          assert.ok(Number.isNaN(y[r * cols + c]) && Number.isNaN(l[r * cols + c]), `${what} row ${r} col ${c}: ${y[r * cols + c]}, ${l[r * cols + c]} (want NaN)`);
        }
      }
      assertClose(row(y, 3, cols), row(softmaxRef(x.subarray(3 * cols), 1, cols), 0, cols), { rtol: 2e-6, atol: 1e-9, what: `${what} row after the NaN row` });
    }
  });

  test(`${v}: softmax_backward_f32 and log_softmax_backward_f32 against dx = y·(dy − Σdy·y) and dx = dy − e^y·Σdy`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of COLS) {
      box.reset();
      const n = rows * cols, what = `${v} [${rows}, ${cols}]`;
      const x = logits(rows, cols, cols + 2 * rows);
      const y = Float32Array.from(softmaxRef(x, rows, cols)), ly = Float32Array.from(logSoftmaxRef(x, rows, cols));
      const dy = randomF32(n, cols * 3 + rows);
      const py = box.putF32(y), ply = box.putF32(ly), pdy = box.putF32(dy);
      const pdx = outBuf(box, n), pldx = outBuf(box, n);
      box.k.softmax_backward_f32(py, pdy, pdx, rows, cols);
      box.k.log_softmax_backward_f32(ply, pdy, pldx, rows, cols);
      assertSentinel(box, pdx, n, `${what} softmax_backward`);
      assertSentinel(box, pldx, n, `${what} log_softmax_backward`);
      for (let r = 0; r < rows; r++) {
        let dot = 0, sdy = 0, sabs = 0;
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          dot += dy[i] * y[i]; sdy += dy[i]; sabs += Math.abs(dy[i]);
        }
        const want = row(y, r, cols).map((yi, c) => yi * (dy[r * cols + c] - dot));
        const lwant = row(ly, r, cols).map((yi, c) => dy[r * cols + c] - Math.exp(yi) * sdy);
        assertClose(row(box.f32(pdx, n), r, cols), want, { rtol: 1e-5, atol: 1e-7, what: `${what} softmax_backward row ${r}` });
        // f32 Σdy is off by up to ~ulp·Σ|dy|; e^y ≤ 1 scales it
        assertClose(row(box.f32(pldx, n), r, cols), lwant, { rtol: 1e-6, atol: 5e-8 * sabs + 1e-7, what: `${what} log_softmax_backward row ${r}` });
      }
    }
  });

  test(`${v}: softmax_xent_f32: loss = logsumexp − logit[label], probs = softmax`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of COLS) {
      box.reset();
      const n = rows * cols, what = `${v} xent [${rows}, ${cols}]`;
      const x = logits(rows, cols, cols * 5 + rows), labels = labelsFor(rows, cols);
      const px = box.putF32(x), plab = box.putI32(labels), ploss = outBuf(box, rows), pp = outBuf(box, n);
      box.k.softmax_xent_f32(px, plab, ploss, pp, rows, cols);
      assertSentinel(box, ploss, rows, `${what} loss`);
      assertSentinel(box, pp, n, `${what} probs`);
      assertClose(box.f32(pp, n), softmaxRef(x, rows, cols), { rtol: 2e-6, atol: 1e-9, what: `${what} probs` });
      for (let r = 0; r < rows; r++) {
        const { mx, lse } = rowStats(x, r, cols);
        const want = mx + lse - x[r * cols + labels[r]];
        assertClose([box.f32(ploss, rows)[r]], [want], { rtol: 1e-6, atol: lseTol(x, r, cols), what: `${what} loss row ${r}` });
      }
    }
  });

  test(`${v}: softmax_xent_backward_f32 with dlossStride 1 and 0, and scale`, () => {
    const box = kernels(v);
    for (const rows of ROWS) for (const cols of COLS) {
      for (const [stride, scale] of [[1, 1], [1, 0.25], [0, 1 / rows], [0, -3]] as const) {
        box.reset();
        const n = rows * cols, what = `${v} xent backward [${rows}, ${cols}] stride ${stride} scale ${scale}`;
        const probs = Float32Array.from(softmaxRef(logits(rows, cols, cols + rows), rows, cols)), labels = labelsFor(rows, cols);
        // with stride 0 only dloss[0] may be read; the values after it would show a wrong stride
        const dloss = Float32Array.from(randomF32(rows, rows + cols), (u, r) => (r === 0 ? 0.75 : 10 * u));
        const pp = box.putF32(probs), plab = box.putI32(labels), pdl = box.putF32(dloss), pdx = outBuf(box, n);
        box.k.softmax_xent_backward_f32(pp, plab, pdl, stride, pdx, rows, cols, scale);
        assertSentinel(box, pdx, n, what);
        const want = new Float64Array(n);
        for (let r = 0; r < rows; r++) {
          const g = dloss[r * stride] * Math.fround(scale);
          for (let c = 0; c < cols; c++) want[r * cols + c] = (probs[r * cols + c] - (c === labels[r] ? 1 : 0)) * g;
        }
        assertClose(box.f32(pdx, n), want, { rtol: 1e-6, atol: 1e-30, what });
        let rowSum = 0;
        for (let c = 0; c < cols; c++) rowSum += box.f32(pdx, n)[c];
        assert.ok(Math.abs(rowSum) <= 1e-5 * Math.abs(dloss[0] * scale), `${what}: row 0 of dlogits sums to ${rowSum}, not 0`);
      }
    }
  });

  test(`${v}: splitting rows (a thread's share) gives the same bits, for all six kernels`, () => {
    const box = kernels(v);
    for (const cols of [1, 3, 4, 7, 9, 17, 33, 100, 1000]) {
      box.reset();
      const rows = 5, n = rows * cols, s = 2, so = s * cols * 4;
      const x = logits(rows, cols, cols), labels = labelsFor(rows, cols), dy = randomF32(n, cols + 9), dloss = randomF32(rows, 4);
      const px = box.putF32(x), plab = box.putI32(labels), pdy = box.putF32(dy), pdl = box.putF32(dloss);
      const same = (name: string, whole: (o: number) => void, part: (o: number) => void, len = n) => {
        const a = outBuf(box, len), b = outBuf(box, len);
        whole(a);
        part(b);
        assert.equal(Array.from(box.f32(b, len + 1)), Array.from(box.f32(a, len + 1)), `${v} ${name} cols ${cols}: split rows differ`);
      };
      for (const k of ["softmax_f32", "log_softmax_f32"] as const) {
        same(k, (o) => box.k[k](px, o, rows, cols), (o) => { box.k[k](px, o, s, cols); box.k[k](px + so, o + so, rows - s, cols); });
      }
      const py = box.putF32(softmaxRef(x, rows, cols)), ply = box.putF32(logSoftmaxRef(x, rows, cols));
      for (const [k, yp] of [["softmax_backward_f32", py], ["log_softmax_backward_f32", ply]] as const) {
        same(k, (o) => box.k[k](yp, pdy, o, rows, cols), (o) => { box.k[k](yp, pdy, o, s, cols); box.k[k](yp + so, pdy + so, o + so, rows - s, cols); });
      }
      const lossA = outBuf(box, rows), lossB = outBuf(box, rows);
      same("softmax_xent_f32", (o) => box.k.softmax_xent_f32(px, plab, lossA, o, rows, cols), (o) => {
        box.k.softmax_xent_f32(px, plab, lossB, o, s, cols);
        box.k.softmax_xent_f32(px + so, plab + s * 4, lossB + s * 4, o + so, rows - s, cols);
      });
      assert.equal(Array.from(box.f32(lossB, rows + 1)), Array.from(box.f32(lossA, rows + 1)), `${v} xent loss cols ${cols}: split rows differ`);
      for (const stride of [0, 1]) {
        same(`softmax_xent_backward_f32 stride ${stride}`, (o) => box.k.softmax_xent_backward_f32(py, plab, pdl, stride, o, rows, cols, 0.5), (o) => {
          box.k.softmax_xent_backward_f32(py, plab, pdl, stride, o, s, cols, 0.5);
          box.k.softmax_xent_backward_f32(py + so, plab + s * 4, pdl + s * stride * 4, stride, o + so, rows - s, cols, 0.5);
        });
      }
    }
  });
}

test.run();
