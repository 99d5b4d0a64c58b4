// Kernel family: embed. See docs/KERNELS.md for the ABI.
//
// Row gather and its adjoint, a row scatter-add, with v128 row copies/adds and a
// scalar tail for dim % 4. The table is [rows, dim], contiguous; idx is int32.
// The host range-checks indices where it can read them (wasm); the kernels also
// take `rows` and treat an index outside [0, rows) as a row of NaNs (forward) and
// as nothing (backward), so a bad index never reads or writes another tensor's
// memory: on WebGPU the host cannot check indices without a sync.
// Threads: the forward splits freely over n (offset idx and y, shrink n). The
// backward is a reduction (two i may hit the same row), so split it only where
// the index sets are disjoint, or run it on one thread; dtable rows are updated
// in order of i, so the result is deterministic.

/**
 * y[i, :] = table[idx[i], :] for i < n; y is [n, dim]; NaNs where idx[i] is not in [0, rows).
 * Example (host): embedding_f32(weight, tokens, out, batch·seq, 512, 50257).
 */
export function embedding_f32(table: usize, idx: usize, y: usize, n: i32, dim: i32, rows: i32): void {
  const row = <usize>dim << 2;
  let dst = y;
  for (let i = 0; i < n; i++) {
    const t = load<i32>(idx + (<usize>i << 2));
    if (<u32>t >= <u32>rows) {
      for (let k = 0; k < dim; k++) store<f32>(dst + (<usize>k << 2), NaN);
      dst += row;
      continue;
    }
    let src = table + <usize>t * row;
    let d = dst;
    let k = 0;
    for (; k + 8 <= dim; k += 8) {
      const a = v128.load(src), b = v128.load(src, 16);
      v128.store(d, a);
      v128.store(d, b, 16);
      src += 32; d += 32;
    }
    if (k + 4 <= dim) { v128.store(d, v128.load(src)); src += 16; d += 16; k += 4; }
    for (; k < dim; k++) { store<f32>(d, load<f32>(src)); src += 4; d += 4; }
    dst += row;
  }
}

/**
 * dtable[idx[i], :] += dy[i, :] for i = 0, 1, ..., n − 1 in order (accumulates:
 * the host zeroes dtable when it wants a fresh gradient); indices not in [0, rows) add nothing.
 */
export function embedding_backward_f32(dy: usize, idx: usize, dtable: usize, n: i32, dim: i32, rows: i32): void {
  const row = <usize>dim << 2;
  let src = dy;
  for (let i = 0; i < n; i++) {
    const t = load<i32>(idx + (<usize>i << 2));
    if (<u32>t >= <u32>rows) { src += row; continue; }
    let d = dtable + <usize>t * row;
    let s = src;
    let k = 0;
    for (; k + 8 <= dim; k += 8) {
      const a = f32x4.add(v128.load(d), v128.load(s));
      const b = f32x4.add(v128.load(d, 16), v128.load(s, 16));
      v128.store(d, a);
      v128.store(d, b, 16);
      d += 32; s += 32;
    }
    if (k + 4 <= dim) { v128.store(d, f32x4.add(v128.load(d), v128.load(s))); d += 16; s += 16; k += 4; }
    for (; k < dim; k++) { store<f32>(d, load<f32>(d) + load<f32>(s)); d += 4; s += 4; }
    src += row;
  }
}
