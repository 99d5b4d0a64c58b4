// Element-wise ops: unary maps, binary ops with NumPy broadcasting, scalar
// forms, comparisons, where, clamp, casts and the in-place helpers optimizers use.
// Kernels: assembly/elementwise.ts.

import { record, isGradEnabled, noGrad } from "../tape.js";
import { backend, out, Tensor, broadcastShapes, broadcastStrides, requireFloat, shapeStr, writeI32, type Shape, checkOneOf, checkOptions, checkInt } from "./util.js";
import { sumTo } from "./reduce.js";
// the op codes, from kernels/elementwise.mjs
import { UnaryOp as U, BinaryOp as B } from "../backends/abi.generated.js";

function unary(name: keyof typeof U, x: Tensor): Tensor {
  requireFloat(x, name);
  const K = backend().kernels;
  const y = out(x.shape, "float32", name);
  const op = U[name];
  K.unary_f32({ op, x: x.ptr, y: y.ptr, n: x.size });
  return record(y, name, [x], (g) => {
    const dx = out(x.shape, "float32", `${name} backward`);
    K.unary_backward_f32({ op, x: x.ptr, y: y.ptr, dy: g.ptr, dx: dx.ptr, n: x.size });
    return [dx];
  });
}

/** -x. @example wg.tensor([1, -2]).neg().toArray(); // [-1, 2] */
export const neg = (x: Tensor) => unary("neg", x);
/** e^x. @example wg.tensor([0]).exp().item(); // 1 */
export const exp = (x: Tensor) => unary("exp", x);
/** Natural log. @example wg.tensor([1]).log().item(); // 0 */
export const log = (x: Tensor) => unary("log", x);
/** Square root. @example wg.tensor([4]).sqrt().item(); // 2 */
export const sqrt = (x: Tensor) => unary("sqrt", x);
/** 1/√x. @example wg.tensor([4]).rsqrt().item(); // 0.5 */
export const rsqrt = (x: Tensor) => unary("rsqrt", x);
/** |x|. @example wg.tensor([-3]).abs().item(); // 3 */
export const abs = (x: Tensor) => unary("abs", x);
/** x². @example wg.tensor([3]).square().item(); // 9 */
export const square = (x: Tensor) => unary("square", x);
/** 1/x. @example wg.tensor([4]).reciprocal().item(); // 0.25 */
export const reciprocal = (x: Tensor) => unary("reciprocal", x);
/** max(x, 0). @example wg.tensor([-1, 2]).relu().toArray(); // [0, 2] */
export const relu = (x: Tensor) => unary("relu", x);
/** 1/(1+e^-x). @example wg.tensor([0]).sigmoid().item(); // 0.5 */
export const sigmoid = (x: Tensor) => unary("sigmoid", x);
/** tanh. @example wg.tensor([0]).tanh().item(); // 0 */
export const tanh = (x: Tensor) => unary("tanh", x);
/** x·sigmoid(x). @example wg.tensor([0]).silu().item(); // 0 */
export const silu = (x: Tensor) => unary("silu", x);
/** sin. @example wg.tensor([0]).sin().item(); // 0 */
export const sin = (x: Tensor) => unary("sin", x);
/** cos. @example wg.tensor([0]).cos().item(); // 1 */
export const cos = (x: Tensor) => unary("cos", x);
/** sign(x), gradient 0. @example wg.sign(wg.tensor([-2, 0, 3])).toArray(); // [-1, 0, 1] */
export const sign = (x: Tensor) => unary("sign", x);
/**
 * x·relu6(x + 3)/6 (PyTorch's F.hardswish, MobileNetV3's activation): silu's shape without an exp.
 * @example wg.hardswish(wg.tensor([-1, 0, 1, 4])).toArray(); // [-0.3333333432674408, 0, 0.6666666865348816, 4]
 */
export const hardswish = (x: Tensor) => unary("hardswish", x);
/** Largest integer ≤ x, gradient 0 (as PyTorch). @example wg.floor(wg.tensor([-1.5, 0.5, 2])).toArray(); // [-2, 0, 2] */
export const floor = (x: Tensor) => unary("floor", x);
/** Smallest integer ≥ x, gradient 0. @example wg.ceil(wg.tensor([-1.5, 0.5, 2])).toArray(); // [-1, 1, 2] */
export const ceil = (x: Tensor) => unary("ceil", x);
/** x rounded toward zero, gradient 0. @example wg.trunc(wg.tensor([-1.7, 1.7])).toArray(); // [-1, 1] */
export const trunc = (x: Tensor) => unary("trunc", x);
/**
 * Nearest integer, halves to even (torch.round), gradient 0; `decimals` rounds to that many
 * decimal places instead (negative: to tens, hundreds, …), as round(x·10^d)/10^d.
 * @example wg.round(wg.tensor([0.5, 1.5, 2.5, -1.5, 1.2])).toArray(); // [0, 2, 2, -2, 1]
 * wg.round(wg.tensor([1234, 1250, 1350]), { decimals: -2 }).toArray(); // [1200, 1200, 1400]
 */
export function round(x: Tensor, opts: { decimals?: number } = {}): Tensor {
  checkOptions("round", opts, ["decimals"]);
  const d = opts.decimals === undefined ? 0 : checkInt("round", "decimals", opts.decimals, -38, 38);
  if (d === 0) return unary("round", x);
  // PyTorch's: nearbyint(x·10^d)/10^d for d > 0, nearbyint(x/10^-d)·10^-d for d < 0
  const s = 10 ** Math.abs(d);
  return d > 0 ? div(unary("round", mul(x, s)), s) : mul(unary("round", div(x, s)), s);
}
/**
 * GELU, the erf form by default (PyTorch's nn.GELU()), or the tanh approximation.
 * @example wg.tensor([0]).gelu().item(); // 0
 */
export const gelu = (x: Tensor, approximate: "none" | "tanh" = "none") => unary(checkOneOf("gelu", "approximate", approximate, ["none", "tanh"]) === "tanh" ? "gelu_tanh" : "gelu", x);

function scalarTensor(v: number): Tensor {
  const t = out([], "float32", "scalar");
  const be = backend();
  be.write(t.ptr, Float32Array.of(v));
  return t;
}

function binary(name: keyof typeof B, a: Tensor, b: Tensor | number, reversed = false): Tensor {
  const K = backend().kernels;
  const op = B[name];
  if (typeof b === "number") {
    requireFloat(a, name);
    // x^½ and x^-½ are sqrt and rsqrt, as PyTorch computes them (so (-inf)^½ is NaN there, not C's inf)
    // (the gradient stays pow's: PyTorch's is s·a^(s−1) there too, 0 at (−inf)^-½)
    if (name === "pow" && !reversed && (b === 0.5 || b === -0.5)) {
      const r = noGrad(() => unary(b === 0.5 ? "sqrt" : "rsqrt", a));
      return record(r, name, [a], (g) => [scalarBackward(name, a, b, r, g, false)]);
    }
    const y = out(a.shape, "float32", name);
    K.binary_scalar_f32({ op, a: a.ptr, s: b, y: y.ptr, n: a.size, reversed: reversed ? 1 : 0 });
    return record(y, name, [a], (g) => [scalarBackward(name, a, b, y, g, reversed)]);
  }
  requireFloat(a, name);
  requireFloat(b, name);
  const shape = broadcastShapes(a.shape, b.shape, name);
  const y = out(shape, "float32", name);
  if (a.shape.join() === b.shape.join()) {
    K.binary_f32({ op, a: a.ptr, b: b.ptr, y: y.ptr, n: a.size });
  } else {
    strided(op, a, b, y);
  }
  return record(y, name, [a, b], (g) => binaryBackward(name, a, b, y, g));
}

/** Runs binary_strided_f32 over broadcast operands. */
function strided(op: B, a: Tensor, b: Tensor, y: Tensor): void {
  const shape = y.shape;
  if (y.size === 0) return;
  const sa = broadcastStrides(a.shape, shape);
  const sb = broadcastStrides(b.shape, shape);
  const desc = writeI32([...shape, ...sa, ...sb]);
  backend().kernels.binary_strided_f32({ op, a: a.ptr, b: b.ptr, y: y.ptr, rank: shape.length, desc });
}

function scalarBackward(name: keyof typeof B, a: Tensor, s: number, y: Tensor, g: Tensor, reversed: boolean): Tensor | null {
  switch (name) {
    case "add": return g;
    case "sub": return reversed ? neg(g) : g;
    case "mul": return mul(g, s);
    case "div": return reversed ? neg(mul(g, y).div(a)) : div(g, s); // d(s/a) = -s/a² = -y/a
    case "pow":
      // d(a^s) = s·a^(s-1), 0 for s = 0;  d(s^a) = ln(s)·s^a, 0 where s = 0 and a ≥ 0 (PyTorch's masks and order)
      if (reversed) return s === 0 ? zeroWhere(mul(g, mul(y, -Infinity)), ge(a, 0)) : mul(g, mul(y, Math.log(s)));
      return s === 0 ? mul(g, 0) : mul(g, mul(pow(a, s - 1), s));
    case "max": case "min": {
      // as the tensor form: all of it to the winner, half at a tie, all of it where a is NaN
      const half = mul(binary("eq", a, s), 0.5);
      return mul(g, sub(1, add(binary(name === "max" ? "lt" : "gt", a, s), half)));
    }
    default: return null;
  }
}

function binaryBackward(name: keyof typeof B, a: Tensor, b: Tensor, y: Tensor, g: Tensor): (Tensor | null)[] {
  const ga = (t: Tensor | null) => (t && a.requiresGrad ? sumTo(t, a.shape) : null);
  const gb = (t: Tensor | null) => (t && b.requiresGrad ? sumTo(t, b.shape) : null);
  switch (name) {
    case "add": return [ga(g), gb(g)];
    case "sub": return [ga(g), b.requiresGrad ? gb(neg(g)) : null];
    case "mul": return [a.requiresGrad ? ga(mul(g, b)) : null, b.requiresGrad ? gb(mul(g, a)) : null];
    case "div": return [
      a.requiresGrad ? ga(div(g, b)) : null,
      b.requiresGrad ? gb(neg(mul(g, y).div(b))) : null,
    ];
    case "pow": return [
      // PyTorch's pow_backward: 0 where the exponent is 0; d/db is 0 where a = 0 and b ≥ 0
      a.requiresGrad ? ga(zeroWhere(mul(g, mul(b, pow(a, sub(b, 1)))), eq(b, 0))) : null,
      b.requiresGrad ? gb(zeroWhere(mul(g, mul(y, log(a))), mul(eq(a, 0), ge(b, 0)))) : null,
    ];
    case "max": case "min": {
      // as torch.maximum/minimum: the gradient goes to the larger (smaller) operand, split
      // 0.5/0.5 at a tie; where either is NaN both get it (PyTorch's masked_fill rule)
      const half = mul(binary("eq", a, b), 0.5);
      const loseA = binary(name === "max" ? "lt" : "gt", a, b), loseB = binary(name === "max" ? "gt" : "lt", a, b);
      return [
        a.requiresGrad ? ga(mul(g, sub(1, add(loseA, half)))) : null,
        b.requiresGrad ? gb(mul(g, sub(1, add(loseB, half)))) : null,
      ];
    }
    default: return [null, null];
  }
}

function bin(name: keyof typeof B) {
  return (a: Tensor | number, b: Tensor | number): Tensor => {
    if (typeof a === "number" && typeof b === "number") throw new Error(`${name}: needs at least one tensor`);
    if (typeof a === "number") return binary(name, b as Tensor, a, true);
    return binary(name, a, b);
  };
}

/** a + b with broadcasting. @example wg.tensor([1, 2]).add(wg.tensor([10])).toArray(); // [11, 12] */
export const add = bin("add");
/** a − b with broadcasting. @example wg.sub(5, wg.tensor([1, 2])).toArray(); // [4, 3] */
export const sub = bin("sub");
/** a · b with broadcasting. @example wg.tensor([1, 2]).mul(3).toArray(); // [3, 6] */
export const mul = bin("mul");
/** a / b with broadcasting. @example wg.tensor([1, 2]).div(2).toArray(); // [0.5, 1] */
export const div = bin("div");
/** a^b. @example wg.tensor([2, 3]).pow(2).toArray(); // [4, 9] */
export const pow = bin("pow");
/** Element-wise max. @example wg.tensor([1, 5]).maximum(3).toArray(); // [3, 5] */
export const maximum = bin("max");
/** Element-wise min. @example wg.tensor([1, 5]).minimum(3).toArray(); // [1, 3] */
export const minimum = bin("min");

function cmp(name: "eq" | "ne" | "lt" | "le" | "gt" | "ge") {
  return (a: Tensor, b: Tensor | number): Tensor => {
    const x = a.dtype === "int32" ? cast(a, "float32") : a;
    const y = typeof b !== "number" && b.dtype === "int32" ? cast(b, "float32") : b;
    const r = binary(name, x, y);
    r.requiresGrad = false;
    r._node = null;
    return r;
  };
}
/** 1 where a == b else 0 (float32, no gradient). @example wg.tensor([1, 2]).eq(2).toArray(); // [0, 1] */
export const eq = cmp("eq");
export const ne = cmp("ne");
export const lt = cmp("lt");
export const le = cmp("le");
export const gt = cmp("gt");
export const ge = cmp("ge");

/** a + b without recording (gradient accumulation). */
export function addNoGrad(a: Tensor, b: Tensor): Tensor {
  const y = out(a.shape, "float32", "add");
  backend().kernels.binary_f32({ op: B.add, a: a.ptr, b: b.ptr, y: y.ptr, n: a.size });
  return y;
}

/**
 * cond ≠ 0 ? a : b, the three broadcast together as PyTorch's torch.where (the
 * gradient of a broadcast operand is summed back to its shape).
 * @example wg.where(wg.tensor([1, 0]), wg.tensor([1, 2]), wg.tensor([9, 9])).toArray(); // [1, 9]
 * wg.where(wg.tensor([[1], [0]]), wg.tensor([1, 2]), wg.tensor(9)).toArray(); // [[1, 2], [9, 9]]
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.shape.join() !== a.shape.join() || a.shape.join() !== b.shape.join()) {
    // broadcast each to the common shape by adding zeros of it: add's backward sums the gradient back
    const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, "where"), b.shape, "where");
    const zeros = out(shape, "float32", "where");
    backend().kernels.fill_f32({ y: zeros.ptr, n: zeros.size, value: 0 });
    const to = (t: Tensor) => (t.shape.join() === shape.join() ? t : add(t, zeros));
    return where(to(cond.dtype === "int32" ? cast(cond, "float32") : cond), to(a), to(b));
  }
  const c = cond.dtype === "int32" ? cast(cond, "float32") : cond;
  const y = out(a.shape, "float32", "where");
  backend().kernels.where_f32({ cond: c.ptr, a: a.ptr, b: b.ptr, y: y.ptr, n: a.size });
  return record(y, "where", [a, b], (g) => {
    const z = zerosLikeRaw(g);
    return [where(c, g, z), where(c, z, g)];
  });
}

/** t with 0 where mask ≠ 0 (mask broadcasts to t; no gradient flows through it). */
function zeroWhere(t: Tensor, mask: Tensor): Tensor {
  const m = mask.shape.join() === t.shape.join() ? mask : add(mask, zerosLikeRaw(t));
  return where(m, zerosLikeRaw(t), t);
}

function zerosLikeRaw(t: Tensor): Tensor {
  const z = out(t.shape, "float32", "zeros");
  backend().kernels.fill_f32({ y: z.ptr, n: z.size, value: 0 });
  return z;
}

/**
 * Clamps to [lo, hi] (a bound null or left out is none, as torch.clamp's min/max; NaN stays NaN);
 * the gradient passes where lo ≤ x ≤ hi.
 * @example wg.tensor([-2, 0.5, 3]).clamp(0, 1).toArray(); // [0, 0.5, 1]
 * wg.tensor([-2, 0.5, 3]).clamp(0).toArray(); // [0, 0.5, 3]
 */
export function clamp(x: Tensor, lo?: number | null, hi?: number | null): Tensor {
  requireFloat(x, "clamp");
  // torch.clamp(x, min=None, max=None): a bound left out is no bound
  lo = lo ?? -Infinity;
  hi = hi ?? Infinity;
  const y = out(x.shape, "float32", "clamp");
  backend().kernels.clamp_f32({ x: x.ptr, y: y.ptr, n: x.size, lo, hi });
  return record(y, "clamp", [x], (g) => {
    const dx = out(x.shape, "float32", "clamp backward");
    backend().kernels.clamp_backward_f32({ x: x.ptr, dy: g.ptr, dx: dx.ptr, n: x.size, lo, hi });
    return [dx];
  });
}

/** Converts between float32 and int32 (truncating toward zero). @example wg.tensor([1.7]).int().item(); // 1 */
export function cast(x: Tensor, dtype: "float32" | "int32"): Tensor {
  if (x.dtype === dtype) return x;
  const y = out(x.shape, dtype, "cast");
  const K = backend().kernels;
  if (dtype === "float32") K.cast_i32_f32({ x: x.ptr, y: y.ptr, n: x.size });
  else K.cast_f32_i32({ x: x.ptr, y: y.ptr, n: x.size });
  return y;
}

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.join() !== b.shape.join()) throw new Error(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
}

/** y += alpha·x in place (no tape). */
export function axpyInPlace(y: Tensor, x: Tensor, alpha: number): void {
  sameShape(y, x, "axpy");
  backend().kernels.axpy_f32({ x: x.ptr, y: y.ptr, n: y.size, alpha });
}
/** Fills in place (no tape). */
export function fillInPlace(y: Tensor, v: number): void {
  const be = backend();
  if (y.dtype !== "int32") be.kernels.fill_f32({ y: y.ptr, n: y.size, value: v });
  else be.write(y.ptr, new Int32Array(y.size).fill(v));
}
/** Copies x into y in place (no tape). */
export function copyInPlace(y: Tensor, x: Tensor): void {
  sameShape(y, x, "copy_");
  if (y.ptr === x.ptr) return;
  backend().mm.copy(y.ptr, x.ptr, x.size * 4); // on WebGPU a copy ordered with the recorded work
}
/** y *= s in place (no tape). */
export function scaleInPlace(y: Tensor, s: number): void {
  backend().kernels.scale_f32({ x: y.ptr, y: y.ptr, n: y.size, alpha: s });
}

export { scalarTensor, isGradEnabled as _isGradEnabled, type Shape };

/**
 * silu(gate)·up, the gated MLP of Llama-family models (SwiGLU); gate and up have one shape.
 * @example wg.swiglu(wg.tensor([0, 1]), wg.tensor([5, 2])).toArray(); // [0, 1.4621…]
 */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  requireFloat(gate, "swiglu");
  requireFloat(up, "swiglu");
  if (gate.shape.join() !== up.shape.join()) throw new Error(`swiglu: gate ${shapeStr(gate.shape)} and up ${shapeStr(up.shape)} must have one shape`);
  const K = backend().kernels;
  const y = out(gate.shape, "float32", "swiglu");
  K.swiglu_f32({ g: gate.ptr, u: up.ptr, y: y.ptr, n: y.size });
  return record(y, "swiglu", [gate, up], (g) => {
    // the kernel writes both gradients at once; an unwanted one is dropped
    const dg = out(gate.shape, "float32", "swiglu backward"), du = out(up.shape, "float32", "swiglu backward");
    K.swiglu_backward_f32({ g: gate.ptr, u: up.ptr, dy: g.ptr, dg: dg.ptr, du: du.ptr, n: y.size });
    if (!gate.requiresGrad) { dg.dispose(); return [null, du]; }
    if (!up.requiresGrad) { du.dispose(); return [dg, null]; }
    return [dg, du];
  });
}
