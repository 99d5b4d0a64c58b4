// conv.ts kernels against float64 references: im2col / col2im over kernel 1/2/3/5,
// stride 1/2/3, padding 0/1/2, dilation 1/2, asymmetric shapes, odd and even H/W
// (so OW hits every remainder of the 4- and 8-float vector bodies), two images side
// by side in one col matrix (ldcol > OH·OW, column offset, padding columns untouched),
// unaligned pointers; col2im accumulating; the adjoint identity; a channel split
// giving the same bits; bias_add_channels over every inner remainder. The direct
// path: pad2d_f32, conv2d_direct_f32 (Cout over every remainder of its 4-channel
// tile, OW over every remainder of its 8-column tile, an image split giving the
// same bits) and conv2d_wgrad_f32 (a channel split giving the same bits).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels, putAt, putAtEnd } from "./harness.js";

interface Geo {
  C: number; H: number; W: number; KH: number; KW: number; SH: number; SW: number;
  PH: number; PW: number; DH: number; DW: number; OH: number; OW: number;
}

function outSize(L: number, K: number, S: number, P: number, D: number): number {
  return Math.floor((L + 2 * P - D * (K - 1) - 1) / S) + 1;
}

function geo(C: number, H: number, W: number, KH: number, KW: number, SH: number, SW: number,
  PH: number, PW: number, DH: number, DW: number): Geo | null {
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  if (OH <= 0 || OW <= 0) return null;
  return { C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW };
}

function args(g: Geo): number[] {
  return [g.C, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.PH, g.PW, g.DH, g.DW, g.OH, g.OW];
}

function name(g: Geo): string {
  return `C${g.C} ${g.H}x${g.W} k${g.KH}x${g.KW} s${g.SH},${g.SW} p${g.PH},${g.PW} d${g.DH},${g.DW} -> ${g.OH}x${g.OW}`;
}

/** Visits every (row r, column p, input offset or -1 for padding) of the im2col matrix. */
function taps(g: Geo, f: (r: number, p: number, xi: number) => void): void {
  for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
    const r = (c * g.KH + kh) * g.KW + kw;
    for (let oh = 0; oh < g.OH; oh++) for (let ow = 0; ow < g.OW; ow++) {
      const ih = oh * g.SH - g.PH + kh * g.DH, iw = ow * g.SW - g.PW + kw * g.DW;
      const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
      f(r, oh * g.OW + ow, inside ? (c * g.H + ih) * g.W + iw : -1);
    }
  }
}

function refIm2col(g: Geo, x: ArrayLike<number>): Float64Array {
  const P = g.OH * g.OW;
  const out = new Float64Array(g.C * g.KH * g.KW * P);
  taps(g, (r, p, xi) => { out[r * P + p] = xi < 0 ? 0 : x[xi]; });
  return out;
}

function refCol2im(g: Geo, col: ArrayLike<number>, ldcol: number, off: number, x0: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(x0);
  taps(g, (r, p, xi) => { if (xi >= 0) out[xi] += col[r * ldcol + off + p]; });
  return out;
}

/** Allocates n floats at a byte offset shifted by `shift` floats (unaligned when shift % 4 ≠ 0). */
/** The sweep: every kernel / stride / padding / dilation value, odd and even sizes, asymmetric mixes. */
function sweep(): Geo[] {
  const out: Geo[] = [];
  const Ks = [1, 2, 3, 5], Ss = [1, 2, 3], Ps = [0, 1, 2], Ds = [1, 2];
  const Ws = [1, 4, 7, 12, 19, 22, 33];
  let i = 0;
  for (const K of Ks) for (const S of Ss) for (const P of Ps) for (const D of Ds) {
    for (let j = 0; j < 3; j++, i++) {
      const W = Ws[(i * 3 + j) % Ws.length];
      const H = [3, 6, 9, 10][(i + j) % 4];
      const C = 1 + ((i + j) % 3);
      // j = 0: square kernel/stride/pad/dilation; j = 1, 2: the height takes other values.
      const KH = j === 0 ? K : Ks[(i + j) % 4], SH = j === 0 ? S : Ss[(i + 2 * j) % 3];
      const PH = j === 0 ? P : Ps[(i + j) % 3], DH = j === 0 ? D : Ds[(i + j) % 2];
      const g = geo(C, H, W, KH, K, SH, S, PH, P, DH, D);
      if (g) out.push(g);
    }
  }
  // Wide rows: long vector bodies for stride 1 and 2, and every OW % 8.
  for (let W = 24; W < 33; W++) {
    for (const [K, S, P] of [[3, 1, 1], [3, 2, 1], [1, 2, 0], [2, 2, 0], [5, 1, 2], [1, 1, 0]]) {
      const g = geo(2, 5, W, K, K, S, S, P, P, 1, 1);
      if (g) out.push(g);
    }
  }
  return out;
}

const CASES = sweep();

for (const v of KERNEL_VARIANTS) {
  test(`${v}: im2col_f32 matches the reference, two images side by side, padding columns untouched`, () => {
    const box = kernels(v);
    let seed = 1;
    for (const g of CASES) {
      box.reset();
      const P = g.OH * g.OW, rows = g.C * g.KH * g.KW;
      const ldcol = 2 * P + 1 + (seed % 3);
      const off = P + (seed % 2); // image 1 starts here: an odd offset makes its rows unaligned
      const x0 = randomF32(g.C * g.H * g.W, seed), x1 = randomF32(g.C * g.H * g.W, seed + 1);
      const sentinel = randomF32(rows * ldcol, seed + 2);
      const px0 = putAt(box, x0, seed % 4), px1 = putAt(box, x1, (seed + 1) % 4);
      const pc = putAt(box, sentinel, (seed + 2) % 4);
      box.k.im2col_f32(px0, pc, ...args(g), ldcol);
      box.k.im2col_f32(px1, pc + off * 4, ...args(g), ldcol);
      const got = box.f32(pc, rows * ldcol);
      const e0 = refIm2col(g, x0), e1 = refIm2col(g, x1);
      const expect = Float64Array.from(sentinel);
      for (let r = 0; r < rows; r++) {
        for (let p = 0; p < P; p++) {
          expect[r * ldcol + p] = e0[r * P + p];
          expect[r * ldcol + off + p] = e1[r * P + p];
        }
      }
      // A copy: exact.
      assertClose(got, expect, { rtol: 0, atol: 0, what: `${v} im2col ${name(g)} ldcol=${ldcol}` });
      seed += 3;
    }
  });

  test(`${v}: col2im_f32 accumulates the adjoint scatter into x, from an offset column block`, () => {
    const box = kernels(v);
    let seed = 500;
    for (const g of CASES) {
      box.reset();
      const P = g.OH * g.OW, rows = g.C * g.KH * g.KW;
      const ldcol = 2 * P + 3;
      const off = P + 1 + (seed % 2);
      const col = randomF32(rows * ldcol, seed);
      const x0 = randomF32(g.C * g.H * g.W, seed + 1); // nonzero: col2im must add, not overwrite
      const pc = putAt(box, col, seed % 4), px = putAt(box, x0, (seed + 1) % 4);
      box.k.col2im_f32(pc + off * 4, px, ...args(g), ldcol);
      // Taps per input element ≤ KH·KW: allow that many roundings.
      const terms = g.KH * g.KW + 1;
      assertClose(box.f32(px, x0.length), refCol2im(g, col, ldcol, off, x0),
        { rtol: 1e-6 * terms, atol: 1e-6 * terms, what: `${v} col2im ${name(g)}` });
      seed += 2;
    }
  });

  test(`${v}: <im2col(x), c> == <x, col2im(c)> (adjoint identity)`, () => {
    const box = kernels(v);
    let seed = 900;
    for (const g of CASES) {
      box.reset();
      const P = g.OH * g.OW, rows = g.C * g.KH * g.KW;
      const x = randomF32(g.C * g.H * g.W, seed), c = randomF32(rows * P, seed + 1);
      const px = putAt(box, x, 1), pc = putAt(box, c, 2);
      const pcol = putAt(box, new Float32Array(rows * P), 3), pxa = putAt(box, new Float32Array(x.length), 0);
      box.k.im2col_f32(px, pcol, ...args(g), P);
      box.k.col2im_f32(pc, pxa, ...args(g), P);
      const col = box.f32(pcol, rows * P), xa = box.f32(pxa, x.length);
      let lhs = 0, rhs = 0, mag = 0;
      for (let i = 0; i < rows * P; i++) { lhs += col[i] * c[i]; mag += Math.abs(col[i] * c[i]); }
      for (let i = 0; i < x.length; i++) rhs += x[i] * xa[i];
      if (!(Math.abs(lhs - rhs) <= 1e-5 * (mag + 1))) {
        throw new Error(`${v} adjoint ${name(g)}: <im2col(x), c> = ${lhs}, <x, col2im(c)> = ${rhs}`);
      }
      seed += 2;
    }
  });

  test(`${v}: col2im_f32 called twice doubles; a channel split gives the same bits`, () => {
    const box = kernels(v);
    for (const g of [geo(5, 9, 13, 3, 3, 1, 1, 1, 1, 1, 1)!, geo(4, 11, 20, 3, 3, 2, 2, 1, 1, 1, 1)!,
      geo(3, 8, 9, 2, 5, 3, 1, 2, 0, 2, 1)!]) {
      box.reset();
      const P = g.OH * g.OW, rows = g.C * g.KH * g.KW, per = g.KH * g.KW, plane = g.H * g.W;
      const col = randomF32(rows * P, 7);
      const pc = putAt(box, col, 0), px = putAt(box, new Float32Array(g.C * plane), 0);
      box.k.col2im_f32(pc, px, ...args(g), P);
      const once = box.f32(px, g.C * plane).slice();
      box.k.col2im_f32(pc, px, ...args(g), P);
      // The second call adds every tap again onto the first call's result.
      assertClose(box.f32(px, g.C * plane), refCol2im(g, col, P, 0, once),
        { rtol: 1e-5, atol: 1e-5, what: `${v} ${name(g)}: second col2im did not accumulate` });
      // im2col and col2im over channels [0, 2) and [2, C) in two calls each.
      const x = randomF32(g.C * plane, 8), px2 = putAt(box, x, 1);
      const whole = putAt(box, new Float32Array(rows * P), 0), split = putAt(box, new Float32Array(rows * P), 0);
      const rest = [g.C - 2, ...args(g).slice(1)];
      box.k.im2col_f32(px2, whole, ...args(g), P);
      box.k.im2col_f32(px2, split, 2, ...args(g).slice(1), P);
      box.k.im2col_f32(px2 + 2 * plane * 4, split + 2 * per * P * 4, ...rest, P);
      assert.equal(Array.from(box.f32(split, rows * P)), Array.from(box.f32(whole, rows * P)), `${name(g)} im2col split`);
      const xs = putAt(box, new Float32Array(g.C * plane), 0);
      box.k.col2im_f32(pc, xs, 2, ...args(g).slice(1), P);
      box.k.col2im_f32(pc + 2 * per * P * 4, xs + 2 * plane * 4, ...rest, P);
      assert.equal(Array.from(box.f32(xs, g.C * plane)), Array.from(once), `${name(g)} col2im split`);
    }
  });

  test(`${v}: im2col_f32 / col2im_f32 never touch a float past the image (x at the end of memory)`, () => {
    const box = kernels(v);
    let seed = 1100;
    for (const g of CASES) {
      box.reset();
      const P = g.OH * g.OW, rows = g.C * g.KH * g.KW, len = g.C * g.H * g.W;
      const x = randomF32(len, seed), col = randomF32(rows * P, seed + 1);
      const pcol = putAt(box, new Float32Array(rows * P), 0), pc = putAt(box, col, 0);
      const px = putAtEnd(box, x);
      box.k.im2col_f32(px, pcol, ...args(g), P);
      assertClose(box.f32(pcol, rows * P), refIm2col(g, x), { rtol: 0, atol: 0, what: `${v} im2col at end ${name(g)}` });
      box.k.col2im_f32(pc, px, ...args(g), P);
      const terms = g.KH * g.KW + 1;
      assertClose(box.f32(px, len), refCol2im(g, col, P, 0, x),
        { rtol: 1e-6 * terms, atol: 1e-6 * terms, what: `${v} col2im at end ${name(g)}` });
      seed += 2;
    }
  });

  test(`${v}: bias_add_channels_f32 over n, c and every inner remainder`, () => {
    const box = kernels(v);
    let seed = 1300;
    for (const n of [1, 2, 3]) for (const c of [1, 3, 5]) for (let inner = 1; inner <= 19; inner++) {
      box.reset();
      const y0 = randomF32(n * c * inner, seed), b = randomF32(c, seed + 1);
      const py = putAt(box, y0, seed % 4), pb = putAt(box, b, (seed + 1) % 4);
      box.k.bias_add_channels_f32(py, pb, n, c, inner);
      const expect = new Float64Array(y0.length);
      for (let i = 0; i < n; i++) for (let j = 0; j < c; j++) for (let k = 0; k < inner; k++) {
        const o = (i * c + j) * inner + k;
        expect[o] = Math.fround(y0[o] + b[j]);
      }
      assertClose(box.f32(py, y0.length), expect, { rtol: 0, atol: 0, what: `${v} bias_add n=${n} c=${c} inner=${inner}` });
      seed += 2;
    }
  });
}

/** Direct conv reference over a padded batch: y [N, Cout, OH, OW] and dw for a given dy, in float64. */
function directReference(xp: Float32Array, w: Float32Array, dy: Float32Array, N: number, C: number, Hp: number, Wp: number, KH: number, KW: number, Cout: number) {
  const OH = Hp - KH + 1, OW = Wp - KW + 1, P = OH * OW;
  const y = new Float64Array(N * Cout * P), yAbs = new Float64Array(N * Cout * P);
  const dw = new Float64Array(Cout * C * KH * KW), dwAbs = new Float64Array(Cout * C * KH * KW);
  for (let n = 0; n < N; n++) for (let o = 0; o < Cout; o++) for (let c = 0; c < C; c++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
    const wi = ((o * C + c) * KH + kh) * KW + kw;
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const xv = xp[((n * C + c) * Hp + oh + kh) * Wp + ow + kw], yi = (n * Cout + o) * P + oh * OW + ow;
      y[yi] += w[wi] * xv; yAbs[yi] += Math.abs(w[wi] * xv);
      dw[wi] += dy[yi] * xv; dwAbs[wi] += Math.abs(dy[yi] * xv);
    }
  }
  return { y, yAbs, dw, dwAbs };
}

const tol = (abs: Float64Array) => Float64Array.from(abs, (a) => 1e-6 * a + 1e-6);

for (const v of KERNEL_VARIANTS) {
  test(`${v}: pad2d_f32 copies each plane into the middle of a zero border`, () => {
    const box = kernels(v);
    for (const [NC, H, W, PH, PW] of [[3, 4, 5, 1, 1], [2, 7, 9, 2, 0], [1, 3, 3, 0, 3], [2, 5, 13, 1, 2]]) {
      const Hp = H + 2 * PH, Wp = W + 2 * PW, x = randomF32(NC * H * W, 61);
      const px = box.putF32(x), pp = box.alloc(NC * Hp * Wp * 4 + 16);
      box.f32(pp, NC * Hp * Wp + 1).fill(9);
      box.k.pad2d_f32(px, pp, NC, H, W, PH, PW);
      const got = box.f32(pp, NC * Hp * Wp + 1);
      assert.is(got[NC * Hp * Wp], 9, "wrote past the end");
      for (let p = 0; p < NC; p++) for (let h = 0; h < Hp; h++) for (let w = 0; w < Wp; w++) {
        const inside = h >= PH && h < PH + H && w >= PW && w < PW + W;
        const want = inside ? x[(p * H + h - PH) * W + w - PW] : 0;
        if (got[(p * Hp + h) * Wp + w] !== want) assert.unreachable(`${v} pad ${NC}×${H}×${W} p${PH},${PW} at [${p},${h},${w}]: ${got[(p * Hp + h) * Wp + w]} vs ${want}`);
      }
    }
  });

  test(`${v}: conv2d_direct_f32 and conv2d_wgrad_f32 match the reference; image and channel splits give the same bits`, () => {
    const box = kernels(v);
    const shapes: number[][] = []; // [N, C, Hp, Wp, KH, KW, Cout]
    for (const Cout of [1, 3, 4, 5, 8, 9]) shapes.push([2, 2, 5, 10, 3, 3, Cout]);
    for (let Wp = 10; Wp <= 20; Wp++) shapes.push([1, 3, 4, Wp, 3, 3, 4]); // OW 8..18: every tile remainder
    shapes.push([3, 1, 30, 30, 3, 3, 16], [1, 2, 8, 12, 5, 5, 6], [2, 4, 6, 9, 1, 1, 7], [1, 1, 3, 11, 2, 3, 4]);
    for (const [N, C, Hp, Wp, KH, KW, Cout] of shapes) {
      const OH = Hp - KH + 1, OW = Wp - KW + 1, P = OH * OW, CKK = C * KH * KW;
      const what = `${v} N${N} C${C} ${Hp}×${Wp} k${KH}×${KW} → ${Cout}×${OH}×${OW}`;
      const xp = randomF32(N * C * Hp * Wp, 71), w = randomF32(Cout * CKK, 72), dy = randomF32(N * Cout * P, 73);
      const ref = directReference(xp, w, dy, N, C, Hp, Wp, KH, KW, Cout);
      box.reset();
      const px = box.putF32(xp), pw = box.putF32(w), pdy = box.putF32(dy);
      const py = box.alloc(N * Cout * P * 4 + 16), pdw = box.alloc(Cout * CKK * 4 + 16);
      box.f32(py, N * Cout * P + 1)[N * Cout * P] = 5;
      box.f32(pdw, Cout * CKK + 1)[Cout * CKK] = 5;
      box.k.conv2d_direct_f32(px, pw, py, N, C, Hp, Wp, KH, KW, Cout);
      box.k.conv2d_wgrad_f32(px, pdy, pdw, N, C, Hp, Wp, KH, KW, Cout, Cout);
      assert.is(box.f32(py, N * Cout * P + 1)[N * Cout * P], 5, `${what}: y written past the end`);
      assert.is(box.f32(pdw, Cout * CKK + 1)[Cout * CKK], 5, `${what}: dw written past the end`);
      const y = box.f32(py, N * Cout * P).slice(), dw = box.f32(pdw, Cout * CKK).slice();
      const ty = tol(ref.yAbs), tw = tol(ref.dwAbs);
      for (let i = 0; i < y.length; i++) if (!(Math.abs(y[i] - ref.y[i]) <= ty[i])) assert.unreachable(`${what}: y[${i}] ${y[i]} vs ${ref.y[i]}`);
      for (let i = 0; i < dw.length; i++) if (!(Math.abs(dw[i] - ref.dw[i]) <= tw[i])) assert.unreachable(`${what}: dw[${i}] ${dw[i]} vs ${ref.dw[i]}`);
      // what the threads do: images split for the forward, output channels for the weight gradient
      if (N > 1) {
        const py2 = box.alloc(N * Cout * P * 4);
        box.k.conv2d_direct_f32(px, pw, py2, 1, C, Hp, Wp, KH, KW, Cout);
        box.k.conv2d_direct_f32(px + C * Hp * Wp * 4, pw, py2 + Cout * P * 4, N - 1, C, Hp, Wp, KH, KW, Cout);
        assert.equal(Array.from(box.f32(py2, N * Cout * P)), Array.from(y), `${what}: image split`);
      }
      if (Cout > 1) {
        const s = Cout >> 1, pdw2 = box.alloc(Cout * CKK * 4);
        box.k.conv2d_wgrad_f32(px, pdy, pdw2, N, C, Hp, Wp, KH, KW, s, Cout);
        box.k.conv2d_wgrad_f32(px, pdy + s * P * 4, pdw2 + s * CKK * 4, N, C, Hp, Wp, KH, KW, Cout - s, Cout);
        assert.equal(Array.from(box.f32(pdw2, Cout * CKK)), Array.from(dw), `${what}: channel split`);
      }
    }
  });

  test(`${v}: conv2d_direct_pw_f32 (5-channel tiles over packed weights, fused bias) gives conv2d_direct_f32's bits, and the bias within rounding`, () => {
    const box = kernels(v);
    const shapes: number[][] = []; // [N, C, Hp, Wp, KH, KW, Cout, groups]
    for (const Cout of [5, 6, 9, 10, 13, 14, 64]) for (let g = 0; 5 * g <= Cout; g++) shapes.push([2, 2, 5, 10, 3, 3, Cout, g]);
    for (let Wp = 10; Wp <= 20; Wp++) shapes.push([1, 3, 4, Wp, 3, 3, 9, 1]); // OW 8..18: every tile remainder
    shapes.push([1, 2, 8, 12, 5, 5, 10, 2], [2, 4, 6, 9, 1, 1, 5, 1], [3, 32, 6, 10, 3, 3, 64, 12]);
    for (const [N, C, Hp, Wp, KH, KW, Cout, groups] of shapes) {
      const OH = Hp - KH + 1, OW = Wp - KW + 1, P = OH * OW, CKK = C * KH * KW;
      const what = `${v} N${N} C${C} ${Hp}×${Wp} k${KH}×${KW} → ${Cout} (${groups} groups of 5)`;
      const xp = randomF32(N * C * Hp * Wp, 81), w = randomF32(Cout * CKK, 82), bias = randomF32(Cout, 83);
      box.reset();
      const px = box.putF32(xp), pw = box.putF32(w), pb = box.putF32(bias);
      const pw5 = box.alloc(groups * 5 * CKK * 4 + 16), py = box.alloc(N * Cout * P * 4 + 16), py2 = box.alloc(N * Cout * P * 4 + 16);
      box.f32(py2, N * Cout * P + 1)[N * Cout * P] = 5;
      box.k.conv2d_direct_f32(px, pw, py, N, C, Hp, Wp, KH, KW, Cout);
      box.k.conv_pack_w5_f32(pw, groups, CKK, pw5);
      box.k.conv2d_direct_pw_f32(px, pw, pw5, 0, py2, N, C, Hp, Wp, KH, KW, Cout, groups);
      assert.is(box.f32(py2, N * Cout * P + 1)[N * Cout * P], 5, `${what}: y written past the end`);
      const y = box.f32(py, N * Cout * P).slice();
      assert.equal(Array.from(box.f32(py2, N * Cout * P)), Array.from(y), `${what}: bits`);
      // the fused bias: y + b within one rounding of each chain's start
      box.k.conv2d_direct_pw_f32(px, pw, pw5, pb, py2, N, C, Hp, Wp, KH, KW, Cout, groups);
      const yb = box.f32(py2, N * Cout * P);
      const ref = directReference(xp, w, new Float32Array(N * Cout * P), N, C, Hp, Wp, KH, KW, Cout), ty = tol(ref.yAbs);
      for (let i = 0; i < yb.length; i++) {
        const want = ref.y[i] + bias[Math.floor(i / P) % Cout];
        if (!(Math.abs(yb[i] - want) <= ty[i] + 1e-6 * Math.abs(want))) assert.unreachable(`${what}: y[${i}] ${yb[i]} vs ${want}`);
      }
    }
  });
}

test.run();
