// Winograd convolution A/B: this checkout's engine (dist/, Winograd picked by the wasm
// schedule of conv2d_direct_f32, the input gradient through it) against a baseline
// engine (another checkout's dist/, e.g. a copy of main's before Winograd), both
// loaded in one process (two module graphs, two wasm instances), one thread,
// relaxed binary unless told. CPU time (process.cpuUsage: slices given to other
// processes do not count), best of R, interleaved A B A B. The bench's conv rows:
// (a) 64×1×28×28→16 pad 0, (b) 64×3×32×32→32 pad 1, (c) 32×32×32×32→64 pad 1,
// forward and forward+backward (loss = Σ y·r; x and w require gradients, as in
// bench/engines/webgrad.ts), plus a few other 3×3 layers.
// Usage: npm run build && node --experimental-wasm-relaxed-simd bench/winograd-ab.mjs <baseline dist/host/index.js> [rounds] [relaxed|simd] [threads]
// (with threads > 1, CPU time adds up every thread's: compare wall time there, or the ratio only)
import { pathToFileURL } from "node:url";
import { resolve } from "node:path";

const basePath = process.argv[2];
if (!basePath) throw new Error("usage: bench/winograd-ab.mjs <baseline dist/host/index.js> [rounds] [isa]");
const R = Number(process.argv[3] ?? 9), isa = process.argv[4] ?? "relaxed", threads = Number(process.argv[5] ?? 1);
const engines = {
  base: await import(pathToFileURL(resolve(basePath)).href),
  wino: await import(new URL("../dist/host/index.js", import.meta.url).href),
};
for (const wg of Object.values(engines)) await wg.init({ backend: "wasm", threads, isa, verbose: false });

const cpu = threads > 1
  ? (fn) => { const t0 = performance.now(); fn(); return performance.now() - t0; }
  : (fn) => { const t0 = process.cpuUsage(); fn(); const d = process.cpuUsage(t0); return (d.user + d.system) / 1000; };
const fill = (n, seed) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

// [label, N, C, H, W, Cout, pad]
const LAYERS = [
  ["conv (a)", 64, 1, 28, 28, 16, 0], ["conv (b)", 64, 3, 32, 32, 32, 1], ["conv (c)", 32, 32, 32, 32, 64, 1],
  ["", 64, 16, 14, 14, 32, 1], ["", 16, 64, 16, 16, 64, 1], ["", 64, 64, 4, 4, 64, 1],
];
for (const [label, N, C, H, W, Cout, pad] of LAYERS) {
  for (const backward of [false, true]) {
    const runs = Object.fromEntries(Object.entries(engines).map(([name, wg]) => {
      const x = wg.tensor(fill(N * C * H * W, 1), { shape: [N, C, H, W], requiresGrad: backward });
      const w = wg.tensor(fill(Cout * C * 9, 2).map((v) => v * 0.2), { shape: [Cout, C, 3, 3], requiresGrad: backward });
      const OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
      const r = wg.tensor(fill(N * Cout * OH * OW, 3), { shape: [N, Cout, OH, OW] });
      let outs = null;
      // inside a scope, as bench/engines/webgrad.ts runs it; `capture` (untimed) copies the results out
      const step = (capture = false) => wg.scope(() => {
        const y = wg.conv2d(x, w, null, { padding: pad });
        if (backward) {
          for (const p of [x, w]) { p.grad?.dispose(); p.grad = null; }
          y.mul(r).sum().backward();
        }
        if (capture) outs = (backward ? [x.grad, w.grad] : [y]).map((t) => Float32Array.from(t.dataSync()));
      });
      return [name, { step, out: () => { step(true); return outs; } }];
    }));
    const best = { base: Infinity, wino: Infinity };
    runs.base.step(); runs.wino.step(); // warm-up
    for (let i = 0; i < R; i++) for (const name of ["base", "wino"]) best[name] = Math.min(best[name], cpu(() => runs[name].step()));
    // the two engines agree (Winograd and the direct kernel round differently)
    const [a, b] = [runs.base.out(), runs.wino.out()];
    let diff = 0, scale = 0;
    a.forEach((t, j) => t.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - b[j][i])); scale = Math.max(scale, Math.abs(v)); }));
    const name = `${label ? label + " " : ""}${N}×${C}×${H}×${W}→${Cout} pad ${pad} ${backward ? "fwd+bwd" : "fwd"}`;
    console.log(`${name.padEnd(44)} base ${best.base.toFixed(2).padStart(7)} ms  winograd ${best.wino.toFixed(2).padStart(7)} ms  ×${(best.base / best.wino).toFixed(2)}  (max |Δ| ${(diff / scale).toExponential(1)} of max |y|)`);
  }
}
