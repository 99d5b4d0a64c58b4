// The measurements behind docs/MEMORY.md: the same PyTorch-style training
// loops under each memory design this engine can run, in one process.
//
//   npm run build && node --experimental-wasm-relaxed-simd --expose-gc bench/memory-designs.mjs [--old DIR] [--steps N] [--rounds R]
//
// --old DIR points at another build's dist/ (e.g. a worktree of the commit
// before the change): its step clock and its scoped step are timed beside
// this build's, interleaved round by round, so speed ratios come from one run.
import * as wg from "../dist/host/index.js";

const argv = process.argv.slice(2);
const opt = (name, dflt) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : dflt);
const oldDir = opt("--old", null);
const steps = Number(opt("--steps", 2000));
const rounds = Number(opt("--rounds", 15));
const perRound = 40;

const old = oldDir ? await import(`${oldDir.replace(/\/$/, "")}/host/index.js`) : null;
await wg.init({ threads: 1, verbose: false });
if (old) await old.init({ threads: 1, verbose: false });

function models(lib) {
  class S1 extends lib.nn.Module {
    conv1 = new lib.nn.Conv2d(1, 16, 3, 1);
    pool = new lib.nn.MaxPool2d(2);
    fc = new lib.nn.Linear(16 * 13 * 13, 10);
    forward(x) { return this.fc.forward(this.pool.forward(this.conv1.forward(x).relu()).flatten(1)); }
  }
  class Mlp extends lib.nn.Module {
    fc1 = new lib.nn.Linear(784, 256);
    fc2 = new lib.nn.Linear(256, 10);
    forward(x) { return this.fc2.forward(this.fc1.forward(x).relu()); }
  }
  return { s1: S1, mlp: Mlp };
}

/** A training loop for `lib`: step() runs one PyTorch-style step, scoped or not. */
function loop(lib, model, scoped) {
  lib.manualSeed(1);
  const net = new (models(lib)[model])();
  const o = new lib.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = lib.tensor(Float32Array.from({ length: 64 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000), { shape: model === "s1" ? [64, 1, 28, 28] : [64, 784] });
  const y = lib.tensor(Array.from({ length: 64 }, (_, i) => i % 10), { dtype: "int32" });
  // the step clock released data made after training had started: the old build needs keep() to run at all
  if (lib === old) (x.keep(), y.keep());
  const body = () => {
    o.zeroGrad();
    const loss = lib.nn.crossEntropy(net.forward(x), y);
    loss.backward();
    o.step();
    return loss;
  };
  return { step: scoped ? () => lib.scope(() => body().item()) : () => body().item() };
}

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

for (const model of ["mlp", "s1"]) {
  const variants = [
    ["this build, no scope (call release + sweeps)", wg, false],
    ["this build, wg.scope per step (tidy)", wg, true],
  ];
  if (old) variants.push(["old build, no scope (step clock)", old, false], ["old build, wg.scope per step", old, true]);
  const runs = variants.map(([name, lib, scoped]) => ({ name, lib, ...loop(lib, model, scoped), times: [], error: "" }));
  for (const r of runs) {
    try {
      for (let i = 0; i < 10; i++) r.step(); // warm up
    } catch (e) {
      r.error = e.message.slice(0, 160);
    }
  }
  for (let round = 0; round < rounds; round++) {
    for (const r of runs) {
      if (r.error) continue;
      const t0 = performance.now();
      try {
        for (let i = 0; i < perRound; i++) r.step();
      } catch (e) {
        r.error = e.message.slice(0, 120);
        continue;
      }
      r.times.push((performance.now() - t0) / perRound);
    }
  }
  console.log(`\n${model === "s1" ? "S1 CNN" : "MLP 784-256-10"}, batch 64, 1 thread, ms per step (median of ${rounds} rounds of ${perRound} steps, interleaved):`);
  const base = median(runs[1].times);
  for (const r of runs) {
    const m = r.times.length ? median(r.times) : NaN;
    console.log(`  ${r.name.padEnd(48)} ${r.error ? `error: ${r.error}` : `${m.toFixed(3)} ms (${(m / base).toFixed(3)}× the scoped step of this build)`}`);
  }
  if (old) {
    const [n, s, on, os] = runs.map((r) => median(r.times));
    console.log(`  old build's time ÷ this build's: no scope ${(on / n).toFixed(3)}, scoped ${(os / s).toFixed(3)} (above 1: this build faster)`);
  }

  // memory after `steps` plain steps, with and without automatic release
  for (const auto of [true, false]) {
    wg.shutdown();
    await wg.init({ threads: 1, verbose: false, maxMemory: 1 << 30 });
    wg.backend().mm.autoRelease = auto;
    const l = loop(wg, model, false);
    let done = 0, err = "";
    const t0 = performance.now();
    try {
      for (; done < steps; done++) l.step();
    } catch (e) {
      err = e.message.replace(/\(init.*$/, "").slice(0, 100);
    }
    const m = wg.memory();
    console.log(`  ${auto ? "chosen design" : "FinalizationRegistry only"}, ${steps} steps with no scope: ${err ? `stopped at step ${done}: ${err}` : `${mib(m.inUse)} in use after, ${m.sweeps} sweeps, ${m.spilled} tensors spilled, ${((performance.now() - t0) / steps).toFixed(3)} ms/step`}`);
  }
  wg.shutdown();
  await wg.init({ threads: 1, verbose: false });
}

if (old) {
  // the README's Example under the step clock
  const S1 = models(old).s1;
  const net = new S1();
  const o = new old.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = old.randn([64, 1, 28, 28]), labels = old.tensor(new Int32Array(64));
  let reached = 0;
  try {
    for (let step = 0; step < 10; step++, reached++) {
      o.zeroGrad();
      const l = old.nn.crossEntropy(net.forward(images), labels);
      l.backward();
      o.step();
    }
    console.log("\nold build, README Example: all 10 steps");
  } catch (e) {
    console.log(`\nold build, README Example: stopped at step ${reached}: ${e.message}`);
  }
}
process.exit(0);
