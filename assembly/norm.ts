// Kernel family: norm. See docs/KERNELS.md for the ABI.
//
// Layer normalisation over the last `cols` values of each of `rows` rows.
// Forward and input-gradient rows are independent (the host splits rows over
// threads); the parameter gradient is a reduction over rows and runs on one
// thread, so its bits never depend on the thread count.
//
// The variance is two-pass, Σ(x − mean)² / cols (biased, as PyTorch's
// layer_norm), not E[x²] − mean²: the one-pass form loses every digit when
// |mean| ≫ std, which activations with a large offset do.
import { hsum4, madd } from "./simd";

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/** Σ x[0..n). */
// @ts-ignore: decorator
@inline function rowSum(x: usize, n: i32): f32 {
  let a = f32x4.splat(0), b = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    a = f32x4.add(a, v128.load(at(x, i)));
    b = f32x4.add(b, v128.load(at(x, i), 16));
  }
  for (; i + 4 <= n; i += 4) a = f32x4.add(a, v128.load(at(x, i)));
  let s = hsum4(f32x4.add(a, b));
  for (; i < n; i++) s += load<f32>(at(x, i));
  return s;
}

/** Σ (x − m)². */
// @ts-ignore: decorator
@inline function rowSqDev(x: usize, n: i32, m: f32): f32 {
  const vm = f32x4.splat(m);
  let a = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const d = f32x4.sub(v128.load(at(x, i)), vm);
    a = madd(d, d, a);
  }
  let s = hsum4(a);
  for (; i < n; i++) {
    const d = load<f32>(at(x, i)) - m;
    s += d * d;
  }
  return s;
}

/**
 * y = (x − mean)·rstd·gamma + beta per row, with rstd = 1/√(var + eps); saves
 * mean[r] and rstd[r] for the backward. gamma and beta may be 0 (no affine).
 * Example (host): layernorm_f32(x, gamma, beta, y, mean, rstd, 128, 512, 1e-5).
 */
export function layernorm_f32(
  x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, rows: i32, cols: i32, eps: f32,
): void {
  const inv: f32 = cols ? <f32>1 / <f32>cols : 0;
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    const m: f32 = rowSum(xr, cols) * inv;
    const rs: f32 = <f32>1 / Mathf.sqrt(rowSqDev(xr, cols, m) * inv + eps);
    store<f32>(at(mean, r), m);
    store<f32>(at(rstd, r), rs);
    const vm = f32x4.splat(m), vr = f32x4.splat(rs);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      let v = f32x4.mul(f32x4.sub(v128.load(at(xr, i)), vm), vr);
      if (gamma) v = f32x4.mul(v, v128.load(at(gamma, i)));
      if (beta) v = f32x4.add(v, v128.load(at(beta, i)));
      v128.store(at(yr, i), v);
    }
    for (; i < cols; i++) {
      let v = (load<f32>(at(xr, i)) - m) * rs;
      if (gamma) v *= load<f32>(at(gamma, i));
      if (beta) v += load<f32>(at(beta, i));
      store<f32>(at(yr, i), v);
    }
  }
}

/**
 * Input gradient: with x̂ = (x − mean)·rstd and g = dy·gamma,
 * dx = rstd·(g − mean(g) − x̂·mean(g·x̂)). Writes dx (no accumulation). gamma may be 0.
 * Example (host): layernorm_backward_f32(x, dy, gamma, mean, rstd, dx, rows, cols).
 */
export function layernorm_backward_f32(
  x: usize, dy: usize, gamma: usize, mean: usize, rstd: usize, dx: usize, rows: i32, cols: i32,
): void {
  const inv: f32 = cols ? <f32>1 / <f32>cols : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const xr = at(x, o), gr = at(dy, o), dr = at(dx, o);
    const m = load<f32>(at(mean, r)), rs = load<f32>(at(rstd, r));
    const vm = f32x4.splat(m), vr = f32x4.splat(rs);
    // pass 1: Σ g and Σ g·x̂
    let sg = f32x4.splat(0), sgx = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      let g = v128.load(at(gr, i));
      if (gamma) g = f32x4.mul(g, v128.load(at(gamma, i)));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, i)), vm), vr);
      sg = f32x4.add(sg, g);
      sgx = madd(g, xh, sgx);
    }
    let a = hsum4(sg), b = hsum4(sgx);
    for (; i < cols; i++) {
      let g = load<f32>(at(gr, i));
      if (gamma) g *= load<f32>(at(gamma, i));
      a += g;
      b += g * ((load<f32>(at(xr, i)) - m) * rs);
    }
    a *= inv;
    b *= inv;
    // pass 2: dx
    const va = f32x4.splat(a), vb = f32x4.splat(b);
    i = 0;
    for (; i + 4 <= cols; i += 4) {
      let g = v128.load(at(gr, i));
      if (gamma) g = f32x4.mul(g, v128.load(at(gamma, i)));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, i)), vm), vr);
      v128.store(at(dr, i), f32x4.mul(vr, f32x4.sub(f32x4.sub(g, va), f32x4.mul(xh, vb))));
    }
    for (; i < cols; i++) {
      let g = load<f32>(at(gr, i));
      if (gamma) g *= load<f32>(at(gamma, i));
      const xh = (load<f32>(at(xr, i)) - m) * rs;
      store<f32>(at(dr, i), rs * ((g - a) - xh * b));
    }
  }
}

/**
 * Parameter gradients, accumulated: dgamma += Σ_r dy·x̂, dbeta += Σ_r dy.
 * A reduction over rows: the host runs it on one thread (the host zeroes first).
 * Example (host): layernorm_param_grad_f32(x, dy, mean, rstd, dgamma, dbeta, rows, cols).
 */
export function layernorm_param_grad_f32(
  x: usize, dy: usize, mean: usize, rstd: usize, dgamma: usize, dbeta: usize, rows: i32, cols: i32,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const xr = at(x, o), gr = at(dy, o);
    const m = load<f32>(at(mean, r)), rs = load<f32>(at(rstd, r));
    const vm = f32x4.splat(m), vr = f32x4.splat(rs);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const g = v128.load(at(gr, i));
      const xh = f32x4.mul(f32x4.sub(v128.load(at(xr, i)), vm), vr);
      v128.store(at(dgamma, i), madd(g, xh, v128.load(at(dgamma, i))));
      v128.store(at(dbeta, i), f32x4.add(v128.load(at(dbeta, i)), g));
    }
    for (; i < cols; i++) {
      const g = load<f32>(at(gr, i));
      const xh = (load<f32>(at(xr, i)) - m) * rs;
      store<f32>(at(dgamma, i), load<f32>(at(dgamma, i)) + g * xh);
      store<f32>(at(dbeta, i), load<f32>(at(dbeta, i)) + g);
    }
  }
}

// ---------------------------------------------------------------------------
// RMS normalisation (Llama's RMSNorm, PyTorch's rms_norm): no mean is taken
// out, so Σx² in one pass is the exact quantity, with no cancellation.

/** Σ x². */
// @ts-ignore: decorator
@inline function rowSumSq(x: usize, n: i32): f32 {
  let a = f32x4.splat(0), b = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const u = v128.load(at(x, i)), v = v128.load(at(x, i), 16);
    a = madd(u, u, a);
    b = madd(v, v, b);
  }
  for (; i + 4 <= n; i += 4) {
    const u = v128.load(at(x, i));
    a = madd(u, u, a);
  }
  let s = hsum4(f32x4.add(a, b));
  for (; i < n; i++) {
    const u = load<f32>(at(x, i));
    s += u * u;
  }
  return s;
}

/**
 * y = x·rstd·weight per row, rstd = 1/√(Σx²/cols + eps), saved in rstd[r] for
 * the backward. weight may be 0 (none).
 * Example (host): rmsnorm_f32(x, weight, y, rstd, 128, 576, 1e-5).
 */
export function rmsnorm_f32(x: usize, weight: usize, y: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  const inv: f32 = cols ? <f32>1 / <f32>cols : 0;
  for (let r = 0; r < rows; r++) {
    const xr = at(x, r * cols), yr = at(y, r * cols);
    const rs: f32 = <f32>1 / Mathf.sqrt(rowSumSq(xr, cols) * inv + eps);
    store<f32>(at(rstd, r), rs);
    const vr = f32x4.splat(rs);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      let v = f32x4.mul(v128.load(at(xr, i)), vr);
      if (weight) v = f32x4.mul(v, v128.load(at(weight, i)));
      v128.store(at(yr, i), v);
    }
    for (; i < cols; i++) {
      let v = load<f32>(at(xr, i)) * rs;
      if (weight) v *= load<f32>(at(weight, i));
      store<f32>(at(yr, i), v);
    }
  }
}

/**
 * Input gradient: with x̂ = x·rstd and g = dy·weight, dx = rstd·(g − x̂·mean(g·x̂)).
 * Writes dx (no accumulation); dx may equal dy. weight may be 0.
 * Example (host): rmsnorm_backward_f32(x, dy, weight, rstd, dx, rows, cols).
 */
export function rmsnorm_backward_f32(x: usize, dy: usize, weight: usize, rstd: usize, dx: usize, rows: i32, cols: i32): void {
  const inv: f32 = cols ? <f32>1 / <f32>cols : 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const xr = at(x, o), gr = at(dy, o), dr = at(dx, o);
    const rs = load<f32>(at(rstd, r));
    const vr = f32x4.splat(rs);
    // pass 1: Σ g·x̂
    let sgx = f32x4.splat(0);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      let g = v128.load(at(gr, i));
      if (weight) g = f32x4.mul(g, v128.load(at(weight, i)));
      sgx = madd(g, f32x4.mul(v128.load(at(xr, i)), vr), sgx);
    }
    let b = hsum4(sgx);
    for (; i < cols; i++) {
      let g = load<f32>(at(gr, i));
      if (weight) g *= load<f32>(at(weight, i));
      b += g * (load<f32>(at(xr, i)) * rs);
    }
    b *= inv;
    // pass 2: dx
    const vb = f32x4.splat(b);
    i = 0;
    for (; i + 4 <= cols; i += 4) {
      let g = v128.load(at(gr, i));
      if (weight) g = f32x4.mul(g, v128.load(at(weight, i)));
      const xh = f32x4.mul(v128.load(at(xr, i)), vr);
      v128.store(at(dr, i), f32x4.mul(vr, f32x4.sub(g, f32x4.mul(xh, vb))));
    }
    for (; i < cols; i++) {
      let g = load<f32>(at(gr, i));
      if (weight) g *= load<f32>(at(weight, i));
      const xh = load<f32>(at(xr, i)) * rs;
      store<f32>(at(dr, i), rs * (g - xh * b));
    }
  }
}

/**
 * Weight gradient, accumulated: dweight += Σ_r dy·x·rstd. A reduction over
 * rows: the host runs it on one thread (the host zeroes first).
 * Example (host): rmsnorm_param_grad_f32(x, dy, rstd, dweight, rows, cols).
 */
export function rmsnorm_param_grad_f32(x: usize, dy: usize, rstd: usize, dweight: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const xr = at(x, o), gr = at(dy, o);
    const rs = load<f32>(at(rstd, r));
    const vr = f32x4.splat(rs);
    let i = 0;
    for (; i + 4 <= cols; i += 4) {
      const xh = f32x4.mul(v128.load(at(xr, i)), vr);
      v128.store(at(dweight, i), madd(v128.load(at(gr, i)), xh, v128.load(at(dweight, i))));
    }
    for (; i < cols; i++) {
      const xh = load<f32>(at(xr, i)) * rs;
      store<f32>(at(dweight, i), load<f32>(at(dweight, i)) + load<f32>(at(gr, i)) * xh);
    }
  }
}
