// Kernel family: conv. See docs/KERNELS.md for the ABI.
//
// Convolution is lowered to GEMM by the host: im2col turns one NCHW image into
// a [C·KH·KW, OH·OW] matrix (row stride ldcol, so a batch can sit side by side
// in one matrix), col2im is its adjoint (scatter-add back into the image).
//
// Both walk the col matrix row by row, r = (c·KH + kh)·KW + kw, and for each
// output row oh split the OW columns into three runs, computed once per (kh, kw):
//   [0, lo)   taps that fall in the left padding   (im2col: zero fill; col2im: skip)
//   [lo, hi)  taps inside the image                 (copy / add)
//   [hi, OW)  taps that fall in the right padding  (zero fill / skip)
// Output rows whose input row falls in the top/bottom padding are all padding.
// So the inner loops have no bounds tests, and the in-image run is:
//   stride 1: a contiguous copy (im2col) or add (col2im) of v128s;
//   stride 2: two v128 loads deinterleaved with one shuffle (im2col), or a
//             deinterleave-add-reinterleave of x (col2im; odd lanes are written
//             back unchanged, so the bits equal the scalar loop's);
//   other:    a scalar strided gather / scatter.
// The vector bodies only touch floats of the current input row (never the next
// row or plane), so a host that splits C across threads never has two threads
// writing the same float, and a channel sub-range gives the same bits as a whole call.
// Kernels never require alignment (v128.load/store are unaligned-safe).
import { madd, hsum4, loadN } from "./simd";
import { conv2d_f32_4x8_w_splat, conv2d_f32_1x8_w_splat, conv2d_f32_5x8_w_packed } from "./conv-tiles.generated";

/** First output index o in [0, O] with o·S + off ≥ 0. */
// @ts-ignore: decorator
@inline function firstIn(off: i32, S: i32, O: i32): i32 {
  if (off >= 0) return 0;
  return min(O, (S - 1 - off) / S);
}

/** One past the last output index o < O with o·S + off ≤ L − 1 (at least lo). */
// @ts-ignore: decorator
@inline function endIn(off: i32, L: i32, S: i32, O: i32, lo: i32): i32 {
  const room = L - 1 - off;
  if (room < 0) return lo;
  return max(lo, min(O, room / S + 1));
}

/** dst[0..n) = 0. */
// @ts-ignore: decorator
@inline function zeroF32(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    v128.store(dst, z);
    v128.store(dst, z, 16);
    dst += 32;
  }
  if (i + 4 <= n) { v128.store(dst, z); dst += 16; i += 4; }
  for (; i < n; i++) { store<f32>(dst, 0); dst += 4; }
}

/** dst[0..n) = src[0..n). */
// @ts-ignore: decorator
@inline function copyF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = v128.load(src), b = v128.load(src, 16);
    v128.store(dst, a);
    v128.store(dst, b, 16);
    dst += 32; src += 32;
  }
  if (i + 4 <= n) { v128.store(dst, v128.load(src)); dst += 16; src += 16; i += 4; }
  for (; i < n; i++) { store<f32>(dst, load<f32>(src)); dst += 4; src += 4; }
}

/** dst[0..n) += src[0..n). */
// @ts-ignore: decorator
@inline function addF32(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const a = f32x4.add(v128.load(dst), v128.load(src));
    const b = f32x4.add(v128.load(dst, 16), v128.load(src, 16));
    v128.store(dst, a);
    v128.store(dst, b, 16);
    dst += 32; src += 32;
  }
  if (i + 4 <= n) { v128.store(dst, f32x4.add(v128.load(dst), v128.load(src))); dst += 16; src += 16; i += 4; }
  for (; i < n; i++) { store<f32>(dst, load<f32>(dst) + load<f32>(src)); dst += 4; src += 4; }
}

/**
 * x is one image [C, H, W]; writes col[r, p] at col + (r·ldcol + p)·4 for
 * r = (c·KH + kh)·KW + kw, p = oh·OW + ow:
 *   col[r, p] = x[c, oh·SH − PH + kh·DH, ow·SW − PW + kw·DW]   (0 outside the image).
 * ldcol ≥ OH·OW; columns past OH·OW are not touched.
 * Example (host): im2col_f32(xImg, col + n·OH·OW·4, C, H, W, 3, 3, 1, 1, 1, 1, 1, 1, OH, OW, N·OH·OW).
 */
export function im2col_f32(
  x: usize, col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PH: i32, PW: i32, DH: i32, DW: i32, OH: i32, OW: i32, ldcol: i32,
): void {
  if (OH <= 0 || OW <= 0) return;
  const plane = (<usize>H * <usize>W) << 2;
  const W4 = <usize>W << 2;
  const OW4 = <usize>OW << 2;
  const ldc4 = <usize>ldcol << 2;
  let rowPtr = col;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * plane;
    for (let kh = 0; kh < KH; kh++) {
      const hoff = kh * DH - PH;
      const ohLo = firstIn(hoff, SH, OH);
      const ohHi = endIn(hoff, H, SH, OH, ohLo);
      for (let kw = 0; kw < KW; kw++) {
        const woff = kw * DW - PW;
        const lo = firstIn(woff, SW, OW);
        const hi = endIn(woff, W, SW, OW, lo);
        let d = rowPtr;
        // Output rows above the image: all padding.
        zeroF32(d, ohLo * OW);
        d += <usize>ohLo * OW4;
        for (let oh = ohLo; oh < ohHi; oh++) {
          const src = xc + <usize>(oh * SH + hoff) * W4; // start of input row ih
          zeroF32(d, lo);
          if (SW == 1) {
            copyF32(d + (<usize>lo << 2), src + (<usize>(lo + woff) << 2), hi - lo);
          } else if (SW == 2) {
            let j = lo;
            // Four outputs read iw .. iw+6; the loads reach iw+7, which must stay in this row.
            for (; j + 4 <= hi && j * 2 + woff + 7 < W; j += 4) {
              const s = src + (<usize>(j * 2 + woff) << 2);
              const a = v128.load(s), b = v128.load(s, 16);
              v128.store(d + (<usize>j << 2), f32x4.shuffle(a, b, 0, 2, 4, 6));
            }
            for (; j < hi; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>(j * 2 + woff) << 2)));
          } else {
            for (let j = lo; j < hi; j++) store<f32>(d + (<usize>j << 2), load<f32>(src + (<usize>(j * SW + woff) << 2)));
          }
          zeroF32(d + (<usize>hi << 2), OW - hi);
          d += OW4;
        }
        // Output rows below the image.
        zeroF32(d, (OH - ohHi) * OW);
        rowPtr += ldc4;
      }
    }
  }
}

/**
 * The adjoint of im2col_f32 (same arguments, col read, x updated): for every r, p,
 *   x[c, oh·SH − PH + kh·DH, ow·SW − PW + kw·DW] += col[r, p]   (padding taps dropped).
 * Accumulates: the host zeroes x first when it wants col2im alone. Rows are added
 * in order r = 0, 1, ..., so the result is deterministic.
 */
export function col2im_f32(
  col: usize, x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PH: i32, PW: i32, DH: i32, DW: i32, OH: i32, OW: i32, ldcol: i32,
): void {
  if (OH <= 0 || OW <= 0) return;
  const plane = (<usize>H * <usize>W) << 2;
  const W4 = <usize>W << 2;
  const OW4 = <usize>OW << 2;
  const ldc4 = <usize>ldcol << 2;
  let rowPtr = col;
  for (let c = 0; c < C; c++) {
    const xc = x + <usize>c * plane;
    for (let kh = 0; kh < KH; kh++) {
      const hoff = kh * DH - PH;
      const ohLo = firstIn(hoff, SH, OH);
      const ohHi = endIn(hoff, H, SH, OH, ohLo);
      for (let kw = 0; kw < KW; kw++) {
        const woff = kw * DW - PW;
        const lo = firstIn(woff, SW, OW);
        const hi = endIn(woff, W, SW, OW, lo);
        let s = rowPtr + <usize>ohLo * OW4;
        for (let oh = ohLo; oh < ohHi; oh++) {
          const dst = xc + <usize>(oh * SH + hoff) * W4; // start of input row ih
          if (SW == 1) {
            addF32(dst + (<usize>(lo + woff) << 2), s + (<usize>lo << 2), hi - lo);
          } else if (SW == 2) {
            let j = lo;
            // x[iw .. iw+7] is read and written back; iw+7 must stay in this row (threads split C).
            for (; j + 4 <= hi && j * 2 + woff + 7 < W; j += 4) {
              const p = dst + (<usize>(j * 2 + woff) << 2);
              const a = v128.load(p), b = v128.load(p, 16);
              const ev = f32x4.add(f32x4.shuffle(a, b, 0, 2, 4, 6), v128.load(s + (<usize>j << 2)));
              v128.store(p, f32x4.shuffle(ev, a, 0, 5, 1, 7));
              v128.store(p, f32x4.shuffle(ev, b, 2, 5, 3, 7), 16);
            }
            for (; j < hi; j++) {
              const p = dst + (<usize>(j * 2 + woff) << 2);
              store<f32>(p, load<f32>(p) + load<f32>(s + (<usize>j << 2)));
            }
          } else {
            for (let j = lo; j < hi; j++) {
              const p = dst + (<usize>(j * SW + woff) << 2);
              store<f32>(p, load<f32>(p) + load<f32>(s + (<usize>j << 2)));
            }
          }
          s += OW4;
        }
        rowPtr += ldc4;
      }
    }
  }
}

/**
 * y[i, j, k] += bias[j] for y viewed as [n, c, inner] (NCHW: inner = H·W).
 * Example (host): bias_add_channels_f32(y, b, N, Cout, OH·OW).
 */
export function bias_add_channels_f32(y: usize, bias: usize, n: i32, c: i32, inner: i32): void {
  let p = y;
  const row = <usize>inner << 2;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      const b = load<f32>(bias + (<usize>j << 2));
      const bv = f32x4.splat(b);
      let q = p;
      let k = 0;
      for (; k + 8 <= inner; k += 8) {
        const u = f32x4.add(v128.load(q), bv);
        const v = f32x4.add(v128.load(q, 16), bv);
        v128.store(q, u);
        v128.store(q, v, 16);
        q += 32;
      }
      if (k + 4 <= inner) { v128.store(q, f32x4.add(v128.load(q), bv)); q += 16; k += 4; }
      for (; k < inner; k++) { store<f32>(q, load<f32>(q) + b); q += 4; }
      p += row;
    }
  }
}

// ---------------------------------------------------------------------------
// Direct convolution, stride 1 and no dilation (the common 3×3 and 5×5 case):
// no im2col matrix and no packing. The input is first padded into its own
// buffer (pad2d_f32), so every tap of every tile is in bounds. Then a 4×8
// register tile — 4 output channels × 8 adjacent output columns — runs the
// GEMM micro-kernel's chain straight over the image: for each tap
// r = (c·KH + kh)·KW + kw, two v128 loads of 8 input floats (rows of one plane
// stay in L1) and four weight splats, 8 madds. Every output is the same chain
// of madd over r in order as gemm_f32 would compute from im2col columns, so a
// tile that overlaps the previous one (the last tile of a row when OW % 8 ≠ 0)
// rewrites the same bits. Needs OW ≥ 8; the host uses im2col otherwise.
// The tiles (conv2d_f32_{4,1}x8_w_splat, conv2d_f32_5x8_w_packed) are generated
// from one template, scripts/kernels/conv-tile.mjs, into conv-tiles.generated.ts.

/**
 * xp[nc, h + PH, w + PW] = x[nc, h, w] and 0 in the border, for NC planes H×W
 * into (H + 2PH)×(W + 2PW). Example (host): pad2d_f32(x, xp, N·C, 32, 32, 1, 1).
 */
export function pad2d_f32(x: usize, xp: usize, NC: i32, H: i32, W: i32, PH: i32, PW: i32): void {
  const Wp = W + 2 * PW, Hp = H + 2 * PH;
  for (let p = 0; p < NC; p++) {
    let dst = xp + (<usize>p * Hp * Wp << 2);
    let src = x + (<usize>p * H * W << 2);
    zeroF32(dst, PH * Wp + PW);
    dst += <usize>(PH * Wp + PW) << 2;
    for (let h = 0; h < H; h++) {
      copyF32(dst, src, W);
      dst += <usize>W << 2;
      src += <usize>W << 2;
      if (h < H - 1) {
        zeroF32(dst, 2 * PW);
        dst += <usize>(2 * PW) << 2;
      }
    }
    zeroF32(dst, PW + PH * Wp);
  }
}

/**
 * y[n, o, oh, ow] = Σ_r w[o, r]·xp[n, c, oh + kh, ow + kw] for N padded images
 * xp [N, C, Hp, Wp] (stride 1, no dilation), weights [Cout, C, KH, KW], y
 * [N, Cout, OH, OW] with OH = Hp − KH + 1, OW = Wp − KW + 1 ≥ 8. Images are
 * independent (the host splits N). Example (host): conv2d_direct_f32(xp, w, y, 64, 3, 34, 34, 3, 3, 32).
 */
export function conv2d_direct_f32(xp: usize, w: usize, y: usize, N: i32, C: i32, Hp: i32, Wp: i32, KH: i32, KW: i32, Cout: i32): void {
  const OH = Hp - KH + 1, OW = Wp - KW + 1;
  const CKK4 = <usize>(C * KH * KW) << 2, P4 = <usize>(OH * OW) << 2;
  const plane4 = <usize>(Hp * Wp) << 2, Wp4 = <usize>Wp << 2;
  for (let n = 0; n < N; n++) {
    const xn = xp + <usize>n * C * plane4;
    const yn = y + <usize>n * Cout * P4;
    for (let o = 0; o < Cout; ) {
      const rows = Cout - o >= 4 ? 4 : 1;
      const wo = w + <usize>o * CKK4;
      for (let oh = 0; oh < OH; oh++) {
        const xrow = xn + <usize>oh * Wp4;
        const yrow = yn + <usize>o * P4 + (<usize>(oh * OW) << 2);
        for (let ow = 0; ow < OW; ow += 8) {
          const at = min(ow, OW - 8); // the last tile overlaps the previous one: same bits
          if (rows == 4) conv2d_f32_4x8_w_splat(xrow + (<usize>at << 2), wo, CKK4, yrow + (<usize>at << 2), P4, C, KH, KW, plane4, Wp4, 0);
          else conv2d_f32_1x8_w_splat(xrow + (<usize>at << 2), wo, yrow + (<usize>at << 2), P4, C, KH, KW, plane4, Wp4, 0);
        }
      }
      o += rows;
    }
  }
}

/**
 * Packs the first 5·groups output channels of weights w [Cout, CKK] for
 * conv2d_direct_pw_f32: group g holds CKK taps × 5 floats, the five channels'
 * weights of one tap adjacent (dst: groups·CKK·20 bytes). Example (host):
 * conv_pack_w5_f32(w, 12, 288, dst).
 */
export function conv_pack_w5_f32(w: usize, groups: i32, CKK: i32, dst: usize): void {
  const CKK4 = <usize>CKK << 2;
  for (let g = 0; g < groups; g++) {
    const src = w + <usize>(5 * g) * CKK4;
    let d = dst + <usize>g * CKK4 * 5;
    for (let r = 0; r < CKK; r++) {
      const q = src + (<usize>r << 2);
      store<f32>(d, load<f32>(q), 0);
      store<f32>(d, load<f32>(q + CKK4), 4);
      store<f32>(d, load<f32>(q + 2 * CKK4), 8);
      store<f32>(d, load<f32>(q + 3 * CKK4), 12);
      store<f32>(d, load<f32>(q + 4 * CKK4), 16);
      d += 20;
    }
  }
}

/**
 * conv2d_direct_f32 with the first 5·groups output channels in 5×8 tiles over
 * weights packed by conv_pack_w5_f32 (w5); the rest in 4×8 / 1×8 tiles over w;
 * and the bias (bias [Cout], or 0 for none) fused in as each chain's start.
 * Without a bias every output is the same madd chain over (c, kh, kw) as in
 * conv2d_direct_f32, so the bits are equal. Worth it on the relaxed binary (fused
 * madd: 14 registers; mul+add needs a 15th for the product). Example (host):
 * conv2d_direct_pw_f32(xp, w, w5, bias, y, 32, 32, 34, 34, 3, 3, 64, 12).
 */
export function conv2d_direct_pw_f32(xp: usize, w: usize, w5: usize, bias: usize, y: usize, N: i32, C: i32, Hp: i32, Wp: i32, KH: i32, KW: i32, Cout: i32, groups: i32): void {
  const OH = Hp - KH + 1, OW = Wp - KW + 1;
  const CKK4 = <usize>(C * KH * KW) << 2, P4 = <usize>(OH * OW) << 2;
  const plane4 = <usize>(Hp * Wp) << 2, Wp4 = <usize>Wp << 2;
  for (let n = 0; n < N; n++) {
    const xn = xp + <usize>n * C * plane4;
    const yn = y + <usize>n * Cout * P4;
    for (let o = 0; o < Cout; ) {
      const g = o / 5;
      const rows = g < groups ? 5 : Cout - o >= 4 ? 4 : 1;
      const wo = w + <usize>o * CKK4;
      const wq = w5 + <usize>g * CKK4 * 5;
      const bo = bias ? bias + (<usize>o << 2) : 0;
      for (let oh = 0; oh < OH; oh++) {
        const xrow = xn + <usize>oh * Wp4;
        const yrow = yn + <usize>o * P4 + (<usize>(oh * OW) << 2);
        for (let ow = 0; ow < OW; ow += 8) {
          const at = min(ow, OW - 8); // the last tile overlaps the previous one: same bits
          const xa = xrow + (<usize>at << 2), ya = yrow + (<usize>at << 2);
          if (rows == 5) conv2d_f32_5x8_w_packed(xa, wq, ya, P4, C, KH, KW, plane4, Wp4, bo);
          else if (rows == 4) conv2d_f32_4x8_w_splat(xa, wo, CKK4, ya, P4, C, KH, KW, plane4, Wp4, bo);
          else conv2d_f32_1x8_w_splat(xa, wo, ya, P4, C, KH, KW, plane4, Wp4, bo);
        }
      }
      o += rows;
    }
  }
}

/** dw[i] = part (first image) or dw[i] + part (later images, in order). */
// @ts-ignore: decorator
@inline function addPart(wp: usize, first: bool, part: f32): void {
  store<f32>(wp, first ? part : load<f32>(wp) + part);
}

/**
 * One image's contribution to dw for two output channels (g0, g1 are their dy planes;
 * `two` false: g0 only) and the three taps kw = 0, 1, 2 of one (c, kh): the dy loads are
 * shared by the three taps and the input loads by the two channels, 6 madds per 5 loads.
 * Lanes past OW load as 0 (masked loads on both sides, so nothing past a row is read).
 */
// @ts-ignore: decorator
@inline function wgradRow3(two: bool, g0: usize, g1: usize, xr: usize, OH: i32, OW: i32, Wp4: usize, w0: usize, w1: usize, first: bool): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0);
  let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0);
  const full = OW & ~3, rest = OW - full, OW4 = <usize>OW << 2;
  for (let oh = 0; oh < OH; oh++) {
    let i = 0;
    for (; i < full; i += 4) {
      const q = <usize>i << 2;
      const x0 = v128.load(xr + q), x1 = v128.load(xr + q, 4), x2 = v128.load(xr + q, 8);
      const d0 = v128.load(g0 + q);
      a0 = madd(d0, x0, a0); a1 = madd(d0, x1, a1); a2 = madd(d0, x2, a2);
      if (two) {
        const d1 = v128.load(g1 + q);
        b0 = madd(d1, x0, b0); b1 = madd(d1, x1, b1); b2 = madd(d1, x2, b2);
      }
    }
    if (rest) {
      const q = <usize>i << 2;
      const x0 = loadN(xr + q, rest), x1 = loadN(xr + q + 4, rest), x2 = loadN(xr + q + 8, rest);
      const d0 = loadN(g0 + q, rest);
      a0 = madd(d0, x0, a0); a1 = madd(d0, x1, a1); a2 = madd(d0, x2, a2);
      if (two) {
        const d1 = loadN(g1 + q, rest);
        b0 = madd(d1, x0, b0); b1 = madd(d1, x1, b1); b2 = madd(d1, x2, b2);
      }
    }
    g0 += OW4; g1 += OW4; xr += Wp4;
  }
  addPart(w0, first, hsum4(a0)); addPart(w0 + 4, first, hsum4(a1)); addPart(w0 + 8, first, hsum4(a2));
  if (two) { addPart(w1, first, hsum4(b0)); addPart(w1 + 4, first, hsum4(b1)); addPart(w1 + 8, first, hsum4(b2)); }
}

/** One image's contribution to dw for one output channel and one tap (any KW). */
// @ts-ignore: decorator
@inline function wgradTap(g0: usize, xr: usize, OH: i32, OW: i32, Wp4: usize, wp: usize, first: bool): void {
  let a = f32x4.splat(0);
  const full = OW & ~3, rest = OW - full, OW4 = <usize>OW << 2;
  for (let oh = 0; oh < OH; oh++) {
    let i = 0;
    for (; i < full; i += 4) {
      const q = <usize>i << 2;
      a = madd(v128.load(g0 + q), v128.load(xr + q), a);
    }
    if (rest) {
      const q = <usize>i << 2;
      a = madd(loadN(g0 + q, rest), loadN(xr + q, rest), a);
    }
    g0 += OW4; xr += Wp4;
  }
  addPart(wp, first, hsum4(a));
}

/**
 * Weight gradient of conv2d_direct_f32: dw[o, c, kh, kw] = Σ_n Σ_{oh,ow} dy[n, o, oh, ow]·xp[n, c, oh + kh, ow + kw]
 * for output channels [0, O) of Otot (dy points at channel 0 of the range in image 0; dw at its first row).
 * Writes dw. A reduction over images and positions, so the host splits O (never N) across threads.
 * Per element the order is fixed whatever its neighbours: a 4-lane partial sum over one image's
 * rows, its lanes added, the images' sums added in order. Images are the outer loop, so one image's
 * dy planes and input planes stay in cache. KW = 3 (the common case) takes two channels × three
 * taps per pass; other widths one channel × one tap.
 * Example (host): conv2d_wgrad_f32(xp, dy, dw, 64, 1, 28, 28, 3, 3, 16, 16).
 */
export function conv2d_wgrad_f32(xp: usize, dy: usize, dw: usize, N: i32, C: i32, Hp: i32, Wp: i32, KH: i32, KW: i32, O: i32, Otot: i32): void {
  const OH = Hp - KH + 1, OW = Wp - KW + 1;
  const P4 = <usize>(OH * OW) << 2, plane4 = <usize>(Hp * Wp) << 2, Wp4 = <usize>Wp << 2;
  const CKK4 = <usize>(C * KH * KW) << 2;
  for (let n = 0; n < N; n++) {
    const first = n == 0;
    for (let o = 0; o < O; ) {
      const two = KW == 3 && O - o >= 2;
      const g0 = dy + <usize>(n * Otot + o) * P4, g1 = g0 + P4;
      const w0 = dw + <usize>o * CKK4;
      for (let c = 0; c < C; c++) {
        const xc = xp + <usize>(n * C + c) * plane4;
        for (let kh = 0; kh < KH; kh++) {
          const xr = xc + <usize>kh * Wp4;
          const wr = w0 + (<usize>((c * KH + kh) * KW) << 2);
          // constant `two` in each call, so each inlined copy has no branch in its loop
          if (KW == 3 && two) wgradRow3(true, g0, g1, xr, OH, OW, Wp4, wr, wr + CKK4, first);
          else if (KW == 3) wgradRow3(false, g0, g1, xr, OH, OW, Wp4, wr, wr + CKK4, first);
          else for (let kw = 0; kw < KW; kw++) wgradTap(g0, xr + (<usize>kw << 2), OH, OW, Wp4, wr + (<usize>kw << 2), first);
        }
      }
      o += two ? 2 : 1;
    }
  }
}

// ---------------------------------------------------------------------------
// Depthwise convolution (groups = C_in = C_out): every channel is convolved
// with its own KH×KW filter, so there is no reduction over channels and no
// GEMM to lower to. The forward runs tap by tap (for each kh, kw the in-image
// run of every output row, computed once as im2col does, with a v128 body for
// stride 1), so each output sums its taps in the order (kh, kw) = (0, 0),
// (0, 1), ... starting from 0 — the order the WGSL twin's
// one-invocation-per-output loop runs.

/**
 * y [N, C, OH, OW] = depthwise conv of x [N, C, H, W] with w [C, 1, KH, KW]
 * (the host adds the bias). Any stride, padding and dilation.
 * Example (host): depthwise_conv2d_f32(x, w, y, 2, 32, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 14, 14).
 */
export function depthwise_conv2d_f32(
  x: usize, w: usize, y: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  const P = OH * OW;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const xp = x + ((<usize>(n * C + c) * <usize>(H * W)) << 2);
      const yp = y + ((<usize>(n * C + c) * <usize>P) << 2);
      for (let i = 0; i < P; i++) store<f32>(yp + (<usize>i << 2), 0);
      const wp = w + ((<usize>(c * KH * KW)) << 2);
      for (let kh = 0; kh < KH; kh++) {
        for (let kw = 0; kw < KW; kw++) {
          const wv = load<f32>(wp + (<usize>(kh * KW + kw) << 2));
          const vw = f32x4.splat(wv);
          const offW = kw * DW - PW;
          const lo = firstIn(offW, SW, OW);
          const hi = endIn(offW, W, SW, OW, lo);
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - PH + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const xr = xp + (<usize>(ih * W) << 2);
            const yr = yp + (<usize>(oh * OW) << 2);
            let ow = lo;
            if (SW == 1) {
              for (; ow + 4 <= hi; ow += 4) {
                const q = yr + (<usize>ow << 2);
                v128.store(q, f32x4.add(v128.load(q), f32x4.mul(vw, v128.load(xr + (<usize>(ow + offW) << 2)))));
              }
            }
            for (; ow < hi; ow++) {
              const q = yr + (<usize>ow << 2);
              store<f32>(q, load<f32>(q) + wv * load<f32>(xr + (<usize>(ow * SW + offW) << 2)));
            }
          }
        }
      }
    }
  }
}

/**
 * dx [N, C, H, W] (written, not accumulated) from dy [N, C, OH, OW] and
 * w [C, 1, KH, KW]: each input element gathers dy·w over the taps that read
 * it, in the order (kh, kw) = (0, 0), (0, 1), ... from 0.
 */
export function depthwise_conv2d_backward_input_f32(
  dy: usize, w: usize, dx: usize, N: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const dxp = dx + ((<usize>(n * C + c) * <usize>(H * W)) << 2);
      const dyp = dy + ((<usize>(n * C + c) * <usize>(OH * OW)) << 2);
      const wp = w + ((<usize>(c * KH * KW)) << 2);
      for (let h = 0; h < H; h++) {
        for (let xw = 0; xw < W; xw++) {
          let acc: f32 = 0;
          for (let kh = 0; kh < KH; kh++) {
            const th = h + PH - kh * DH;
            if (th < 0 || th % SH != 0) continue;
            const oh = th / SH;
            if (oh >= OH) continue;
            for (let kw = 0; kw < KW; kw++) {
              const tw = xw + PW - kw * DW;
              if (tw < 0 || tw % SW != 0) continue;
              const ow = tw / SW;
              if (ow >= OW) continue;
              acc += load<f32>(dyp + (<usize>(oh * OW + ow) << 2)) * load<f32>(wp + (<usize>(kh * KW + kw) << 2));
            }
          }
          store<f32>(dxp + (<usize>(h * W + xw) << 2), acc);
        }
      }
    }
  }
}

/**
 * dw [C, 1, KH, KW] (written) for channels [0, C) of Ctot (x, dy and dw offset
 * to the first): dw[c, kh, kw] = Σ over n, oh, ow (in that order) of
 * dy[n, c, oh, ow]·x[n, c, ih, iw]; a reduction over images, so threads split C.
 */
export function depthwise_conv2d_backward_weight_f32(
  x: usize, dy: usize, dw: usize, N: i32, C: i32, Ctot: i32, H: i32, W: i32, KH: i32, KW: i32,
  SH: i32, SW: i32, PH: i32, PW: i32, DH: i32, DW: i32, OH: i32, OW: i32,
): void {
  for (let c = 0; c < C; c++) {
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const offW = kw * DW - PW;
        const lo = firstIn(offW, SW, OW);
        const hi = endIn(offW, W, SW, OW, lo);
        let acc: f32 = 0;
        for (let n = 0; n < N; n++) {
          const xp = x + ((<usize>(n * Ctot + c) * <usize>(H * W)) << 2);
          const dyp = dy + ((<usize>(n * Ctot + c) * <usize>(OH * OW)) << 2);
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * SH - PH + kh * DH;
            if (ih < 0 || ih >= H) continue;
            const xr = xp + (<usize>(ih * W) << 2);
            const dr = dyp + (<usize>(oh * OW) << 2);
            for (let ow = lo; ow < hi; ow++) {
              acc += load<f32>(dr + (<usize>ow << 2)) * load<f32>(xr + (<usize>(ow * SW + offW) << 2));
            }
          }
        }
        store<f32>(dw + (<usize>((c * KH + kh) * KW + kw) << 2), acc);
      }
    }
  }
}

/**
 * wf [C, Cout, KK] = w [Cout, C, KK] with each filter's taps reversed:
 * wf[c, o, k] = w[o, c, KK − 1 − k] (KK = KH·KW, so a KH×KW filter is rotated by 180°).
 * The input gradient of a stride-1 convolution is the convolution of the (padded)
 * output gradient with these weights. Example (host): conv_flip_weights_f32(w, wf, 64, 32, 9).
 */
export function conv_flip_weights_f32(w: usize, wf: usize, Cout: i32, C: i32, KK: i32): void {
  for (let o = 0; o < Cout; o++) {
    for (let c = 0; c < C; c++) {
      const src = w + (<usize>(o * C + c) * KK << 2);
      const dst = wf + (<usize>(c * Cout + o) * KK << 2);
      for (let k = 0; k < KK; k++) store<f32>(dst + (<usize>k << 2), load<f32>(src + (<usize>(KK - 1 - k) << 2)));
    }
  }
}
