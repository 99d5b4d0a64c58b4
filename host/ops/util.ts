// Small helpers every op file uses: output allocation, axis handling,
// broadcasting rules, and reducing a broadcast gradient back to its shape.

import { backend } from "../engine.js";
import { Tensor, sizeOf, type Shape, type DType } from "../tensor.js";

export { backend, Tensor, sizeOf };
export type { Shape, DType };

/** A fresh temporary output tensor. */
export function out(shape: Shape, dtype: DType = "float32", what = "op"): Tensor {
  return Tensor.empty(shape, dtype, what, "temp");
}

/** Normalises a possibly negative axis; errors name the op. */
export function axis(dim: number, rank: number, op: string): number {
  const d = dim < 0 ? dim + rank : dim;
  if (!Number.isInteger(d) || d < 0 || d >= Math.max(rank, 1)) {
    throw new Error(`${op}: dim ${dim} is out of range for a tensor of rank ${rank}`);
  }
  return d;
}

export function shapeStr(s: Shape): string {
  return `[${s.join(",")}]`;
}

export function requireFloat(t: Tensor, op: string): void {
  if (t.dtype !== "float32") throw new Error(`${op}: expected a float32 tensor, got ${t.dtype} of shape ${shapeStr(t.shape)}`);
}

/** The NumPy broadcast of two shapes, or a clear error. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const outShape: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} cannot be broadcast (dim ${i}: ${da} vs ${db})`);
    }
    outShape.push(da === 1 ? db : da);
  }
  return outShape;
}

/** Row-major element strides of `shape` seen from `outShape` (0 on broadcast axes). */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const n = outShape.length;
  const st = new Array(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const oi = n - shape.length + i;
    st[oi] = shape[i] === 1 && outShape[oi] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return st;
}

/** Views `shape` as [outer, len, inner] around `dim`. */
export function around(shape: Shape, dim: number): [number, number, number] {
  return [sizeOf(shape.slice(0, dim)), shape[dim], sizeOf(shape.slice(dim + 1))];
}

/** Scratch bytes for one kernel call (packed panels, descriptors), from the current backend's one reused block. */
export function scratch(bytes: number): number {
  return backend().mm.scratch(bytes);
}

/** Writes int32 values into a small scratch region at byte offset `at` within scratch; returns its pointer. */
export function writeI32(values: number[], at = 0): number {
  const p = scratch(at + values.length * 4 + 64) + at;
  backend().write(p, Int32Array.from(values)); // on WebGPU ordered with the work recorded before
  return p;
}

// ---- argument checks: every public function names the argument at fault, before any memory is written

/** Refuses option names `op` does not know (a misspelt or unsupported option must not be ignored silently). */
export function checkOptions(op: string, opts: unknown, known: readonly string[]): void {
  if (opts === undefined) return;
  if (typeof opts !== "object" || opts === null || Array.isArray(opts)) throw new Error(`${op}: options must be an object, got ${opts === null ? "null" : Array.isArray(opts) ? "an array" : typeof opts}`);
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) throw new Error(`${op}: unknown option ${JSON.stringify(k)} (known: ${known.join(", ") || "none"})`);
  }
}

/** true, false or absent, or an error naming the option (a string "false" must not read as true). */
export function checkBool(op: string, name: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === "boolean") return v;
  throw new Error(`${op}: ${name} must be true or false, got ${JSON.stringify(v) ?? String(v)}`);
}

/** One of `allowed` or absent, or an error naming the option and the choices. */
export function checkOneOf<T extends string>(op: string, name: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined || allowed.includes(v as T)) return v as T | undefined;
  throw new Error(`${op}: ${name} must be ${allowed.map((a) => JSON.stringify(a)).join(" | ")}, got ${JSON.stringify(v) ?? String(v)}`);
}

/** A dropout probability in [0, 1) or absent (NaN and 1 would silently zero or pass everything). */
export function checkProb(op: string, name: string, v: unknown): number | undefined {
  return v === undefined ? undefined : checkNumber(op, name, v, 0, 1, false, true);
}

/** An integer argument in [min, max], or an error naming it. */
export function checkInt(op: string, name: string, v: unknown, min = -(2 ** 53) + 1, max = 2 ** 53 - 1): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    const range = max >= 2 ** 53 - 1 ? `≥ ${min}` : `in ${min}..${max}`;
    throw new Error(`${op}: ${name} must be an integer ${range}, got ${typeof v === "number" ? v : JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** A finite number argument in [min, max] (or (min, max] with minOpen), or an error naming it. */
export function checkNumber(op: string, name: string, v: unknown, min = -Infinity, max = Infinity, minOpen = false, maxOpen = false): number {
  if (typeof v !== "number" || !Number.isFinite(v) || (minOpen ? v <= min : v < min) || (maxOpen ? v >= max : v > max)) {
    const lo = min === -Infinity ? "" : `${minOpen ? "(" : "["}${min}`, hi = max === Infinity ? "" : `${max}${maxOpen ? ")" : "]"}`;
    throw new Error(`${op}: ${name} must be a finite number${lo || hi ? ` in ${lo || "(-∞"}, ${hi || "∞)"}` : ""}, got ${typeof v === "number" ? v : JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** An integer or a pair of integers ≥ min (stride, padding, dilation, kernel size), as [h, w]. */
export function checkPair(op: string, name: string, v: unknown, dflt: [number, number], min: number): [number, number] {
  if (v === undefined) return dflt;
  const p = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => typeof x === "number" && Number.isInteger(x) && x >= min && x <= 2 ** 31 - 1)) {
    throw new Error(`${op}: ${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return p as [number, number];
}

/** A shape: an array of non-negative integers with an exact product. */
export function checkShape(op: string, shape: unknown, name = "shape"): number[] {
  if (!Array.isArray(shape)) throw new Error(`${op}: ${name} must be an array of dimensions, got ${JSON.stringify(shape) ?? String(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0) throw new Error(`${op}: ${name} ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`);
    n *= d;
  }
  // a size too big for memory is the allocator's OutOfMemoryError, which says what is left; only a
  // product that is no longer an exact integer is refused here
  if (!Number.isSafeInteger(n)) throw new Error(`${op}: ${name} ${JSON.stringify(shape)} has more than 2^53 elements`);
  return shape;
}

/** "float32" or "int32" (the engine's dtypes), or an error naming what was given. */
export function checkDType(op: string, dtype: unknown): DType | undefined {
  if (dtype === undefined || dtype === "float32" || dtype === "int32") return dtype;
  throw new Error(`${op}: dtype must be "float32" or "int32", got ${JSON.stringify(dtype) ?? String(dtype)}`);
}
