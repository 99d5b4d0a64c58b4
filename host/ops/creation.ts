// Making tensors from data and constants.

import { backend, Tensor, shapeStr, checkOptions, checkShape, checkDType, checkNumber, checkInt, type Shape, type DType } from "./util.js";
import type { NestedArray } from "../tensor.js";

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  /** Shape for flat data (typed arrays or flat number arrays). */
  shape?: number[];
}

function inferShape(data: NestedArray, what: string): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0];
    if (d === undefined) break;
  }
  void what;
  return shape;
}

function flattenInto(data: NestedArray, shape: number[], dim: number, outArr: number[]): void {
  if (dim === shape.length) {
    if (typeof data !== "number") throw new Error(`tensor: ragged nested array (expected a number at depth ${dim})`);
    outArr.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new Error(`tensor: ragged nested array: expected ${shape[dim]} entries at depth ${dim} for shape ${shapeStr(shape)}`);
  }
  for (const x of data) flattenInto(x, shape, dim + 1, outArr);
}

/** Allocates a tensor that lives as a parameter when it requires grad, else as a temporary. */
function alloc(shape: Shape, dtype: DType, requiresGrad: boolean, what: string): Tensor {
  const t = Tensor.empty(shape, dtype, what, requiresGrad ? "persistent" : "temp");
  t.requiresGrad = requiresGrad;
  return t;
}

/**
 * A tensor from nested arrays, a typed array or a flat array with `shape`.
 * float32 unless `dtype: "int32"` (or an Int32Array is given).
 *
 * @example
 * const x = wg.tensor([[1, 2], [3, 4]]);
 * const y = wg.tensor(new Float32Array(6), { shape: [2, 3] });
 * const labels = wg.tensor([3, 1], { dtype: "int32" });
 */
const TENSOR_OPTIONS = ["dtype", "requiresGrad", "shape"];
const INT32_MIN = -(2 ** 31), INT32_MAX = 2 ** 31 - 1;

export function tensor(data: NestedArray | Float32Array | Int32Array | ArrayLike<number>, opts: TensorOptions = {}): Tensor {
  checkOptions("tensor", opts, TENSOR_OPTIONS);
  checkDType("tensor", opts.dtype);
  if (opts.shape !== undefined) checkShape("tensor", opts.shape);
  if (data === null || (typeof data !== "object" && typeof data !== "number")) throw new Error(`tensor: data must be a number, an array or a typed array, got ${data === null ? "null" : typeof data}`);
  let flat: ArrayLike<number>;
  let shape: number[];
  const isTyped = ArrayBuffer.isView(data);
  if (isTyped || (opts.shape && Array.isArray(data) && !Array.isArray((data as unknown[])[0]))) {
    flat = data as ArrayLike<number>;
    shape = opts.shape ?? [flat.length];
  } else {
    shape = inferShape(data as NestedArray, "tensor");
    const arr: number[] = [];
    flattenInto(data as NestedArray, shape, 0, arr);
    flat = arr;
    if (opts.shape) shape = opts.shape;
  }
  const dtype: DType = opts.dtype ?? (data instanceof Int32Array ? "int32" : "float32");
  let n = 1;
  for (const d of shape) n *= d;
  if (n !== flat.length) throw new Error(`tensor: ${flat.length} values do not fill shape ${shapeStr(shape)} (${n} elements)`);
  if (dtype === "int32") {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isInteger(flat[i])) throw new Error(`tensor: int32 tensor given non-integer value ${flat[i]} at position ${i}`);
      // Int32Array.from would wrap 3e9 to -1294967296 without a word
      if (flat[i] < INT32_MIN || flat[i] > INT32_MAX) throw new Error(`tensor: int32 tensor given ${flat[i]} at position ${i}, outside -2^31..2^31-1`);
    }
  }
  const t = alloc(shape, dtype, !!opts.requiresGrad, "tensor");
  const be = backend();
  const Typed = dtype === "int32" ? Int32Array : Float32Array;
  be.write(t.ptr, flat instanceof Typed ? flat : Typed.from(flat));
  return t;
}

/** A tensor filled with `value`. @example wg.full([2], 7).toArray(); // [7, 7] */
export function full(shape: Shape, value: number, opts: TensorOptions = {}): Tensor {
  return filled("full", shape, value, opts);
}

/** full() under the name of the function the caller called, so an error names it. */
function filled(op: string, shape: Shape, value: number, opts: TensorOptions): Tensor {
  checkOptions(op, opts, ["dtype", "requiresGrad"]);
  checkShape(op, shape);
  const dtype = checkDType(op, opts.dtype) ?? "float32";
  if (dtype === "int32") checkInt(op, "value", value, INT32_MIN, INT32_MAX);
  else if (typeof value !== "number") throw new Error(`${op}: value must be a number, got ${JSON.stringify(value) ?? String(value)}`);
  const t = alloc(shape, opts.dtype ?? "float32", !!opts.requiresGrad, "full"); // the allocation site keeps its name (out of memory in full)
  if (t.dtype === "int32") {
    backend().write(t.ptr, new Int32Array(t.size).fill(value));
  } else backend().kernels.fill_f32({ y: t.ptr, n: t.size, value });
  return t;
}

/** Zeros. @example wg.zeros([2, 2]).toArray(); // [[0, 0], [0, 0]] */
export const zeros = (shape: Shape, opts: TensorOptions = {}) => filled("zeros", shape, 0, opts);
/** Ones. @example wg.ones([2]).toArray(); // [1, 1] */
export const ones = (shape: Shape, opts: TensorOptions = {}) => filled("ones", shape, 1, opts);
/** Zeros shaped like t. @example wg.zerosLike(wg.ones([3])).toArray(); // [0, 0, 0] */
export const zerosLike = (t: Tensor, opts: TensorOptions = {}) => filled("zerosLike", t.shape, 0, { dtype: t.dtype, ...opts });
/** Ones shaped like t. @example wg.onesLike(wg.zeros([2])).toArray(); // [1, 1] */
export const onesLike = (t: Tensor, opts: TensorOptions = {}) => filled("onesLike", t.shape, 1, { dtype: t.dtype, ...opts });

/**
 * start, start+step, … below end (one argument: 0 … n-1).
 * @example wg.arange(4).toArray(); // [0, 1, 2, 3]
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  checkOptions("arange", opts, ["dtype", "requiresGrad"]);
  if (end === undefined) [start, end] = [0, start];
  checkNumber("arange", "start", start);
  checkNumber("arange", "end", end);
  checkNumber("arange", "step", step);
  if (step === 0) throw new Error("arange: step must not be 0");
  const n = Math.max(0, Math.ceil((end - start) / step));
  if (n > INT32_MAX) throw new Error(`arange: ${n} values from ${start} to ${end} by ${step} is more than a tensor holds`);
  const vals = new Array(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return tensor(vals, { ...opts, shape: [n] });
}

/** Identity matrix. @example wg.eye(2).toArray(); // [[1, 0], [0, 1]] */
export function eye(n: number, opts: TensorOptions = {}): Tensor {
  checkOptions("eye", opts, ["dtype", "requiresGrad"]);
  checkInt("eye", "n", n, 0, 46340);
  const v = new Float32Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  return tensor(opts.dtype === "int32" ? Int32Array.from(v) : v, { ...opts, shape: [n, n] });
}
