// npm run bench: webgrad's figures on this machine, each beside the SIMD
// ceiling measured in the same run. Prints a table and writes bench/results.json.
// `--quick` runs fewer sizes and rounds (CI runs it so the bench never rots).

import v8 from "node:v8";
import os from "node:os";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const wg = await import("../host/index.js");
const { measureCeiling } = await import("./ceiling.js");
const { gemmRaw } = await import("../host/ops/gemm.js");

const quick = process.argv.includes("--quick");
const rounds = quick ? 3 : 7;

function time(fn: () => void): { median: number; best: number } {
  fn(); // warm-up
  const ts: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[ts.length >> 1], best: ts[0] };
}

/** Checks a GEMM result against a float64 reference on a sample of entries before any time counts. */
function checkGemm(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  for (let s = 0; s < 64; s++) {
    const i = (s * 7919) % n, j = (s * 104729) % n;
    let ref = 0;
    for (let p = 0; p < n; p++) ref += a[i * n + p] * b[p * n + j];
    if (Math.abs(c[i * n + j] - ref) > 1e-3 * Math.sqrt(n) * (1 + Math.abs(ref))) {
      throw new Error(`bench: GEMM ${n}³ result wrong at (${i},${j}): ${c[i * n + j]} vs ${ref}`);
    }
  }
}

const rows: Record<string, unknown>[] = [];
const ceiling = await measureCeiling();
console.log(`load average ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}, ${os.cpus()[0]?.model}`);
console.log(`SIMD ceiling, 1 thread: mul+add ${ceiling.mulAddGflops.toFixed(1)} GFLOPS, relaxed_madd ${ceiling.relaxedGflops?.toFixed(1) ?? "n/a"} GFLOPS`);

for (const threads of [1, 2]) {
  for (const isa of ["simd", "relaxed"] as const) {
    const info = await wg.init({ threads, isa, verbose: false });
    const roof = isa === "relaxed" ? ceiling.relaxedGflops! : ceiling.mulAddGflops;
    for (const n of quick ? [256, 512] : [256, 512, 1024]) {
      const r = wg.scope(() => {
        const a = wg.randn([n, n], { seed: 1 }), b = wg.randn([n, n], { seed: 2 }), c = wg.zeros([n, n]);
        gemmRaw(a.ptr, b.ptr, c.ptr, n, n, n, n, n, n, 0);
        checkGemm(a.dataSync() as Float32Array, b.dataSync() as Float32Array, c.dataSync() as Float32Array, n);
        return time(() => gemmRaw(a.ptr, b.ptr, c.ptr, n, n, n, n, n, n, 0));
      });
      const gflops = (2 * n ** 3) / (r.median * 1e6);
      rows.push({ workload: `gemm ${n}³`, kernels: info.kernels, threads, medianMs: +r.median.toFixed(3), bestMs: +r.best.toFixed(3), gflops: +gflops.toFixed(1), ofCeiling: +(gflops / roof).toFixed(3) });
    }
  }
}

// S1 training step at batch 64 (forward, backward, SGD momentum)
for (const threads of [1, 2]) {
  await wg.init({ threads, verbose: false });
  const { MnistCNN } = await import("../host/zoo/mnist-cnn.js");
  wg.manualSeed(0);
  const net = new MnistCNN();
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = wg.randn([64, 1, 28, 28], { seed: 3 }).keep();
  const y = wg.tensor(Array.from({ length: 64 }, (_, i) => i % 10), { dtype: "int32" }).keep();
  const r = time(() => wg.scope(() => {
    opt.zeroGrad();
    wg.nn.crossEntropy(net.forward(x), y).backward();
    opt.step();
  }));
  rows.push({ workload: "S1 train step, batch 64", kernels: wg.backend().variant, threads, medianMs: +r.median.toFixed(3), bestMs: +r.best.toFixed(3), samplesPerSec: Math.round(64000 / r.median) });
}

// cold start: init() to the first matmul result
{
  wg.shutdown();
  const t0 = performance.now();
  await wg.init({ threads: 1, verbose: false });
  wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([[1], [1]])).dataSync();
  rows.push({ workload: "cold start: init() to first matmul", threads: 1, medianMs: +(performance.now() - t0).toFixed(2) });
}
wg.shutdown();

console.table(rows);
const out = fileURLToPath(new URL("../../bench/results.json", import.meta.url));
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), cpu: os.cpus()[0]?.model, ceiling, rows }, null, 2));
console.log(`wrote ${out}`);
