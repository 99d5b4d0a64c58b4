// npm run bench -- --backend webgpu: GPU workloads on webgrad's WebGPU backend
// beside @tensorflow/tfjs-backend-webgpu (and onnxruntime-web's WebGPU EP where
// it runs), in one process on one device, so the ratios compare like with like.
//
//   npm run bench -- --backend webgpu            GEMM up to 4096³, Adam 10M, elementwise
//   npm run bench -- --backend webgpu --quick    small shapes (SwiftShader-sized; CI)
//
// bench/run.ts starts this file in a child process with the SwiftShader
// variables set when no GPU driver is configured (docs/WEBGPU.md), so it runs
// on a machine with no GPU too (slowly). Every engine's GEMM result is checked
// against a float64 reference on sampled elements before it is timed.
// Timing: `reps` calls recorded back to back, then one readback that waits for
// all of them (webgrad: sync(); tfjs: data() of the last); the best of
// `rounds` such batches, in GFLOPS.

import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { WasmBackend } from "../host/backends/wasm.js";
import { rng } from "../host/random.js";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const rounds = quick ? 2 : 5;
const GEMM = quick ? [64, 128] : [256, 512, 1024, 2048, 4096];
const ADAM = quick ? 100_000 : 10_000_000;

function randomF32(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** Sampled elements of A·B (row-major n×n) in float64 against `c`. */
function checkGemm(a: Float32Array, b: Float32Array, c: Float32Array, n: number, who: string): void {
  const r = rng(99);
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(r() * n), j = Math.floor(r() * n);
    let ref = 0;
    for (let k = 0; k < n; k++) ref += a[i * n + k] * b[k * n + j];
    if (Math.abs(c[i * n + j] - ref) > 1e-4 * n + 1e-3 * Math.abs(ref)) {
      throw new Error(`${who}: gemm ${n}³ wrong at [${i},${j}]: ${c[i * n + j]} vs ${ref}`);
    }
  }
}

interface Row { workload: string; engine: string; ms: number; gflops?: number; note?: string }
const rows: Row[] = [];

async function webgradGemm(gpu: WebGpuBackend, n: number): Promise<void> {
  const a = randomF32(n * n, 1), b = randomF32(n * n, 2);
  const pa = gpu.mm.pool.alloc(n * n * 4), pb = gpu.mm.pool.alloc(n * n * 4), pc = gpu.mm.pool.alloc(n * n * 4);
  gpu.write(pa, a); gpu.write(pb, b);
  gpu.k.gemm_f32(pa, pb, pc, n, n, n, n, n, n, 0, 0);
  checkGemm(a, b, new Float32Array(await gpu.read(pc, n * n * 4)), n, "webgrad-webgpu");
  const reps = Math.max(2, Math.min(50, Math.round(2e11 / (2 * n ** 3))));
  // recording returns at once: each round ends with sync(), which waits for the GPU
  let ms2 = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) gpu.k.gemm_f32(pa, pb, pc, n, n, n, n, n, n, 0, 0);
    await gpu.sync();
    ms2 = Math.min(ms2, (performance.now() - t0) / reps);
  }
  rows.push({ workload: `gemm ${n}³`, engine: "webgrad-webgpu", ms: ms2, gflops: (2 * n ** 3) / ms2 / 1e6 });
  for (const p of [pa, pb, pc]) gpu.mm.pool.free(p, n * n * 4);
}

async function webgradAdam(gpu: WebGpuBackend, n: number): Promise<void> {
  const ptrs = [0, 1, 2, 3].map((i) => {
    const p = gpu.mm.pool.alloc(n * 4);
    gpu.write(p, randomF32(n, 10 + i).map((v) => (i === 3 ? v * v : v)));
    return p;
  });
  const step = () => gpu.k.adam_f32(ptrs[0], ptrs[1], ptrs[2], ptrs[3], n, 1e-3, 0.9, 0.999, 0.1, 0.001, 1e-8, 0, 1e-2, 0.03, 0);
  step();
  await gpu.sync();
  const reps = 20;
  let t = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) step();
    await gpu.sync();
    t = Math.min(t, (performance.now() - t0) / reps);
  }
  // 16n bytes read, 12n written
  rows.push({ workload: `adam ${n}`, engine: "webgrad-webgpu", ms: t, note: `${((28 * n) / t / 1e6).toFixed(1)} GB/s` });
  for (const p of ptrs) gpu.mm.pool.free(p, n * 4);
}

async function tfjsGemm(n: number): Promise<void> {
  let tf: any;
  try {
    const g = globalThis as any;
    if (!g.navigator?.gpu) {
      const { create, globals } = await import("webgpu" as string);
      Object.assign(g, globals);
      Object.defineProperty(g, "navigator", { value: { ...(g.navigator ?? {}), gpu: create([]) }, configurable: true });
    }
    tf = await import("@tensorflow/tfjs-core");
    await import("@tensorflow/tfjs-backend-webgpu");
    if (!(await tf.setBackend("webgpu"))) throw new Error("setBackend('webgpu') returned false");
    await tf.ready();
  } catch (e) {
    rows.push({ workload: `gemm ${n}³`, engine: "tfjs-webgpu", ms: NaN, note: `did not run: ${(e as Error).message}` });
    return;
  }
  const a = randomF32(n * n, 1), b = randomF32(n * n, 2);
  const ta = tf.tensor2d(a, [n, n]), tb = tf.tensor2d(b, [n, n]);
  const c0 = tf.matMul(ta, tb);
  checkGemm(a, b, (await c0.data()) as Float32Array, n, "tfjs-webgpu");
  c0.dispose();
  const reps = Math.max(2, Math.min(50, Math.round(2e11 / (2 * n ** 3))));
  let t = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    let last: any = null;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = tf.matMul(ta, tb);
    }
    await last.data();
    last.dispose();
    t = Math.min(t, (performance.now() - t0) / reps);
  }
  rows.push({ workload: `gemm ${n}³`, engine: "tfjs-webgpu", ms: t, gflops: (2 * n ** 3) / t / 1e6 });
  ta.dispose(); tb.dispose();
}

async function main(): Promise<void> {
  const wasm = await WasmBackend.create({ threads: 1, verbose: false });
  const gpu = await WebGpuBackend.create({ verbose: false }, wasm);
  console.log(`webgrad bench --backend webgpu${quick ? " (quick)" : ""}: ${gpu.summary}`);
  for (const n of GEMM) {
    await webgradGemm(gpu, n);
    await tfjsGemm(n);
  }
  await webgradAdam(gpu, ADAM);
  rows.push({ workload: "(all)", engine: "onnxruntime-web", ms: NaN, note: "not run: this bench does not drive onnxruntime-web's WebGPU EP yet (to do: an ONNX MatMul model through bench/engines/onnx-model.ts with executionProviders [\"webgpu\"])" });
  console.log("workload        engine            ms/op      GFLOPS   vs webgrad  note");
  for (const r of rows) {
    const mine = rows.find((x) => x.workload === r.workload && x.engine === "webgrad-webgpu");
    const ratio = r.gflops && mine?.gflops ? (mine.gflops / r.gflops).toFixed(2) + "×" : "";
    console.log(
      `${r.workload.padEnd(16)}${r.engine.padEnd(18)}${(Number.isNaN(r.ms) ? "-" : r.ms.toFixed(3)).padStart(9)}` +
        `${(r.gflops ? r.gflops.toPrecision(3) : "").padStart(12)}${(r.engine === "webgrad-webgpu" ? "" : ratio).padStart(12)}  ${r.note ?? ""}`,
    );
  }
  gpu.shutdown();
  wasm.shutdown();
}

await main();
