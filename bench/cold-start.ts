// Cold start, measured honestly: for each engine and thread count, a new
// `node` process (bench/cold-child.ts) imports the engine, initialises it and
// reads back a first 2×2 matmul; nothing is loaded before its clock starts.
// Runs are interleaved (engine after engine, round after round) so a busy
// moment of the machine falls on every engine alike; the table gives medians.
//
//   npm run bench:cold [-- --runs 5 --engines webgrad,tfjs-wasm --threads 1,2]
//
// Columns: import, init, first matmul (prepare + run + read), their total, and
// since process start (adds Node's own start-up, the same for every engine).
// tfjs-wasm and jax-js run one thread in Node whatever is asked: the `threads`
// column says what each engine really used.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { runs: { type: "string" }, engines: { type: "string" }, threads: { type: "string" } },
});
const runs = Number(values.runs ?? 5);
const engines = (values.engines ?? "webgrad,tfjs-wasm,onnxruntime-web,jax-js").split(",");
const threadCounts = (values.threads ?? "1,2").split(",").map(Number);
const child = fileURLToPath(new URL("./cold-child.js", import.meta.url));

interface Sample { engine: string; threads: number; actualThreads: number; ok: boolean; importMs: number; initMs: number; firstMs: number; totalMs: number; sinceStartMs: number }

function once(engine: string, threads: number): Promise<Sample | { error: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--experimental-wasm-relaxed-simd", child, engine, String(threads)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => {
      const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
      resolve(line && code === 0 ? JSON.parse(line) : { error: `exit ${code}: ${(err || out).trim().split("\n").pop()}` });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const samples = new Map<string, Sample[]>();
const errors = new Map<string, string>();
for (let r = 0; r < runs; r++) {
  for (const threads of threadCounts) {
    for (const engine of engines) {
      const key = `${engine}\t${threads}`;
      if (errors.has(key)) continue;
      const s = await once(engine, threads);
      if ("error" in s) errors.set(key, s.error);
      else samples.set(key, [...(samples.get(key) ?? []), s]);
    }
  }
}

console.log(`cold start: import → init → first 2×2 matmul read back, a new node ${process.version} process each, median of ${runs} (ms)\n`);
const head = ["engine", "threads", "import", "init", "first matmul", "total", "since process start"];
const rows = [head];
for (const threads of threadCounts) {
  for (const engine of engines) {
    const key = `${engine}\t${threads}`, ss = samples.get(key);
    if (!ss) {
      rows.push([engine, String(threads), errors.get(key) ?? "no result", "", "", "", ""]);
      continue;
    }
    const m = (k: keyof Sample) => median(ss.map((s) => s[k] as number)).toFixed(1);
    const actual = ss[0].actualThreads;
    rows.push([engine, actual === threads ? String(threads) : `${threads} (uses ${actual})`, m("importMs"), m("initMs"), m("firstMs"), m("totalMs"), m("sinceStartMs")]);
  }
}
const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
