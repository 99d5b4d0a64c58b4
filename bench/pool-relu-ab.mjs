// The fused maxpool2d_relu_backward_f32 against the pair it replaces (maxpool2d_backward_f32,
// then ReLU's unary_backward_f32) on the S1 CNN's shape, in one process, best of 60; checks equal values.
// Usage: node --experimental-wasm-relaxed-simd bench/pool-relu-ab.mjs
import { readFileSync } from "node:fs";
const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536 });
const { exports: k } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync("build/webgrad-relaxed.wasm")), { env: { memory, abort() {} } });
const NC = 1024, H = 26, W = 26, OH = 13, OW = 13, hw = H * W, ohw = OH * OW;
const f = new Float32Array(memory.buffer);
let p = 65536 * 4; const take = (n) => { const r = p; p += n * 4 + 64; return r; };
const pz = take(NC * hw), px = take(NC * hw), py = take(NC * ohw), pi = take(NC * ohw), pdy = take(NC * ohw), pd1 = take(NC * hw), pd2 = take(NC * hw), pd3 = take(NC * hw);
for (let i = 0; i < NC * hw; i++) f[pz / 4 + i] = Math.sin(i * 1.3);
for (let i = 0; i < NC * ohw; i++) f[pdy / 4 + i] = Math.cos(i * 1.7);
k.unary_f32(5, pz, px, NC * hw);
k.maxpool2d_f32(px, py, pi, NC, H, W, 2, 2, 2, 2, 0, 0, OH, OW);
let a = Infinity, b = Infinity;
const t = (fn) => { const t0 = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t0) / 1e6; };
for (let r = 0; r < 60; r++) {
  a = Math.min(a, t(() => k.maxpool2d_relu_backward_f32(pdy, pi, py, pd1, NC, H, W, OH, OW, 1)));
  b = Math.min(b, t(() => { k.maxpool2d_backward_f32(pdy, pi, pd2, NC, H, W, OH, OW); k.unary_backward_f32(5, pz, px, pd2, pd3, NC * hw); }));
}
let same = true; for (let i = 0; i < NC * hw; i++) if (f[pd1 / 4 + i] !== f[pd3 / 4 + i]) { same = false; break; }
console.log(`fused ${a.toFixed(3)} ms, maxpool backward + relu backward ${b.toFixed(3)} ms, ratio ${(b / a).toFixed(2)}, equal values: ${same}`);
