// Two builds of the kernels, same work, one process: GEMM (gemm_f32 and
// gemm_packed_pa_f32, 256³ / 512³ / 1024³) and direct conv (conv2d_direct_f32 and
// conv2d_direct_pw_f32 on the bench's conv shapes), one thread. CPU time
// (process.cpuUsage: slices given to other processes do not count), rounds
// interleaved A B A B, best of R per side; checks that A and B give identical bits.
// Usage: node --experimental-wasm-relaxed-simd bench/kernels-ab.mjs DIR_A DIR_B [relaxed|simd] [rounds]
//   DIR_A, DIR_B: folders holding webgrad-<isa>.wasm (e.g. a copy of build/ from before a change, and build/).
import { readFileSync } from "node:fs";
const [dirA, dirB, isa = "relaxed", R = "9"] = process.argv.slice(2);
const rounds = Number(R);
const memory = new WebAssembly.Memory({ initial: 8192, maximum: 65536 });
const load = (dir) => new WebAssembly.Instance(new WebAssembly.Module(readFileSync(`${dir}/webgrad-${isa}.wasm`)), { env: { memory, abort() {} } }).exports;
const A = load(dirA), B = load(dirB);
let top = 65536;
const take = (floats) => { const p = top; top = (top + floats * 4 + 127) & ~63; return p; };
const f = () => new Float32Array(memory.buffer);
const fill = (p, n, s) => { const v = f(); for (let i = 0; i < n; i++) v[p / 4 + i] = Math.sin(i * s + 0.1); };
const cpu = (fn) => { const t0 = process.cpuUsage(); fn(); const d = process.cpuUsage(t0); return (d.user + d.system) / 1000; };
const same = (p, q, n) => { const v = f(); for (let i = 0; i < n; i++) if (!Object.is(v[p / 4 + i], v[q / 4 + i])) return false; return true; };

function ab(label, flop, run, out, n) {
  // each side once to warm up, then interleaved rounds
  run(A, out[0]); run(B, out[1]);
  let a = Infinity, b = Infinity;
  for (let r = 0; r < rounds; r++) {
    a = Math.min(a, cpu(() => run(A, out[0])));
    b = Math.min(b, cpu(() => run(B, out[1])));
  }
  const gf = (ms) => (flop / ms / 1e6).toFixed(1);
  console.log(`${label.padEnd(44)} A ${a.toFixed(2).padStart(8)} ms ${gf(a).padStart(6)} GF   B ${b.toFixed(2).padStart(8)} ms ${gf(b).padStart(6)} GF   B/A time ×${(b / a).toFixed(3)}   same bits: ${same(out[0], out[1], n)}`);
}

console.log(`${isa}: A = ${dirA}, B = ${dirB}, best of ${rounds} (CPU ms)`);
for (const s of [256, 512, 1024]) {
  const a = take(s * s), b = take(s * s), c1 = take(s * s), c2 = take(s * s), scratch = take(s * s + 64);
  const ascratch = take(A.gemm_packed_a_bytes() / 4 + 16);
  fill(a, s * s, 0.37); fill(b, s * s, 0.91);
  ab(`gemm_f32 ${s}³`, 2 * s ** 3, (k, c) => k.gemm_f32(a, b, c, s, s, s, s, s, s, 0, scratch), [c1, c2], s * s);
  ab(`gemm_packed_pa_f32 ${s}³ (+ pack B)`, 2 * s ** 3, (k, c) => {
    k.gemm_pack_b_f32(b, s, s, s, 0, scratch);
    k.gemm_packed_pa_f32(a, s, scratch, c, s, s, s, s, 0, ascratch);
  }, [c1, c2], s * s);
  ab(`gemm_f32 ${s}³ TRANS_A`, 2 * s ** 3, (k, c) => k.gemm_f32(a, b, c, s, s, s, s, s, s, 1, scratch), [c1, c2], s * s);
  top = 65536;
}
// [N, C, H, W, Cout, pad], 3×3, as in bench/workloads.ts
for (const [N, C, H, W, Cout, pad] of [[64, 1, 28, 28, 16, 0], [64, 3, 32, 32, 32, 1], [32, 32, 32, 32, 64, 1]]) {
  const Hp = H + 2 * pad, Wp = W + 2 * pad, OH = Hp - 2, OW = Wp - 2, CKK = C * 9, g = Math.floor(Cout / 5);
  const xp = take(N * C * Hp * Wp), w = take(Cout * CKK), w5 = take(g * 5 * CKK), bias = take(Cout);
  const n = N * Cout * OH * OW, y1 = take(n), y2 = take(n);
  fill(xp, N * C * Hp * Wp, 0.37); fill(w, Cout * CKK, 0.91); fill(bias, Cout, 0.5);
  const flop = 2 * n * CKK;
  const name = `${N}×${C}×${H}×${W}→${Cout} 3×3`;
  ab(`conv2d_direct_f32 ${name}`, flop, (k, y) => k.conv2d_direct_f32(xp, w, y, N, C, Hp, Wp, 3, 3, Cout), [y1, y2], n);
  ab(`conv2d_direct_pw_f32 ${name} +bias`, flop, (k, y) => {
    k.conv_pack_w5_f32(w, g, CKK, w5);
    k.conv2d_direct_pw_f32(xp, w, w5, bias, y, N, C, Hp, Wp, 3, 3, Cout, g);
  }, [y1, y2], n);
  top = 65536;
}
