// Why a 2-thread row is not twice as fast, on a machine too busy for wall-clock
// speed-ups: one workload at 1 and at N threads, each in its own process (webgrad
// inits once per process), alternating, recording per run both the wall time and the
// CPU time of the whole process (process.cpuUsage counts the worker threads too).
//   CPU(Nt) / CPU(1t)      > 1: the split adds work (a slower threads binary, cache
//                          traffic between cores, spinning waits, serial parts run twice)
//   CPU(Nt) / (N · wall)   < 1: threads sat idle (imbalance, serial parts, waits at a
//                          barrier, or a neighbour's process holding a core)
// Best-of wall times approximate a quiet machine; CPU medians hold up under load.
//
// Usage: npm run build && node --experimental-wasm-relaxed-simd bench/thread-scaling-cpu.mjs [gemm|conv|s1] [threads=2] [rounds=8]
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const [what = "gemm", threadsArg = "2", roundsArg = "8", child] = process.argv.slice(2);
const WORK = {
  gemm: { kind: "gemm", m: 1024, n: 1024, k: 1024 },
  conv: { kind: "conv", n: 32, c: 32, h: 32, w: 32, oc: 64, kh: 3, kw: 3, pad: 1, backward: false },
  s1: { kind: "train", model: "s1", batch: 64 },
};

if (child) {
  // child: <what> <threads> <reps> child — prepare once, then answer "go" lines with per-run figures
  const { default: engine } = await import("../dist/bench/engines/webgrad.js");
  await engine.init({ threads: Number(threadsArg) });
  const p = await engine.prepare(WORK[what]);
  for (let i = 0; i < 20; i++) await p.run(); // warm: tier-up, pool start, first touch
  const { createInterface } = await import("node:readline");
  for await (const _ of createInterface({ input: process.stdin })) {
    const runs = [];
    for (let i = 0; i < Number(roundsArg); i++) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      await p.run();
      const wall = performance.now() - t0, c = process.cpuUsage(c0);
      runs.push({ wall, cpu: (c.user + c.system) / 1000 });
    }
    process.stdout.write(JSON.stringify(runs) + "\n");
  }
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const N = Number(threadsArg), rounds = Number(roundsArg);
const start = (t) => {
  const p = spawn(process.execPath, ["--experimental-wasm-relaxed-simd", self, what, String(t), "5", "child"], { stdio: ["pipe", "pipe", "inherit"] });
  let buf = "", wait = null;
  p.stdout.on("data", (d) => {
    buf += d;
    const i = buf.indexOf("\n");
    if (i >= 0 && wait) { const line = buf.slice(0, i); buf = buf.slice(i + 1); const w = wait; wait = null; w(JSON.parse(line)); }
  });
  return { ask: () => new Promise((r) => { wait = r; p.stdin.write("go\n"); }), close: () => p.stdin.end() };
};
const one = start(1), many = start(N);
const all = { 1: [], [N]: [] };
for (let r = 0; r < rounds; r++) {
  all[1].push(...(await one.ask()));
  all[N].push(...(await many.ask()));
}
one.close(); many.close();
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const f = (x) => x.toFixed(2);
const s = (t) => ({ best: Math.min(...all[t].map((x) => x.wall)), wall: med(all[t].map((x) => x.wall)), cpu: med(all[t].map((x) => x.cpu)) });
const a = s(1), b = s(N);
console.log(`${what}: ${rounds}×5 runs each, alternating processes`);
console.log(`  1t: wall best ${f(a.best)} median ${f(a.wall)} ms, CPU median ${f(a.cpu)} ms`);
console.log(`  ${N}t: wall best ${f(b.best)} median ${f(b.wall)} ms, CPU median ${f(b.cpu)} ms`);
console.log(`  speed-up (best wall) ${f(a.best / b.best)}×, (median wall) ${f(a.wall / b.wall)}×; CPU(${N}t)/CPU(1t) ${f(b.cpu / a.cpu)}; threads busy CPU/(${N}·wall) ${f(b.cpu / (N * b.wall))}`);
