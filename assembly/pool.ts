// Kernel family: pool. See docs/KERNELS.md for the ABI.
//
// NCHW planes: NC = N·C independent H×W planes in, NC OH×OW planes out, so the
// host splits NC across threads (a plane sub-range gives the same bits).
// PyTorch semantics, output sizes (floor or ceil mode) computed by the host:
//   window rows [oh·SH − PH, oh·SH − PH + KH) clipped to the image (cols alike).
//   max: the running max starts at −inf with the first in-image tap as its index,
//        and a tap replaces it when v > max or v is NaN (PyTorch's CPU rule: the
//        first maximum wins, NaN propagates). Padding never wins. A window with no
//        in-image tap (the host should never ask for one) gives −inf and index −1,
//        which the backward skips.
//   avg: divisor = window size clipped to the padded image (countIncludePad) or to
//        the image (not); a window with no in-image tap gives 0. Sums in f32, in
//        row-major window order, then one division (as PyTorch's CPU kernel).
// Fast paths for the most common pool, 2×2 stride 2 without padding: four outputs
// per step from two v128 loads per input row, deinterleaved with shuffles. They
// compute the very same operations in the same order as the scalar path, so
// they give the same bits.

// @ts-ignore: decorator
@inline function zeroF32(dst: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) { v128.store(dst, z); dst += 16; }
  for (; i < n; i++) { store<f32>(dst, 0); dst += 4; }
}

/**
 * m ? a : b per lane, for comparison masks (all ones or all zeros per lane), where
 * relaxed_laneselect is exact: one blend instead of bitselect's and/andnot/or.
 */
// @ts-ignore: decorator
@inline function select(a: v128, b: v128, m: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.relaxed_laneselect(a, b, m);
  return v128.bitselect(a, b, m);
}

/** Whether this is the 2×2 stride-2 unpadded pool that has a SIMD path. */
// @ts-ignore: decorator
@inline function is2x2s2(KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32): bool {
  return KH == 2 && KW == 2 && SH == 2 && SW == 2 && PH == 0 && PW == 0;
}

/** Scalar max over one window of plane xp; writes y and idx at output (oh, ow). */
// @ts-ignore: decorator
@inline function maxWindow(
  xp: usize, yo: usize, io: usize, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
  oh: i32, ow: i32,
): void {
  let hs = oh * SH - PH, ws = ow * SW - PW;
  const he = min(hs + KH, H), we = min(ws + KW, W);
  hs = max(hs, 0); ws = max(ws, 0);
  let best = -Infinity as f32;
  let bi = hs < he && ws < we ? hs * W + ws : -1;
  for (let h = hs; h < he; h++) {
    const rp = xp + (<usize>(h * W) << 2);
    for (let w = ws; w < we; w++) {
      const v = load<f32>(rp + (<usize>w << 2));
      if (v > best || v != v) { best = v; bi = h * W + w; }
    }
  }
  store<f32>(yo, best);
  store<i32>(io, bi);
}

/**
 * Max pooling over NC planes x [NC, H, W] → y [NC, OH, OW]; idx [NC, OH, OW] (int32)
 * gets the in-plane index h·W + w of each max (first max wins; padding never wins).
 * Example (host): maxpool2d_f32(x, y, idx, N·C, 28, 28, 2, 2, 2, 2, 0, 0, 14, 14).
 */
export function maxpool2d_f32(
  x: usize, y: usize, idx: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PH: i32, PW: i32, OH: i32, OW: i32,
): void {
  const plane = (<usize>H * <usize>W) << 2;
  const oplane = (<usize>OH * <usize>OW) << 2;
  const fast = is2x2s2(KH, KW, SH, SW, PH, PW);
  const lanes = i32x4(0, 2, 4, 6);
  const one = i32x4.splat(1), offW = i32x4.splat(W), offW1 = i32x4.splat(W + 1);
  for (let p = 0; p < NC; p++) {
    const xp = x + <usize>p * plane;
    const yp = y + <usize>p * oplane;
    const ip = idx + <usize>p * oplane;
    for (let oh = 0; oh < OH; oh++) {
      let ow = 0;
      const orow = <usize>(oh * OW) << 2;
      if (fast && 2 * oh + 1 < H) {
        const r0 = xp + (<usize>(2 * oh * W) << 2);
        const r1 = r0 + (<usize>W << 2);
        // Four outputs read columns 2ow .. 2ow+7, all inside the row. When OW % 4 ≠ 0 a last
        // group overlaps the one before it (it rewrites the same values), so no output takes
        // the scalar path, which costs about as much as the vector steps of a 13-wide row.
        const last = OW >= 4 && 2 * OW <= W ? OW - 4 : -1;
        for (; (ow + 4 <= OW && 2 * ow + 8 <= W) || (ow < OW && last >= 0); ow += 4) {
          if (ow + 4 > OW) ow = last;
          const off = <usize>(2 * ow) << 2;
          const a0 = v128.load(r0 + off), a1 = v128.load(r0 + off, 16);
          const b0 = v128.load(r1 + off), b1 = v128.load(r1 + off, 16);
          const i00 = i32x4.add(i32x4.splat(2 * oh * W + 2 * ow), lanes);
          // Taps in window order (0,0), (0,1), (1,0), (1,1); the first sets the running max.
          // The winner's offset in the window (0, 1, W, W + 1) is tracked, added to i00 once.
          let best = f32x4.shuffle(a0, a1, 0, 2, 4, 6);
          let v = f32x4.shuffle(a0, a1, 1, 3, 5, 7);
          let m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = select(v, best, m);
          let at = v128.and(m, one);
          v = f32x4.shuffle(b0, b1, 0, 2, 4, 6);
          m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = select(v, best, m);
          at = select(offW, at, m);
          v = f32x4.shuffle(b0, b1, 1, 3, 5, 7);
          m = v128.or(f32x4.gt(v, best), f32x4.ne(v, v));
          best = select(v, best, m);
          at = select(offW1, at, m);
          const o = orow + (<usize>ow << 2);
          v128.store(yp + o, best);
          v128.store(ip + o, i32x4.add(i00, at));
        }
      }
      for (; ow < OW; ow++) {
        const o = orow + (<usize>ow << 2);
        maxWindow(xp, yp + o, ip + o, H, W, KH, KW, SH, SW, PH, PW, oh, ow);
      }
    }
  }
}

/**
 * dx [NC, H, W] = 0, then dx[p, idx[p, o]] += dy[p, o] for every output o of plane p,
 * in order of o (negative indices, from empty windows, are skipped).
 */
export function maxpool2d_backward_f32(
  dy: usize, idx: usize, dx: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
): void {
  // The window geometry (KH … PW) is for the WGSL twin, which gathers per input
  // element over the windows that cover it; this scatter needs only idx.
  const hw = H * W, ohw = OH * OW;
  const plane = <usize>hw << 2;
  const oplane = <usize>ohw << 2;
  for (let p = 0; p < NC; p++) {
    const dxp = dx + <usize>p * plane;
    const dyp = dy + <usize>p * oplane;
    const ip = idx + <usize>p * oplane;
    zeroF32(dxp, hw);
    for (let o = 0; o < ohw; o++) {
      const i = load<i32>(ip + (<usize>o << 2));
      if (i < 0) continue;
      const q = dxp + (<usize>i << 2);
      store<f32>(q, load<f32>(q) + load<f32>(dyp + (<usize>o << 2)));
    }
  }
}

/**
 * The gradient of maxpool(relu(z)) with respect to z, in one pass: dx [NC, H, W] = 0,
 * then dx[p, idx[p, o]] += (y[p, o] > 0 ? dy[p, o] : 0) for every output o of plane p,
 * in order of o, where y and idx are maxpool2d_f32's outputs on relu(z). (ReLU is
 * monotone, so pool(relu(z)) = relu(pool(z)) and its derivative at the chosen tap is
 * y > 0; a NaN y gives 0, as relu's backward does for a NaN z.)
 * tiled ≠ 0 promises the pool was 2×2 stride 2 unpadded: the windows are disjoint, so
 * every dx element is written once, straight, with no zeroing pass first.
 * Example (host): maxpool2d_relu_backward_f32(dy, idx, y, dx, N·C, 26, 26, 13, 13, 1).
 */
export function maxpool2d_relu_backward_f32(
  dy: usize, idx: usize, y: usize, dx: usize, NC: i32, H: i32, W: i32, OH: i32, OW: i32, tiled: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, PH: i32, PW: i32,
): void {
  // KH … PW: as in maxpool2d_backward_f32, for the WGSL twin's per-element gather.
  const hw = H * W, ohw = OH * OW;
  const plane = <usize>hw << 2;
  const oplane = <usize>ohw << 2;
  const zero = f32x4.splat(0);
  const lanes = i32x4(0, 2, 4, 6);
  const one = i32x4.splat(1), offW = i32x4.splat(W), offW1 = i32x4.splat(W + 1);
  for (let p = 0; p < NC; p++) {
    const dxp = dx + <usize>p * plane;
    const dyp = dy + <usize>p * oplane;
    const ip = idx + <usize>p * oplane;
    const yp = y + <usize>p * oplane;
    if (tiled == 0) {
      zeroF32(dxp, hw);
      for (let o = 0; o < ohw; o++) {
        const at = <usize>o << 2;
        const i = load<i32>(ip + at);
        if (i < 0 || !(load<f32>(yp + at) > 0)) continue;
        const q = dxp + (<usize>i << 2);
        store<f32>(q, load<f32>(q) + load<f32>(dyp + at));
      }
      continue;
    }
    for (let oh = 0; oh < OH; oh++) {
      const r0 = dxp + (<usize>(2 * oh * W) << 2);
      const r1 = r0 + (<usize>W << 2);
      const orow = <usize>(oh * OW) << 2;
      let ow = 0;
      // Four windows: the gradient (0 where y ≤ 0) lands on the tap idx names, 0 on the
      // other three; "0 +" keeps the scatter-add's bits (a −0 gradient becomes +0).
      // A last group overlapping the one before it (OW % 4 ≠ 0) rewrites the same values.
      const last = OW >= 4 ? OW - 4 : -1;
      for (; ow + 4 <= OW || (ow < OW && last >= 0); ow += 4) {
        if (ow + 4 > OW) ow = last;
        const o = orow + (<usize>ow << 2);
        const g = f32x4.add(zero, v128.and(v128.load(dyp + o), f32x4.gt(v128.load(yp + o), zero)));
        // The tap's offset in its window: 0, 1, W or W + 1.
        const at = i32x4.sub(v128.load(ip + o), i32x4.add(i32x4.splat(2 * oh * W + 2 * ow), lanes));
        const t00 = v128.and(g, i32x4.eq(at, zero));
        const t01 = v128.and(g, i32x4.eq(at, one));
        const t10 = v128.and(g, i32x4.eq(at, offW));
        const t11 = v128.and(g, i32x4.eq(at, offW1));
        const c = <usize>(2 * ow) << 2;
        v128.store(r0 + c, i8x16.shuffle(t00, t01, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23));
        v128.store(r0 + c, i8x16.shuffle(t00, t01, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31), 16);
        v128.store(r1 + c, i8x16.shuffle(t10, t11, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23));
        v128.store(r1 + c, i8x16.shuffle(t10, t11, 8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31), 16);
      }
      for (; ow < OW; ow++) {
        const o = orow + (<usize>ow << 2);
        const yv = load<f32>(yp + o);
        const gv: f32 = yv > 0 ? 0 + load<f32>(dyp + o) : 0;
        const i = load<i32>(ip + o), b = 2 * oh * W + 2 * ow;
        const c = <usize>(2 * ow) << 2;
        store<f32>(r0 + c, i == b ? gv : 0);
        store<f32>(r0 + c + 4, i == b + 1 ? gv : 0);
        store<f32>(r1 + c, i == b + W ? gv : 0);
        store<f32>(r1 + c + 4, i == b + W + 1 ? gv : 0);
      }
      // An odd W leaves the last column outside every window.
      for (let w = 2 * OW; w < W; w++) {
        store<f32>(r0 + (<usize>w << 2), 0);
        store<f32>(r1 + (<usize>w << 2), 0);
      }
    }
    // An odd H leaves the last row outside every window.
    if (2 * OH < H) zeroF32(dxp + (<usize>(2 * OH * W) << 2), (H - 2 * OH) * W);
  }
}

/**
 * Average pooling x [NC, H, W] → y [NC, OH, OW] (PyTorch avg_pool2d; countIncludePad ≠ 0
 * divides by the window clipped to the padded image, else by its in-image taps).
 * Example (host): avgpool2d_f32(x, y, N·C, 8, 8, 3, 3, 1, 1, 1, 1, 8, 8, 1).
 */
export function avgpool2d_f32(
  x: usize, y: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PH: i32, PW: i32, OH: i32, OW: i32, countIncludePad: i32,
): void {
  const plane = (<usize>H * <usize>W) << 2;
  const oplane = (<usize>OH * <usize>OW) << 2;
  const fast = is2x2s2(KH, KW, SH, SW, PH, PW);
  const four = f32x4.splat(4);
  for (let p = 0; p < NC; p++) {
    const xp = x + <usize>p * plane;
    const yp = y + <usize>p * oplane;
    for (let oh = 0; oh < OH; oh++) {
      let ow = 0;
      const orow = yp + (<usize>(oh * OW) << 2);
      if (fast && 2 * oh + 1 < H) {
        const r0 = xp + (<usize>(2 * oh * W) << 2);
        const r1 = r0 + (<usize>W << 2);
        for (; ow + 4 <= OW && 2 * ow + 8 <= W; ow += 4) {
          const off = <usize>(2 * ow) << 2;
          const a0 = v128.load(r0 + off), a1 = v128.load(r0 + off, 16);
          const b0 = v128.load(r1 + off), b1 = v128.load(r1 + off, 16);
          // 0 + x00 + x01 + x10 + x11, as the scalar loop adds them.
          let s = f32x4.add(f32x4.splat(0), f32x4.shuffle(a0, a1, 0, 2, 4, 6));
          s = f32x4.add(s, f32x4.shuffle(a0, a1, 1, 3, 5, 7));
          s = f32x4.add(s, f32x4.shuffle(b0, b1, 0, 2, 4, 6));
          s = f32x4.add(s, f32x4.shuffle(b0, b1, 1, 3, 5, 7));
          v128.store(orow + (<usize>ow << 2), f32x4.div(s, four));
        }
      }
      for (; ow < OW; ow++) {
        let hs = oh * SH - PH, ws = ow * SW - PW;
        let he = min(hs + KH, H + PH), we = min(ws + KW, W + PW);
        const pool = (he - hs) * (we - ws);
        hs = max(hs, 0); ws = max(ws, 0); he = min(he, H); we = min(we, W);
        let r: f32 = 0;
        if (hs < he && ws < we) {
          let sum: f32 = 0;
          for (let h = hs; h < he; h++) {
            const rp = xp + (<usize>(h * W) << 2);
            for (let w = ws; w < we; w++) sum += load<f32>(rp + (<usize>w << 2));
          }
          r = sum / <f32>(countIncludePad != 0 ? pool : (he - hs) * (we - ws));
        }
        store<f32>(orow + (<usize>ow << 2), r);
      }
    }
  }
}

/**
 * dx [NC, H, W] = 0, then every output's dy / divisor is added to each in-image tap
 * of its window (outputs in row-major order), the adjoint of avgpool2d_f32.
 */
export function avgpool2d_backward_f32(
  dy: usize, dx: usize, NC: i32, H: i32, W: i32, KH: i32, KW: i32, SH: i32, SW: i32,
  PH: i32, PW: i32, OH: i32, OW: i32, countIncludePad: i32,
): void {
  const hw = H * W;
  const plane = <usize>hw << 2;
  const oplane = (<usize>OH * <usize>OW) << 2;
  for (let p = 0; p < NC; p++) {
    const dxp = dx + <usize>p * plane;
    const dyp = dy + <usize>p * oplane;
    zeroF32(dxp, hw);
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let hs = oh * SH - PH, ws = ow * SW - PW;
        let he = min(hs + KH, H + PH), we = min(ws + KW, W + PW);
        const pool = (he - hs) * (we - ws);
        hs = max(hs, 0); ws = max(ws, 0); he = min(he, H); we = min(we, W);
        if (hs >= he || ws >= we) continue;
        const g = load<f32>(dyp + (<usize>(oh * OW + ow) << 2)) /
          <f32>(countIncludePad != 0 ? pool : (he - hs) * (we - ws));
        for (let h = hs; h < he; h++) {
          const rp = dxp + (<usize>(h * W) << 2);
          for (let w = ws; w < we; w++) {
            const q = rp + (<usize>w << 2);
            store<f32>(q, load<f32>(q) + g);
          }
        }
      }
    }
  }
}
