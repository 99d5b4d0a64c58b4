// The machine's wasm SIMD ceiling for one thread: a register-only loop of
// independent f32x4.mul + f32x4.add chains (and the same with
// f32x4.relaxed_madd), generated as WAT and assembled with wabt. Every
// GEMM figure is reported as a fraction of this.

import initWabt from "wabt";

const CHAINS = 12; // enough independent chains to hide mul+add latency; fits 16 xmm registers

function wat(relaxed: boolean): string {
  const locals = Array.from({ length: CHAINS }, (_, i) => `(local $a${i} v128)`).join(" ");
  const init = Array.from({ length: CHAINS }, (_, i) => `(local.set $a${i} (f32x4.splat (f32.const ${1 + i * 0.001})))`).join("\n");
  const body = Array.from({ length: CHAINS }, (_, i) =>
    relaxed
      ? `(local.set $a${i} (f32x4.relaxed_madd (local.get $a${i}) (local.get $m) (local.get $c)))`
      : `(local.set $a${i} (f32x4.add (f32x4.mul (local.get $a${i}) (local.get $m)) (local.get $c)))`,
  ).join("\n");
  const sum = Array.from({ length: CHAINS }, (_, i) => `(local.get $a${i})`).reduce((acc, x) => `(f32x4.add ${acc} ${x})`);
  return `(module (func (export "run") (param $n i32) (result f32)
    (local $m v128) (local $c v128) ${locals}
    (local.set $m (f32x4.splat (f32.const 0.999999)))
    (local.set $c (f32x4.splat (f32.const 0.000001)))
    ${init}
    (block $done (loop $top
      (br_if $done (i32.eqz (local.get $n)))
      ${body}
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $top)))
    (f32x4.extract_lane 0 ${sum})))`;
}

export interface Ceiling {
  mulAddGflops: number;
  relaxedGflops: number | null;
  /** Bytes read + written per second by a large memory.copy (GB/s): what a streaming kernel can hope for. */
  copyGBps: number;
}

/** memory.copy of 64 MiB, best of several: reads 64 MiB and writes 64 MiB. */
function copyBandwidth(wabt: Awaited<ReturnType<typeof initWabt>>): number {
  const MiB = 1 << 20, bytes = 64 * MiB;
  const m = wabt.parseWat("copy.wat", `(module (memory (export "mem") ${(2 * bytes) / 65536 + 1})
    (func (export "copy") (param $n i32) (memory.copy (i32.const ${bytes}) (i32.const 0) (local.get $n))))`, { bulk_memory: true } as any);
  const bin = m.toBinary({}).buffer;
  m.destroy();
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bin as BufferSource));
  const copy = inst.exports.copy as (n: number) => void;
  new Uint8Array((inst.exports.mem as WebAssembly.Memory).buffer).fill(1); // touch every page first
  copy(bytes);
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    copy(bytes);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * bytes) / (best * 1e6);
}

/** Measures both ceilings (best of several runs). */
export async function measureCeiling(): Promise<Ceiling> {
  const wabt = await initWabt();
  const run = (relaxed: boolean): number | null => {
    let bytes: Uint8Array;
    try {
      const m = wabt.parseWat("ceiling.wat", wat(relaxed), { simd: true, relaxed_simd: true } as any);
      bytes = m.toBinary({}).buffer;
      m.destroy();
    } catch {
      return null;
    }
    if (!WebAssembly.validate(bytes as BufferSource)) return null;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as BufferSource));
    const f = inst.exports.run as (n: number) => number;
    const n = 2_000_000;
    const time = () => {
      const t0 = performance.now();
      f(n);
      return performance.now() - t0;
    };
    // V8 runs the loop in Liftoff code until TurboFan's (background) compile lands:
    // a fixed warm-up sometimes timed Liftoff (a third of the real ceiling), and
    // Liftoff's runs agree with each other. So: run until 7 runs in a row bring no
    // new best by more than 2% (at most 100 runs), and report the best.
    let best = time(), quiet = 0;
    for (let r = 0; r < 100 && quiet < 7; r++) {
      const t = time();
      quiet = t < 0.98 * best ? 0 : quiet + 1;
      best = Math.min(best, t);
    }
    return (n * CHAINS * 4 * 2) / (best * 1e6);
  };
  return { mulAddGflops: run(false)!, relaxedGflops: run(true), copyGBps: copyBandwidth(wabt) };
}

// ---------------------------------------------------------------------------
// issue 17 (hk2): memory bandwidth for decoding. Batch-1 decoding streams every
// weight once per token, so its ceiling is bandwidth ÷ weight bytes per token.
// Three loops over buffers far larger than L2 (64 MiB a thread by default), in
// 1 or more threads sharing one memory (Node's worker_threads; each thread its
// own buffers, started together, timed until the last one ends):
// - copy: memory.copy (reads n, writes n; reported as 2n / time, as copyGBps above);
// - v128 copy: a v128.load / v128.store loop, 64 bytes a step (the same 2n / time);
// - v128 read: v128.load only, XOR-folded so the loads stay (n / time): what a GEMV does to W.

export interface BandwidthResult {
  threads: number;
  /** memory.copy, bytes read + written per second (GB/s). */
  copyGBps: number;
  /** v128 load/store loop, bytes read + written per second (GB/s). */
  v128CopyGBps: number;
  /** v128 loads only, bytes read per second (GB/s). */
  readGBps: number;
}

const BANDWIDTH_WAT = `(module (import "m" "mem" (memory 1 65536 shared))
  (func (export "copy") (param $d i32) (param $s i32) (param $n i32) (memory.copy (local.get $d) (local.get $s) (local.get $n)))
  (func (export "vcopy") (param $d i32) (param $s i32) (param $n i32) (local $e i32)
    (local.set $e (i32.add (local.get $s) (local.get $n)))
    (block $done (loop $top
      (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
      (v128.store offset=0 (local.get $d) (v128.load offset=0 (local.get $s)))
      (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $s)))
      (v128.store offset=32 (local.get $d) (v128.load offset=32 (local.get $s)))
      (v128.store offset=48 (local.get $d) (v128.load offset=48 (local.get $s)))
      (local.set $s (i32.add (local.get $s) (i32.const 64)))
      (local.set $d (i32.add (local.get $d) (i32.const 64)))
      (br $top))))
  (func (export "read") (param $s i32) (param $n i32) (result i32) (local $e i32) (local $a v128) (local $b v128)
    (local.set $e (i32.add (local.get $s) (local.get $n)))
    (block $done (loop $top
      (br_if $done (i32.ge_u (local.get $s) (local.get $e)))
      (local.set $a (v128.xor (local.get $a) (v128.load offset=0 (local.get $s))))
      (local.set $b (v128.xor (local.get $b) (v128.load offset=16 (local.get $s))))
      (local.set $a (v128.xor (local.get $a) (v128.load offset=32 (local.get $s))))
      (local.set $b (v128.xor (local.get $b) (v128.load offset=48 (local.get $s))))
      (local.set $s (i32.add (local.get $s) (i32.const 64)))
      (br $top)))
    (i32x4.extract_lane 0 (v128.xor (local.get $a) (local.get $b)))))`;

/** The worker side: runs op `which` on its own buffers each time the main thread bumps the go counter. */
const BANDWIDTH_WORKER = `
const { workerData, parentPort } = require("node:worker_threads");
const { module, memory, ctl, src, dst, bytes, index } = workerData;
const inst = new WebAssembly.Instance(module, { m: { mem: memory } });
const c = new Int32Array(ctl);
new Uint8Array(memory.buffer, src, bytes).fill(index + 1); new Uint8Array(memory.buffer, dst, bytes).fill(0); // touch every page
parentPort.postMessage("ready");
let seen = 0;
for (;;) {
  Atomics.wait(c, 0, seen);
  seen = Atomics.load(c, 0);
  const which = Atomics.load(c, 1);
  if (which < 0) break;
  if (which === 0) inst.exports.copy(dst, src, bytes);
  else if (which === 1) inst.exports.vcopy(dst, src, bytes);
  else inst.exports.read(src, bytes);
  Atomics.add(c, 2, 1);
  Atomics.notify(c, 2);
}`;

/**
 * Copy and read bandwidth in `threads` threads (Node only: worker_threads), each over
 * its own `mib` MiB source and destination (≫ L2), best of `repeats` runs.
 */
export async function measureBandwidth(threads = 1, mib = 64, repeats = 7): Promise<BandwidthResult> {
  const { Worker } = await import("node:worker_threads");
  const wabt = await initWabt();
  const m = wabt.parseWat("bandwidth.wat", BANDWIDTH_WAT, { simd: true, threads: true, bulk_memory: true } as any);
  const bin = m.toBinary({}).buffer;
  m.destroy();
  const module = new WebAssembly.Module(bin as BufferSource);
  const bytes = mib << 20;
  const pages = Math.ceil((2 * threads * bytes + 65536) / 65536);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const ctl = new SharedArrayBuffer(16);
  const c = new Int32Array(ctl);
  const workers = Array.from({ length: threads }, (_, i) => new Worker(BANDWIDTH_WORKER, {
    eval: true, workerData: { module, memory, ctl, src: 65536 + 2 * i * bytes, dst: 65536 + (2 * i + 1) * bytes, bytes, index: i },
  }));
  await Promise.all(workers.map((w) => new Promise((res) => w.once("message", res))));
  const run = (which: number): number => {
    let best = Infinity;
    for (let r = 0; r < repeats + 1; r++) {
      Atomics.store(c, 2, 0);
      Atomics.store(c, 1, which);
      const t0 = performance.now();
      Atomics.add(c, 0, 1);
      Atomics.notify(c, 0);
      for (let done = 0; (done = Atomics.load(c, 2)) < threads;) Atomics.wait(c, 2, done, 1000);
      const t = performance.now() - t0;
      if (r > 0) best = Math.min(best, t); // the first run warms up (Liftoff → TurboFan)
    }
    return best;
  };
  const total = threads * bytes;
  const copyGBps = (2 * total) / (run(0) * 1e6);
  const v128CopyGBps = (2 * total) / (run(1) * 1e6);
  const readGBps = total / (run(2) * 1e6);
  Atomics.store(c, 1, -1);
  Atomics.add(c, 0, 1);
  Atomics.notify(c, 0);
  await Promise.all(workers.map((w) => new Promise((res) => w.once("exit", res))));
  return { threads, copyGBps, v128CopyGBps, readGBps };
}
