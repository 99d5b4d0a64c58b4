// Random tensors and dropout. Kernels: assembly/random.ts (counter-based, so
// results are the same for any thread split).

import { record } from "../tape.js";
import { backend, out, Tensor, checkOptions, checkNumber, checkInt, checkShape, type Shape } from "./util.js";
import { draw } from "../random.js";
import { mul } from "./elementwise.js";

export interface RandomOptions {
  /** A fixed seed for this call (otherwise the global stream set by manualSeed). */
  seed?: number;
  requiresGrad?: boolean;
}

function make(shape: Shape, opts: RandomOptions, kernel: "rand_uniform_f32" | "rand_normal_f32", a: number, b: number, op: string, known = ["seed", "requiresGrad"]): Tensor {
  checkOptions(op, opts, known);
  checkShape(op, shape);
  if (opts.seed !== undefined) checkInt(op, "seed", opts.seed);
  const t = Tensor.empty(shape, "float32", kernel, opts.requiresGrad ? "persistent" : "temp");
  t.requiresGrad = !!opts.requiresGrad;
  const { seed, offset } = draw(t.size, opts.seed);
  const K = backend().kernels;
  if (kernel === "rand_uniform_f32") K.rand_uniform_f32({ y: t.ptr, n: t.size, seed, offset, lo: a, hi: b });
  else K.rand_normal_f32({ y: t.ptr, n: t.size, seed, offset, mean: a, stddev: b });
  return t;
}

/** Normal(mean 0, std 1) samples. @example wg.randn([2, 3], { seed: 0 }).shape; // [2, 3] */
export const randn = (shape: Shape, opts: RandomOptions = {}) => make(shape, opts, "rand_normal_f32", 0, 1, "randn");
/** Normal(mean, std) samples. @example wg.normal([3], 0, 0.02, { seed: 1 }); */
export const normal = (shape: Shape, mean: number, std: number, opts: RandomOptions = {}) => make(shape, opts, "rand_normal_f32", checkNumber("normal", "mean", mean), checkNumber("normal", "std", std, 0), "normal");
/** Uniform [lo, hi) samples. @example wg.rand([3], { seed: 0 }).shape; // [3] */
export const rand = (shape: Shape, opts: RandomOptions & { lo?: number; hi?: number } = {}) => make(shape, opts, "rand_uniform_f32", checkNumber("rand", "lo", opts.lo ?? 0), checkNumber("rand", "hi", opts.hi ?? 1), "rand", ["seed", "requiresGrad", "lo", "hi"]);

/**
 * Zeroes each element with probability p and scales the rest by 1/(1-p) (only when `training`).
 * @example wg.dropout(wg.ones([4]), 0.5, true, { seed: 3 }).toArray(); // zeros and twos
 */
export function dropout(x: Tensor, p = 0.5, training = true, opts: { seed?: number } = {}): Tensor {
  checkNumber("dropout", "p", p, 0, 1, false, true); // NaN passed the old `p < 0 || p >= 1`
  checkOptions("dropout", opts, ["seed"]);
  if (opts.seed !== undefined) checkInt("dropout", "seed", opts.seed);
  if (!training || p === 0) return x;
  const mask = out(x.shape, "float32", "dropout mask");
  const { seed, offset } = draw(x.size, opts.seed);
  backend().kernels.dropout_mask_f32({ mask: mask.ptr, n: x.size, seed, offset, p });
  void record;
  return mul(x, mask);
}
