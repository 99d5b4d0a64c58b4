// Native PyTorch as the bench's reference engine ("torch"): finding it, starting its
// child (bench/engines/torch-child.py, which speaks engine-child.ts's protocol), and
// checking its results with the same float64 references as every other engine.
//
// It is not a peer: the peers are the other engines that run in a JavaScript
// runtime. It is the native ceiling those numbers are read against: each bench
// row prints webgrad's time against it at the same thread count.
//
// Python and torch come from the system (Debian's python3-torch, or any python3 with
// torch and numpy); WEBGRAD_BENCH_PYTHON names another interpreter. Without them the
// bench runs on and says in one line why there are no torch rows.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { check, type Check } from "./reference.js";
import type { Workload } from "./workloads.js";

/** The Python child. It is not compiled: dist/bench/*.js reaches it in the source tree. */
export const TORCH_CHILD = fileURLToPath(new URL("../../bench/engines/torch-child.py", import.meta.url));
/** The numpy-only input generator, for the bit-equality test. */
export const TORCH_INPUTS = fileURLToPath(new URL("../../bench/engines/torch_inputs.py", import.meta.url));

/** The interpreter that runs the child. */
export function python(): string {
  return process.env.WEBGRAD_BENCH_PYTHON || "python3";
}

/** Whether `python()` can import `modules`: null when it can, else why not (one line). */
export function pythonLacks(modules: string[]): string | null {
  const code = `import ${modules.join(", ")}`;
  const r = spawnSync(python(), ["-c", code], { encoding: "utf8", timeout: 60_000 });
  if (r.error) return `${python()} did not start (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) {
    const last = (r.stderr ?? "").trim().split("\n").pop() ?? "";
    return `${python()} -c "${code}" failed: ${last || `exit code ${r.status}`}`;
  }
  return null;
}

/** Why the torch engine cannot run here (null: it can). */
export function torchUnavailable(): string | null {
  if (!existsSync(TORCH_CHILD)) return `${TORCH_CHILD} is missing (the bench runs from a tree without bench/engines/)`;
  const lack = pythonLacks(["torch", "numpy"]);
  return lack && `${lack} (install Debian's python3-torch, or set WEBGRAD_BENCH_PYTHON to a python with torch and numpy)`;
}

/**
 * glibc malloc settings of the torch child (unless GLIBC_TUNABLES is set already; set
 * it empty for glibc's defaults). PyTorch's CPU allocator is plain malloc, with no
 * cache of its own, and glibc serves every block over its mmap threshold (at most
 * 32 MB) with a fresh mmap, unmapped on free: each run of a large workload then
 * page-faults all its temporaries in anew. On this VM that made one Adam step on 10M
 * parameters take 240–770 ms, 17–30 ms with these settings (all blocks from the heap,
 * which is never trimmed, so freed blocks are reused): the same reuse webgrad's own
 * memory pool gives it, so the rows compare compute, not page faults.
 */
export const TORCH_MALLOC = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967296";

/**
 * The child's environment: every thread pool torch may use (ATen's OpenMP loops, the
 * BLAS, oneDNN through OpenMP) sized to `threads` before torch loads, so a
 * "torch 1t" row is one core's work as "webgrad 1t" is; malloc as TORCH_MALLOC says.
 */
export function torchEnv(threads: number): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...process.env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, PYTHONUNBUFFERED: "1",
    GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? TORCH_MALLOC };
}

/** Command line of a torch child with `threads` threads. */
export function torchCommand(threads: number): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  return { cmd: python(), args: [TORCH_CHILD, String(threads)], env: torchEnv(threads) };
}

/** Little-endian float32 bytes, base64 (the child's `result`). */
export function decodeF32(b64: string): Float32Array {
  const bytes = Buffer.from(b64, "base64");
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/**
 * A torch child's prepare reply, checked here as engine-child.ts checks its engine's:
 * the reply becomes `{ok, check, ...}` without the (large) result.
 */
export function checkTorchReply(w: Workload, reply: any): any {
  if (!reply?.ok || reply.unsupported || typeof reply.result !== "string") return reply;
  const { result, ...rest } = reply;
  const c: Check = check(w, decodeF32(result));
  return { ...rest, ok: c.ok, check: c };
}

/** The child's `info` reply as the lines the bench prints once. */
export function describeTorch(info: any): string[] {
  const env = Object.entries(info.env ?? {}).map(([k, v]) => `${k}=${v}`).join(" ");
  return [
    `torch ${info.torch} (python ${info.python}, numpy ${info.numpy}), timed inside Python (time.perf_counter around each run), same warm-up rule and rounds as the others`,
    `  build: ${(info.config ?? []).join("; ")}`,
    `  BLAS (torch.mm, bmm, Linear): ${info.blas?.kind} (${info.blas?.path}); ATen parallel backend: ${info.parallelBackend}; oneDNN (torch.backends.mkldnn) available ${info.mkldnn?.available}, enabled ${info.mkldnn?.enabled}`,
    `  threads: each "torch Nt" config sets OMP/MKL/OPENBLAS_NUM_THREADS=N before torch loads, then torch.set_num_threads(N) (the ${info.threads}-thread child: ${env}, get_num_threads() ${info.threads}); interop threads ${info.interopThreads}`,
    ...(info.blas?.kind === "reference"
      ? [`  WARNING: that is netlib's reference BLAS (Debian's libblas3; no OpenBLAS installed): rows built on matrix products (GEMM, attention, Linear layers) time it, 10–30× slower than torch with OpenBLAS; \`apt-get install libopenblas0\` (or LD_LIBRARY_PATH=<a dir holding OpenBLAS's libblas.so.3>) makes them fair`]
      : []),
    `  allocator: ${info.allocator}; forward-only rows run under torch.inference_mode(); GEMM writes into a preallocated out=; attention is the 1.13 composite softmax(q·kᵀ/√d + mask)·v`,
  ];
}
