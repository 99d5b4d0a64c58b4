// One cold start, in a process of its own: `node cold-child.js <engine> <threads>`
// times import → init → first 2×2 matmul read back, from a module that has no
// static imports (so nothing is loaded before the clock starts), and prints one
// JSON line. Every engine goes through the same path: its bench/engines module
// is imported dynamically (webgrad's imports the engine statically, so loading
// webgrad is inside `import`, as the peers' lazy loads are), then init, then a
// gemm workload of 2×2×2, prepared, run once and its result read.
// `sinceStart` is performance.now() itself: milliseconds since the process
// started, so it adds Node's own start-up to the engine's.

const t0 = performance.now();
const [name, threadsArg] = process.argv.slice(2);
const threads = Number(threadsArg);
const engine = (await import(`./engines/${name === "webgrad" || name === "webgrad-base" ? `${name}-cold` : name}.js`)).default as import("./workloads.js").Engine & { actualThreads?(): number };
const tImport = performance.now();
await engine.init({ threads });
const tInit = performance.now();
const p = (await engine.prepare({ kind: "gemm", m: 2, n: 2, k: 2 }))!;
await p.run();
const c = await p.result();
const tFirst = performance.now();

// checked after the clock stops: C = A·B with the bench's deterministic inputs
const { input } = await import("./workloads.js");
const a = input(4, 1), b = input(4, 2);
const want = [0, 1, 2, 3].map((i) => a[(i >> 1) * 2] * b[i & 1] + a[(i >> 1) * 2 + 1] * b[2 + (i & 1)]);
const ok = want.every((w, i) => Math.abs(w - c[i]) < 1e-5);
console.log(JSON.stringify({
  engine: name, threads, actualThreads: engine.actualThreads?.() ?? threads, ok,
  importMs: tImport - t0, initMs: tInit - tImport, firstMs: tFirst - tInit, totalMs: tFirst - t0, sinceStartMs: tFirst,
}));
process.exit(ok ? 0 : 1);
