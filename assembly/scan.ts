// Kernel family: scan. See docs/KERNELS.md for the ABI.
//
// Cumulative sums / products along len of [outer, len, inner]. With inner ≥ 4
// the running values of 4 columns sit in one v128, and each step of len reads
// a row of x and the previous row of y (both contiguous, streamed in order).
// inner = 1 is a serial dependence along a contiguous row: a scalar loop. Each
// column's value is combined in order of len, as the WGSL twin does, so the
// two agree to the bit. Threads split outer (whole rows), which changes nothing.

import { SCAN_SUM, SCAN_PROD } from "./opcodes.generated";

// @ts-ignore: decorator
@inline function op4(op: i32, a: v128, b: v128): v128 {
  return op == SCAN_PROD ? f32x4.mul(a, b) : f32x4.add(a, b);
}
// @ts-ignore: decorator
@inline function op1(op: i32, a: f32, b: f32): f32 {
  return op == SCAN_PROD ? a * b : a + b;
}

// @ts-ignore: decorator
@inline function scanRows(op: i32, x: usize, y: usize, outer: i32, len: i32, inner: i32, reverse: i32): void {
  if (len <= 0 || inner <= 0) return;
  const rowBytes = <usize>inner << 2;
  const planeBytes = <usize>len * rowBytes;
  const in4 = <usize>(inner & ~3) << 2;
  // first row of the scan and the step between rows (in bytes, signed)
  const first: usize = reverse ? <usize>(len - 1) * rowBytes : 0;
  const step: isize = reverse ? -<isize>rowBytes : <isize>rowBytes;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * planeBytes, yo = y + <usize>o * planeBytes;
    if (inner == 1) {
      let p = first;
      let acc = load<f32>(xo + p);
      store<f32>(yo + p, acc);
      for (let l = 1; l < len; l++) {
        p += step;
        acc = op1(op, acc, load<f32>(xo + p));
        store<f32>(yo + p, acc);
      }
      continue;
    }
    // the first row is a copy (x op identity = x, -0 included)
    memory.copy(yo + first, xo + first, rowBytes);
    let prev = yo + first;
    let p = first;
    for (let l = 1; l < len; l++) {
      p += step;
      const xr = xo + p, yr = yo + p;
      let i: usize = 0;
      for (; i < in4; i += 16) v128.store(yr + i, op4(op, v128.load(prev + i), v128.load(xr + i)));
      for (; i < rowBytes; i += 4) store<f32>(yr + i, op1(op, load<f32>(prev + i), load<f32>(xr + i)));
      prev = yr;
    }
  }
}

/**
 * y = cumulative op(x) along len of [outer, len, inner]: y[o, l, i] = x[o, 0, i] op … op x[o, l, i];
 * reverse ≠ 0 runs from the end (y[o, l, i] = x[o, l, i] op … op x[o, len − 1, i]). y may equal x.
 */
export function scan_f32(op: i32, x: usize, y: usize, outer: i32, len: i32, inner: i32, reverse: i32): void {
  if (op == SCAN_PROD) scanRows(SCAN_PROD, x, y, outer, len, inner, reverse);
  else scanRows(SCAN_SUM, x, y, outer, len, inner, reverse);
}

/**
 * The gradient of y = cumprod(x) along len, exact with zeros in x (no division):
 * s[k] = dy[k] + x[k+1]·s[k+1] (from the end, into dx), then dx[k] = (Π_{j<k} x[j])·s[k].
 * dx may equal dy, never x.
 */
export function cumprod_backward_f32(x: usize, dy: usize, dx: usize, outer: i32, len: i32, inner: i32): void {
  if (len <= 0 || inner <= 0) return;
  const rowBytes = <usize>inner << 2;
  const planeBytes = <usize>len * rowBytes;
  const in4 = <usize>(inner & ~3) << 2;
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * planeBytes, go = dy + <usize>o * planeBytes, d = dx + <usize>o * planeBytes;
    // s, row by row from the end: dx[len-1] = dy[len-1]; dx[k] = dy[k] + x[k+1]·dx[k+1]
    memory.copy(d + <usize>(len - 1) * rowBytes, go + <usize>(len - 1) * rowBytes, rowBytes);
    for (let k = len - 2; k >= 0; k--) {
      const r = <usize>k * rowBytes;
      let i: usize = 0;
      for (; i < in4; i += 16) {
        v128.store(d + r + i, f32x4.add(v128.load(go + r + i), f32x4.mul(v128.load(xo + r + rowBytes + i), v128.load(d + r + rowBytes + i))));
      }
      for (; i < rowBytes; i += 4) store<f32>(d + r + i, load<f32>(go + r + i) + load<f32>(xo + r + rowBytes + i) * load<f32>(d + r + rowBytes + i));
    }
    // times the exclusive running product, 4 columns at a time down len
    let i: usize = 0;
    for (; i < in4; i += 16) {
      let pr = f32x4.splat(1.0);
      for (let k = 0; k < len; k++) {
        const r = <usize>k * rowBytes + i;
        v128.store(d + r, f32x4.mul(pr, v128.load(d + r)));
        pr = f32x4.mul(pr, v128.load(xo + r));
      }
    }
    for (; i < rowBytes; i += 4) {
      let pr: f32 = 1.0;
      for (let k = 0; k < len; k++) {
        const r = <usize>k * rowBytes + i;
        store<f32>(d + r, pr * load<f32>(d + r));
        pr = pr * load<f32>(xo + r);
      }
    }
  }
}
