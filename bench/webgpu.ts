// npm run bench -- --backend webgpu: GPU workloads on webgrad's WebGPU backend
// beside @tensorflow/tfjs-backend-webgpu and onnxruntime-web's WebGPU EP (GEMM), in
// one process on one GPU, so the ratios compare like with like. onnxruntime-web runs
// in Node on Dawn's navigator.gpu with one shim (see ensureNavigatorGpu).
//
//   npm run bench -- --backend webgpu            GEMM up to 4096³, Adam 10M, conv a/b/c,
//                                                attention, the S1 training step at batch 64
//   npm run bench -- --backend webgpu --quick    small shapes (SwiftShader-sized; CI)
//
// Conv, attention and the S1 step run through the engine (wg.init, the ops and
// autograd, as a user's code does) on webgrad's wasm backend (every core) and
// on WebGPU in the same process; the WebGPU result is checked against wasm's
// first, and the table gives webgpu's speed-up over wasm on this machine.
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
import { rng } from "../host/random.js";
import * as wg from "../host/index.js";
import { MnistCNN } from "../host/zoo/mnist-cnn.js";
import { input, modelInit, labels, flops, label, type Workload } from "./workloads.js";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const rounds = quick ? 2 : 5;
const GEMM = quick ? [64, 128] : [256, 512, 1024, 2048, 4096];
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
  : [
      ...[false, true].flatMap((b) => [convW(64, 1, 28, 16, 0, b), convW(64, 3, 32, 32, 1, b), convW(32, 32, 32, 64, 1, b)]),
      attnW(512, false, false), attnW(512, true, true), attnW(1024, true, false), attnW(1024, true, true),
      { kind: "train", model: "s1", batch: 64 },
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

/** Times `w` on the current engine backend: reps passes recorded, then one wait; the best of `rounds`. */
async function timeEngine(w: Workload): Promise<{ ms: number; out: Float32Array }> {
  const be = wg.backend() as any;
  const job = engineWorkload(w);
  job.run(); // warm-up: pipelines compiled, memory pooled
  const out = await job.result();
  const f = flops(w) || 1e8;
  const reps = Math.max(2, Math.min(30, Math.round((quick ? 2e8 : 2e10) / f)));
  let ms = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) job.run();
    if (be.sync) await be.sync();
    ms = Math.min(ms, (performance.now() - t0) / reps);
  }
  job.dispose();
  return { ms, out };
}

async function engineRows(): Promise<void> {
  const cpu: { ms: number; out: Float32Array }[] = [];
  const info = await wg.init({ backend: "wasm", verbose: false });
  console.log(`engine workloads: wasm ${info.kernels}, ${info.threads} thread(s) vs webgpu`);
  for (const w of ENGINE_WORKLOADS) cpu.push(await timeEngine(w));
  wg.shutdown();
  await wg.init({ backend: "webgpu", verbose: false });
  for (let i = 0; i < ENGINE_WORKLOADS.length; i++) {
    const w = ENGINE_WORKLOADS[i], name = label(w), f = flops(w);
    let gpu: { ms: number; out: Float32Array };
    try {
      gpu = await timeEngine(w);
      let worst = 0, scale = 1e-6;
      for (let j = 0; j < gpu.out.length; j++) { worst = Math.max(worst, Math.abs(gpu.out[j] - cpu[i].out[j])); scale = Math.max(scale, Math.abs(cpu[i].out[j])); }
      if (!(worst <= 1e-3 * scale)) throw new Error(`result differs from wasm's by ${worst} (scale ${scale})`);
    } catch (e) {
      rows.push({ workload: name, engine: "webgrad-webgpu", ms: NaN, note: `failed: ${(e as Error).message}` });
      continue;
    }
    const gf = (ms: number) => (f ? f / ms / 1e6 : undefined);
    rows.push({ workload: name, engine: "webgrad-webgpu", ms: gpu.ms, gflops: gf(gpu.ms), note: "checked against wasm" });
    rows.push({ workload: name, engine: "webgrad-wasm", ms: cpu[i].ms, gflops: gf(cpu[i].ms), vs: `${(cpu[i].ms / gpu.ms).toPrecision(3)}×` });
  }
  wg.shutdown();
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
  await webgradAdam(gpu, ADAM);
  gpu.shutdown();
  await engineRows();
  const peak = peakTflops(gpu.summary);
  for (const r of rows) {
    if (peak && r.gflops && r.engine.startsWith("webgrad-webgpu") && r.workload.startsWith("gemm")) {
      r.note = [r.note, `${((100 * r.gflops) / (peak.tflops * 1000)).toFixed(1)}% of f32 peak`].filter(Boolean).join("; ");
    }
  }
  const wl = Math.max(16, ...rows.map((r) => r.workload.length + 2));
  console.log(`${"workload".padEnd(wl)}engine            ms/op      GFLOPS   vs webgrad  note`);
  for (const r of rows) {
    const mine = rows.find((x) => x.workload === r.workload && x.engine === "webgrad-webgpu");
    const ratio = r.vs ?? (r.gflops && mine?.gflops ? (mine.gflops / r.gflops).toPrecision(3) + "×" : "");
    console.log(
      `${r.workload.padEnd(wl)}${r.engine.padEnd(18)}${(Number.isNaN(r.ms) ? "-" : r.ms.toFixed(3)).padStart(9)}` +
        `${(r.gflops ? r.gflops.toPrecision(3) : "").padStart(12)}${(r.engine === "webgrad-webgpu" ? "" : ratio).padStart(12)}  ${r.note ?? ""}`,
    );
  }
  console.log(peak ? `f32 peak: ${peak.tflops} TFLOPS (${peak.source})` : "f32 peak: unknown for this adapter (pass --peak-tflops N for the share of peak)");
  const json = opt("--json");
  if (json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), quick, adapter: gpu.summary, peakTflops: peak?.tflops ?? null, rows }, null, 1));
    console.log(`wrote ${json}`);
  }
}

await main();
