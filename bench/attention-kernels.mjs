// Times the attention kernels alone (no host, no autograd), forward and
// backward, for one or more kernel binaries in ONE process with interleaved
// best-of-N rounds, so a before/after comparison shares the machine's noise.
// Usage: node --experimental-wasm-relaxed-simd bench/attention-kernels.mjs [--rounds N] a.wasm [b.wasm ...]
// Prints, per binary and shape, the best forward and backward times and bwd/fwd.
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
let rounds = 7;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--rounds") rounds = Number(args[++i]);
  else files.push(args[i]);
}
if (!files.length) files.push("build/webgrad-simd.wasm");

const shapes = [
  { BH: 8, S: 128, D: 64, causal: 0 }, { BH: 8, S: 128, D: 64, causal: 1 },
  { BH: 8, S: 512, D: 64, causal: 0 }, { BH: 8, S: 512, D: 64, causal: 1 },
];

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

const engines = files.map((f) => {
  const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536 });
  const { exports: k } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), { env: { memory, abort() {} } });
  return { f, k, memory };
});

const results = new Map();
for (const e of engines) {
  let p = 65536 * 4;
  for (const sh of shapes) {
    const { BH, S, D } = sh;
    const n = BH * S * D;
    const take = (floats) => { const r = p; p += floats * 4 + 64; return r; };
    const q = take(n), kk = take(n), v = take(n), o = take(n), lse = take(BH * S), dO = take(n);
    const dq = take(n), dk = take(n), dv = take(n);
    const sc = take(e.k.attention_backward_scratch_bytes(S, S, D) / 4 + e.k.attention_scratch_bytes(S, S, D) / 4);
    const f32 = new Float32Array(e.memory.buffer);
    const r = rng(7);
    for (const base of [q, kk, v, dO]) for (let i = 0; i < n; i++) f32[base / 4 + i] = r();
    sh[e.f] = { q, kk, v, o, lse, dO, dq, dk, dv, sc };
  }
}

const scale = 1 / 8;
const time = (fn) => { const t0 = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t0) / 1e6; };
for (let round = 0; round < rounds; round++) {
  for (const sh of shapes) {
    for (const e of engines) {
      const b = sh[e.f], { BH, S, D, causal } = sh;
      const fwd = time(() => e.k.attention_f32(b.q, b.kk, b.v, b.o, b.lse, BH, S, S, D, scale, causal, b.sc));
      const bwd = time(() => e.k.attention_backward_f32(b.q, b.kk, b.v, b.o, b.lse, b.dO, b.dq, b.dk, b.dv, BH, S, S, D, scale, causal, b.sc));
      const key = `${e.f}|${S}|${causal}`;
      const prev = results.get(key) ?? { fwd: Infinity, bwd: Infinity };
      results.set(key, { fwd: Math.min(prev.fwd, fwd), bwd: Math.min(prev.bwd, bwd) });
    }
  }
}
// A checksum of dq/dk/dv so two binaries can be compared for identical results.
for (const sh of shapes) {
  for (const e of engines) {
    const b = sh[e.f], { BH, S, D, causal } = sh;
    const f32 = new Float32Array(e.memory.buffer);
    let cs = 0;
    for (const base of [b.dq, b.dk, b.dv]) for (let i = 0; i < BH * S * D; i++) cs += f32[base / 4 + i] * ((i % 13) + 1);
    const r = results.get(`${e.f}|${S}|${causal}`);
    console.log(`${e.f.padEnd(34)} S=${S} ${causal ? "causal    " : "non-causal"} fwd ${r.fwd.toFixed(3)} ms  bwd ${r.bwd.toFixed(3)} ms  bwd/fwd ${(r.bwd / r.fwd).toFixed(2)}  checksum ${cs.toPrecision(9)}`);
  }
}
