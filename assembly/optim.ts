// Kernel family: optim. See docs/KERNELS.md for the ABI.
//
// Fused optimizer updates: one pass reads p, g and the state once and writes
// p and the state once, so an update costs its memory traffic and nothing
// more (Adam on n parameters: 16n bytes read, 12n written). Every element is
// independent, so the host splits ranges over threads. Semantics follow
// torch.optim to the letter (the order of operations too, so results match
// PyTorch's float32 updates up to rounding).
//
// Element-wise and branch-free in the loop: the options are uniform over a
// call, so the branches on them are hoisted by the CPU's predictor.
import { madd } from "./simd";

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/**
 * SGD as torch.optim.SGD: d = g + wd·p; with momentum, buf = d on the first
 * step, else buf = momentum·buf + (1 − dampening)·d, and d = buf (or
 * d + momentum·buf with Nesterov); then p −= lr·d. buf may be 0 when momentum is 0.
 * Example (host): sgd_f32(p, g, buf, n, 0.01, 0.9, 0, 0, 0, 1).
 */
export function sgd_f32(
  p: usize, g: usize, buf: usize, n: i32, lr: f32, momentum: f32, dampening: f32, weightDecay: f32,
  nesterov: i32, firstStep: i32,
): void {
  const vlr = f32x4.splat(-lr), vwd = f32x4.splat(weightDecay);
  const vmom = f32x4.splat(momentum), vdamp = f32x4.splat(1 - dampening);
  const useBuf = momentum != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const pi = at(p, i);
    const pv = v128.load(pi);
    let d = v128.load(at(g, i));
    if (weightDecay != 0) d = madd(vwd, pv, d);
    if (useBuf) {
      const bi = at(buf, i);
      const b = firstStep ? d : madd(vmom, v128.load(bi), f32x4.mul(vdamp, d));
      v128.store(bi, b);
      d = nesterov ? madd(vmom, b, d) : b;
    }
    v128.store(pi, madd(vlr, d, pv));
  }
  for (; i < n; i++) {
    const pi = at(p, i);
    const pv = load<f32>(pi);
    let d = load<f32>(at(g, i));
    if (weightDecay != 0) d += weightDecay * pv;
    if (useBuf) {
      const bi = at(buf, i);
      const b = firstStep ? d : momentum * load<f32>(bi) + (1 - dampening) * d;
      store<f32>(bi, b);
      d = nesterov ? d + momentum * b : b;
    }
    store<f32>(pi, pv - lr * d);
  }
}

/**
 * Adam / AdamW as torch.optim: with decoupled = 0, g += wd·p (L2); with
 * decoupled = 1, p ·= 1 − lr·wd first. m = β1·m + (1 − β1)·g,
 * v = β2·v + (1 − β2)·g², p −= stepSize·m / (√v / bc2Sqrt + eps).
 * The host forms in float64, as torch does from Python floats: c1 = 1 − β1,
 * c2 = 1 − β2 (1 − f32(0.999) would be 1.3e-5 off 0.001, biasing v),
 * stepSize = lr / (1 − β1^t) and bc2Sqrt = √(1 − β2^t) for step t.
 * Example (host): adam_f32(p, g, m, v, n, 1e-3, 0.9, 0.999, 0.1, 0.001, 1e-8, 0, stepSize, bc2Sqrt, 0).
 */
export function adam_f32(
  p: usize, g: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32, c1: f32, c2: f32, eps: f32,
  weightDecay: f32, stepSize: f32, bc2Sqrt: f32, decoupled: i32,
): void {
  const decay: f32 = decoupled ? <f32>1 - lr * weightDecay : 1;
  const l2: f32 = decoupled ? 0 : weightDecay;
  const vb1 = f32x4.splat(beta1), vc1 = f32x4.splat(c1);
  const vb2 = f32x4.splat(beta2), vc2 = f32x4.splat(c2);
  const vstep = f32x4.splat(-stepSize), vbc2 = f32x4.splat(bc2Sqrt), veps = f32x4.splat(eps);
  const vdecay = f32x4.splat(decay), vl2 = f32x4.splat(l2);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const pi = at(p, i), mi = at(m, i), vi = at(v, i);
    let pv = v128.load(pi);
    let gv = v128.load(at(g, i));
    if (l2 != 0) gv = madd(vl2, pv, gv);
    if (decay != 1) pv = f32x4.mul(pv, vdecay);
    const mv = madd(vc1, gv, f32x4.mul(vb1, v128.load(mi)));
    const vv = madd(vc2, f32x4.mul(gv, gv), f32x4.mul(vb2, v128.load(vi)));
    v128.store(mi, mv);
    v128.store(vi, vv);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vv), vbc2), veps);
    v128.store(pi, madd(vstep, f32x4.div(mv, denom), pv));
  }
  for (; i < n; i++) {
    const pi = at(p, i), mi = at(m, i), vi = at(v, i);
    let pv = load<f32>(pi);
    let gv = load<f32>(at(g, i));
    if (l2 != 0) gv += l2 * pv;
    if (decay != 1) pv *= decay;
    const mv = beta1 * load<f32>(mi) + c1 * gv;
    const vv = beta2 * load<f32>(vi) + c2 * (gv * gv);
    store<f32>(mi, mv);
    store<f32>(vi, vv);
    store<f32>(pi, pv - stepSize * (mv / (Mathf.sqrt(vv) / bc2Sqrt + eps)));
  }
}
