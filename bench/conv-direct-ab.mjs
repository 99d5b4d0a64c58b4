// conv2d_direct_pw_f32 (5×8 tiles over packed weights) against conv2d_direct_f32 (4×8 tiles,
// splat loads) on the bench's conv shapes, one thread, in one process: CPU time
// (process.cpuUsage: time slices given to other processes do not count), best of R,
// interleaved A B A B; checks identical bits.
// Usage: npm run build && node --experimental-wasm-relaxed-simd bench/conv-direct-ab.mjs [relaxed|simd] [rounds]
import { readFileSync } from "node:fs";
import { fiveChannelGroups } from "../dist/host/ops/conv.js";
const isa = process.argv[2] ?? "relaxed", R = Number(process.argv[3] ?? 15);
const memory = new WebAssembly.Memory({ initial: 4096, maximum: 65536 });
const { exports: k } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(`build/webgrad-${isa}.wasm`)), { env: { memory, abort() {} } });
const f = new Float32Array(memory.buffer);
let p = 65536 * 4; const take = (n) => { const r = p; p += n * 4 + 64; return r; };
const cpu = (fn) => { const t0 = process.cpuUsage(); fn(); const d = process.cpuUsage(t0); return (d.user + d.system) / 1000; };
// [N, C, H, W, Cout, pad]
for (const [N, C, H, W, Cout, pad] of [[64, 1, 28, 28, 16, 0], [64, 3, 32, 32, 32, 1], [32, 32, 32, 32, 64, 1]]) {
  const Hp = H + 2 * pad, Wp = W + 2 * pad, OH = Hp - 2, OW = Wp - 2, CKK = C * 9;
  const g = fiveChannelGroups(Cout);
  const xp = take(N * C * Hp * Wp), w = take(Cout * CKK), w5 = take(g * 5 * CKK), y1 = take(N * Cout * OH * OW), y2 = take(N * Cout * OH * OW);
  for (let i = 0; i < N * C * Hp * Wp; i++) f[xp / 4 + i] = Math.sin(i * 0.37);
  for (let i = 0; i < Cout * CKK; i++) f[w / 4 + i] = Math.cos(i * 0.91);
  let a = Infinity, b = Infinity;
  for (let r = 0; r < R; r++) {
    a = Math.min(a, cpu(() => k.conv2d_direct_f32(xp, w, y1, N, C, Hp, Wp, 3, 3, Cout)));
    b = Math.min(b, cpu(() => { k.conv_pack_w5_f32(w, g, CKK, w5); k.conv2d_direct_pw_f32(xp, w, w5, 0, y2, N, C, Hp, Wp, 3, 3, Cout, g); }));
  }
  let same = true; for (let i = 0; i < N * Cout * OH * OW; i++) if (!Object.is(f[y1 / 4 + i], f[y2 / 4 + i])) { same = false; break; }
  const gf = (ms) => (2 * N * Cout * OH * OW * CKK / ms / 1e6).toFixed(1);
  console.log(`${N}×${C}×${H}×${W}→${Cout} pad ${pad} (${g} groups of 5): 4×8 ${a.toFixed(2)} ms (${gf(a)} GF), 5×8 ${b.toFixed(2)} ms (${gf(b)} GF), ×${(a / b).toFixed(3)}, same bits: ${same}`);
}
