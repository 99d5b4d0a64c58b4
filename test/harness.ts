// Loads a built kernel binary directly (no host engine), for kernel tests:
// a memory, a bump allocator and typed views. Kernel tests use this to check
// each exported kernel against a plain TypeScript reference.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { rng } from "../host/random.js";
import type { WasmExports } from "../host/backends/abi.generated.js";

export type Variant = "simd" | "relaxed" | "simd-threads" | "relaxed-threads";

export interface KernelBox {
  variant: Variant;
  /** The module's exports, called with byte offsets and integers. */
  /** By name (a typo is a tsc error), positional as in docs/KERNELS.md; loosely typed so tests can spread argument lists. */
  k: Record<keyof WasmExports | "variant_has_relaxed_simd", (...args: number[]) => number>;
  memory: WebAssembly.Memory;
  /** Bump-allocates `bytes` (64-byte aligned) and returns the byte offset. */
  alloc(bytes: number): number;
  /** Allocates and fills float32 data; returns the byte offset. */
  putF32(data: ArrayLike<number>): number;
  putI32(data: ArrayLike<number>): number;
  f32(ptr: number, n: number): Float32Array;
  i32(ptr: number, n: number): Int32Array;
  /** Frees everything allocated since the box was made. */
  reset(): void;
}

const BASE = 65536; // the first page holds the module's static data

/** Whether this runtime can run the variant (relaxed SIMD needs a flag on Node 20). */
export function variantSupported(v: Variant): boolean {
  try {
    return WebAssembly.validate(readFileSync(wasmPath(v)));
  } catch {
    return false;
  }
}

function wasmPath(v: Variant): string {
  return fileURLToPath(new URL(`../../build/webgrad-${v}.wasm`, import.meta.url));
}

export function loadKernels(variant: Variant, pages = 256): KernelBox {
  const shared = variant.endsWith("threads");
  const memory = new WebAssembly.Memory({ initial: pages, maximum: 65536, shared } as WebAssembly.MemoryDescriptor);
  const mod = new WebAssembly.Module(readFileSync(wasmPath(variant)));
  const inst = new WebAssembly.Instance(mod, { env: { memory } });
  let top = BASE;
  const box: KernelBox = {
    variant,
    k: inst.exports as any,
    memory,
    alloc(bytes: number) {
      const p = top;
      top = (top + bytes + 63) & ~63;
      const need = Math.ceil(top / 65536) - memory.buffer.byteLength / 65536;
      if (need > 0) memory.grow(need);
      return p;
    },
    putF32(data) {
      const p = box.alloc(data.length * 4);
      box.f32(p, data.length).set(data);
      return p;
    },
    putI32(data) {
      const p = box.alloc(data.length * 4);
      box.i32(p, data.length).set(data);
      return p;
    },
    f32: (ptr, n) => new Float32Array(memory.buffer, ptr, n),
    i32: (ptr, n) => new Int32Array(memory.buffer, ptr, n),
    reset() {
      top = BASE;
    },
  };
  return box;
}

/**
 * The kernel binary of variant `v`, checked: it must validate here and be the
 * binary it claims to be (a relaxed build loaded as plain SIMD would test nothing).
 */
export function kernels(v: Variant): KernelBox {
  if (!variantSupported(v)) {
    throw new Error(`variant ${v} does not validate here (build missing, or relaxed SIMD needs --experimental-wasm-relaxed-simd)`);
  }
  const box = loadKernels(v);
  const relaxed = box.k.variant_has_relaxed_simd();
  if (relaxed !== (v.startsWith("relaxed") ? 1 : 0)) throw new Error(`loaded the wrong binary for ${v} (relaxed marker ${relaxed})`);
  return box;
}

/** Puts float32 data `shift` floats past a 64-byte boundary (kernels must not require alignment). */
export function putAt(box: KernelBox, data: ArrayLike<number>, shift: number): number {
  const p = box.alloc((data.length + shift) * 4 + 16) + shift * 4;
  box.f32(p, data.length).set(data);
  return p;
}

/** Places data so that it ends exactly at the end of memory: a read or write past it traps. */
export function putAtEnd(box: KernelBox, data: ArrayLike<number>): number {
  const p = box.memory.buffer.byteLength - data.length * 4;
  if (p < box.alloc(0)) throw new Error("putAtEnd: memory too small");
  box.f32(p, data.length).set(data);
  return p;
}

/** The variants a kernel test sweeps: plain SIMD always, relaxed SIMD where the runtime validates it. */
export const KERNEL_VARIANTS: Variant[] = ["simd", "relaxed"];

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), for test inputs. */
export function randomF32(n: number, seed = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/**
 * The one tolerance check used everywhere: |a - b| ≤ atol + rtol·|b| for every
 * element. Throws with the first offending index and values, so a failure says where.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6, what = "" }: { rtol?: number; atol?: number; what?: string } = {},
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (Number.isNaN(b) ? !Number.isNaN(a) : !(Math.abs(a - b) <= atol + rtol * Math.abs(b))) {
      throw new Error(`${what}: element ${i}: got ${a}, expected ${b} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

/**
 * Runs a child process (a runtime running a test script) and resolves to the
 * JSON after the first output line starting with `marker ` (the child's
 * result), or to `{ error }` with the exit code and the output's tail when it
 * printed none or ran past timeoutMs (then it is killed).
 */
export function runForResult<R extends { error?: string }>(
  cmd: string, args: string[], opts: { cwd: string; marker: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<R> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (out += d));
    const guard = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs);
    p.on("close", (code) => {
      clearTimeout(guard);
      const line = out.split("\n").find((l) => l.startsWith(opts.marker + " "));
      resolve(line ? JSON.parse(line.slice(opts.marker.length + 1)) : ({ error: `exit ${code}, no result:\n${out.slice(-2000)}` } as R));
    });
  });
}

/**
 * Awaits fn()'s promise and asserts it rejects with an error whose message
 * matches `re` (uvu's assert.throws cannot see an async failure).
 */
export async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  let err: unknown = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected a rejection matching ${re}`);
  if (!re.test((err as Error).message)) throw new Error(`rejected with "${(err as Error).message}", expected ${re}`);
}
