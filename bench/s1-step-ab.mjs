// The S1 CNN training step (batch 64, as bench/run.ts's "train s1"), with the
// maxPool2d(relu) fusion on (A) and off (B), interleaved in ONE process, best of N.
// B hides the ReLU from maxPool2d by renaming its tape node, so both run the very
// same forward ops and differ only in the backward path.
// Usage: npm run build && node --experimental-wasm-relaxed-simd bench/s1-step-ab.mjs [threads] [rounds]
import * as wg from "../dist/host/index.js";

const threads = Number(process.argv[2] ?? 1), rounds = Number(process.argv[3] ?? 30);
await wg.init({ threads, verbose: false });

function makeNet(fused) {
  const conv1 = new wg.nn.Conv2d(1, 16, 3, 1), pool = new wg.nn.MaxPool2d(2), fc = new wg.nn.Linear(16 * 13 * 13, 10);
  const forward = (x) => {
    const h = conv1.forward(x).relu();
    if (!fused) h._node.name = "relu (hidden from maxPool2d)";
    return fc.forward(pool.forward(h).flatten(1));
  };
  return { forward, parameters: () => [...conv1.parameters(), ...fc.parameters()] };
}
const x = wg.tensor(Float32Array.from({ length: 64 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000), { shape: [64, 1, 28, 28] }).keep();
const y = wg.tensor(Array.from({ length: 64 }, (_, i) => i % 10), { dtype: "int32" }).keep();
const runs = [true, false].map((fused) => {
  const net = makeNet(fused);
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  return { fused, best: Infinity, step: () => wg.scope(() => { opt.zeroGrad(); const loss = wg.nn.crossEntropy(net.forward(x), y); loss.backward(); opt.step(); loss.dataSync(); }) };
});
for (let i = 0; i < rounds; i++) {
  for (const r of runs) {
    const t0 = performance.now();
    r.step();
    r.best = Math.min(r.best, performance.now() - t0);
  }
}
const [a, b] = runs;
console.log(`S1 step, batch 64, ${threads} thread(s), best of ${rounds}: fused ${a.best.toFixed(3)} ms, unfused ${b.best.toFixed(3)} ms, unfused/fused ${(b.best / a.best).toFixed(3)}`);
process.exit(0);
