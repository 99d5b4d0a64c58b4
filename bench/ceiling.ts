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
