// issue 17 (hk2): the matmuls of one batch-1 decode step of a SmolLM-135M-shaped
// Llama (hidden 576, 30 layers, 9 heads of 64, 3 KV heads, intermediate 1536,
// vocab 49152) against the memory-bandwidth ceiling: every weight is streamed once
// per token, so a step cannot take less than weight bytes ÷ bandwidth.
// Prints, per dtype (f32: linear, which the wasm gemm schedule runs as gemv_f32 at
// M = 1; int8: int8Linear over weight-only rows, gemv_i8) and thread count, the best
// step time of the 211 products, the weight bytes, and their ratio to the copy and
// read bandwidths of bench/ceiling.ts's measureBandwidth (same thread count).
// Random weights (the bytes matter, not the values). A CPU-time-noisy measurement on
// a shared machine: best of `rounds`, each one whole step.
//
// Usage: npm run build && node dist/bench/decode-matmuls.js [threads=1] [rounds=5] [f32|int8|both]
import * as wg from "../host/index.js";
import { measureBandwidth } from "./ceiling.js";
import type { Int8Packed } from "../host/ops/quant.js";

const [threadsArg = "1", roundsArg = "5", which = "both"] = process.argv.slice(2);
const threads = Number(threadsArg), rounds = Number(roundsArg);
const H = 576, L = 30, HEADS = 9, KV = 3, HD = 64, I = 1536, V = 49152;
/** [out, in] of every product of one step, in order. */
const SHAPES: [number, number][] = [];
for (let l = 0; l < L; l++) SHAPES.push([HEADS * HD, H], [KV * HD, H], [KV * HD, H], [H, HEADS * HD], [I, H], [I, H], [H, I]);
SHAPES.push([V, H]);

const bw = await measureBandwidth(threads, 64, 5);
console.log(`bandwidth, ${threads} thread(s): memory.copy ${bw.copyGBps.toFixed(1)} GB/s (read+write), v128 copy ${bw.v128CopyGBps.toFixed(1)} GB/s, v128 read ${bw.readGBps.toFixed(1)} GB/s`);
await wg.init({ threads, verbose: false });

function report(name: string, weightBytes: number, step: () => void): void {
  step(); // first touch, tier-up
  let best = Infinity;
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    step();
    const t = performance.now() - t0;
    times.push(t);
    best = Math.min(best, t);
  }
  const mb = weightBytes / 1e6;
  // tokens/s ceilings: the read bandwidth streams W; "copy" counts read + write traffic as the copy figure does
  const ceilRead = (bw.readGBps * 1e3) / mb, ceilCopy = (bw.copyGBps * 1e3) / mb;
  const tps = 1000 / best;
  console.log(`${name}, ${threads} thread(s): ${mb.toFixed(0)} MB of weights a step; best ${best.toFixed(1)} ms (runs ${times.map((t) => t.toFixed(0)).join(" ")}) = ${tps.toFixed(2)} steps/s, ` +
    `${(weightBytes / best / 1e6).toFixed(1)} GB/s of weights; vs copy bandwidth ${(100 * tps / ceilCopy).toFixed(0)}% (ceiling ${ceilCopy.toFixed(1)}/s), vs read bandwidth ${(100 * tps / ceilRead).toFixed(0)}% (ceiling ${ceilRead.toFixed(1)}/s)`);
}

if (which === "f32" || which === "both") {
  const ws = SHAPES.map(([n, k], i) => wg.randn([n, k], { seed: i }).keep());
  const xs = new Map<number, wg.Tensor>([[H, wg.randn([1, H], { seed: 1 }).keep()], [I, wg.randn([1, I], { seed: 2 }).keep()]]);
  const bytes = SHAPES.reduce((s, [n, k]) => s + 4 * n * k, 0);
  report("f32 linear (gemv_f32)", bytes, () => wg.noGrad(() => wg.scope(() => { for (let i = 0; i < ws.length; i++) wg.linear(xs.get(SHAPES[i][1])!, ws[i]); })));
  for (const w of ws) w.dispose();
}
if (which === "int8" || which === "both") {
  // weight-only int8 rows only (the panels of the int8 GEMM would triple the memory; decode never reads them)
  const dummy = wg.zeros([1]).keep();
  const ws: Int8Packed[] = SHAPES.map(([n, k], i) => {
    const w = wg.randn([n, k], { seed: i });
    const rows = wg.quantizeWeightInt8Rows(w, 0);
    w.dispose();
    return { outFeatures: n, inFeatures: k, shape: [n, k], packed: dummy, scales: dummy, wsum: dummy, rows };
  });
  const xs = new Map<number, wg.Tensor>([[H, wg.randn([1, H], { seed: 1 }).keep()], [I, wg.randn([1, I], { seed: 2 }).keep()]]);
  const bytes = SHAPES.reduce((s, [n, k]) => s + n * k + 4 * n, 0);
  report("int8 weight-only (gemv_i8)", bytes, () => wg.noGrad(() => wg.scope(() => { for (let i = 0; i < ws.length; i++) wg.int8Linear(xs.get(SHAPES[i][1])!, ws[i]); })));
}
process.exit(0);
