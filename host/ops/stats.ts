// Statistics composed of existing ops (no kernel of their own; their gradients
// come from the ops they are made of): var, std and a stable logsumexp.

import { Tensor, axis, requireFloat, checkOptions, checkBool, checkNumber, shapeStr } from "./util.js";
import { sub, div, mul, square, sqrt, exp, log, add, where, abs, eq } from "./elementwise.js";
import { noGrad, record } from "../tape.js";
import { zerosLike } from "./creation.js";
import { sum, mean, max } from "./reduce.js";
import { reshape } from "./view.js";

/** var/std's keyword arguments (PyTorch's: correction, or the older unbiased, and keepdim). */
export interface VarOptions {
  /** Subtracted from the element count in the divisor: 1 (Bessel's correction, the default) or 0 (the population variance). */
  correction?: number;
  /** true: correction 1; false: correction 0 (PyTorch's older argument). */
  unbiased?: boolean;
  keepdim?: boolean;
}

function dimList(x: Tensor, dim: number | number[] | null | undefined, op: string): number[] {
  if (dim === undefined || dim === null) return x.shape.map((_, i) => i);
  const ds = (Array.isArray(dim) ? dim : [dim]).map((d) => axis(d, x.rank, op));
  if (new Set(ds).size !== ds.length) throw new Error(`${op}: dim [${dim}] repeats an axis of a tensor of shape ${shapeStr(x.shape)}`);
  return ds.sort((a, b) => a - b);
}

function variance(op: "var" | "std", x: Tensor, dim: number | number[] | null | undefined, unbiased: boolean | VarOptions | undefined, keepdim: boolean): Tensor {
  requireFloat(x, op);
  let correction = 1;
  let kd = checkBool(op, "keepdim", keepdim) ?? false;
  if (typeof unbiased === "boolean") correction = unbiased ? 1 : 0;
  else if (unbiased !== undefined) {
    checkOptions(op, unbiased, ["correction", "unbiased", "keepdim"]);
    if (unbiased.correction !== undefined && unbiased.unbiased !== undefined) throw new Error(`${op}: give correction or unbiased, not both`);
    if (unbiased.correction !== undefined) correction = checkNumber(op, "correction", unbiased.correction);
    const u = checkBool(op, "unbiased", unbiased.unbiased);
    if (u !== undefined) correction = u ? 1 : 0;
    kd = checkBool(op, "keepdim", unbiased.keepdim) ?? kd;
  }
  const dims = dimList(x, dim, op);
  const n = dims.reduce((a, d) => a * x.shape[d], 1);
  // the mean detached: its gradient path carries Σ(x − mean) = 0 in exact arithmetic, but NaN when a row
  // holds an inf; PyTorch's var_backward is 2(x − mean)/(n − correction) alone
  const d = sub(x, mean(x.detach(), dims, true));
  // PyTorch divides by max(0, n − correction): n ≤ correction gives inf, or NaN for 0/0
  const N = Math.max(0, n - correction);
  if (op === "var") return div(sum(square(d), dims, kd), N);
  // std scaled by s = max|x − mean| (detached; 1 where it is 0): PyTorch accumulates in double, so its
  // σ of values near 1e20 is finite where σ² overflows float32
  let s = abs(d.detach());
  for (const k of dims) s = max(s, k, true);
  s = add(s, eq(s, 0));
  const u = div(sum(square(div(d, s)), dims, true), N);
  // σ = 0 (a constant row): PyTorch's std_backward gives 0 there, not 0/0; √ of 1 instead, times 0
  const zero = eq(u, 0);
  const r = sqrt(add(u, zero)).mul(sub(1, zero)).mul(s);
  return kd ? r : reshape(r, x.shape.filter((_, i) => !dims.includes(i)));
}

/**
 * Variance over `dim` (all dims when omitted or null), with Bessel's correction by default
 * (PyTorch's unbiased = true / correction = 1). The third argument is unbiased, or PyTorch's
 * keyword arguments { correction, unbiased, keepdim }.
 * @example wg.tensor([[1, 2, 3], [4, 6, 8]]).var(1).toArray(); // [1, 4]
 * wg.var(wg.tensor([1, 2, 3, 4]), 0, { correction: 0 }).item(); // 1.25
 */
function var_(x: Tensor, dim?: number | number[] | null, unbiased?: boolean | VarOptions, keepdim = false): Tensor {
  return variance("var", x, dim, unbiased, keepdim);
}
export { var_ as var };

/**
 * Standard deviation over `dim`: √var, with var's arguments (Bessel's correction by default).
 * @example wg.tensor([[1, 2, 3], [4, 6, 8]]).std(1).toArray(); // [1, 2]
 * wg.std(wg.tensor([1, 3]), null, false).item(); // 1
 */
export function std(x: Tensor, dim?: number | number[] | null, unbiased?: boolean | VarOptions, keepdim = false): Tensor {
  return variance("std", x, dim, unbiased, keepdim);
}

/**
 * log Σ exp(x) over `dim` (one dim or several), computed as m + log Σ exp(x − m) with m the max
 * (so large values do not overflow); the gradient is softmax(x). All −inf gives −inf, as PyTorch.
 * @example wg.logsumexp(wg.tensor([[0, 0], [1000, 1000]]), 1).toArray(); // [0.6931471824645996, 1000.6931762695312]
 */
export function logsumexp(x: Tensor, dim: number | number[], keepdim = false): Tensor {
  requireFloat(x, "logsumexp");
  if (dim === undefined || dim === null) throw new Error("logsumexp: dim is required (an int or a list of ints)");
  const dims = dimList(x, dim, "logsumexp");
  const kd = checkBool("logsumexp", "keepdim", keepdim) ?? false;
  if (x.rank === 0) return x;
  // the shift: max over dims, kept, and no gradient (it cancels); ±inf shifts by 0 instead (inf − inf is NaN)
  const v = noGrad(() => {
    let m = x;
    for (const d of dims) m = max(m, d, true);
    const mx = m;
    m = where(eq(abs(m), Infinity), zerosLike(m), m);
    const r = add(log(sum(exp(sub(x, m)), dims, true)), m);
    // all −inf: log 0 is −inf exactly only where the backend's log says so; the max says it here
    return where(eq(mx, -Infinity), mx, r);
  });
  // PyTorch's logsumexp_backward: g·e^(x − y) from the (rounded) result y
  const y = record(v, "logsumexp", [x], (g) => [mul(g, exp(sub(x, v)))]);
  return kd ? y : reshape(y, x.shape.filter((_, i) => !dims.includes(i)));
}
