// Kernel family: conv (wasm-only helpers of conv2d_direct_f32's Winograd schedule).
// See docs/KERNELS.md for the ABI and docs/speed-notes.md ("Winograd convolution")
// for when the schedule picks it.
//
// Winograd F(m×m, 3×3) (Lavin & Gray 2015), m = 4 (6×6 input tiles, 36 planes) or
// m = 2 (4×4 tiles, 16 planes), over a padded input [N, C, Hp, Wp] (stride 1):
//   y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A   per m×m output tile, summed over channels.
// The sum over channels of the element-wise products is, for each of the α² planes,
// one GEMM: M_q [tiles, Cout] = V_q [tiles, C] · U_q [C, Cout]. So the work is
//   1. winograd_weights_f32, once per call: U_q = (G g Gᵀ)_q for every (o, c), each
//      plane packed for gemm_packed_f32's B (gemm_pack_b_f32's layout);
//   2. winograd_conv_f32, per chunk of T tiles (the unit the host splits over threads):
//      the input transform writes V_q stored [C][T] (k×m: TRANS_A, so four adjacent
//      tiles of one channel are one v128 store); α² GEMMs into M_q [T][Cout] through
//      gemm.ts's own drivers (gemm_packed_pa_f32's 5×8 tiles on the relaxed binary);
//      the output transform reads four channels of one tile per v128, adds the bias,
//      and writes y (a 4×4 transpose turns channel lanes into row lanes).
// A chunk's V and M stay in L2 between the three steps.
// Tiles are numbered image-major, then tile row, then tile column; a chunk may
// span rows and images (inputTransform says how each group of four is loaded).
import { madd, loadN } from "./simd";
import { gemm_pack_b_f32, gemm_packed_b_bytes, gemm_packed_f32, gemm_packed_pa_f32 } from "./gemm";

// G of F(4, 3) (6×3) and F(2, 3) (4×3), applied in f64 by gColumn (G·g) and gtColumn (Gᵀ·v):
//   F(4, 3): [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   F(2, 3): [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]

/**
 * Transforms weights w [Cout, C, 3, 3] for winograd_conv_f32 with tile m (4 or 2):
 * U_q[c, o] = (G g_{o,c} Gᵀ)[q] (computed in f64, rounded once) into tmp
 * (α² planes of C·Cout floats, each a line longer, α = m + 2), then each plane packed by gemm_pack_b_f32 (k = C,
 * n = Cout) at packed + q·gemm_packed_b_bytes(C, Cout).
 * Example (host): winograd_weights_f32(w, 64, 32, 4, tmp, packed).
 */
export function winograd_weights_f32(w: usize, Cout: i32, C: i32, m: i32, tmp: usize, packed: usize): void {
  const a = m + 2, planes = a * a;
  const plane4 = tmpPlane(C, Cout);
  // G·g for one (o, c): α×3 f64, written before read (this kernel runs on the calling thread only).
  // c outside o: the α² stores of consecutive o land next to each other in every plane
  // (o outside c strode Cout floats per store and took 0.65 ms for conv (c)'s 64×32 filters,
  // 7% of its one-thread forward, all of it serial at 2 threads).
  const gg = memory.data(6 * 3 * 8), u = memory.data(6 * 8);
  for (let c = 0; c < C; c++) {
    for (let o = 0; o < Cout; o++) {
      const g = w + (<usize>(o * C + c) * 9 << 2);
      for (let kw = 0; kw < 3; kw++) {
        gColumn(m, <f64>load<f32>(g + (<usize>kw << 2)), <f64>load<f32>(g + (<usize>(3 + kw) << 2)), <f64>load<f32>(g + (<usize>(6 + kw) << 2)), u);
        for (let r = 0; r < a; r++) store<f64>(gg + (<usize>(r * 3 + kw) << 3), load<f64>(u + (<usize>r << 3)));
      }
      const at = tmp + (<usize>(c * Cout + o) << 2);
      for (let r = 0; r < a; r++) {
        const row = gg + (<usize>(r * 3) << 3);
        gColumn(m, load<f64>(row), load<f64>(row, 8), load<f64>(row, 16), u);
        for (let q = 0; q < a; q++) store<f32>(at + <usize>(r * a + q) * plane4, <f32>load<f64>(u + (<usize>q << 3)));
      }
    }
  }
  const pb = <usize>gemm_packed_b_bytes(C, Cout);
  for (let q = 0; q < planes; q++) gemm_pack_b_f32(tmp + <usize>q * plane4, Cout, C, Cout, 0, packed + <usize>q * pb);
}

/**
 * Bytes between tmp's planes: one 64-byte line more than a [C][Cout] plane, so the α²
 * stores of one filter do not all fall in the same L1 sets when the plane is a multiple
 * of 4 KB (conv (c)'s 8 KB planes: 36 stores to one set per filter).
 */
// @ts-ignore: decorator
@inline function tmpPlane(C: i32, Cout: i32): usize { return (<usize>C * Cout << 2) + 64; }

/** Bytes of winograd_weights_f32's tmp for F(m×m, 3×3). */
export function winograd_weights_tmp_bytes(C: i32, Cout: i32, m: i32): i32 {
  return (m + 2) * (m + 2) * <i32>tmpPlane(C, Cout);
}

/**
 * out[0..α) = G·(g0, g1, g2) for F(m×m, 3×3): G's rows written out, zero terms skipped,
 * each sum in tap order (x + 0 = x, so the bits are those of the full dot product the
 * first version computed; the zoo's figures were measured with them).
 */
// @ts-ignore: decorator
@inline function gColumn(m: i32, g0: f64, g1: f64, g2: f64, out: usize): void {
  if (m == 4) {
    store<f64>(out, 0.25 * g0);
    store<f64>(out, (-1.0 / 6) * g0 + (-1.0 / 6) * g1 + (-1.0 / 6) * g2, 8);
    store<f64>(out, (-1.0 / 6) * g0 + (1.0 / 6) * g1 + (-1.0 / 6) * g2, 16);
    store<f64>(out, (1.0 / 24) * g0 + (1.0 / 12) * g1 + (1.0 / 6) * g2, 24);
    store<f64>(out, (1.0 / 24) * g0 + (-1.0 / 12) * g1 + (1.0 / 6) * g2, 32);
    store<f64>(out, g2, 40);
  } else {
    store<f64>(out, g0);
    store<f64>(out, 0.5 * g0 + 0.5 * g1 + 0.5 * g2, 8);
    store<f64>(out, 0.5 * g0 + (-0.5) * g1 + 0.5 * g2, 16);
    store<f64>(out, g2, 24);
  }
}

/**
 * Bytes between consecutive planes of V [C][T] and of M [T][Cout]: one 64-byte line more
 * than the plane, so the α² reads of one tile (the output transform's, the input
 * transform's stores) do not all fall in the same L1 sets when C·T or T·Cout is a
 * multiple of 1024 (T = 16 ran 20% slower than T = 12 or 20 without it).
 */
// @ts-ignore: decorator
@inline function vStride(C: i32, T: i32): usize { return (<usize>C * T << 2) + 64; }
// @ts-ignore: decorator
@inline function mStride(T: i32, Cout: i32): usize { return (<usize>T * Cout << 2) + 64; }

/** Bytes of per-call scratch winograd_conv_f32 needs for chunks of T tiles (T a multiple of 4). */
export function winograd_scratch_bytes(C: i32, Cout: i32, m: i32, T: i32, packA: i32): i32 {
  const planes = (m + 2) * (m + 2);
  return planes * <i32>vStride(C, T) + planes * <i32>mStride(T, Cout) + 64 + 36 * 16 + 4 * 192 + 16 + (packA ? 130 * 512 * 4 : 0);
}

// ---- the 1-D transforms on four lanes (the same tile position of four tiles, or of four channels) ----

// @ts-ignore: decorator
@inline function k4(x: f32): v128 { return f32x4.splat(x); }

/**
 * Bᵀ of F(4, 3) on d0..d5, written at dst, dst + step, ...:
 * [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1].
 */
// @ts-ignore: decorator
@inline function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, step: usize): void {
  const s12 = f32x4.add(d1, d2), s34 = f32x4.add(d3, d4);
  const t12 = f32x4.sub(d1, d2), t43 = f32x4.sub(d4, d3);
  const t31 = f32x4.sub(d3, d1), t42 = f32x4.sub(d4, d2);
  v128.store(dst, madd(k4(4), d0, madd(k4(-5), d2, d4)));
  v128.store(dst + step, madd(k4(-4), s12, s34));
  v128.store(dst + 2 * step, madd(k4(4), t12, t43));
  v128.store(dst + 3 * step, madd(k4(2), t31, t42));
  v128.store(dst + 4 * step, madd(k4(-2), t31, t42));
  v128.store(dst + 5 * step, madd(k4(4), d1, madd(k4(-5), d3, d5)));
}

/** Bᵀ of F(2, 3) on d0..d3: [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]. */
// @ts-ignore: decorator
@inline function bt4(d0: v128, d1: v128, d2: v128, d3: v128, dst: usize, step: usize): void {
  v128.store(dst, f32x4.sub(d0, d2));
  v128.store(dst + step, f32x4.add(d1, d2));
  v128.store(dst + 2 * step, f32x4.sub(d2, d1));
  v128.store(dst + 3 * step, f32x4.sub(d1, d3));
}

/** Aᵀ of F(4, 3) on m0..m5 ([1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]), written at dst + i·step. */
// @ts-ignore: decorator
@inline function at6(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, dst: usize, step: usize): void {
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), d = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, a), c));
  v128.store(dst + step, madd(k4(2), d, b));
  v128.store(dst + 2 * step, madd(k4(4), c, a));
  v128.store(dst + 3 * step, f32x4.add(madd(k4(8), d, b), m5));
}

/** Aᵀ of F(2, 3) on m0..m3 ([1 1 1 0; 0 1 −1 −1]). */
// @ts-ignore: decorator
@inline function at4(m0: v128, m1: v128, m2: v128, m3: v128, dst: usize, step: usize): void {
  v128.store(dst, f32x4.add(f32x4.add(m0, m1), m2));
  v128.store(dst + step, f32x4.sub(f32x4.sub(m1, m2), m3));
}

/**
 * The input transform of one chunk: for tiles [g0, g0 + cnt) and every channel,
 * V_q[c][u] = (Bᵀ d B)[q] at V + q·vStride + (c·T + u)·4. Lanes past cnt (to the next
 * multiple of 4) are written as zeros. rowT: α² v128 (the row pass's results);
 * edge: four 6×8-float patches for lanes whose patch leaves the padded image.
 * Three ways to load a group's patches, fastest first:
 *   four whole tiles of one tile row inside the image: per patch row, 5 v128 loads
 *   of the 18 (F4) or 10 (F2) floats the four patches span, shuffled into α lanes;
 *   else per lane: a v128 (+ 64-bit) load of its own patch row, four rows transposed;
 *   a lane whose patch crosses the image's bottom or right edge (or past cnt) is
 *   first gathered, zeros outside, into its 6×8 edge patch.
 */
function inputTransform(xp: usize, V: usize, C: i32, Hp: i32, Wp: i32, m: i32, TH: i32, TW: i32, g0: i32, cnt: i32, T: i32, rowT: usize, edge: usize): void {
  const a = m + 2;
  const tt = TH * TW;
  const plane4 = <usize>(Hp * Wp) << 2, Wp4 = <usize>Wp << 2;
  const vstep = vStride(C, T); // bytes between planes q and q + 1 of V
  for (let u = 0; u < cnt; u += 4) {
    const g = g0 + u;
    const n = g / tt, r = g % tt, th = r / TW, tw = r % TW;
    // four whole tiles in this tile row, patch inside the padded image
    // (F4: columns 4tw .. 4tw + 17; F2: 2tw .. 2tw + 9; all rows th·m .. th·m + α − 1)
    const fast = u + 4 <= cnt && tw + 3 < TW && th * m + a <= Hp && (m == 4 ? 4 * tw + 18 : 2 * tw + 10) <= Wp;
    const base = xp + <usize>n * C * plane4 + <usize>(th * m) * Wp4 + (<usize>(tw * m) << 2);
    // per-lane patch origins (channel 0) and row steps; inLane: bit l set when lane l's patch is inside
    let p0: usize = 0, p1: usize = 0, p2: usize = 0, p3: usize = 0;
    let inLane = 0;
    if (!fast) {
      for (let l = 0; l < 4; l++) {
        const t = g + l;
        const tn = t / tt, tr = t % tt, r0 = (tr / TW) * m, c0 = (tr % TW) * m;
        const org = xp + <usize>tn * C * plane4 + <usize>r0 * Wp4 + (<usize>c0 << 2);
        if (u + l < cnt && r0 + a <= Hp && c0 + a <= Wp) inLane |= 1 << l;
        if (l == 0) p0 = org; else if (l == 1) p1 = org; else if (l == 2) p2 = org; else p3 = org;
      }
    }
    for (let c = 0; c < C; c++) {
      const co = <usize>c * plane4;
      const xc = base + co;
      let q0 = p0 + co, q1 = p1 + co, q2 = p2 + co, q3 = p3 + co;
      let s0 = Wp4, s1 = Wp4, s2 = Wp4, s3 = Wp4;
      if (!fast && inLane != 15) {
        for (let l = 0; l < 4; l++) {
          if (inLane & (1 << l)) continue;
          const buf = edge + (<usize>l * 192);
          gatherEdge(xp, buf, C, Hp, Wp, m, TH, TW, g + l, u + l < cnt, c);
          if (l == 0) { q0 = buf; s0 = 32; } else if (l == 1) { q1 = buf; s1 = 32; } else if (l == 2) { q2 = buf; s2 = 32; } else { q3 = buf; s3 = 32; }
        }
      }
      const vc = V + ((<usize>c * T + u) << 2);
      if (m == 4) {
        for (let i = 0; i < 6; i++) {
          let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
          if (fast) {
            const p = xc + <usize>i * Wp4;
            const a0 = v128.load(p), a1 = v128.load(p, 16), a2 = v128.load(p, 32), a3 = v128.load(p, 48);
            const a4 = v128.load64_zero(p + 64);
            // lane l of x_j is the patch column j of tile l: p[4l + j]
            const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
            const t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
            x0 = i32x4.shuffle(t0, t1, 0, 1, 4, 5); x1 = i32x4.shuffle(t0, t1, 2, 3, 6, 7);
            x2 = i32x4.shuffle(t2, t3, 0, 1, 4, 5); x3 = i32x4.shuffle(t2, t3, 2, 3, 6, 7);
            const e0 = i32x4.shuffle(a1, a2, 0, 4, 1, 5), e1 = i32x4.shuffle(a3, a4, 0, 4, 1, 5);
            x4 = i32x4.shuffle(e0, e1, 0, 1, 4, 5); x5 = i32x4.shuffle(e0, e1, 2, 3, 6, 7);
          } else {
            // lane l's patch row i: columns 0..3 and 4..5, transposed into lanes
            const r0 = q0 + <usize>i * s0, r1 = q1 + <usize>i * s1, r2 = q2 + <usize>i * s2, r3 = q3 + <usize>i * s3;
            const a0 = v128.load(r0), a1 = v128.load(r1), a2 = v128.load(r2), a3 = v128.load(r3);
            const b0 = v128.load64_zero(r0 + 16), b1 = v128.load64_zero(r1 + 16), b2 = v128.load64_zero(r2 + 16), b3 = v128.load64_zero(r3 + 16);
            const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
            const t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
            x0 = i32x4.shuffle(t0, t1, 0, 1, 4, 5); x1 = i32x4.shuffle(t0, t1, 2, 3, 6, 7);
            x2 = i32x4.shuffle(t2, t3, 0, 1, 4, 5); x3 = i32x4.shuffle(t2, t3, 2, 3, 6, 7);
            const e0 = i32x4.shuffle(b0, b1, 0, 4, 1, 5), e1 = i32x4.shuffle(b2, b3, 0, 4, 1, 5);
            x4 = i32x4.shuffle(e0, e1, 0, 1, 4, 5); x5 = i32x4.shuffle(e0, e1, 2, 3, 6, 7);
          }
          bt6(x0, x1, x2, x3, x4, x5, rowT + (<usize>i * 6 << 4), 16);
        }
        for (let j = 0; j < 6; j++) {
          const p = rowT + (<usize>j << 4);
          // plane q = i·6 + j: rows of the column pass step by 6 planes
          bt6(v128.load(p), v128.load(p, 96), v128.load(p, 192), v128.load(p, 288), v128.load(p, 384), v128.load(p, 480),
            vc + <usize>j * vstep, 6 * vstep);
        }
      } else {
        for (let i = 0; i < 4; i++) {
          let x0 = f32x4.splat(0), x1 = x0, x2 = x0, x3 = x0;
          if (fast) {
            const p = xc + <usize>i * Wp4;
            // lane l of x_j is p[2l + j]: columns 0..7 and 2..9
            const a0 = v128.load(p), a1 = v128.load(p, 16), b0 = v128.load(p, 8), b1 = v128.load(p, 24);
            x0 = i32x4.shuffle(a0, a1, 0, 2, 4, 6); x1 = i32x4.shuffle(a0, a1, 1, 3, 5, 7);
            x2 = i32x4.shuffle(b0, b1, 0, 2, 4, 6); x3 = i32x4.shuffle(b0, b1, 1, 3, 5, 7);
          } else {
            const a0 = v128.load(q0 + <usize>i * s0), a1 = v128.load(q1 + <usize>i * s1);
            const a2 = v128.load(q2 + <usize>i * s2), a3 = v128.load(q3 + <usize>i * s3);
            const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
            const t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
            x0 = i32x4.shuffle(t0, t1, 0, 1, 4, 5); x1 = i32x4.shuffle(t0, t1, 2, 3, 6, 7);
            x2 = i32x4.shuffle(t2, t3, 0, 1, 4, 5); x3 = i32x4.shuffle(t2, t3, 2, 3, 6, 7);
          }
          bt4(x0, x1, x2, x3, rowT + (<usize>i * 4 << 4), 16);
        }
        for (let j = 0; j < 4; j++) {
          const p = rowT + (<usize>j << 4);
          bt4(v128.load(p), v128.load(p, 64), v128.load(p, 128), v128.load(p, 192), vc + <usize>j * vstep, 4 * vstep);
        }
      }
    }
  }
}

/** Gathers channel c of tile t's α×α patch into buf (6 rows of 8 floats; zeros outside the padded image, all zeros when !live). */
function gatherEdge(xp: usize, buf: usize, C: i32, Hp: i32, Wp: i32, m: i32, TH: i32, TW: i32, t: i32, live: bool, c: i32): void {
  const a = m + 2, tt = TH * TW;
  const n = t / tt, r = t % tt, r0 = (r / TW) * m, c0 = (r % TW) * m;
  const plane = xp + ((<usize>(n * C + c) * Hp * Wp) << 2);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < 8; j++) {
      let v: f32 = 0;
      if (live && j < a && r0 + i < Hp && c0 + j < Wp) v = load<f32>(plane + (<usize>((r0 + i) * Wp + c0 + j) << 2));
      store<f32>(buf + (<usize>(i * 8 + j) << 2), v);
    }
  }
}

/**
 * The output transform of one chunk: y[n, o, th·m + i, tw·m + j] = (Aᵀ M A)[i][j] + bias[o]
 * for tiles [g0, g0 + cnt), M_q at M + ((q·T + u)·Cout + o)·4 (four channels per v128;
 * a channel group past Cout reads the next floats of scratch and does not store them).
 */
function outputTransform(M: usize, bias: usize, y: usize, Cout: i32, OH: i32, OW: i32, m: i32, TH: i32, TW: i32, g0: i32, cnt: i32, T: i32, rowT: usize, res: usize): void {
  const a = m + 2, tt = TH * TW;
  const mstep = mStride(T, Cout);
  const P = OH * OW, OW4 = <usize>OW << 2;
  for (let u = 0; u < cnt; u++) {
    const g = g0 + u;
    const n = g / tt, r = g % tt, oh0 = (r / TW) * m, ow0 = (r % TW) * m;
    const rows = min(m, OH - oh0), cols = min(m, OW - ow0);
    const mu = M + (<usize>u * Cout << 2);
    for (let o = 0; o < Cout; o += 4) {
      const chans = min(4, Cout - o);
      const mp = mu + (<usize>o << 2);
      const bv = bias ? loadN(bias + (<usize>o << 2), chans) : f32x4.splat(0);
      // row pass: res rows i of α planes → m values each (rowT[k1·m + j])
      if (m == 4) {
        for (let k1 = 0; k1 < 6; k1++) {
          const p = mp + <usize>(k1 * 6) * mstep;
          at6(v128.load(p), v128.load(p + mstep), v128.load(p + 2 * mstep), v128.load(p + 3 * mstep), v128.load(p + 4 * mstep), v128.load(p + 5 * mstep),
            rowT + (<usize>(k1 * 4) << 4), 16);
        }
        for (let j = 0; j < 4; j++) {
          const p = rowT + (<usize>j << 4);
          at6(v128.load(p), v128.load(p, 64), v128.load(p, 128), v128.load(p, 192), v128.load(p, 256), v128.load(p, 320), res + (<usize>j << 4), 64);
        }
      } else {
        for (let k1 = 0; k1 < 4; k1++) {
          const p = mp + <usize>(k1 * 4) * mstep;
          at4(v128.load(p), v128.load(p + mstep), v128.load(p + 2 * mstep), v128.load(p + 3 * mstep), rowT + (<usize>(k1 * 2) << 4), 16);
        }
        for (let j = 0; j < 2; j++) {
          const p = rowT + (<usize>j << 4);
          at4(v128.load(p), v128.load(p, 32), v128.load(p, 64), v128.load(p, 96), res + (<usize>j << 4), 32);
        }
      }
      // res[i·m + j] holds output (i, j) of four channels
      const yo = y + (<usize>(n * Cout + o) * P << 2) + (<usize>(oh0 * OW + ow0) << 2);
      if (m == 4 && rows == 4 && cols == 4 && chans == 4) {
        const P4 = <usize>P << 2;
        for (let i = 0; i < 4; i++) {
          const q = res + (<usize>i << 6);
          const r0 = f32x4.add(v128.load(q), bv), r1 = f32x4.add(v128.load(q, 16), bv);
          const r2 = f32x4.add(v128.load(q, 32), bv), r3 = f32x4.add(v128.load(q, 48), bv);
          const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const yr = yo + <usize>i * OW4;
          v128.store(yr, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
          v128.store(yr + P4, i32x4.shuffle(t0, t1, 2, 3, 6, 7));
          v128.store(yr + 2 * P4, i32x4.shuffle(t2, t3, 0, 1, 4, 5));
          v128.store(yr + 3 * P4, i32x4.shuffle(t2, t3, 2, 3, 6, 7));
        }
      } else {
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            const v = f32x4.add(v128.load(res + (<usize>(i * m + j) << 4)), bv);
            const d = yo + <usize>i * OW4 + (<usize>j << 2);
            store<f32>(d, f32x4.extract_lane(v, 0));
            if (chans > 1) store<f32>(d + (<usize>P << 2), f32x4.extract_lane(v, 1));
            if (chans > 2) store<f32>(d + (<usize>(2 * P) << 2), f32x4.extract_lane(v, 2));
            if (chans > 3) store<f32>(d + (<usize>(3 * P) << 2), f32x4.extract_lane(v, 3));
          }
        }
      }
    }
  }
}

/**
 * Winograd F(m×m, 3×3) convolution of tiles [t0, t1) of the padded input xp
 * [N, C, Hp, Wp] (stride 1; OH = Hp − 2, OW = Wp − 2, TH = ⌈OH/m⌉ × TW = ⌈OW/m⌉ tiles
 * per image, numbered image-major) with weights transformed by winograd_weights_f32
 * (u), plus bias [Cout] when bias ≠ 0, into y [N, Cout, OH, OW]. Tiles run in chunks
 * of T (a multiple of 4); t0 a multiple of T. Tile ranges are disjoint in y, so the
 * host splits them over threads, each call with its own scratch
 * (winograd_scratch_bytes). packA ≠ 0: the GEMMs run gemm_packed_pa_f32 (relaxed binary).
 * Example (host): winograd_conv_f32(xp, u, bias, y, 32, 34, 34, 64, 4, 0, 2048, 60, 1, scratch).
 */
export function winograd_conv_f32(xp: usize, u: usize, bias: usize, y: usize, C: i32, Hp: i32, Wp: i32, Cout: i32, m: i32,
  t0: i32, t1: i32, T: i32, packA: i32, scratch: usize): void {
  const a = m + 2, planes = a * a;
  const OH = Hp - 2, OW = Wp - 2;
  if (OH <= 0 || OW <= 0 || t1 <= t0) return;
  const TH = (OH + m - 1) / m, TW = (OW + m - 1) / m;
  const V = scratch;
  const vstep = vStride(C, T), mstep = mStride(T, Cout);
  const M = V + <usize>planes * vstep;
  const rowT = M + <usize>planes * mstep + 64;
  const edge = rowT + 36 * 16; // 4 × 192 bytes; the output transform's results after it
  const aScratch = edge + 4 * 192 + 16;
  const pb = <usize>gemm_packed_b_bytes(C, Cout);
  for (let g0 = t0; g0 < t1; g0 += T) {
    const cnt = min(T, t1 - g0);
    inputTransform(xp, V, C, Hp, Wp, m, TH, TW, g0, cnt, T, rowT, edge);
    const rowsM = (cnt + 3) & ~3; // the zero lanes of the last group make whole rows; they are not read back
    for (let q = 0; q < planes; q++) {
      if (packA) gemm_packed_pa_f32(V + <usize>q * vstep, T, u + <usize>q * pb, M + <usize>q * mstep, Cout, rowsM, Cout, C, 1, aScratch);
      else gemm_packed_f32(V + <usize>q * vstep, T, u + <usize>q * pb, M + <usize>q * mstep, Cout, rowsM, Cout, C, 1);
    }
    outputTransform(M, bias, y, Cout, OH, OW, m, TH, TW, g0, cnt, T, rowT, edge);
  }
}

// ---- weight gradient: dw = Σ_tiles Gᵀ [ (A dy Aᵀ) ⊙ (Bᵀ d B) ] G, F(4×4, 3×3) ----
// The forward is linear in the filter g, so its adjoint in g maps a tile's output
// gradient dy (4×4) to Gᵀ [(A dy Aᵀ) ⊙ V] G. Summed over all tiles, per plane q:
//   S_q [Cout][C] = Z_q [Cout][tiles] · V_q [C][tiles]ᵀ     (one GEMM, k = every tile)
// with Z_q = (A dy Aᵀ)_q, V_q the forward's input transform; then dw = Gᵀ S G per (o, c).
// The host runs the two transforms split over tiles and the α² GEMMs split over planes,
// so every sum runs in the same order for any thread count.

/**
 * A of F(4, 3) (6×4, the transpose of Aᵀ) on d0..d3, written at dst + k·step:
 * [1 0 0 0; 1 1 1 1; 1 −1 1 −1; 1 2 4 8; 1 −2 4 −8; 0 0 0 1].
 */
// @ts-ignore: decorator
@inline function a6(d0: v128, d1: v128, d2: v128, d3: v128, dst: usize, step: usize): void {
  const s02 = f32x4.add(d0, d2), s13 = f32x4.add(d1, d3);
  const e02 = madd(k4(4), d2, d0), e13 = madd(k4(4), d3, d1); // d0 + 4d2, d1 + 4d3
  v128.store(dst, d0);
  v128.store(dst + step, f32x4.add(s02, s13));
  v128.store(dst + 2 * step, f32x4.sub(s02, s13));
  v128.store(dst + 3 * step, madd(k4(2), e13, e02));
  v128.store(dst + 4 * step, madd(k4(-2), e13, e02));
  v128.store(dst + 5 * step, d3);
}

/**
 * Input transform of tiles [t0, t1) (t0 a multiple of 4) of the padded input for F(4×4):
 * V_q[c][t] at V + q·(C·ld·4 + 64) + (c·ld + t)·4, ld ≥ all tiles (a multiple of 4). Lanes
 * past t1 up to the next multiple of 4 are written as zeros. scratch: winograd_transform_scratch_bytes().
 * Example (host): winograd_input_f32(xp, V, 32, 34, 34, 0, 2048, 2048, scratch).
 */
export function winograd_input_f32(xp: usize, V: usize, C: i32, Hp: i32, Wp: i32, t0: i32, t1: i32, ld: i32, scratch: usize): void {
  const OH = Hp - 2, OW = Wp - 2;
  if (OH <= 0 || OW <= 0 || t1 <= t0) return;
  inputTransform(xp, V + (<usize>t0 << 2), C, Hp, Wp, 4, (OH + 3) / 4, (OW + 3) / 4, t0, t1 - t0, ld, scratch, scratch + 36 * 16);
}

/** Bytes of scratch winograd_input_f32 and winograd_grad_f32 need per call. */
export function winograd_transform_scratch_bytes(): i32 {
  return 36 * 16 + 4 * 192;
}

/**
 * Output-gradient transform of tiles [t0, t1) (t0 a multiple of 4) for F(4×4):
 * Z_q[o][t] = (A dy_t Aᵀ)[q] for dy [N, Cout, OH, OW] (a tile's 4×4 block, zeros past OH, OW),
 * at Z + q·(Cout·ld·4 + 64) + (o·ld + t)·4. Lanes past t1 (to a multiple of 4) are zeros.
 * Example (host): winograd_grad_f32(dy, Z, 64, 32, 32, 0, 2048, 2048, scratch).
 */
export function winograd_grad_f32(dy: usize, Z: usize, Cout: i32, OH: i32, OW: i32, t0: i32, t1: i32, ld: i32, scratch: usize): void {
  if (OH <= 0 || OW <= 0 || t1 <= t0) return;
  const TH = (OH + 3) / 4, TW = (OW + 3) / 4, tt = TH * TW;
  const rowT = scratch, edge = scratch + 36 * 16;
  const plane4 = <usize>(OH * OW) << 2, OW4 = <usize>OW << 2;
  const zstep = vStride(Cout, ld);
  const cnt = t1 - t0;
  for (let u = 0; u < cnt; u += 4) {
    const g = t0 + u;
    const n = g / tt, r = g % tt, th = r / TW, tw = r % TW;
    // four whole tiles of one tile row inside dy: each patch row is 16 adjacent floats
    const fast = u + 4 <= cnt && tw + 3 < TW && th * 4 + 4 <= OH && 4 * tw + 16 <= OW;
    let p0: usize = 0, p1: usize = 0, p2: usize = 0, p3: usize = 0;
    let inLane = 0;
    for (let l = 0; l < 4; l++) {
      const t = g + l;
      const tn = t / tt, tr = t % tt, r0 = (tr / TW) * 4, c0 = (tr % TW) * 4;
      const org = dy + <usize>tn * Cout * plane4 + <usize>r0 * OW4 + (<usize>c0 << 2);
      if (u + l < cnt && r0 + 4 <= OH && c0 + 4 <= OW) inLane |= 1 << l;
      if (l == 0) p0 = org; else if (l == 1) p1 = org; else if (l == 2) p2 = org; else p3 = org;
    }
    for (let o = 0; o < Cout; o++) {
      const co = <usize>o * plane4;
      let q0 = p0 + co, q1 = p1 + co, q2 = p2 + co, q3 = p3 + co;
      let s0 = OW4, s1 = OW4, s2 = OW4, s3 = OW4;
      if (!fast && inLane != 15) {
        for (let l = 0; l < 4; l++) {
          if (inLane & (1 << l)) continue;
          const buf = edge + (<usize>l * 192);
          // the 4×4 block, zeros outside dy and past t1
          for (let z = 0; z < 32; z++) store<f32>(buf + (<usize>z << 2), 0);
          const t = g + l;
          if (u + l < cnt) {
            const tn = t / tt, tr = t % tt, r0 = (tr / TW) * 4, c0 = (tr % TW) * 4;
            const plane = dy + <usize>(tn * Cout + o) * plane4;
            for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
              if (r0 + i < OH && c0 + j < OW) store<f32>(buf + (<usize>(i * 8 + j) << 2), load<f32>(plane + (<usize>((r0 + i) * OW + c0 + j) << 2)));
            }
          }
          if (l == 0) { q0 = buf; s0 = 32; } else if (l == 1) { q1 = buf; s1 = 32; } else if (l == 2) { q2 = buf; s2 = 32; } else { q3 = buf; s3 = 32; }
        }
      }
      for (let i = 0; i < 4; i++) {
        let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
        if (fast) {
          const p = p0 + co + <usize>i * OW4;
          a0 = v128.load(p); a1 = v128.load(p, 16); a2 = v128.load(p, 32); a3 = v128.load(p, 48);
        } else {
          a0 = v128.load(q0 + <usize>i * s0); a1 = v128.load(q1 + <usize>i * s1);
          a2 = v128.load(q2 + <usize>i * s2); a3 = v128.load(q3 + <usize>i * s3);
        }
        // lane l of x_j is column j of tile l's row i
        const t0_ = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1_ = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
        const t2_ = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3_ = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
        a6(i32x4.shuffle(t0_, t1_, 0, 1, 4, 5), i32x4.shuffle(t0_, t1_, 2, 3, 6, 7), i32x4.shuffle(t2_, t3_, 0, 1, 4, 5), i32x4.shuffle(t2_, t3_, 2, 3, 6, 7),
          rowT + (<usize>i * 6 << 4), 16);
      }
      const zo = Z + ((<usize>o * ld + g) << 2);
      for (let j = 0; j < 6; j++) {
        const p = rowT + (<usize>j << 4);
        a6(v128.load(p), v128.load(p, 96), v128.load(p, 192), v128.load(p, 288), zo + <usize>j * zstep, 6 * zstep);
      }
    }
  }
}

/**
 * dw [Cout, C, 3, 3] = Gᵀ S G per (o, c), S_q at S + q·Cout·C·4 + (o·C + c)·4 (the α² = 36
 * GEMM results of F(4×4)), in f64. Example (host): winograd_wgrad_finish_f32(S, dw, 64, 32).
 */
export function winograd_wgrad_finish_f32(S: usize, dw: usize, Cout: i32, C: i32): void {
  const plane4 = <usize>(Cout * C) << 2;
  // Why blocks of 16 filters: the 36 values of one filter sit a plane apart (8 KB for conv
  // (c)), all in the same L1 sets; reading each plane's 16 consecutive values (one line)
  // into blk at once reads every line once (conv (c)'s 64×32 filters: 1.07 → 0.09 ms, see docs/speed-notes.md).
  const blk = memory.data(36 * 16 * 8), sg = memory.data(6 * 3 * 8), t = memory.data(3 * 8), v = memory.data(6 * 8);
  for (let o = 0; o < Cout; o++) {
    for (let c0 = 0; c0 < C; c0 += 16) {
      const n = min(16, C - c0);
      for (let q = 0; q < 36; q++) {
        const src = S + <usize>q * plane4 + (<usize>(o * C + c0) << 2), dst = blk + (<usize>(q * 16) << 3);
        for (let j = 0; j < n; j++) store<f64>(dst + (<usize>j << 3), <f64>load<f32>(src + (<usize>j << 2)));
      }
      for (let j = 0; j < n; j++) {
        const f = blk + (<usize>j << 3);
        for (let k1 = 0; k1 < 6; k1++) { // (S·G)[k1][b]
          const row = f + (<usize>(k1 * 6 * 16) << 3);
          gtColumn(load<f64>(row), load<f64>(row, 16 * 8), load<f64>(row, 32 * 8), load<f64>(row, 48 * 8), load<f64>(row, 64 * 8), load<f64>(row, 80 * 8), t);
          for (let b = 0; b < 3; b++) store<f64>(sg + (<usize>(k1 * 3 + b) << 3), load<f64>(t + (<usize>b << 3)));
        }
        const d = dw + (<usize>(o * C + c0 + j) * 9 << 2);
        for (let b = 0; b < 3; b++) { // (Gᵀ·S·G)[a][b]
          for (let k1 = 0; k1 < 6; k1++) store<f64>(v + (<usize>k1 << 3), load<f64>(sg + (<usize>(k1 * 3 + b) << 3)));
          gtColumn(load<f64>(v), load<f64>(v, 8), load<f64>(v, 16), load<f64>(v, 24), load<f64>(v, 32), load<f64>(v, 40), t);
          for (let a = 0; a < 3; a++) store<f32>(d + (<usize>(a * 3 + b) << 2), <f32>load<f64>(t + (<usize>a << 3)));
        }
      }
    }
  }
}

/** out[0..3) = Gᵀ·(v0 … v5) for F(4×4, 3×3): G's columns written out, zero terms skipped, sums in order (as gColumn). */
// @ts-ignore: decorator
@inline function gtColumn(v0: f64, v1: f64, v2: f64, v3: f64, v4: f64, v5: f64, out: usize): void {
  store<f64>(out, 0.25 * v0 + (-1.0 / 6) * v1 + (-1.0 / 6) * v2 + (1.0 / 24) * v3 + (1.0 / 24) * v4);
  store<f64>(out, (-1.0 / 6) * v1 + (1.0 / 6) * v2 + (1.0 / 12) * v3 + (-1.0 / 12) * v4, 8);
  store<f64>(out, (-1.0 / 6) * v1 + (-1.0 / 6) * v2 + (1.0 / 6) * v3 + (1.0 / 6) * v4 + v5, 16);
}
