// pool.ts kernels against float64 references with PyTorch semantics: max and avg
// pooling forward and backward over kernel 1/2/3/5, stride 1/2/3, padding 0/1/2
// (≤ kernel/2, as PyTorch requires), floor and ceil output sizes, odd and even H/W,
// several planes, unaligned pointers; the 2×2 stride-2 SIMD path over every OW % 4;
// max ties (first wins), -inf planes, NaN; countIncludePad both ways; backward
// zeroing dx; a plane split giving the same bits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels, putAt, putAtEnd } from "./harness.js";

interface Geo {
  NC: number; H: number; W: number; KH: number; KW: number; SH: number; SW: number;
  PH: number; PW: number; OH: number; OW: number;
}

/** PyTorch's pooling output size (dilation 1), floor or ceil mode. */
function outSize(L: number, K: number, S: number, P: number, ceil: boolean): number {
  const num = L + 2 * P - K;
  let o = (ceil ? Math.ceil(num / S) : Math.floor(num / S)) + 1;
  if (ceil && (o - 1) * S >= L + P) o--; // the last window must start inside the image or left padding
  return o;
}

function geo(NC: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
  PH: number, PW: number, ceil = false): Geo | null {
  if (2 * PH > KH || 2 * PW > KW) return null;
  const OH = outSize(H, KH, SH, PH, ceil), OW = outSize(W, KW, SW, PW, ceil);
  if (OH <= 0 || OW <= 0) return null;
  return { NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW };
}

function args(g: Geo): number[] {
  return [g.NC, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.OH, g.OW];
}

function name(g: Geo): string {
  return `NC${g.NC} ${g.H}x${g.W} k${g.KH}x${g.KW} s${g.SH},${g.SW} p${g.PH},${g.PW} -> ${g.OH}x${g.OW}`;
}

/** Window bounds as PyTorch computes them: [hs, he) × [ws, we) in the image, and the divisor with padding. */
function win(g: Geo, oh: number, ow: number) {
  let hs = oh * g.SH - g.PH, ws = ow * g.SW - g.PW;
  let he = Math.min(hs + g.KH, g.H + g.PH), we = Math.min(ws + g.KW, g.W + g.PW);
  const pool = (he - hs) * (we - ws);
  hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, g.H); we = Math.min(we, g.W);
  return { hs, he, ws, we, pool };
}

function refMax(g: Geo, x: ArrayLike<number>) {
  const n = g.NC * g.OH * g.OW;
  const y = new Float64Array(n), idx = new Float64Array(n);
  for (let p = 0; p < g.NC; p++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
    const { hs, he, ws, we } = win(g, oh, ow);
    let best = -Infinity, bi = hs * g.W + ws;
    for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) {
      const v = x[p * g.H * g.W + h * g.W + w];
      if (v > best || Number.isNaN(v)) { best = v; bi = h * g.W + w; }
    }
    const o = (p * g.OH + oh) * g.OW + ow;
    y[o] = best; idx[o] = bi;
  }
  return { y, idx };
}

function refAvg(g: Geo, x: ArrayLike<number>, cip: boolean): Float64Array {
  const y = new Float64Array(g.NC * g.OH * g.OW);
  for (let p = 0; p < g.NC; p++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
    const { hs, he, ws, we, pool } = win(g, oh, ow);
    let s = 0;
    for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) s += x[p * g.H * g.W + h * g.W + w];
    y[(p * g.OH + oh) * g.OW + ow] = s / (cip ? pool : (he - hs) * (we - ws));
  }
  return y;
}

function refAvgBackward(g: Geo, dy: ArrayLike<number>, cip: boolean): Float64Array {
  const dx = new Float64Array(g.NC * g.H * g.W);
  for (let p = 0; p < g.NC; p++) for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
    const { hs, he, ws, we, pool } = win(g, oh, ow);
    const d = dy[(p * g.OH + oh) * g.OW + ow] / (cip ? pool : (he - hs) * (we - ws));
    for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) dx[p * g.H * g.W + h * g.W + w] += d;
  }
  return dx;
}

/** Exact equality (infinities included; NaN matches NaN), for copies and maxima. */
function assertSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)))) throw new Error(`${what}: element ${i}: got ${a}, expected ${b}`);
  }
}

function sweep(): Geo[] {
  const out: Geo[] = [];
  const Ks = [1, 2, 3, 5], Ss = [1, 2, 3], Ps = [0, 1, 2];
  const Hs = [1, 2, 5, 8, 9], Ws = [3, 4, 7, 10, 13, 16, 21];
  let i = 0;
  for (const K of Ks) for (const S of Ss) for (const P of Ps) for (const ceil of [false, true]) {
    for (let j = 0; j < 2; j++, i++) {
      const H = Hs[(i + j) % Hs.length], W = Ws[(i * 2 + j) % Ws.length];
      const KH = j === 0 ? K : Ks[(i + 1) % 4], SH = j === 0 ? S : Ss[(i + 2) % 3], PH = j === 0 ? P : Ps[i % 3];
      const g = geo(1 + (i % 3), H, W, KH, K, SH, S, PH, P, ceil);
      if (g) out.push(g);
    }
  }
  // The 2×2 stride-2 SIMD path: every OW % 4, odd W and H (floor and ceil mode).
  for (let W = 2; W <= 27; W++) for (const H of [2, 5, 6]) for (const ceil of [false, true]) {
    out.push(geo(2, H, W, 2, 2, 2, 2, 0, 0, ceil)!);
  }
  return out;
}

const CASES = sweep();

for (const v of KERNEL_VARIANTS) {
  test(`${v}: maxpool2d_f32 values and indices match the reference`, () => {
    const box = kernels(v);
    let seed = 1;
    for (const g of CASES) {
      box.reset();
      const x = randomF32(g.NC * g.H * g.W, seed);
      const n = g.NC * g.OH * g.OW;
      const py = putAt(box, new Float32Array(n), (seed + 1) % 4), px = putAtEnd(box, x); // a read past x traps
      const pi = putAt(box, new Float32Array(n), (seed + 2) % 4);
      box.k.maxpool2d_f32(px, py, pi, ...args(g));
      const e = refMax(g, x);
      assertSame(box.f32(py, n), e.y, `${v} maxpool y ${name(g)}`);
      assertSame(box.i32(pi, n), e.idx, `${v} maxpool idx ${name(g)}`);
      seed++;
    }
  });

  test(`${v}: maxpool2d_f32 ties (first wins), -inf planes, padding never wins, NaN propagates`, () => {
    const box = kernels(v);
    for (const g of [geo(2, 6, 20, 2, 2, 2, 2, 0, 0)!, geo(2, 7, 9, 3, 3, 1, 1, 1, 1)!, geo(1, 5, 11, 3, 3, 2, 2, 1, 1, true)!,
      geo(1, 4, 13, 2, 5, 2, 3, 1, 2)!]) {
      const len = g.NC * g.H * g.W, n = g.NC * g.OH * g.OW;
      // Few distinct values: many ties. All -inf / all negative: padding (read as -inf, never 0) must not win.
      const inputs = [
        Array.from(randomF32(len, 3), (a) => Math.round(a * 2)),
        new Array(len).fill(-Infinity),
        new Array(len).fill(-5),
        Array.from(randomF32(len, 4), (a, i) => (i % 7 === 3 ? NaN : a)),
      ];
      for (const x of inputs) {
        box.reset();
        const px = putAt(box, x, 1), py = putAt(box, new Float32Array(n), 2), pi = putAt(box, new Float32Array(n), 3);
        box.k.maxpool2d_f32(px, py, pi, ...args(g));
        const e = refMax(g, x);
        assertSame(box.f32(py, n), e.y, `${v} maxpool special y ${name(g)}`);
        assertSame(box.i32(pi, n), e.idx, `${v} maxpool special idx ${name(g)}`);
      }
    }
  });

  test(`${v}: maxpool2d_backward_f32 zeroes dx and scatter-adds at the indices`, () => {
    const box = kernels(v);
    let seed = 300;
    for (const g of CASES) {
      box.reset();
      // Rounded inputs: ties, and overlapping windows picking the same element (sums).
      const x = Array.from(randomF32(g.NC * g.H * g.W, seed), (a) => Math.round(a * 3));
      const n = g.NC * g.OH * g.OW, len = g.NC * g.H * g.W;
      const dy = randomF32(n, seed + 1);
      const px = putAt(box, x, 0), py = putAt(box, new Float32Array(n), 1), pi = putAt(box, new Float32Array(n), 2);
      const pdy = putAt(box, dy, 3), pdx = putAt(box, randomF32(len, seed + 2), seed % 4); // garbage: must be zeroed
      box.k.maxpool2d_f32(px, py, pi, ...args(g));
      const idx = box.i32(pi, n).slice();
      box.k.maxpool2d_backward_f32(pdy, pi, pdx, g.NC, g.H, g.W, g.OH, g.OW);
      const e = new Float64Array(len);
      for (let p = 0; p < g.NC; p++) for (let o = 0; o < g.OH * g.OW; o++) {
        e[p * g.H * g.W + idx[p * g.OH * g.OW + o]] += dy[p * g.OH * g.OW + o];
      }
      assertClose(box.f32(pdx, len), e, { rtol: 1e-6, atol: 1e-6, what: `${v} maxpool backward ${name(g)}` });
      seed += 3;
    }
  });

  for (const cip of [true, false]) {
    test(`${v}: avgpool2d_f32 and its backward, countIncludePad=${cip}`, () => {
      const box = kernels(v);
      let seed = cip ? 700 : 900;
      for (const g of CASES) {
        box.reset();
        const len = g.NC * g.H * g.W, n = g.NC * g.OH * g.OW;
        const x = randomF32(len, seed), dy = randomF32(n, seed + 1);
        const py = putAt(box, new Float32Array(n), (seed + 1) % 4), px = putAtEnd(box, x); // a read past x traps
        box.k.avgpool2d_f32(px, py, ...args(g), cip ? 1 : 0);
        assertClose(box.f32(py, n), refAvg(g, x, cip), { rtol: 1e-5, atol: 1e-6, what: `${v} avgpool ${name(g)}` });
        const pdy = putAt(box, dy, (seed + 2) % 4), pdx = putAtEnd(box, randomF32(len, seed + 2));
        box.k.avgpool2d_backward_f32(pdy, pdx, ...args(g), cip ? 1 : 0);
        assertClose(box.f32(pdx, len), refAvgBackward(g, dy, cip), { rtol: 1e-5, atol: 1e-6, what: `${v} avgpool backward ${name(g)}` });
        seed += 4;
      }
    });
  }

  test(`${v}: a plane split gives the same bits as one call`, () => {
    const box = kernels(v);
    for (const g of [geo(5, 8, 20, 2, 2, 2, 2, 0, 0)!, geo(4, 9, 11, 3, 3, 2, 2, 1, 1, true)!]) {
      box.reset();
      const hw = g.H * g.W, ohw = g.OH * g.OW, len = g.NC * hw, n = g.NC * ohw;
      const px = putAt(box, randomF32(len, 11), 0), pdy = putAt(box, randomF32(n, 12), 0);
      const rest = (k: number) => [g.NC - k, ...args(g).slice(1)];
      const first = (k: number) => [k, ...args(g).slice(1)];
      const run = (split: number) => {
        const py = putAt(box, new Float32Array(n), 0), pi = putAt(box, new Float32Array(n), 0);
        const pa = putAt(box, new Float32Array(n), 0), pdx = putAt(box, new Float32Array(len), 0);
        const pdxa = putAt(box, new Float32Array(len), 0);
        const parts = split ? [[0, split], [split, g.NC - split]] : [[0, g.NC]];
        for (const [p0, k] of parts) {
          const geoArgs = k === g.NC ? args(g) : p0 === 0 ? first(k) : rest(p0);
          box.k.maxpool2d_f32(px + p0 * hw * 4, py + p0 * ohw * 4, pi + p0 * ohw * 4, ...geoArgs);
          box.k.maxpool2d_backward_f32(pdy + p0 * ohw * 4, pi + p0 * ohw * 4, pdx + p0 * hw * 4, k, g.H, g.W, g.OH, g.OW);
          box.k.avgpool2d_f32(px + p0 * hw * 4, pa + p0 * ohw * 4, ...geoArgs, 1);
          box.k.avgpool2d_backward_f32(pdy + p0 * ohw * 4, pdxa + p0 * hw * 4, ...geoArgs, 0);
        }
        return [box.f32(py, n), box.i32(pi, n), box.f32(pa, n), box.f32(pdx, len), box.f32(pdxa, len)].map((a) => Array.from(a));
      };
      assert.equal(run(2), run(0), `${name(g)} split`);
    }
  });
}

test.run();
