// npm run bench -- --backend webgpu: GPU workloads on webgrad's WebGPU backend
// beside @tensorflow/tfjs-backend-webgpu and onnxruntime-web's WebGPU EP (GEMM), in
// one process on one GPU, so the ratios compare like with like. onnxruntime-web runs
// in Node on Dawn's navigator.gpu with one shim (see ensureNavigatorGpu).
//
//   npm run bench -- --backend webgpu            GEMM up to 4096³, Adam 10M, conv a/b/c,
//                                                attention, the S1 training step at batch 64
//   npm run bench -- --backend webgpu --quick    small shapes (SwiftShader-sized; CI)
//   npm run bench -- --backend webgpu --software the issue-16 set sized for a software
//                                                adapter: GEMM to 1024³, conv b/c, attention
//                                                S=128/512, the S1 step at batch 64 and 256
//   --no-gemm                                    the engine workloads only (no GEMM, no Adam)
//   --wasm-threads N                             the wasm rows on N threads (default: every core)
//
// Conv, attention and the S1 step run through the engine (wg.init, the ops and
// autograd, as a user's code does) on webgrad's wasm backend (every core) and
// on WebGPU in the same process; the WebGPU result is checked against wasm's
// first, and the table gives webgpu's speed-up over wasm on this machine.
// The same workloads run a second time with GPU_TILING off (plans.ts: the
// untiled conv and attention kernels the tiled ones replaced), interleaved
// round by round with the tiled runs: rows "webgrad-webgpu-untiled", an A/B of
// one build in one process. Conv and attention also run on tfjs-webgpu (conv2d
// in NHWC with the same numbers transposed; attention as matMul, softmax,
// matMul, as tfjs has no fused attention), checked against webgrad's wasm result.
// On a software adapter (SwiftShader, llvmpipe/lavapipe) every ratio is marked
// "software (…)": a CPU driver's ratios say nothing about a GPU.
//
// bench/run.ts starts this file in a child process with the SwiftShader
// variables set when no GPU driver is configured (docs/WEBGPU.md), so it runs
// on a machine with no GPU too (slowly). Every engine's GEMM result is checked
// against a float64 reference on sampled elements before it is timed.
// Where the adapter has shader-f16, webgrad's GEMM also runs with matmulPrecision
// "f16" (rows webgrad-webgpu-f16, checked against the bound gemm.f16.wgsl states).
// Timing: `reps` calls recorded back to back, then one readback that waits for
// all of them (webgrad: sync(); tfjs: data() of the last); the best of
// `rounds` such batches, in GFLOPS.

import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { GPU_TILING } from "../host/backends/webgpu/plans.js";
import { rng } from "../host/random.js";
import * as wg from "../host/index.js";
import { MnistCNN } from "../host/zoo/mnist-cnn.js";
import { input, modelInit, labels, flops, label, type Workload } from "./workloads.js";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const software = argv.includes("--software");
const noGemm = argv.includes("--no-gemm");
const rounds = quick ? 2 : software ? 2 : 5;
const GEMM = noGemm ? [] : quick ? [64, 128] : software ? [256, 512, 1024] : [256, 512, 1024, 2048, 4096];
const ADAM = quick ? 100_000 : 10_000_000;
const opt = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);

/**
 * f32 (non-tensor-core) peak TFLOPS of GPUs the targets name, by a
 * pattern of the adapter description; `--peak-tflops N` overrides. WebGPU
 * cannot report clocks or SM counts, so the share of peak needs this table.
 * H100 SXM 66.9, H100 PCIe 51.2, H200 (SXM) 66.9: NVIDIA's datasheets.
 */
const F32_PEAK_TFLOPS: [RegExp, number][] = [
  [/H100.*PCIe/i, 51.2],
  [/H100|H200|GH100/i, 66.9],
];
function peakTflops(description: string): { tflops: number; source: string } | null {
  const given = Number(opt("--peak-tflops"));
  if (given > 0) return { tflops: given, source: "--peak-tflops" };
  const hit = F32_PEAK_TFLOPS.find(([re]) => re.test(description));
  return hit ? { tflops: hit[1], source: `datasheet figure for ${hit[0].source}` } : null;
}

function randomF32(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 - 1;
  return a;
}

/** What an f32 GEMM may be off by at an element (k = n terms, reference `ref`, Σ|a·b| = `sabs`). */
const F32_TOL = (n: number, ref: number, _sabs: number) => 1e-4 * n + 1e-3 * Math.abs(ref);
/** matmulPrecision "f16": the bound shaders/gemm.f16.wgsl states (f16 inputs and 4-term f16 runs, f32 sums). */
const F16_TOL = (n: number, _ref: number, sabs: number) => 6.02 * 2 ** -11 * sabs + (Math.ceil(n / 4) + 1) * 2 ** -24 * 1.01 * sabs;

/** Sampled elements of A·B (row-major n×n) in float64 against `c`. */
function checkGemm(a: Float32Array, b: Float32Array, c: Float32Array, n: number, who: string, tol = F32_TOL): void {
  const r = rng(99);
  for (let s = 0; s < 64; s++) {
    const i = Math.floor(r() * n), j = Math.floor(r() * n);
    let ref = 0, sabs = 0;
    for (let k = 0; k < n; k++) {
      ref += a[i * n + k] * b[k * n + j];
      sabs += Math.abs(a[i * n + k] * b[k * n + j]);
    }
    if (!(Math.abs(c[i * n + j] - ref) <= tol(n, ref, sabs))) {
      throw new Error(`${who}: gemm ${n}³ wrong at [${i},${j}]: ${c[i * n + j]} vs ${ref}`);
    }
  }
}

interface Row { workload: string; engine: string; ms: number; gflops?: number; note?: string; vs?: string }
const rows: Row[] = [];

/** `gpu` made with matmulPrecision "f16" gives the f16 rows (engine webgrad-webgpu-f16), checked with the f16 bound. */
async function webgradGemm(gpu: WebGpuBackend, n: number): Promise<void> {
  const f16 = gpu.caps.matmulF16, engine = f16 ? "webgrad-webgpu-f16" : "webgrad-webgpu";
  const a = randomF32(n * n, 1), b = randomF32(n * n, 2);
  const pa = gpu.mm.pool.alloc(n * n * 4), pb = gpu.mm.pool.alloc(n * n * 4), pc = gpu.mm.pool.alloc(n * n * 4);
  gpu.write(pa, a); gpu.write(pb, b);
  gpu.kernels.gemm_f32({ a: pa, b: pb, c: pc, m: n, n, k: n, lda: n, ldb: n, ldc: n, flags: 0 });
  checkGemm(a, b, new Float32Array(await gpu.read(pc, n * n * 4)), n, engine, f16 ? F16_TOL : F32_TOL);
  const reps = Math.max(2, Math.min(50, Math.round(2e11 / (2 * n ** 3))));
  // recording returns at once: each round ends with sync(), which waits for the GPU
  let ms2 = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) gpu.kernels.gemm_f32({ a: pa, b: pb, c: pc, m: n, n, k: n, lda: n, ldb: n, ldc: n, flags: 0 });
    await gpu.sync();
    ms2 = Math.min(ms2, (performance.now() - t0) / reps);
  }
  rows.push({ workload: `gemm ${n}³`, engine, ms: ms2, gflops: (2 * n ** 3) / ms2 / 1e6, note: f16 ? "f16 products, f32 sums (checked with the f16 bound)" : undefined });
  for (const p of [pa, pb, pc]) gpu.mm.pool.free(p);
}

async function webgradAdam(gpu: WebGpuBackend, n: number): Promise<void> {
  const ptrs = [0, 1, 2, 3].map((i) => {
    const p = gpu.mm.pool.alloc(n * 4);
    gpu.write(p, randomF32(n, 10 + i).map((v) => (i === 3 ? v * v : v)));
    return p;
  });
  const step = () => gpu.kernels.adam_f32({ p: ptrs[0], g: ptrs[1], m: ptrs[2], v: ptrs[3], n, lr: 1e-3, beta1: 0.9, beta2: 0.999, c1: 0.1, c2: 0.001, eps: 1e-8, weightDecay: 0, stepSize: 1e-2, bc2Sqrt: 0.03, decoupled: 0 });
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
  for (const p of ptrs) gpu.mm.pool.free(p);
}

/** navigator.gpu from Dawn (the `webgpu` package) when the runtime has none, for tfjs and onnxruntime-web. */
async function ensureNavigatorGpu(): Promise<void> {
  const g = globalThis as any;
  if (g.navigator?.gpu) return;
  const { create, globals } = await import("webgpu" as string);
  Object.assign(g, globals);
  // onnxruntime-web's WebGPU EP calls writeBuffer with views of its wasm memory, a
  // SharedArrayBuffer (the threaded build), and BigInt offsets, which Dawn for Node rejects
  // ("Invalid argument"): those calls get a number and a copy (theirs only; the copies are
  // of kernel uniforms and small inputs, outside the timed GEMM loop's data).
  const write = globals.GPUQueue.prototype.writeBuffer;
  globals.GPUQueue.prototype.writeBuffer = function (this: unknown, buf: unknown, off: number | bigint, data: any, dOff: number | bigint = 0, size?: number | bigint) {
    const shared = typeof SharedArrayBuffer !== "undefined" && data?.buffer instanceof SharedArrayBuffer;
    if (typeof off !== "bigint" && !shared) return write.call(this, buf, off, data, dOff, size);
    const from = Number(dOff), n = size === undefined ? data.length - from : Number(size);
    return write.call(this, buf, Number(off), data.slice(from, from + n));
  };
  Object.defineProperty(g, "navigator", { value: { ...(g.navigator ?? {}), gpu: create([]) }, configurable: true });
}

let ort: any = null;

/** onnxruntime-web's WebGPU EP: a MatMul model, inputs and output kept in GPU buffers (no upload or readback timed). */
async function ortGemm(n: number): Promise<void> {
  let session: any, feeds: Record<string, any>, fetches: Record<string, any>, out: any;
  try {
    await ensureNavigatorGpu();
    if (!ort) {
      ort = await import("onnxruntime-web/webgpu" as string);
      const { createRequire } = await import("node:module");
      const { dirname } = await import("node:path");
      const { pathToFileURL } = await import("node:url");
      ort.env.wasm.wasmPaths = pathToFileURL(dirname(createRequire(import.meta.url).resolve("onnxruntime-web/webgpu")) + "/").href;
      ort.env.wasm.numThreads = 1;
      ort.env.wasm.proxy = false;
      ort.env.logLevel = "error";
    }
    const { onnxModel } = await import("./engines/onnx-model.js");
    const { gemmGraph } = await import("./engines/onnxruntime-web.js");
    session = await ort.InferenceSession.create(onnxModel(gemmGraph(n, n, n)), { executionProviders: ["webgpu"], preferredOutputLocation: "gpu-buffer" });
    const device = await ort.env.webgpu.device;
    const U = (globalThis as any).GPUBufferUsage;
    const a = randomF32(n * n, 1), b = randomF32(n * n, 2);
    const gpuInput = (data: Float32Array) => {
      const buf = device.createBuffer({ size: data.byteLength, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
      device.queue.writeBuffer(buf, 0, data);
      return ort.Tensor.fromGpuBuffer(buf, { dataType: "float32", dims: [n, n] });
    };
    feeds = { A: gpuInput(a), B: gpuInput(b) };
    out = (await session.run(feeds)).C;
    checkGemm(a, b, (await out.getData()) as Float32Array, n, "onnxruntime-web-webgpu");
    fetches = {};
  } catch (e) {
    rows.push({ workload: `gemm ${n}³`, engine: "ort-webgpu", ms: NaN, note: `not run: ${(e as Error).message.split("\n")[0].slice(0, 160)}` });
    return;
  }
  const reps = Math.max(2, Math.min(50, Math.round(2e11 / (2 * n ** 3))));
  let t = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    let last: any = null;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = (await session.run(feeds)).C;
    }
    await last.getData(); // waits for the queue
    last.dispose();
    t = Math.min(t, (performance.now() - t0) / reps);
  }
  void fetches;
  rows.push({ workload: `gemm ${n}³`, engine: "ort-webgpu", ms: t, gflops: (2 * n ** 3) / t / 1e6 });
  out?.dispose?.();
  await session.release();
}

async function tfjsGemm(n: number): Promise<void> {
  let tf: any;
  try {
    await ensureNavigatorGpu();
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

const convW = (n: number, c: number, hw: number, oc: number, pad: number, backward: boolean): Workload =>
  ({ kind: "conv", n, c, h: hw, w: hw, oc, kh: 3, kw: 3, pad, backward });
const attnW = (s: number, causal: boolean, backward: boolean): Workload => ({ kind: "attention", b: 1, h: 8, s, d: 64, causal, backward });
/** The wasm bench's conv a/b/c, attention and S1 step (bench/run.ts), forward and forward+backward. */
const ENGINE_WORKLOADS: Workload[] = quick
  ? [convW(4, 1, 28, 16, 0, false), convW(4, 1, 28, 16, 0, true), attnW(32, true, false), attnW(32, true, true), { kind: "train", model: "s1", batch: 8 }]
  : software
  ? [
      ...[false, true].flatMap((b) => [convW(64, 3, 32, 32, 1, b), convW(32, 32, 32, 64, 1, b)]),
      ...[128, 512].flatMap((s) => [attnW(s, true, false), attnW(s, true, true)]),
      { kind: "train", model: "s1", batch: 64 }, { kind: "train", model: "s1", batch: 256 },
    ]
  : [
      ...[false, true].flatMap((b) => [convW(64, 1, 28, 16, 0, b), convW(64, 3, 32, 32, 1, b), convW(32, 32, 32, 64, 1, b)]),
      attnW(512, false, false), attnW(512, true, true), attnW(1024, true, false), attnW(1024, true, true),
      { kind: "train", model: "s1", batch: 64 }, { kind: "train", model: "s1", batch: 256 },
    ];

/** Builds the workload on the current backend; run() records one pass, result() reads its output. */
function engineWorkload(w: Workload): { run(): void; result(): Promise<Float32Array>; dispose(): void } {
  const keep: wg.Tensor[] = [];
  const k = <T extends wg.Tensor>(t: T) => (keep.push(t.keep()), t);
  let last: wg.Tensor | null = null;
  const setLast = (t: wg.Tensor) => { last?.dispose(); last = t.keep(); };
  if (w.kind === "conv") {
    const x = k(wg.tensor(input(w.n * w.c * w.h * w.w, 1), { shape: [w.n, w.c, w.h, w.w] }));
    const wt = k(wg.tensor(input(w.oc * w.c * w.kh * w.kw, 2).map((v) => v * 0.2), { shape: [w.oc, w.c, w.kh, w.kw], requiresGrad: w.backward }));
    const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
    const r = k(wg.tensor(input(w.n * w.oc * oh * ow, 3), { shape: [w.n, w.oc, oh, ow] }));
    return {
      run: () => wg.scope(() => {
        const y = wg.conv2d(x, wt, null, { padding: w.pad });
        if (!w.backward) return setLast(y);
        wt.grad = null;
        y.mul(r).sum().backward();
        setLast(wt.grad!);
      }),
      result: async () => (await last!.data()) as Float32Array,
      dispose: () => { last?.dispose(); keep.forEach((t) => t.dispose()); },
    };
  }
  if (w.kind === "attention") {
    const n = w.b * w.h * w.s * w.d, shape = [w.b, w.h, w.s, w.d];
    const [q, kk, v] = [1, 2, 3].map((s) => k(wg.tensor(input(n, s), { shape, requiresGrad: w.backward })));
    const r = k(wg.tensor(input(n, 4), { shape }));
    return {
      run: () => wg.scope(() => {
        const o = wg.scaledDotProductAttention(q, kk, v, { causal: w.causal });
        if (!w.backward) return setLast(o);
        q.grad = kk.grad = v.grad = null;
        o.mul(r).sum().backward();
        setLast(q.grad!);
      }),
      result: async () => (await last!.data()) as Float32Array,
      dispose: () => { last?.dispose(); keep.forEach((t) => t.dispose()); },
    };
  }
  if (w.kind === "train" && w.model === "s1") {
    const model = new MnistCNN();
    model.loadStateDict(modelInit("s1"));
    const opt = new wg.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = k(wg.tensor(input(w.batch * 784, 12), { shape: [w.batch, 1, 28, 28] }));
    const y = k(wg.tensor(labels(w.batch), { dtype: "int32" }));
    let first: wg.Tensor | null = null;
    return {
      run: () => wg.scope(() => {
        opt.zeroGrad();
        const l = wg.nn.crossEntropy(model.forward(x), y);
        l.backward();
        opt.step();
        first ??= l.clone().keep();
      }),
      result: async () => (await first!.data()) as Float32Array,
      dispose: () => { first?.dispose(); keep.forEach((t) => t.dispose()); },
    };
  }
  throw new Error(`bench webgpu: no engine workload for ${label(w)}`);
}

/** CPU time of this process (ms): SwiftShader's threads run inside it, so this is the driver's work too. */
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** reps passes of `job` recorded, then one wait: wall and CPU ms per pass. */
async function timeBatch(job: { run(): void }, reps: number): Promise<{ ms: number; cpu: number }> {
  const be = wg.backend() as any;
  const t0 = performance.now(), c0 = cpuMs();
  for (let i = 0; i < reps; i++) job.run();
  if (be.sync) await be.sync();
  return { ms: (performance.now() - t0) / reps, cpu: (cpuMs() - c0) / reps };
}

// on a software adapter a conv (c) pass takes tens of seconds: one pass per batch, one batch past 1 GFLOP
const repsFor = (w: Workload) => Math.max(software ? 1 : 2, Math.min(30, Math.round((quick ? 2e8 : software ? 5e8 : 2e10) / (flops(w) || 1e8))));
const roundsFor = (w: Workload) => (software && flops(w) > 1e9 ? 1 : rounds);

/** Times `w` on the current engine backend: reps passes recorded, then one wait; the best of `rounds`. */
async function timeEngine(w: Workload): Promise<{ ms: number; out: Float32Array }> {
  const job = engineWorkload(w);
  job.run(); // warm-up: pipelines compiled, memory pooled
  const out = await job.result();
  const reps = repsFor(w);
  let ms = Infinity;
  for (let r = 0; r < roundsFor(w); r++) ms = Math.min(ms, (await timeBatch(job, reps)).ms);
  job.dispose();
  return { ms, out };
}

/**
 * The tiled kernels (A) against the untiled ones (B, GPU_TILING off) on WebGPU,
 * round by round in turn so the machine's load falls on both alike: best wall
 * and CPU ms of each, and each one's first result.
 */
async function timeTiledAB(w: Workload): Promise<{ a: { ms: number; cpu: number; out: Float32Array }; b: { ms: number; cpu: number; out: Float32Array } }> {
  const set = (on: boolean) => { GPU_TILING.conv = on; GPU_TILING.attention = on; };
  const reps = repsFor(w);
  const jobs = [true, false].map((on) => { set(on); const j = engineWorkload(w); j.run(); return j; });
  const res: { ms: number; cpu: number; out: Float32Array }[] = [];
  for (let i = 0; i < 2; i++) { set(i === 0); res.push({ ms: Infinity, cpu: Infinity, out: await jobs[i].result() }); }
  try {
    for (let r = 0; r < roundsFor(w); r++) {
      for (let i = 0; i < 2; i++) {
        set(i === 0);
        const t = await timeBatch(jobs[i], reps);
        res[i].ms = Math.min(res[i].ms, t.ms);
        res[i].cpu = Math.min(res[i].cpu, t.cpu);
      }
    }
  } finally {
    set(true);
    jobs.forEach((j) => j.dispose());
  }
  return { a: res[0], b: res[1] };
}

/** The largest |a − b| relative to max |b|; throws past 1e-3 (b: wasm's result). */
function checkAgainst(a: Float32Array, b: Float32Array, who: string): void {
  if (a.length !== b.length) throw new Error(`${who}: ${a.length} values, wasm gave ${b.length}`);
  let worst = 0, scale = 1e-6;
  for (let j = 0; j < a.length; j++) { worst = Math.max(worst, Math.abs(a[j] - b[j])); scale = Math.max(scale, Math.abs(b[j])); }
  if (!(worst <= 1e-3 * scale)) throw new Error(`${who}: result differs from wasm's by ${worst} (scale ${scale})`);
}

/** tfjs-webgpu (tfjs-core's ops on its WebGPU backend), or the reason it cannot run. */
async function tfjsWebGpu(): Promise<any> {
  await ensureNavigatorGpu();
  const tf = await import("@tensorflow/tfjs-core");
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) throw new Error("setBackend('webgpu') returned false");
  await tf.ready();
  // tfjs-core's Node bundles register no gradients (bench/engines/tfjs-wasm.ts says why). Conv2D's
  // is registered first, as tfjs-core's own: both gradients through tfjs-webgpu's backprop kernels
  // (the tfjs-wasm adapter's conv-of-transposes stands in for a kernel tfjs-wasm lacks); the
  // rest (Sum, Mul, Add, BatchMatMul, Softmax, …) as that adapter registers them.
  if (tf.getGradient("Conv2D") == null) {
    tf.registerGradient({
      kernelName: "Conv2D",
      inputsToSave: ["x", "filter"],
      gradFunc: (dy: any, [x, filter]: any[], attrs: any) => {
        const { strides, pad, dataFormat, dimRoundingMode } = attrs;
        return {
          x: () => tf.engine().runKernel("Conv2DBackpropInput", { dy, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape }),
          filter: () => tf.engine().runKernel("Conv2DBackpropFilter", { x, dy }, { strides, pad, dataFormat, dimRoundingMode, filterShape: filter.shape }),
        };
      },
    });
  }
  const { registerGradients } = await import("./engines/tfjs-wasm.js");
  registerGradients(tf);
  return tf;
}

/** [d0,d1,d2,d3] permuted by perm (out dim i is shape[perm[i]]): NCHW ↔ NHWC, OIHW ↔ HWIO. */
function permute4(src: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(src.length);
  const st = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const os = perm.map((p) => shape[p]), s = perm.map((p) => st[p]);
  let o = 0;
  for (let a = 0; a < os[0]; a++) for (let b = 0; b < os[1]; b++) for (let c = 0; c < os[2]; c++) {
    const base = a * s[0] + b * s[1] + c * s[2];
    for (let d = 0; d < os[3]; d++) out[o++] = src[base + d * s[3]];
  }
  return out;
}

/**
 * Conv and attention on tfjs-webgpu with the workload's numbers: conv2d in NHWC/HWIO
 * (the inputs transposed once, the result back to NCHW/OIHW for the check); the
 * backward is the filter gradient only, as the webgrad rows (x needs no gradient);
 * attention as matMul(q·scale, kᵀ) (+ a causal mask of −1e9), softmax, matMul,
 * its backward dq, dk, dv through tf.grads. null for workloads it does not run here.
 */
function tfjsWorkload(tf: any, w: Workload): { run(): any; toResult(d: Float32Array): Float32Array; dispose(): void } | null {
  const pad = (p: number) => (p === 0 ? "valid" : [[0, 0], [p, p], [p, p], [0, 0]]);
  if (w.kind === "conv") {
    const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
    const x = tf.tensor4d(permute4(input(w.n * w.c * w.h * w.w, 1), [w.n, w.c, w.h, w.w], [0, 2, 3, 1]), [w.n, w.h, w.w, w.c]);
    const f = tf.tensor4d(permute4(input(w.oc * w.c * w.kh * w.kw, 2).map((v) => v * 0.2), [w.oc, w.c, w.kh, w.kw], [2, 3, 1, 0]), [w.kh, w.kw, w.c, w.oc]);
    if (!w.backward) {
      return { run: () => tf.conv2d(x, f, 1, pad(w.pad)), toResult: (d) => permute4(d, [w.n, oh, ow, w.oc], [0, 3, 1, 2]), dispose: () => tf.dispose([x, f]) };
    }
    const r = tf.tensor4d(permute4(input(w.n * w.oc * oh * ow, 3), [w.n, w.oc, oh, ow], [0, 2, 3, 1]), [w.n, oh, ow, w.oc]);
    const g = tf.grad((ff: any) => tf.sum(tf.mul(tf.conv2d(x, ff, 1, pad(w.pad)), r)));
    return { run: () => tf.tidy(() => g(f)), toResult: (d) => permute4(d, [w.kh, w.kw, w.c, w.oc], [3, 2, 0, 1]), dispose: () => tf.dispose([x, f, r]) };
  }
  if (w.kind === "attention") {
    const shape = [w.b, w.h, w.s, w.d], size = w.b * w.h * w.s * w.d;
    const [q, k, v] = [1, 2, 3].map((seed) => tf.tensor4d(input(size, seed), shape));
    const scale = tf.scalar(1 / Math.sqrt(w.d));
    let mask: any = null;
    if (w.causal) {
      const m = new Float32Array(w.s * w.s);
      for (let i = 0; i < w.s; i++) for (let j = i + 1; j < w.s; j++) m[i * w.s + j] = -1e9;
      mask = tf.tensor2d(m, [w.s, w.s]);
    }
    const attn = (qq: any, kk: any, vv: any) => {
      let sc = tf.matMul(tf.mul(qq, scale), kk, false, true);
      if (mask) sc = tf.add(sc, mask);
      return tf.matMul(tf.softmax(sc), vv);
    };
    const owned = [q, k, v, scale, ...(mask ? [mask] : [])];
    if (!w.backward) return { run: () => tf.tidy(() => attn(q, k, v)), toResult: (d) => d, dispose: () => tf.dispose(owned) };
    const r = tf.tensor4d(input(size, 4), shape);
    owned.push(r);
    const g = tf.grads((qq: any, kk: any, vv: any) => tf.sum(tf.mul(attn(qq, kk, vv), r)));
    return {
      run: () => { const gs = tf.tidy(() => g([q, k, v])); tf.dispose(gs.slice(1)); return gs[0]; },
      toResult: (d) => d,
      dispose: () => tf.dispose(owned),
    };
  }
  return null;
}

/** Times `w` on tfjs-webgpu (best of rounds of reps calls, then data() of the last), checked against wasm's result first. */
async function tfjsEngineRow(tf: any, w: Workload, wasmOut: Float32Array): Promise<void> {
  const name = label(w), f = flops(w);
  const job = tfjsWorkload(tf, w);
  if (!job) return;
  try {
    const first = job.run();
    checkAgainst(job.toResult((await first.data()) as Float32Array), wasmOut, "tfjs-webgpu");
    first.dispose();
    const reps = repsFor(w);
    let ms = Infinity;
    for (let r = 0; r < roundsFor(w); r++) {
      const t0 = performance.now();
      let last: any = null;
      for (let i = 0; i < reps; i++) { last?.dispose(); last = job.run(); }
      await last.data();
      last.dispose();
      ms = Math.min(ms, (performance.now() - t0) / reps);
    }
    rows.push({ workload: name, engine: "tfjs-webgpu", ms, gflops: f ? f / ms / 1e6 : undefined, note: "checked against wasm" });
  } catch (e) {
    rows.push({ workload: name, engine: "tfjs-webgpu", ms: NaN, note: `failed: ${(e as Error).message}` });
  } finally {
    job.dispose();
  }
}

async function engineRows(): Promise<void> {
  const cpu: { ms: number; out: Float32Array }[] = [];
  // --wasm-threads N: the wasm rows on N threads (the S1 goal compares with wasm on 2)
  const wasmThreads = opt("--wasm-threads") ? Number(opt("--wasm-threads")) : undefined;
  const info = await wg.init({ backend: "wasm", verbose: false, ...(wasmThreads ? { threads: wasmThreads } : {}) });
  console.log(`engine workloads: wasm ${info.kernels}, ${info.threads} thread(s) vs webgpu`);
  for (const w of ENGINE_WORKLOADS) cpu.push(await timeEngine(w));
  wg.shutdown();
  await wg.init({ backend: "webgpu", verbose: false });
  for (let i = 0; i < ENGINE_WORKLOADS.length; i++) {
    const w = ENGINE_WORKLOADS[i], name = label(w), f = flops(w);
    let ab: Awaited<ReturnType<typeof timeTiledAB>>;
    try {
      ab = await timeTiledAB(w);
      checkAgainst(ab.a.out, cpu[i].out, "webgrad-webgpu");
      checkAgainst(ab.b.out, cpu[i].out, "webgrad-webgpu-untiled");
    } catch (e) {
      rows.push({ workload: name, engine: "webgrad-webgpu", ms: NaN, note: `failed: ${(e as Error).message}` });
      continue;
    }
    const gf = (ms: number) => (f ? f / ms / 1e6 : undefined);
    rows.push({ workload: name, engine: "webgrad-webgpu", ms: ab.a.ms, gflops: gf(ab.a.ms), note: `checked against wasm; CPU ${ab.a.cpu.toFixed(1)} ms/op` });
    rows.push({ workload: name, engine: "webgrad-webgpu-untiled", ms: ab.b.ms, gflops: gf(ab.b.ms), vs: `${(ab.b.ms / ab.a.ms).toPrecision(3)}×`,
      note: `GPU_TILING off (the kernels before), interleaved with the row above; CPU ${ab.b.cpu.toFixed(1)} ms/op (${(ab.b.cpu / ab.a.cpu).toPrecision(3)}×)` });
    rows.push({ workload: name, engine: "webgrad-wasm", ms: cpu[i].ms, gflops: gf(cpu[i].ms), vs: `${(cpu[i].ms / ab.a.ms).toPrecision(3)}×` });
  }
  wg.shutdown();
  let tf: any;
  try {
    tf = await tfjsWebGpu();
  } catch (e) {
    rows.push({ workload: "conv, attention", engine: "tfjs-webgpu", ms: NaN, note: `did not run: ${(e as Error).message}` });
    return;
  }
  for (let i = 0; i < ENGINE_WORKLOADS.length; i++) await tfjsEngineRow(tf, ENGINE_WORKLOADS[i], cpu[i].out);
}

async function main(): Promise<void> {
  const gpu = await WebGpuBackend.create({ verbose: false });
  console.log(`webgrad bench --backend webgpu${quick ? " (quick)" : ""}: ${gpu.summary}`);
  // a second device in f16 precision where the adapter has shader-f16, so f32 and f16 GEMM sit side by side
  const gpu16 = gpu.caps.f16 ? await WebGpuBackend.create({ verbose: false, matmulPrecision: "f16" }) : null;
  for (const n of GEMM) {
    await webgradGemm(gpu, n);
    if (gpu16) await webgradGemm(gpu16, n);
    await tfjsGemm(n);
    await ortGemm(n);
  }
  if (!gpu16) rows.push({ workload: "gemm", engine: "webgrad-webgpu-f16", ms: NaN, note: "not run: the adapter has no shader-f16" });
  gpu16?.shutdown();
  if (!noGemm) await webgradAdam(gpu, ADAM);
  gpu.shutdown();
  await engineRows();
  const peak = peakTflops(gpu.summary);
  for (const r of rows) {
    if (peak && r.gflops && r.engine.startsWith("webgrad-webgpu") && r.workload.startsWith("gemm")) {
      r.note = [r.note, `${((100 * r.gflops) / (peak.tflops * 1000)).toFixed(1)}% of f32 peak`].filter(Boolean).join("; ");
    }
  }
  // a CPU driver's ratios say nothing about a GPU: every ratio on one is marked as such
  const soft = /swiftshader|llvmpipe|lavapipe|software/i.exec(gpu.summary);
  const softNote = soft ? `software (${/swiftshader/i.test(soft[0]) ? "SwiftShader" : soft[0]})` : null;
  const wl = Math.max(16, ...rows.map((r) => r.workload.length + 2));
  console.log(`${"workload".padEnd(wl)}engine                  ms/op      GFLOPS   vs webgrad  note`);
  for (const r of rows) {
    const mine = rows.find((x) => x.workload === r.workload && x.engine === "webgrad-webgpu");
    const ratio = r.vs ?? (r.gflops && mine?.gflops ? (mine.gflops / r.gflops).toPrecision(3) + "×" : mine && r.ms > 0 && mine.ms > 0 ? (r.ms / mine.ms).toPrecision(3) + "×" : "");
    if (softNote && ratio && r.engine !== "webgrad-webgpu") r.note = [softNote, r.note].filter(Boolean).join("; ");
    if (ratio && r.engine !== "webgrad-webgpu") r.vs = ratio;
    console.log(
      `${r.workload.padEnd(wl)}${r.engine.padEnd(24)}${(Number.isNaN(r.ms) ? "-" : r.ms.toFixed(3)).padStart(9)}` +
        `${(r.gflops ? r.gflops.toPrecision(3) : "").padStart(12)}${(r.engine === "webgrad-webgpu" ? "" : ratio).padStart(12)}  ${r.note ?? ""}`,
    );
  }
  console.log(peak ? `f32 peak: ${peak.tflops} TFLOPS (${peak.source})` : "f32 peak: unknown for this adapter (pass --peak-tflops N for the share of peak)");
  const json = opt("--json");
  if (json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), quick, software, adapter: gpu.summary, softwareAdapter: softNote, peakTflops: peak?.tflops ?? null, rows }, null, 1));
    console.log(`wrote ${json}`);
  }
}

await main();
