// Kernel family: indexing. See docs/KERNELS.md for the ABI.
//
// Gather / scatter along one dim, index-select and its adjoint index-add, and a
// per-row stable sort. Every tensor is viewed as [outer, len, inner] around the
// indexed dim; idx is int32. The host range-checks indices where it can read
// them (wasm) before any kernel writes; the kernels still bound-check, so a bad
// index never reads or writes another tensor's memory (on WebGPU the host cannot
// read indices without a sync): a gathered one reads a NaN word, a scattered one
// writes nothing.
// Threads: every kernel here splits over outer (offset the pointers, shrink
// outer); within a row of outer, scatters and adds run in order of j, so a
// repeated index gives the same bits for every thread count.

const NAN_BITS: u32 = 0x7fc00000;

/** y[o, j, i] = x[o, idx[o, j, i], i]; 32-bit words copied bit for bit; NaN words for an index not in [0, lenX). */
export function gather_dim_b32(x: usize, idx: usize, y: usize, outer: i32, lenX: i32, lenI: i32, inner: i32): void {
  const xRow = <usize>lenX * <usize>inner << 2;
  const m = lenI * inner; // words of idx and y per row of outer
  let xo = x, io = idx, yo = y;
  for (let o = 0; o < outer; o++) {
    if (inner == 1) {
      // the common case (gather along the last dim): one index per output word
      for (let j = 0; j < m; j++) {
        const t = load<i32>(io + (<usize>j << 2));
        store<u32>(yo + (<usize>j << 2), <u32>t < <u32>lenX ? load<u32>(xo + (<usize>t << 2)) : NAN_BITS);
      }
    } else {
      for (let j = 0; j < lenI; j++) {
        const ij = io + (<usize>j * <usize>inner << 2), yj = yo + (<usize>j * <usize>inner << 2);
        for (let i = 0; i < inner; i++) {
          const t = load<i32>(ij + (<usize>i << 2));
          store<u32>(yj + (<usize>i << 2), <u32>t < <u32>lenX ? load<u32>(xo + ((<usize>t * <usize>inner + <usize>i) << 2)) : NAN_BITS);
        }
      }
    }
    xo += xRow; io += <usize>m << 2; yo += <usize>m << 2;
  }
}

/** y[o, idx[o, j, i], i] = src[o, j, i] (accumulate ≠ 0: +=), j in order; an index not in [0, lenY) writes nothing. */
export function scatter_dim_f32(src: usize, idx: usize, y: usize, outer: i32, lenY: i32, lenI: i32, inner: i32, accumulate: i32): void {
  const yRow = <usize>lenY * <usize>inner << 2;
  const m = lenI * inner;
  let so = src, io = idx, yo = y;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < lenI; j++) {
      const base = <usize>j * <usize>inner << 2;
      for (let i = 0; i < inner; i++) {
        const t = load<i32>(io + base + (<usize>i << 2));
        if (<u32>t >= <u32>lenY) continue;
        const q = yo + ((<usize>t * <usize>inner + <usize>i) << 2);
        const v = load<f32>(so + base + (<usize>i << 2));
        store<f32>(q, accumulate ? load<f32>(q) + v : v);
      }
    }
    so += <usize>m << 2; io += <usize>m << 2; yo += yRow;
  }
}

/** y[o, j, :] = x[o, idx[j], :] (rows of inner words, v128 copies); NaN words for an index not in [0, lenX). */
export function index_select_b32(x: usize, idx: usize, y: usize, outer: i32, lenX: i32, n: i32, inner: i32): void {
  const row = <usize>inner << 2;
  let xo = x, d = y;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const t = load<i32>(idx + (<usize>j << 2));
      if (<u32>t >= <u32>lenX) {
        for (let k = 0; k < inner; k++) store<u32>(d + (<usize>k << 2), NAN_BITS);
        d += row;
        continue;
      }
      let s = xo + <usize>t * row;
      let k = 0;
      for (; k + 8 <= inner; k += 8) {
        const a = v128.load(s), b = v128.load(s, 16);
        v128.store(d, a);
        v128.store(d, b, 16);
        s += 32; d += 32;
      }
      if (k + 4 <= inner) { v128.store(d, v128.load(s)); s += 16; d += 16; k += 4; }
      for (; k < inner; k++) { store<u32>(d, load<u32>(s)); s += 4; d += 4; }
    }
    xo += <usize>lenX * row;
  }
}

/** dx[o, idx[j], :] += dy[o, j, :] for j in order (accumulates; v128 row adds); an index not in [0, lenX) adds nothing. */
export function index_add_f32(dy: usize, idx: usize, dx: usize, outer: i32, lenX: i32, n: i32, inner: i32): void {
  const row = <usize>inner << 2;
  let s0 = dy, xo = dx;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const t = load<i32>(idx + (<usize>j << 2));
      if (<u32>t >= <u32>lenX) { s0 += row; continue; }
      let d = xo + <usize>t * row, s = s0;
      let k = 0;
      for (; k + 8 <= inner; k += 8) {
        const a = f32x4.add(v128.load(d), v128.load(s));
        const b = f32x4.add(v128.load(d, 16), v128.load(s, 16));
        v128.store(d, a);
        v128.store(d, b, 16);
        d += 32; s += 32;
      }
      if (k + 4 <= inner) { v128.store(d, f32x4.add(v128.load(d), v128.load(s))); d += 16; s += 16; k += 4; }
      for (; k < inner; k++) { store<f32>(d, load<f32>(d) + load<f32>(s)); d += 4; s += 4; }
      s0 += row;
    }
    xo += <usize>lenX * row;
  }
}

/**
 * The order key of a float as an unsigned integer: ascending floats give ascending keys,
 * −0 and +0 the same key (they compare equal, so a stable sort keeps their order), every
 * NaN the largest key (PyTorch sorts NaN above +∞). Descending sorts use ~key.
 */
// @ts-ignore: decorator
@inline function orderKey(v: f32): u32 {
  if (v != v) return 0xffffffff;
  const b = v == 0 ? <u32>0 : reinterpret<u32>(v);
  return b & 0x80000000 ? ~b : b | 0x80000000;
}

/**
 * Stable sort of each row x[o, :, i] (NaN largest), writing its first k values and positions
 * to values / indices [outer, k, inner]. Each row becomes 64-bit pairs key << 32 | position
 * (distinct, so any correct sort is stable): insertion-sorted runs of 8, then bottom-up merges
 * ping-ponging between the two halves of scratch (16·len bytes, 8-aligned).
 */
export function sort_f32(x: usize, values: usize, indices: usize, outer: i32, len: i32, inner: i32, k: i32, descending: i32, scratch: usize): void {
  const a0 = (scratch + 7) & ~<usize>7;
  const b0 = a0 + (<usize>len << 3);
  const flip: u32 = descending ? <u32>0xffffffff : 0;
  const RUN = 8;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const xr = x + ((<usize>o * <usize>len * <usize>inner + <usize>i) << 2);
      for (let j = 0; j < len; j++) {
        const key = orderKey(load<f32>(xr + (<usize>j * <usize>inner << 2))) ^ flip;
        store<u64>(a0 + (<usize>j << 3), (<u64>key << 32) | <u64>j);
      }
      // insertion sort of runs of RUN pairs
      for (let s = 0; s < len; s += RUN) {
        const e = min(s + RUN, len);
        for (let j = s + 1; j < e; j++) {
          const v = load<u64>(a0 + (<usize>j << 3));
          let m = j;
          while (m > s) {
            const w = load<u64>(a0 + (<usize>(m - 1) << 3));
            if (w <= v) break;
            store<u64>(a0 + (<usize>m << 3), w);
            m--;
          }
          store<u64>(a0 + (<usize>m << 3), v);
        }
      }
      let src = a0, dst = b0;
      for (let w = RUN; w < len; w <<= 1) {
        for (let s = 0; s < len; s += 2 * w) {
          const mid = min(s + w, len), e = min(s + 2 * w, len);
          let p = s, q = mid, t = s;
          while (p < mid && q < e) {
            const u = load<u64>(src + (<usize>p << 3)), v = load<u64>(src + (<usize>q << 3));
            if (v < u) { store<u64>(dst + (<usize>t << 3), v); q++; } else { store<u64>(dst + (<usize>t << 3), u); p++; }
            t++;
          }
          while (p < mid) { store<u64>(dst + (<usize>t << 3), load<u64>(src + (<usize>p << 3))); p++; t++; }
          while (q < e) { store<u64>(dst + (<usize>t << 3), load<u64>(src + (<usize>q << 3))); q++; t++; }
        }
        const tmp = src; src = dst; dst = tmp;
      }
      const out = (<usize>o * <usize>k * <usize>inner + <usize>i) << 2;
      for (let r = 0; r < k; r++) {
        const j = <i32>(load<u64>(src + (<usize>r << 3)) & 0xffffffff);
        const at = out + (<usize>r * <usize>inner << 2);
        store<u32>(values + at, load<u32>(xr + (<usize>j * <usize>inner << 2)));
        store<i32>(indices + at, j);
      }
    }
  }
}
