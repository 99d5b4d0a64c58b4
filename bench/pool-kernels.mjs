// Times maxpool2d_f32 and maxpool2d_relu_backward_f32 on the S1 CNN's shape
// (64 images × 16 channels, 26×26 → 13×13) for several kernel binaries in ONE
// process, rounds interleaved, best of N; checks the binaries agree bit for bit.
// Usage: node --experimental-wasm-relaxed-simd bench/pool-kernels.mjs [--rounds N] a.wasm [b.wasm ...]
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
let rounds = 30;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--rounds") rounds = Number(args[++i]);
  else files.push(args[i]);
}
if (!files.length) files.push("build/webgrad-simd.wasm");
const NC = 64 * 16, H = 26, W = 26, OH = 13, OW = 13, hw = H * W, ohw = OH * OW;
const x = Float32Array.from({ length: NC * hw }, (_, i) => Math.max(0, Math.sin(i * 12.9898) * 43758.5453 % 1));
const dy = Float32Array.from({ length: NC * ohw }, (_, i) => Math.cos(i * 1.7));
const runs = files.map((f) => {
  const memory = new WebAssembly.Memory({ initial: 512, maximum: 65536 });
  const { exports: k } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(f)), { env: { memory, abort() {} } });
  const px = 65536 * 4, py = px + x.length * 4, pi = py + dy.length * 4, pdy = pi + dy.length * 4, pdx = pdy + dy.length * 4;
  new Float32Array(memory.buffer, px, x.length).set(x);
  new Float32Array(memory.buffer, pdy, dy.length).set(dy);
  return { f, k, memory, px, py, pi, pdy, pdx, fwd: Infinity, bwd: Infinity };
});
const time = (fn) => { const t0 = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t0) / 1e6; };
for (let r = 0; r < rounds; r++) {
  for (const e of runs) {
    e.fwd = Math.min(e.fwd, time(() => e.k.maxpool2d_f32(e.px, e.py, e.pi, NC, H, W, 2, 2, 2, 2, 0, 0, OH, OW)));
    e.bwd = Math.min(e.bwd, time(() => e.k.maxpool2d_relu_backward_f32(e.pdy, e.pi, e.py, e.pdx, NC, H, W, OH, OW, 1)));
  }
}
const bits = (e) => {
  const b = e.memory.buffer;
  return [new Uint32Array(b, e.py, ohw * NC), new Int32Array(b, e.pi, ohw * NC), new Uint32Array(b, e.pdx, hw * NC)];
};
const ref = bits(runs[0]);
for (const e of runs) {
  const same = bits(e).every((a, j) => a.every((v, i) => v === ref[j][i]));
  console.log(`${e.f.padEnd(34)} maxpool2d_f32 ${e.fwd.toFixed(3)} ms  maxpool2d_relu_backward_f32 ${e.bwd.toFixed(3)} ms  ${same ? "same bits as the first" : "DIFFERENT bits from the first"}`);
}
