// elementwise.ts kernels against float64 references, in the plain-SIMD and
// relaxed-SIMD binaries: every unary op (forward, and backward against the
// analytic derivative), every binary op contiguous / with a scalar (both
// orders) / broadcast over rank 0–4 shapes (broadcast on first, middle and last
// axes, transposed and negative strides), BLAS-1 helpers, transpose, casts,
// where and clamp. Lengths sweep n = 0, 1, 3, 4, 5, 7, 8, 9, 31, 33, 1000 (every
// remainder of the 4-wide body); each kernel also gives the same bits when
// called on sub-ranges (a thread's share) as on the whole, and runs in place.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { UnaryOp, BinaryOp } from "../host/backends/abi.generated.js";

const NS = [0, 1, 3, 4, 5, 7, 8, 9, 31, 33, 1000];

// the op codes from the manifest (kernels/elementwise.mjs): a new op is a tsc error below until it has a reference
const UNARY = UnaryOp;
const BINARY = BinaryOp;
type UnaryName = keyof typeof UNARY;
type BinaryName = keyof typeof BINARY;

// ---------------------------------------------------------------------------
// float64 references

/** erf(x) to ~1e-15: Taylor series below 2.5, continued fraction for erfc above. */
function erfc64(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 2 - erfc64(-z);
  if (z < 2.5) {
    let term = z, sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = z;
  for (let k = 80; k >= 1; k--) f = z + k / 2 / f;
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * f);
}
const Phi = (x: number) => 0.5 * erfc64(-x / Math.SQRT2);
const phi = (x: number) => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const K0 = Math.sqrt(2 / Math.PI), K1 = 0.044715;
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(K0 * (x + K1 * x * x * x)));
// sign(NaN) = 0, as torch.sign (and abs' at NaN, PyTorch's grad·sign(x), is 0 with it)
const sign = (x: number) => (x > 0 ? 1 : x < 0 ? -1 : 0);
/** torch.round: to the nearest integer, halves to even. */
const roundHalfEven = (x: number) => {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x); // halves up
  return Math.abs(x - Math.trunc(x)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

const unaryRef: Record<UnaryName, (x: number) => number> = {
  neg: (x) => -x, exp: Math.exp, log: Math.log, sqrt: Math.sqrt, abs: Math.abs,
  relu: (x) => (Number.isNaN(x) ? NaN : Math.max(x, 0)), sigmoid, tanh: Math.tanh, gelu: (x) => x * Phi(x),
  square: (x) => x * x, rsqrt: (x) => 1 / Math.sqrt(x), reciprocal: (x) => 1 / x, sin: Math.sin, cos: Math.cos,
  gelu_tanh: geluTanh, silu: (x) => x * sigmoid(x), sign,
  hardswish: (x) => (x * Math.min(Math.max(x + 3, 0), 6)) / 6,
  floor: Math.floor, ceil: Math.ceil, round: roundHalfEven, trunc: Math.trunc,
};

/** f'(x) */
const unaryDeriv: Record<UnaryName, (x: number) => number> = {
  neg: () => -1, exp: Math.exp, log: (x) => 1 / x, sqrt: (x) => 0.5 / Math.sqrt(x), abs: sign,
  relu: (x) => (x > 0 ? 1 : 0), sigmoid: (x) => sigmoid(x) * (1 - sigmoid(x)), tanh: (x) => 1 - Math.tanh(x) ** 2,
  gelu: (x) => Phi(x) + x * phi(x), square: (x) => 2 * x, rsqrt: (x) => -0.5 * x ** -1.5,
  reciprocal: (x) => -1 / (x * x), sin: Math.cos, cos: (x) => -Math.sin(x),
  gelu_tanh: (x) => {
    const u = K0 * (x + K1 * x ** 3), t = Math.tanh(u);
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K0 * (1 + 3 * K1 * x * x);
  },
  silu: (x) => sigmoid(x) * (1 + x * (1 - sigmoid(x))), sign: () => 0,
  // PyTorch's hardswish_backward: 0 below −3, x/3 + ½ up to 3 (both ends included), 1 above
  hardswish: (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1),
  // step functions: PyTorch's gradient is 0 everywhere
  floor: () => 0, ceil: () => 0, round: () => 0, trunc: () => 0,
};

/** Inputs inside each op's domain and the range where it is interesting. */
function unaryInput(name: UnaryName, n: number, seed: number): Float32Array {
  const r = randomF32(n, seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r[i];
    switch (name) {
      case "log": out[i] = i % 3 === 0 ? Math.exp(u * 80) : Math.abs(u) * 10 + 1e-3; break; // also 1e-35 … 1e35
      case "sqrt": case "rsqrt": out[i] = i % 3 === 0 ? Math.exp(u * 40) : Math.abs(u) * 10 + 1e-4; break;
      case "exp": out[i] = u * 87; break;
      case "reciprocal": out[i] = u + (u < 0 ? -1e-2 : 1e-2); break;
      case "sin": case "cos": out[i] = i % 2 ? u * 100 : u * 4; break;
      case "sigmoid": case "tanh": case "silu": case "gelu": case "gelu_tanh": out[i] = i % 4 === 0 ? u * 30 : u * 6; break;
      case "relu": case "abs": case "sign": out[i] = i % 5 === 0 ? 0 : u * 3; break;
      // exact halves (ties: round to even), integers, and values past 2^23 (already integers)
      case "floor": case "ceil": case "round": case "trunc": out[i] = i % 4 === 0 ? Math.round(u * 20) / 2 : i % 4 === 1 ? u * 3e7 : u * 5; break;
      default: out[i] = u * 5;
    }
  }
  return out;
}

function runUnary(box: KernelBox, op: number, x: Float32Array): Float32Array {
  const px = box.putF32(x), py = box.alloc(x.length * 4 + 16);
  box.k.unary_f32(op, px, py, x.length);
  return box.f32(py, x.length).slice();
}

/** Computes [0, n) in pieces at the given cut points; the same bits as one call? */
function assertSubRanges(whole: Float32Array, part: (start: number, count: number) => Float32Array, what: string): void {
  const n = whole.length;
  for (const cut of [1, 3, 5, 6, 7, 10, 999]) {
    if (cut >= n) continue;
    const got = new Float32Array(n);
    got.set(part(0, cut), 0);
    got.set(part(cut, n - cut), cut);
    for (let i = 0; i < n; i++) {
      if (!Object.is(got[i], whole[i]) && !(Number.isNaN(got[i]) && Number.isNaN(whole[i]))) {
        assert.unreachable(`${what}: split at ${cut}: element ${i} is ${got[i]} in pieces, ${whole[i]} whole`);
      }
    }
  }
}

/** assertClose for one value, where equal infinities (which it reads as inf − inf = NaN) also pass. */
function assertScalar(got: number, want: number, rtol: number, what: string): void {
  if (got === want) return;
  assertClose([got], [want], { rtol, atol: 0, what });
}

// ---------------------------------------------------------------------------
// Unary

for (const v of KERNEL_VARIANTS) {
  test(`${v}: unary_f32, every op code, n sweep, against float64`, () => {
    const box = kernels(v);
    for (const [name, op] of Object.entries(UNARY) as [UnaryName, number][]) {
      for (const n of NS) {
        box.reset();
        const x = unaryInput(name, n, 11 + n + op);
        const got = runUnary(box, op, x);
        const want = Array.from(x, unaryRef[name]);
        // exp/log/sin/cos/tanh/sigmoid/gelu: a few ulp; sin/cos near their zeros are absolute (~1 ulp of |x|)
        const atol = name === "sin" || name === "cos" ? 4e-6 : 1e-6;
        assertClose(got, want, { rtol: 1e-5, atol, what: `${v} unary ${name} n=${n}` });
      }
    }
  });

  test(`${v}: unary_f32 special values (log/sqrt domains, ±inf, NaN, subnormals, saturation)`, () => {
    const box = kernels(v);
    const specials = [0, -0, 1, -1, Infinity, -Infinity, NaN, 1e-40, 1.5e-45, 3.4e38, -3.4e38, 100, -100, 1e-30, -1e-30];
    const x = Float32Array.from(specials);
    const exact: UnaryName[] = ["neg", "abs", "square", "sqrt", "sign", "relu", "floor", "ceil", "round", "trunc"];
    for (const name of [...exact, "log", "tanh", "sigmoid", "gelu", "silu", "gelu_tanh", "exp"] as UnaryName[]) {
      box.reset();
      const got = runUnary(box, UNARY[name], x);
      for (let i = 0; i < x.length; i++) {
        let want = unaryRef[name](x[i]);
        const xi = x[i];
        // exp4 clamps to [-87.3, 88.4]; below it returns ~2^-126 instead of an underflow
        if (name === "exp" && xi > 88.4) continue;
        if ((name === "exp" || name === "sigmoid") && xi < -87) { assert.ok(got[i] >= 0 && got[i] < 1.2e-38, `${v} ${name}(${xi}) = ${got[i]}`); continue; }
        if ((name === "silu" || name === "gelu" || name === "gelu_tanh") && !Number.isFinite(xi)) continue; // ±inf·0
        if ((name === "silu" || name === "gelu" || name === "gelu_tanh") && xi < -80) { assert.ok(Math.abs(got[i]) < 1e-30, `${v} ${name}(${xi}) = ${got[i]}`); continue; }
        if (name === "relu" && Object.is(xi, -0)) want = 0;
        want = Math.fround(want);
        assertScalar(got[i], want, 2e-6, `${v} ${name}(${xi})`);
      }
    }
  });

  test(`${v}: unary_f32 sub-ranges give the same bits, and it runs in place`, () => {
    const box = kernels(v);
    for (const [name, op] of Object.entries(UNARY) as [UnaryName, number][]) {
      box.reset();
      const x = unaryInput(name, 1000, 5 + op);
      const whole = runUnary(box, op, x);
      assertSubRanges(whole, (s, c) => runUnary(box, op, x.subarray(s, s + c)), `${v} unary ${name}`);
      const p = box.putF32(x);
      box.k.unary_f32(op, p, p, x.length);
      assert.equal(Array.from(box.f32(p, x.length)), Array.from(whole), `${v} unary ${name} in place`);
    }
  });

  test(`${v}: unary_backward_f32, all 17 ops, against the analytic derivative`, () => {
    const box = kernels(v);
    for (const [name, op] of Object.entries(UNARY) as [UnaryName, number][]) {
      for (const n of NS) {
        box.reset();
        const x = unaryInput(name, n, 101 + n + op);
        if (name === "exp") x.forEach((xi, i) => (x[i] = xi / 4)); // keep dy·e^x finite and meaningful
        const dy = randomF32(n, 7 + n);
        const y = Float32Array.from(x, unaryRef[name]); // y = f(x), rounded to f32 as the forward would give it
        const px = box.putF32(x), py = box.putF32(y), pdy = box.putF32(dy), pdx = box.alloc(n * 4 + 16);
        box.k.unary_backward_f32(op, px, py, pdy, pdx, n);
        const got = box.f32(pdx, n);
        const want = Array.from(x, (xi, i) => dy[i] * unaryDeriv[name](xi));
        // y is f32, so derivatives written in y (1 − y², y(1 − y), ½/y, −y², y³) carry its rounding
        assertClose(got, want, { rtol: 2e-5, atol: name === "sin" || name === "cos" ? 4e-6 : 2e-6, what: `${v} unary_backward ${name} n=${n}` });
        if (n === 1000) {
          const whole = got.slice();
          assertSubRanges(whole, (s, c) => {
            const o = box.alloc(c * 4 + 16);
            box.k.unary_backward_f32(op, px + 4 * s, py + 4 * s, pdy + 4 * s, o, c);
            return box.f32(o, c).slice();
          }, `${v} unary_backward ${name}`);
        }
      }
    }
  });

  test(`${v}: unary_backward_f32 matches central differences of unary_f32`, () => {
    // Independent of the hand-written derivatives above: (f(x+h) − f(x−h)) / 2h in float64 from the kernel's own f.
    const box = kernels(v);
    const smooth: UnaryName[] = ["exp", "log", "sqrt", "sigmoid", "tanh", "gelu", "square", "rsqrt", "reciprocal", "sin", "cos", "gelu_tanh", "silu"];
    for (const name of smooth) {
      box.reset();
      const n = 33;
      const positive = name === "log" || name === "sqrt" || name === "rsqrt" || name === "reciprocal";
      const x = Float32Array.from(randomF32(n, 3), (u) => (positive ? 0.5 + 2 * Math.abs(u) : 4 * u));
      const h = Float32Array.from(x, (xi) => Math.max(Math.abs(xi), 1) * 1e-2);
      const xp = Float32Array.from(x, (xi, i) => xi + h[i]), xm = Float32Array.from(x, (xi, i) => xi - h[i]);
      const fp = runUnary(box, UNARY[name], xp), fm = runUnary(box, UNARY[name], xm);
      const dy = new Float32Array(n).fill(1);
      const px = box.putF32(x), py = box.putF32(runUnary(box, UNARY[name], x)), pdy = box.putF32(dy), pdx = box.alloc(n * 4);
      box.k.unary_backward_f32(UNARY[name], px, py, pdy, pdx, n);
      const got = box.f32(pdx, n);
      const fd = Array.from(x, (_, i) => (fp[i] - fm[i]) / (xp[i] - xm[i]));
      assertClose(got, fd, { rtol: 2e-3, atol: 2e-3, what: `${v} finite differences ${name}` });
    }
  });
}

// ---------------------------------------------------------------------------
// Binary

const binaryRef: Record<BinaryName, (a: number, b: number) => number> = {
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b,
  max: (a, b) => Math.max(a, b), min: (a, b) => Math.min(a, b), pow: Math.pow,
  eq: (a, b) => +(a === b), ne: (a, b) => +(a !== b), lt: (a, b) => +(a < b), le: (a, b) => +(a <= b),
  gt: (a, b) => +(a > b), ge: (a, b) => +(a >= b),
};

/** Operands for op: every third b equals a (so eq/le/ge see ties); pow gets positive bases or integer exponents. */
function binaryInputs(name: BinaryName, n: number, seed: number): [Float32Array, Float32Array] {
  const a = randomF32(n, seed), b = randomF32(n, seed + 1);
  for (let i = 0; i < n; i++) {
    if (name === "pow") {
      if (i % 2) { a[i] = Math.abs(a[i]) * 3 + 0.05; b[i] = b[i] * 4; }
      else { a[i] = a[i] * 3; b[i] = Math.round(b[i] * 4); }
    } else if (name === "div") {
      b[i] = b[i] + (b[i] < 0 ? -0.05 : 0.05);
    } else if (i % 3 === 0) {
      b[i] = a[i];
    }
  }
  return [a, b];
}

const binaryTol = (name: BinaryName) => (name === "pow" ? { rtol: 2e-6, atol: 1e-7 } : { rtol: 0, atol: 0 });

/** Reference y for a broadcast op, read through strides of the flat operand arrays (with base offsets). */
function stridedRef(name: BinaryName, shape: number[], a: Float32Array, aBase: number, sa: number[], b: Float32Array, bBase: number, sb: number[]): Float64Array {
  const total = shape.reduce((p, s) => p * s, 1);
  const out = new Float64Array(total);
  const idx = new Array(shape.length).fill(0);
  for (let t = 0; t < total; t++) {
    let oa = aBase, ob = bBase;
    for (let d = 0; d < shape.length; d++) { oa += idx[d] * sa[d]; ob += idx[d] * sb[d]; }
    out[t] = Math.fround(binaryRef[name](a[oa], b[ob]));
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Contiguous strides of `shape`, 0 on axes where `bshape` (right-aligned) is 1 or missing. */
function broadcastStrides(out: number[], bshape: number[]): number[] {
  const r = out.length, pad = r - bshape.length;
  const full = [...new Array(pad).fill(1), ...bshape];
  const st = new Array(r).fill(0);
  let s = 1;
  for (let d = r - 1; d >= 0; d--) {
    st[d] = full[d] === 1 && out[d] !== 1 ? 0 : s;
    s *= full[d];
  }
  return st;
}

interface StridedCase { what: string; shape: number[]; aLen: number; aBase: number; sa: number[]; bLen: number; bBase: number; sb: number[] }

function bcast(shape: number[], ashape: number[], bshape: number[]): StridedCase {
  return {
    what: `[${shape}] ← [${ashape}] op [${bshape}]`, shape,
    aLen: ashape.reduce((p, s) => p * s, 1), aBase: 0, sa: broadcastStrides(shape, ashape),
    bLen: bshape.reduce((p, s) => p * s, 1), bBase: 0, sb: broadcastStrides(shape, bshape),
  };
}

const STRIDED_CASES: StridedCase[] = [
  bcast([], [], []),
  bcast([7], [7], [7]), bcast([33], [33], [1]), bcast([9], [1], [9]), bcast([5], [1], [1]), bcast([1], [1], [1]),
  bcast([4, 5], [4, 5], [5]), bcast([4, 5], [4, 5], [4, 1]), bcast([4, 5], [4, 1], [1, 5]), bcast([3, 1], [3, 1], [1]),
  bcast([3, 9], [1, 9], [3, 9]), bcast([6, 7], [6, 1], [6, 7]),
  bcast([2, 3, 4], [2, 3, 4], [3, 1]), bcast([2, 3, 4], [2, 3, 4], [2, 1, 4]), bcast([2, 3, 4], [1, 1, 1], [2, 3, 4]),
  bcast([5, 3, 9], [5, 1, 9], [5, 3, 9]), bcast([2, 3, 5], [2, 1, 5], [1, 3, 1]), bcast([3, 1, 8], [3, 1, 8], [8]),
  bcast([2, 3, 4, 5], [2, 3, 4, 5], [3, 1, 1]), bcast([2, 3, 4, 5], [1, 3, 1, 1], [2, 3, 4, 5]),
  bcast([2, 3, 4, 5], [2, 1, 4, 1], [1, 3, 1, 5]), bcast([2, 3, 4, 33], [2, 3, 4, 33], [2, 3, 4, 33]),
  bcast([3, 4, 5, 7], [3, 4, 5, 7], [1, 4, 1, 7]), bcast([2, 1, 3, 1], [2, 1, 3, 1], [1, 1, 1, 1]),
  bcast([3, 4, 1, 6], [3, 1, 1, 6], [1, 4, 1, 1]), bcast([2, 3, 4, 1], [2, 3, 4, 1], [1, 3, 1, 1]),
  bcast([2, 0, 3], [2, 1, 3], [1, 0, 3]),
  // A transposed view of a stored [5, 3] (strides (1, 3)), against a contiguous b.
  { what: "transposed a [3,5] strides (1,3)", shape: [3, 5], aLen: 15, aBase: 0, sa: [1, 3], bLen: 15, bBase: 0, sb: [5, 1] },
  // Negative strides (a flipped view) and a step-2 slice; b broadcast on the inner axis.
  { what: "flipped a, b over rows", shape: [4, 6], aLen: 24, aBase: 23, sa: [-6, -1], bLen: 4, bBase: 0, sb: [1, 0] },
  { what: "step-2 a, b inner", shape: [3, 7], aLen: 42, aBase: 0, sa: [14, 2], bLen: 7, bBase: 0, sb: [0, 1] },
  // rank 5 with both operands broadcast in different middle axes
  bcast([2, 3, 2, 3, 5], [2, 1, 2, 3, 5], [1, 3, 1, 3, 1]),
];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: binary_f32, all 13 ops, n sweep, sub-ranges and in place`, () => {
    const box = kernels(v);
    for (const [name, op] of Object.entries(BINARY) as [BinaryName, number][]) {
      for (const n of NS) {
        box.reset();
        const [a, b] = binaryInputs(name, n, 3 * n + op);
        const pa = box.putF32(a), pb = box.putF32(b), py = box.alloc(n * 4 + 16);
        box.k.binary_f32(op, pa, pb, py, n);
        const got = box.f32(py, n).slice();
        const want = Array.from(a, (ai, i) => Math.fround(binaryRef[name](ai, b[i])));
        assertClose(got, want, { ...binaryTol(name), what: `${v} binary ${name} n=${n}` });
        if (n === 1000) {
          assertSubRanges(got, (s, c) => {
            const o = box.alloc(c * 4 + 16);
            box.k.binary_f32(op, pa + 4 * s, pb + 4 * s, o, c);
            return box.f32(o, c).slice();
          }, `${v} binary ${name}`);
          box.k.binary_f32(op, pa, pb, pa, n);
          assert.equal(Array.from(box.f32(pa, n)), Array.from(got), `${v} binary ${name} in place`);
        }
      }
    }
  });

  test(`${v}: binary_f32 NaN and infinity semantics (max/min propagate NaN, comparisons false)`, () => {
    const box = kernels(v);
    const a = Float32Array.from([NaN, 1, NaN, Infinity, -Infinity, 0, -0, 2]);
    const b = Float32Array.from([1, NaN, NaN, Infinity, 1, -0, 0, Infinity]);
    for (const [name, op] of Object.entries(BINARY) as [BinaryName, number][]) {
      box.reset();
      const pa = box.putF32(a), pb = box.putF32(b), py = box.alloc(a.length * 4);
      box.k.binary_f32(op, pa, pb, py, a.length);
      const got = box.f32(py, a.length);
      // C's pow (and so PyTorch's): 1^y = 1 even for NaN y; JavaScript's gives NaN
      const want = Array.from(a, (ai, i) => (name === "pow" && ai === 1 ? 1 : binaryRef[name](ai, b[i])));
      for (let i = 0; i < a.length; i++) {
        if ((name === "max" || name === "min") && Object.is(Math.abs(want[i]), 0)) continue; // ±0 order unspecified
        assertScalar(got[i], want[i], 0, `${v} ${name}(${a[i]}, ${b[i]})`);
      }
    }
  });

  test(`${v}: binary_scalar_f32, all 13 ops, both orders, n sweep`, () => {
    const box = kernels(v);
    for (const [name, op] of Object.entries(BINARY) as [BinaryName, number][]) {
      for (const reversed of [0, 1]) {
        for (const n of NS) {
          box.reset();
          let [a] = binaryInputs(name, n, 5 * n + op);
          let s = Math.fround(0.37);
          if (name === "pow") {
            if (reversed) { s = Math.fround(1.7); } // s^a, a any real
            else { a = a.map(Math.abs).map((x) => x + 0.05); s = Math.fround(-1.3); }
          }
          if (name === "div" && reversed) a = a.map((x) => x + (x < 0 ? -0.05 : 0.05));
          if (n > 3) a[2] = s; // a tie for eq/le/ge
          const pa = box.putF32(a), py = box.alloc(n * 4 + 16);
          box.k.binary_scalar_f32(op, pa, s, py, n, reversed);
          const got = box.f32(py, n).slice();
          const want = Array.from(a, (ai) => Math.fround(reversed ? binaryRef[name](s, ai) : binaryRef[name](ai, s)));
          assertClose(got, want, { ...binaryTol(name), what: `${v} binary_scalar ${name} reversed=${reversed} n=${n}` });
          if (n === 1000) {
            assertSubRanges(got, (st, c) => {
              const o = box.alloc(c * 4 + 16);
              box.k.binary_scalar_f32(op, pa + 4 * st, s, o, c, reversed);
              return box.f32(o, c).slice();
            }, `${v} binary_scalar ${name}`);
          }
        }
      }
    }
  });

  test(`${v}: binary_strided_f32, all 13 ops, broadcasting rank 0–5, transposed and negative strides`, () => {
    const box = kernels(v);
    for (const [name, op] of Object.entries(BINARY) as [BinaryName, number][]) {
      for (const [ci, c] of STRIDED_CASES.entries()) {
        box.reset();
        const [aa, bb] = binaryInputs(name, Math.max(c.aLen, c.bLen), 17 * ci + op);
        const a = aa.subarray(0, c.aLen), b = bb.subarray(0, c.bLen);
        const total = c.shape.reduce((p, s) => p * s, 1);
        const rank = c.shape.length;
        const pa = box.putF32(a), pb = box.putF32(b);
        const py = box.alloc(total * 4 + 16);
        box.f32(py, total + 4).fill(-12345); // also catches writes past the end
        const desc = box.putI32([...c.shape, ...c.sa, ...c.sb]);
        box.k.binary_strided_f32(op, pa + 4 * c.aBase, pb + 4 * c.bBase, py, rank, desc);
        const want = stridedRef(name, c.shape, a, c.aBase, c.sa, b, c.bBase, c.sb);
        assertClose(box.f32(py, total), want, { ...binaryTol(name), what: `${v} binary_strided ${name} ${c.what}` });
        assert.is(box.f32(py + 4 * total, 1)[0], -12345, `${v} binary_strided ${name} ${c.what}: wrote past the end`);
      }
    }
  });

  test(`${v}: binary_strided_f32 with every broadcast pattern on a [3,4,5,6] output`, () => {
    // All 2^4 × 2^4 keep/broadcast masks of a and b: exercises every coalescing decision.
    const box = kernels(v);
    const shape = [3, 4, 5, 6];
    for (let ma = 0; ma < 16; ma++) {
      for (let mb = 0; mb < 16; mb++) {
        box.reset();
        const ashape = shape.map((s, d) => (ma >> d) & 1 ? 1 : s), bshape = shape.map((s, d) => (mb >> d) & 1 ? 1 : s);
        const c = bcast(shape, ashape, bshape);
        const a = randomF32(c.aLen, ma), b = randomF32(c.bLen, 100 + mb);
        const pa = box.putF32(a), pb = box.putF32(b), py = box.alloc(360 * 4);
        box.k.binary_strided_f32(BINARY.sub, pa, pb, py, 4, box.putI32([...shape, ...c.sa, ...c.sb]));
        assertClose(box.f32(py, 360), stridedRef("sub", shape, a, 0, c.sa, b, 0, c.sb), { rtol: 0, atol: 0, what: `${v} ${c.what}` });
      }
    }
  });
}

// ---------------------------------------------------------------------------
// BLAS-1, data movement, casts, where, clamp

for (const v of KERNEL_VARIANTS) {
  test(`${v}: axpy_f32, scale_f32, fill_f32, n sweep`, () => {
    const box = kernels(v);
    for (const n of NS) {
      box.reset();
      const x = randomF32(n, n + 1), y = randomF32(n, n + 2);
      const px = box.putF32(x), py = box.putF32(y);
      box.k.axpy_f32(px, py, n, -0.75);
      assertClose(box.f32(py, n), Array.from(x, (xi, i) => y[i] - 0.75 * xi), { rtol: 1e-6, atol: 1e-7, what: `${v} axpy n=${n}` });
      const ps = box.alloc(n * 4 + 16);
      box.k.scale_f32(px, ps, n, 3.5);
      assertClose(box.f32(ps, n), Array.from(x, (xi) => Math.fround(3.5 * xi)), { rtol: 0, atol: 0, what: `${v} scale n=${n}` });
      const pf = box.alloc(n * 4 + 16);
      box.f32(pf, n + 4).fill(9);
      box.k.fill_f32(pf, n, -2.25);
      assert.equal(Array.from(box.f32(pf, n + 1)), [...new Array(n).fill(-2.25), 9], `${v} fill n=${n}`);
    }
    // axpy on sub-ranges: same bits
    box.reset();
    const x = randomF32(1000, 3), y = randomF32(1000, 4);
    const px = box.putF32(x), py = box.putF32(y);
    box.k.axpy_f32(px, py, 1000, 0.3);
    const whole = box.f32(py, 1000).slice();
    assertSubRanges(whole, (s, c) => {
      const q = box.putF32(y.subarray(s, s + c));
      box.k.axpy_f32(px + 4 * s, q, c, 0.3);
      return box.f32(q, c).slice();
    }, `${v} axpy`);
  });

  test(`${v}: transpose_f32 [outer,a,b,inner] → [outer,b,a,inner], tiles and remainders`, () => {
    const box = kernels(v);
    const dims = [1, 3, 4, 5, 8, 33, 70];
    for (const outer of [1, 2]) for (const a of dims) for (const b of dims) for (const inner of [1, 2, 3, 4, 5, 9]) {
      if (a * b * inner * outer > 20000) continue;
      box.reset();
      const n = outer * a * b * inner;
      const x = randomF32(n, a * 7 + b);
      const px = box.putF32(x), py = box.alloc(n * 4 + 16);
      box.f32(py, n + 1).fill(7);
      box.k.transpose_f32(px, py, outer, a, b, inner);
      const got = box.f32(py, n + 1);
      for (let o = 0; o < outer; o++) for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let k = 0; k < inner; k++) {
        const src = ((o * a + i) * b + j) * inner + k, dst = ((o * b + j) * a + i) * inner + k;
        if (got[dst] !== x[src]) assert.unreachable(`${v} transpose ${outer}x${a}x${b}x${inner}: y[${dst}] = ${got[dst]}, want ${x[src]}`);
      }
      assert.is(got[n], 7, `${v} transpose wrote past the end`);
    }
  });

  test(`${v}: cast_i32_f32 and cast_f32_i32 (truncation toward zero, saturation), n sweep`, () => {
    const box = kernels(v);
    for (const n of NS) {
      box.reset();
      const r = randomF32(n, n + 9);
      const ints = Int32Array.from(r, (u, i) => (i % 7 === 0 ? (u < 0 ? -2147483648 : 2147483647) : Math.round(u * 1e8)));
      const pi = box.putI32(ints), pf = box.alloc(n * 4 + 16);
      box.k.cast_i32_f32(pi, pf, n);
      assert.equal(Array.from(box.f32(pf, n)), Array.from(ints, Math.fround), `${v} cast_i32_f32 n=${n}`);
      const fl = Float32Array.from(r, (u, i) => (i % 11 === 5 ? 3e9 * Math.sign(u) : u * 1000));
      const pf2 = box.putF32(fl), pi2 = box.alloc(n * 4 + 16);
      box.k.cast_f32_i32(pf2, pi2, n);
      assert.equal(Array.from(box.i32(pi2, n)), Array.from(fl, (f) => Math.max(-2147483648, Math.min(2147483647, Math.trunc(f)))), `${v} cast_f32_i32 n=${n}`);
    }
  });

  test(`${v}: where_f32, clamp_f32, clamp_backward_f32, n sweep`, () => {
    const box = kernels(v);
    for (const n of NS) {
      box.reset();
      const c = Float32Array.from(randomF32(n, n), (u, i) => (i % 4 === 0 ? 0 : i % 4 === 1 ? -0 : u > 0 ? 1 : u));
      const a = randomF32(n, n + 1), b = randomF32(n, n + 2);
      const py = box.alloc(n * 4 + 16);
      box.k.where_f32(box.putF32(c), box.putF32(a), box.putF32(b), py, n);
      assert.equal(Array.from(box.f32(py, n)), Array.from(c, (ci, i) => (ci !== 0 ? a[i] : b[i])), `${v} where n=${n}`);
      const lo = -0.5, hi = 0.25;
      const x = Float32Array.from(a, (ai, i) => (i % 5 === 0 ? lo : i % 5 === 1 ? hi : ai));
      const px = box.putF32(x), pc = box.alloc(n * 4 + 16);
      box.k.clamp_f32(px, pc, n, lo, hi);
      assert.equal(Array.from(box.f32(pc, n)), Array.from(x, (xi) => Math.min(Math.max(xi, lo), hi)), `${v} clamp n=${n}`);
      const pdx = box.alloc(n * 4 + 16);
      box.k.clamp_backward_f32(px, box.putF32(b), pdx, n, lo, hi);
      assert.equal(Array.from(box.f32(pdx, n)), Array.from(x, (xi, i) => (xi >= lo && xi <= hi ? b[i] : 0)), `${v} clamp_backward n=${n}`);
    }
    box.reset();
    const px = box.putF32([NaN, 5, -5]), py = box.alloc(16);
    box.k.clamp_f32(px, py, 3, -1, 1);
    assert.ok(Number.isNaN(box.f32(py, 3)[0]), `${v} clamp keeps NaN`);
  });
}

// ---------------------------------------------------------------------------
// swiglu (issue 17): the fused silu(g)·u and its two gradients, against float64,
// and against the unfused kernels it replaces (unary silu then binary mul; the
// backward: mul's gradients then unary silu's backward) bit for bit

const SWIGLU_NS = [...Array.from({ length: 17 }, (_, i) => i + 1), 33, 127, 576, 1536];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: swiglu_f32 and swiglu_backward_f32 against float64, n 1–17, 33, 127, 576, 1536`, () => {
    const box = kernels(v);
    for (const n of SWIGLU_NS) {
      box.reset();
      const g = Float32Array.from(randomF32(n, n + 1), (u) => 6 * u), u = randomF32(n, n + 2), dy = randomF32(n, n + 3);
      const pg = box.putF32(g), pu = box.putF32(u), pdy = box.putF32(dy);
      const py = box.alloc(n * 4 + 16), pdg = box.alloc(n * 4 + 16), pdu = box.alloc(n * 4 + 16);
      box.f32(py, n + 1)[n] = 777; box.f32(pdg, n + 1)[n] = 777; box.f32(pdu, n + 1)[n] = 777;
      box.k.swiglu_f32(pg, pu, py, n);
      box.k.swiglu_backward_f32(pg, pu, pdy, pdg, pdu, n);
      for (const p of [py, pdg, pdu]) assert.is(box.f32(p, n + 1)[n], 777, `${v} swiglu n=${n}: wrote past the end`);
      const silu = (x: number) => x * sigmoid(x);
      const dsilu = (x: number) => sigmoid(x) * (1 + x * (1 - sigmoid(x)));
      assertClose(box.f32(py, n), Array.from(g, (gi, i) => silu(gi) * u[i]), { rtol: 1e-5, atol: 1e-6, what: `${v} swiglu y n=${n}` });
      assertClose(box.f32(pdg, n), Array.from(g, (gi, i) => dy[i] * u[i] * dsilu(gi)), { rtol: 1e-5, atol: 1e-6, what: `${v} swiglu dg n=${n}` });
      assertClose(box.f32(pdu, n), Array.from(g, (gi, i) => dy[i] * silu(gi)), { rtol: 1e-5, atol: 1e-6, what: `${v} swiglu du n=${n}` });
      // the unfused kernels
      const ps = box.alloc(n * 4 + 16), pm = box.alloc(n * 4 + 16), pref = box.alloc(n * 4 + 16), pdu2 = box.alloc(n * 4 + 16);
      box.k.unary_f32(UNARY.silu, pg, ps, n);
      box.k.binary_f32(BINARY.mul, ps, pu, pref, n);
      assert.equal(Array.from(box.f32(py, n)), Array.from(box.f32(pref, n)), `${v} swiglu n=${n}: y equals silu then mul`);
      box.k.binary_f32(BINARY.mul, pdy, pu, pm, n);
      box.k.unary_backward_f32(UNARY.silu, pg, ps, pm, pref, n);
      box.k.binary_f32(BINARY.mul, pdy, ps, pdu2, n);
      assert.equal(Array.from(box.f32(pdg, n)), Array.from(box.f32(pref, n)), `${v} swiglu n=${n}: dg equals the unfused gradient`);
      assert.equal(Array.from(box.f32(pdu, n)), Array.from(box.f32(pdu2, n)), `${v} swiglu n=${n}: du equals the unfused gradient`);
    }
  });

  test(`${v}: swiglu kernels over sub-ranges give the same bits, in place too; saturation and NaN`, () => {
    const box = kernels(v);
    const n = 1000;
    const g = Float32Array.from(randomF32(n, 1), (x) => 20 * x), u = randomF32(n, 2), dy = randomF32(n, 3);
    g[0] = -200; g[1] = 200; g[2] = NaN; g[3] = -0;
    const run = (s: number, c: number) => {
      const pg = box.putF32(g.subarray(s, s + c)), pu = box.putF32(u.subarray(s, s + c)), pdy = box.putF32(dy.subarray(s, s + c));
      const py = box.alloc(c * 4 + 16), pdg = box.alloc(c * 4 + 16), pdu = box.alloc(c * 4 + 16);
      box.k.swiglu_f32(pg, pu, py, c);
      box.k.swiglu_backward_f32(pg, pu, pdy, pdg, pdu, c);
      return [py, pdg, pdu].map((p) => Float32Array.from(box.f32(p, c)));
    };
    box.reset();
    const [y, dg, du] = run(0, n);
    assert.ok(Math.abs(y[0]) < 1e-30, `${v} swiglu(-200) = ${y[0]}`);
    assertClose([y[1]], [200 * u[1]], { rtol: 1e-6, atol: 0, what: `${v} swiglu(200)` });
    assert.ok(Number.isNaN(y[2]) && Number.isNaN(dg[2]), `${v} swiglu(NaN) is NaN`);
    assert.ok(Math.abs(dg[0]) < 1e-30, `${v} swiglu'(-200) = ${dg[0]}`);
    assertSubRanges(y, (s, c) => run(s, c)[0], `${v} swiglu_f32`);
    assertSubRanges(dg, (s, c) => run(s, c)[1], `${v} swiglu_backward_f32 dg`);
    assertSubRanges(du, (s, c) => run(s, c)[2], `${v} swiglu_backward_f32 du`);
    // y over g, and dg over dy
    box.reset();
    const pg = box.putF32(g), pu = box.putF32(u), pdy = box.putF32(dy), pdu = box.alloc(n * 4);
    box.k.swiglu_backward_f32(pg, pu, pdy, pdy, pdu, n);
    assert.equal(Array.from(box.f32(pdy, n)), Array.from(dg), `${v} swiglu_backward_f32 with dg = dy`);
    box.k.swiglu_f32(pg, pu, pg, n);
    assert.equal(Array.from(box.f32(pg, n)), Array.from(y), `${v} swiglu_f32 with y = g`);
  });
}

test.run();
