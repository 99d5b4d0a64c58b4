// The WebGPU backend: the kernels of the manifests (kernels/*.mjs), recorded as
// compute dispatches of their WGSL twins (shaders/*.wgsl).
//
// - One storage buffer, "the GPU heap", holds every tensor; the MemoryManager
//   hands out byte offsets into it exactly as into wasm linear memory, so host
//   ops pass the same pointers. It grows by allocating a larger buffer and
//   copying (ordered with the recorded work).
// - Kernel arguments go into 256-byte slots of a uniform ring bound with a
//   dynamic offset: one bind group for every dispatch of a batch.
// - Dispatches are recorded into one command encoder (one compute pass) and
//   submitted when the host writes or reads memory, or every `batch` dispatches.
// - Uploads (write) submit what is recorded first, then queue.writeBuffer: the
//   queue runs both in order, so scratch and descriptors reused from op to op
//   are never overwritten under a kernel that has not run yet.
// See docs/WEBGPU.md.

import { FAMILIES, ENTRIES, REQUIRES } from "./shaders.generated.js";
import type { GpuCaps, Grid } from "./plans.js";
import { gpuTwins, gpuKernels, GPU_MISSING } from "./kernels.generated.js";
import { gpuSchedules } from "./schedules.js";
import type { Launcher } from "./launcher.js";
import { requestGpuDevice } from "./device.js";
import { BlockPool, fmtBytes } from "../../memory/pool.js";
import { MemoryManager } from "../../memory/manager.js";
import type { Backend } from "../backend.js";
import type { Kernels, KernelName } from "../abi.generated.js";
import { detectFeatures, type Features } from "../features.js";

export interface WebGpuBackendOptions {
  /** A GPUDevice, GPUAdapter or GPU (navigator.gpu-like) to use instead of finding one. */
  gpu?: unknown;
  /** Cap on the GPU heap in bytes (default: the device's largest storage binding). */
  maxMemory?: number;
  /** Dispatches recorded before a submit (default 64). */
  batch?: number;
  /** Print what was chosen (default true). */
  verbose?: boolean;
  /**
   * Which optional adapter features webgrad may use, of "shader-f16" and
   * "subgroups" (default: every one the adapter has). `[]` runs the plain f32
   * kernels everywhere, as on an adapter with neither.
   */
  features?: string[];
  /**
   * "f32" (default), or "f16": GEMM tiles staged in workgroup memory as f16
   * and multiplied in f16, sums kept in f32 (needs "shader-f16"; about 3
   * decimal digits per product, so for inference and mixed-precision training
   * that tolerates it). Convolutions through im2col use it too.
   */
  matmulPrecision?: "f32" | "f16";
}


/** Adapter features webgrad has kernel variants for (WebGpuBackendOptions.features). */
const OPTIONAL_FEATURES = ["shader-f16", "subgroups"];
const BASE = 65536; // offset 0 stays invalid, as on wasm
const SLOT = 256; // minUniformBufferOffsetAlignment on every adapter
const RING = 1024; // uniform slots per batch
const MAX_GROUPS = 65535;
const GPU_USAGE = () => (globalThis as any).GPUBufferUsage;
const MAP_READ = () => (globalThis as any).GPUMapMode.READ;

export class WebGpuBackend implements Backend, Launcher {
  readonly name = "webgpu";
  readonly variant = "webgpu";
  readonly threads = 1;
  /** GPU memory is not host-visible: reads go through read() (await t.data()). */
  readonly hostMemory = null;
  readonly kernels: Kernels;
  readonly mm: MemoryManager;
  readonly summary: string;
  readonly features: Features;
  /** Adapter features used: "shader-f16", "subgroups", "timestamp-query" where present. */
  readonly gpuFeatures: string[];
  /** What the twins may use (from gpuFeatures and the options). */
  readonly caps: GpuCaps;

  private heap: any;
  private heapBytes: number;
  private readonly limit: number;
  private readonly params: any;
  private readonly staging = new Uint32Array(RING * (SLOT / 4));
  private readonly stagingF32 = new Float32Array(this.staging.buffer);
  private slots = 0;
  private encoder: any = null;
  private pass: any = null;
  private bindGroup: any = null;
  private readonly layout: any;
  private readonly pipelineLayout: any;
  private readonly modules = new Map<string, any>();
  private readonly pipelines = new Map<string, any>();
  /** Buffers to destroy once the work that still reads them is submitted. */
  private retired: any[] = [];
  private readback: any = null;
  private reading: Promise<unknown> = Promise.resolve();
  /** CPU copies of small uploads (kernel descriptors) for dispatch sizing (binary_strided_f32, gather_b32). */
  private readonly shadows = new Map<number, Int32Array>();
  private fatal: Error | null = null;
  private readonly batch: number;
  private pending = 0;
  private closed = false;

  private constructor(readonly device: any, description: string, gpuFeatures: string[], opts: WebGpuBackendOptions, languageFeatures: string[] = []) {
    const U = GPU_USAGE();
    this.features = detectFeatures();
    const allowed = opts.features ?? OPTIONAL_FEATURES;
    this.gpuFeatures = gpuFeatures.filter((f) => f === "timestamp-query" || allowed.includes(f));
    const f16 = this.gpuFeatures.includes("shader-f16");
    this.caps = { subgroups: this.gpuFeatures.includes("subgroups"), f16, matmulF16: opts.matmulPrecision === "f16",
      packedDot4: languageFeatures.includes("packed_4x8_integer_dot_product") };
    this.batch = Math.max(1, opts.batch ?? 64);
    const L = device.limits;
    this.limit = Math.min(opts.maxMemory ?? Infinity, L.maxStorageBufferBindingSize, L.maxBufferSize) & ~255;
    this.heapBytes = Math.min(this.limit, 16 << 20);
    this.heap = device.createBuffer({ size: this.heapBytes, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST, label: "webgrad heap" });
    this.params = device.createBuffer({ size: RING * SLOT, usage: U.UNIFORM | U.COPY_DST, label: "webgrad kernel arguments" });
    this.layout = device.createBindGroupLayout({
      entries: [
        { binding: 0, visibility: 4 /* COMPUTE */, buffer: { type: "storage" } },
        { binding: 1, visibility: 4, buffer: { type: "uniform", hasDynamicOffset: true, minBindingSize: SLOT } },
      ],
    });
    this.pipelineLayout = device.createPipelineLayout({ bindGroupLayouts: [this.layout] });
    device.lost?.then((info: any) => {
      if (!this.closed) this.fatal ??= new Error(`webgrad: the WebGPU device was lost (${info?.reason ?? "unknown"}: ${info?.message ?? ""}); tensors on it are gone: call wg.init() again`);
    });
    device.addEventListener?.("uncapturederror", (ev: any) => {
      this.fatal ??= new Error(`webgrad: WebGPU error: ${ev.error?.message ?? ev.error}`);
    });
    this.mm = new MemoryManager(new BlockPool(BASE, this.limit, (end) => this.grow(end)));
    // a word copy inside the heap (scope escapes, cat and slice): the backend's own kernel, no twin
    this.mm.copy = (dst, src, bytes) => this.run("copy_words", bytes >> 2, (u, _f, o) => {
      u[o] = this.ptr(src, "copy", "src");
      u[o + 1] = this.ptr(dst, "copy", "dst");
      u[o + 2] = bytes >> 2;
    });
    const twins = gpuTwins(this);
    this.kernels = gpuKernels(twins, gpuSchedules(twins, this));
    this.summary = `webgrad: webgpu backend on ${description}` + (this.gpuFeatures.length ? ` (${this.gpuFeatures.join(", ")})` : "") +
      (this.caps.matmulF16 ? ", f16 matmul" : "") +
      `, heap up to ${fmtBytes(this.limit)}`;
  }

  /**
   * Finds a device (see device.ts) and builds the backend.
   *
   * @example
   * const be = await WebGpuBackend.create({});
   * be.name; // "webgpu"
   * be.shutdown();
   */
  static async create(opts: WebGpuBackendOptions): Promise<WebGpuBackend> {
    // the options are checked before a device is asked for, so a bad one leaves no device behind
    for (const f of opts.features ?? []) {
      if (!OPTIONAL_FEATURES.includes(f)) throw new Error(`webgrad: webgpu backend: unknown feature "${f}" in features (have: ${OPTIONAL_FEATURES.map((x) => `"${x}"`).join(", ")})`);
    }
    const precision = opts.matmulPrecision ?? "f32";
    if (precision !== "f32" && precision !== "f16") throw new Error(`webgrad: webgpu backend: matmulPrecision must be "f32" or "f16", not "${precision}"`);
    const { device, description, features, languageFeatures } = await requestGpuDevice(opts.gpu);
    if (precision === "f16" && !(features.includes("shader-f16") && (opts.features ?? OPTIONAL_FEATURES).includes("shader-f16"))) {
      if (!opts.gpu) device.destroy?.(); // ours: an injected device stays the caller's
      throw new Error(`webgrad: webgpu backend: matmulPrecision "f16" needs the adapter feature shader-f16, which ${description} ` +
        (features.includes("shader-f16") ? "has but the features option turned off" : "lacks") + `; use matmulPrecision "f32"`);
    }
    const be = new WebGpuBackend(device, description, features, opts, languageFeatures);
    if (opts.verbose !== false) console.log(be.summary);
    return be;
  }

  /**
   * Whether a kernel runs here: every kernel of the manifests has a twin or a plan,
   * except those marked gpu: "none" (a kernel with neither is refused by the generator).
   */
  supports(kernel: KernelName): boolean {
    return !GPU_MISSING.has(kernel) && typeof this.kernels[kernel] === "function";
  }

  write(ptr: number, data: Float32Array | Int32Array | Uint8Array): void {
    this.check();
    if (ptr % 4 || data.byteLength % 4) throw new Error(`webgrad: webgpu write at byte ${ptr} of ${data.byteLength} bytes: both must be multiples of 4`);
    if (data.byteLength === 0) return;
    this.submit();
    this.device.queue.writeBuffer(this.heap, ptr, data.buffer, data.byteOffset, data.byteLength);
    if (data.byteLength <= 1024) this.shadows.set(ptr, new Int32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
  }

  read(ptr: number, bytes: number): Promise<ArrayBuffer> {
    const run = async () => {
      this.check();
      const size = Math.max(256, Math.ceil(bytes / 256) * 256);
      if (!this.readback || this.readback.size < size) {
        this.readback?.destroy();
        this.readback = this.device.createBuffer({ size, usage: GPU_USAGE().MAP_READ | GPU_USAGE().COPY_DST, label: "webgrad readback" });
      }
      const n = (bytes + 3) & ~3;
      if (n) {
        this.endPass();
        this.enc().copyBufferToBuffer(this.heap, ptr, this.readback, 0, n);
      }
      this.submit();
      await this.readback.mapAsync(MAP_READ(), 0, size);
      const out = this.readback.getMappedRange(0, size).slice(0, bytes);
      this.readback.unmap();
      this.check();
      return out as ArrayBuffer;
    };
    const p = this.reading.then(run, run);
    this.reading = p.catch(() => null);
    return p;
  }

  /** Waits for every recorded kernel (for timing). */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Shadow of a small upload, for kernels whose launch size is in a descriptor. */
  shadow = (ptr: number, n: number): Int32Array => {
    if (n === 0) return new Int32Array(0);
    const s = this.shadows.get(ptr);
    if (!s || s.length < n) throw new Error(`webgrad: webgpu: the descriptor at byte ${ptr} was not written through be.write()`);
    return s.subarray(0, n);
  };

  private check(): void {
    if (this.closed) throw new Error("webgrad: the webgpu backend was shut down (tensors from before are invalid)");
    if (this.fatal) throw this.fatal;
  }

  private enc(): any {
    return (this.encoder ??= this.device.createCommandEncoder({ label: "webgrad" }));
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits what is recorded: the kernel arguments first, then the commands. */
  private submit(): void {
    this.endPass();
    if (!this.encoder) return;
    if (this.slots) this.device.queue.writeBuffer(this.params, 0, this.staging.buffer, 0, this.slots * SLOT);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.slots = 0;
    this.pending = 0;
    for (const b of this.retired) b.destroy(); // destroy waits for submitted work that uses it
    this.retired = [];
  }

  private pipeline(entry: string, constants?: Record<string, number>): any {
    const key = constants ? `${entry}|${JSON.stringify(constants)}` : entry;
    let p = this.pipelines.get(key);
    if (p) return p;
    const family = ENTRIES[entry];
    const need = REQUIRES[family];
    // "wgsl:<name>": a WGSL language feature (a `requires` directive), which only sets a cap
    const has = need?.startsWith("wgsl:") ? need === "wgsl:packed_4x8_integer_dot_product" && !!this.caps.packedDot4 : !need || this.gpuFeatures.includes(need);
    if (need && !has) throw new Error(`webgrad: internal: ${entry} (shaders/${family}.wgsl) needs ${need}, which this device does not use`);
    let module = this.modules.get(family);
    if (!module) {
      module = this.device.createShaderModule({ code: FAMILIES[family], label: `shaders/${family}.wgsl` });
      this.modules.set(family, module);
      module.getCompilationInfo?.().then((info: any) => {
        const errs = info.messages.filter((m: any) => m.type === "error");
        if (errs.length) this.fatal ??= new Error(`webgrad: shaders/${family}.wgsl does not compile: ` + errs.map((m: any) => `line ${m.lineNum}: ${m.message}`).join("; "));
      });
    }
    p = this.device.createComputePipeline({ layout: this.pipelineLayout, compute: { module, entryPoint: entry, constants }, label: key });
    this.pipelines.set(key, p);
    return p;
  }

  ptr(bytes: number, kernel: string, arg: string): number {
    if (bytes % 4) throw new Error(`webgrad: ${kernel}: ${arg} (byte offset ${bytes}) is not 4-aligned, which the GPU heap needs`);
    return bytes / 4;
  }

  /** Records one dispatch of WGSL entry point `entry`, its arguments packed into the next uniform slot. */
  run(entry: string, g: Grid, pack: (u: Uint32Array, f: Float32Array, o: number) => void, constants?: Record<string, number>): void {
    this.check();
    let groups: [number, number, number];
    if (typeof g === "number") {
      if (g <= 0) return;
      const wg = Math.ceil(g / 256);
      groups = wg <= MAX_GROUPS ? [wg, 1, 1] : [MAX_GROUPS, Math.ceil(wg / MAX_GROUPS), 1];
    } else {
      if (g[0] <= 0 || g[1] <= 0 || g[2] <= 0) return;
      groups = g;
    }
    if (this.slots === RING) this.submit();
    const base = this.slots * (SLOT / 4);
    pack(this.staging, this.stagingF32, base);
    const pipeline = this.pipeline(entry, constants);
    if (!this.pass) {
      this.pass = this.enc().beginComputePass();
      this.bindGroup ??= this.device.createBindGroup({
        layout: this.layout,
        entries: [{ binding: 0, resource: { buffer: this.heap } }, { binding: 1, resource: { buffer: this.params, size: SLOT } }],
      });
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, this.bindGroup, [this.slots * SLOT]);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.slots++;
    if (++this.pending >= this.batch) this.submit();
  }

  /** Grows the heap to hold `end` bytes: a larger buffer, the old contents copied in order with recorded work. */
  private grow(end: number): boolean {
    if (end <= this.heapBytes) return true;
    if (end > this.limit) return false;
    const size = Math.min(this.limit, Math.max(Math.ceil(end / 256) * 256, Math.ceil((this.heapBytes * 1.5) / 256) * 256));
    const U = GPU_USAGE();
    this.device.pushErrorScope("out-of-memory");
    const next = this.device.createBuffer({ size, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST, label: "webgrad heap" });
    this.device.popErrorScope().then((err: any) => {
      if (err) this.fatal ??= new Error(`webgrad: webgpu out of memory growing the heap to ${fmtBytes(size)} (${err.message}); use smaller batches or init({ maxMemory })`);
    });
    this.endPass();
    this.enc().copyBufferToBuffer(this.heap, 0, next, 0, this.heapBytes);
    this.retired.push(this.heap);
    this.heap = next;
    this.heapBytes = size;
    this.bindGroup = null;
    return true;
  }

  /** The pipelines compiled so far, as "entry point" (or "entry|constants"): which kernel variants ran. */
  compiledEntries(): string[] {
    return [...this.pipelines.keys()];
  }

  /** Bytes of the GPU heap now (it grows on demand up to the limit). */
  get heapSize(): number {
    return this.heapBytes;
  }

  shutdown(): void {
    if (this.closed) return;
    try {
      this.submit();
    } catch {
      /* shutting down anyway */
    }
    this.closed = true;
    this.heap.destroy();
    this.params.destroy();
    this.readback?.destroy();
    this.device.destroy?.();
  }
}
