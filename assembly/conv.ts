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
