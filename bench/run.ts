// npm run bench: webgrad beside its peers on identical, checked work, in one run.
//
//   npm run bench                      every workload, 7 rounds
//   npm run bench -- --quick           a few small workloads, 3 rounds (< 3 minutes; CI runs it)
//   npm run bench -- --engines webgrad,tfjs-wasm --only gemm
//                                      (--only "gemm 1024|adam": workloads whose label holds any of them)
//   WEBGRAD_BASE=../base node dist/bench/run.js --engines webgrad,webgrad-base
//                                      this tree against another built tree, interleaved
//   npm run bench -- --only llm [--llm-webgpu]
//                                      issue 17: a 135M Llama, webgrad beside wllama (bench/llm.ts)
//   npm run bench -- --threads 1,2,4,8,16
//                                      thread scaling of GEMM 1024³, conv (c) and the S1 step
//                                      (webgrad and torch), capped at this machine's cores
//
// Native PyTorch ("torch", bench/torch.ts) runs beside the engines when python3 can
// import torch and numpy: a reference, not a peer. Every row prints webgrad's time
// against it at the same thread count; without it the bench says why in one line.
//
// Each engine runs in its own child process (bench/engine-child.ts). For each
// workload every engine first runs once and has its result checked against a
// float64 reference (bench/reference.ts) and warms up until its timings settle
// (WARM_LIMIT_MS, the same rule for every engine); then rounds are interleaved across
// engines (A B C A B C …) so a noisy neighbour hurts everyone alike, and the
// median and best of the rounds are reported. Alongside: this machine's
// single-thread ceilings measured in the same run (f32x4 mul+add,
// relaxed_madd, memory copy bandwidth). Nothing here asserts a speed.

import v8 from "node:v8";
import os from "node:os";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface, type Interface } from "node:readline";
import { readdirSync, statSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { measureCeiling, type Ceiling } from "./ceiling.js";
import { flops, label, type Workload } from "./workloads.js";
import { torchUnavailable, torchCommand, checkTorchReply, describeTorch } from "./torch.js";
import { runLlmGroup, printLlmReport, type LlmReport } from "./llm.js"; // issue 17: the llm group

v8.setFlagsFromString("--experimental-wasm-relaxed-simd"); // Node 20: for the relaxed_madd ceiling
const argv = process.argv.slice(2);
if (argv.includes("--backend") && argv[argv.indexOf("--backend") + 1] === "webgpu") {
  // the GPU bench (bench/webgpu.ts) in a child: Dawn's Vulkan loader reads its
  // variables at process start, so SwiftShader is set up there when no driver is configured
  const env = { ...process.env };
  const icd = "/usr/lib/chromium/vk_swiftshader_icd.json";
  if (!env.VK_ICD_FILENAMES && existsSync(icd) && !existsSync("/dev/nvidia0") && !existsSync("/dev/dri")) {
    env.VK_ICD_FILENAMES = icd;
    env.LD_LIBRARY_PATH = ["/usr/lib/chromium", env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  }
  const child = spawn(process.execPath, [fileURLToPath(new URL("./webgpu.js", import.meta.url)), ...argv], { stdio: "inherit", env });
  process.exitCode = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  process.exit();
}
const quick = argv.includes("--quick");
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const rounds = Number(opt("--rounds") ?? (quick ? 3 : 7));
const only = opt("--only");
const PEERS = ["tfjs-wasm", "onnxruntime-web", "jax-js"];
// ---- native PyTorch and thread scaling (issue 16 items 3 and 5)
/** Engines that are no peer: native code, the ceiling the wasm engines are read against. */
const NATIVE = new Set(["torch"]);
const cores = os.availableParallelism?.() ?? os.cpus().length;
/** --threads 1,2,4,…: the thread counts asked for, those this machine has cores for, and those dropped. */
const threadsAsked = opt("--threads")?.split(",").map(Number).filter((n) => Number.isInteger(n) && n >= 1);
const scaling = threadsAsked ? { asked: threadsAsked, run: threadsAsked.filter((n) => n <= cores), dropped: threadsAsked.filter((n) => n > cores) } : null;
if (scaling && !scaling.run.length) scaling.run.push(1);
const wanted = new Set((opt("--engines") ?? (scaling ? ["webgrad", "torch"] : ["webgrad", ...PEERS, "torch"]).join(",")).split(","));
/** Why torch rows are left out (null: torch runs, or was not asked for). */
const torchSkipped = wanted.has("torch") ? torchUnavailable() : null;
if (torchSkipped) wanted.delete("torch");
// ---- end native PyTorch and thread scaling
// ---- issue 17: the llm group (bench/llm.ts): runs in every run but --threads; --only llm runs it alone
const llmOnly = only?.split("|").every((o) => o.trim() === "llm") ?? false;
const runLlm = !scaling && (!only || only.split("|").some((o) => o.trim() === "llm"));
/** Its engines: webgrad and wllama unless --engines names them. */
const llmEngines = new Set(opt("--engines")?.split(",") ?? ["webgrad", "wllama"]);
// ---- end llm group

/** One engine process: name, thread count and variant. */
interface Config { engine: string; threads: number; variant?: string; key: string; gemmOnly?: boolean }
const CONFIGS: Config[] = [
  { engine: "webgrad", threads: 1, key: "webgrad 1t" },
  // webgrad-base: another built tree's webgrad (WEBGRAD_BASE=<dir>, bench/engines/webgrad-base.ts),
  // each config beside this tree's same config, for A/B runs of one change
  { engine: "webgrad-base", threads: 1, key: "webgrad-base 1t" },
  { engine: "webgrad", threads: 1, variant: "simd", key: "webgrad 1t simd", gemmOnly: true },
  { engine: "webgrad-base", threads: 1, variant: "simd", key: "webgrad-base 1t simd", gemmOnly: true },
  { engine: "webgrad", threads: 2, key: "webgrad 2t" },
  { engine: "webgrad-base", threads: 2, key: "webgrad-base 2t" },
  { engine: "tfjs-wasm", threads: 1, key: "tfjs-wasm 1t" },
  { engine: "onnxruntime-web", threads: 1, key: "onnxruntime-web 1t" },
  { engine: "onnxruntime-web", threads: 2, key: "onnxruntime-web 2t" },
  { engine: "jax-js", threads: 1, key: "jax-js 1t" },
  { engine: "torch", threads: 1, key: "torch 1t" },
  { engine: "torch", threads: 2, key: "torch 2t" },
].filter((c) => wanted.has(c.engine) && !scaling);
// --threads: each engine that can use threads at each thread count asked for (and available)
if (scaling) {
  for (const engine of ["webgrad", "webgrad-base", "onnxruntime-web", "torch"].filter((e) => wanted.has(e))) {
    for (const threads of scaling.run) CONFIGS.push({ engine, threads, key: `${engine} ${threads}t` });
  }
}
// --base-first: each webgrad-base config runs just before its webgrad twin instead of just after
if (argv.includes("--base-first")) {
  for (let i = 0; i + 1 < CONFIGS.length; i++) {
    if (CONFIGS[i].engine === "webgrad" && CONFIGS[i + 1].engine === "webgrad-base") {
      [CONFIGS[i], CONFIGS[i + 1]] = [CONFIGS[i + 1], CONFIGS[i]];
      i++;
    }
  }
}

const gemm = (m: number, n = m, k = m): Workload => ({ kind: "gemm", m, n, k });
const conv = (n: number, c: number, hw: number, oc: number, pad: number, backward: boolean): Workload =>
  ({ kind: "conv", n, c, h: hw, w: hw, oc, kh: 3, kw: 3, pad, backward });
const attn = (s: number, causal: boolean, backward: boolean): Workload => ({ kind: "attention", b: 1, h: 8, s, d: 64, causal, backward });

const WORKLOADS: Workload[] = scaling
  ? [gemm(1024), conv(32, 32, 32, 64, 1, false), { kind: "train", model: "s1", batch: 64 }]
  : quick
  ? [gemm(256), gemm(512), conv(64, 1, 28, 16, 0, false), conv(64, 1, 28, 16, 0, true), attn(128, false, false), attn(128, true, true),
     { kind: "adam", n: 1_000_000 }, { kind: "train", model: "s1", batch: 64 }, { kind: "train", model: "mlp", batch: 64 }]
  : [
      gemm(128), gemm(256), gemm(512), gemm(1024), gemm(512, 3072, 768), gemm(127), gemm(1000),
      ...[false, true].flatMap((b) => [conv(64, 1, 28, 16, 0, b), conv(64, 3, 32, 32, 1, b), conv(32, 32, 32, 64, 1, b)]),
      ...[128, 512].flatMap((s) => [false, true].flatMap((causal) => [attn(s, causal, false), attn(s, causal, true)])),
      { kind: "adam", n: 1_000_000 }, { kind: "adam", n: 10_000_000 },
      { kind: "train", model: "s1", batch: 64 }, { kind: "train", model: "mlp", batch: 64 },
      // issue 16 item 2: int8 GEMM (a dynamically quantised Linear), against the f32 gemm rows above
      { kind: "gemm-int8", m: 1024, n: 1024, k: 1024 }, { kind: "gemm-int8", m: 64, n: 256, k: 784 },
    ];

const childScript = fileURLToPath(new URL("./engine-child.js", import.meta.url));
const coldChild = fileURLToPath(new URL("./cold-child.js", import.meta.url));

class Child {
  private proc: ChildProcess;
  private lines: Interface;
  private waiting: ((v: any) => void)[] = [];
  constructor(readonly cfg: Config) {
    if (cfg.engine === "torch") {
      // a Python process (bench/engines/torch-child.py) with the same protocol
      const { cmd, args, env } = torchCommand(cfg.threads);
      this.proc = spawn(cmd, args, { stdio: ["pipe", "pipe", "inherit"], env });
    } else {
      this.proc = spawn(process.execPath, ["--experimental-wasm-relaxed-simd", childScript, cfg.engine, String(cfg.threads), cfg.variant ?? ""], {
        stdio: ["pipe", "pipe", "inherit"],
      });
    }
    this.lines = createInterface({ input: this.proc.stdout! });
    this.lines.on("line", (l) => {
      let m: unknown;
      try {
        m = JSON.parse(l);
      } catch {
        process.stderr.write(`[${cfg.key}] ${l}\n`); // an engine's own chatter
        return;
      }
      this.waiting.shift()?.(m);
    });
    this.proc.on("exit", (code) => {
      for (const w of this.waiting.splice(0)) w({ ok: false, error: `${cfg.key} exited with code ${code}` });
    });
  }
  ask(msg: unknown): Promise<any> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.proc.stdin!.write(JSON.stringify(msg) + "\n");
    });
  }
  close(): void {
    this.proc.stdin!.end();
  }
  get pid(): number | undefined {
    return this.proc.pid;
  }
}

/**
 * CPU nanoseconds used so far by all threads of these processes (Linux's
 * /proc/<pid>/task/<tid>/schedstat), or null where /proc has no such files.
 */
function cpuNs(pids: number[]): number | null {
  let sum = 0;
  try {
    for (const pid of pids) {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      }
    }
  } catch {
    return null;
  }
  return sum;
}

/**
 * Waits until every engine process is idle: each child's threads together
 * used under 0.5 ms of CPU in the last 10 ms (at most IDLE_LIMIT_MS, at least
 * SETTLE_MS). An engine's background threads (ORT's spinning pool, V8's
 * concurrent GC and compiler threads after a jax-js or tfjs round) otherwise
 * could keep one of the two cores busy while the next engine is timed. The
 * same wait precedes every engine's turn. (It did not explain the one gap
 * still seen: webgrad's causal attention fwd+bwd at 512 reads ~31–34 ms when
 * the peers run in the same bench and 24.5 ms when only webgrad's engines do.)
 */
async function settle(children: Child[]): Promise<void> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await sleep(SETTLE_MS);
  const pids = children.map((c) => c.pid).filter((p): p is number => p !== undefined);
  const t0 = performance.now();
  let before = cpuNs(pids);
  if (before === null) return;
  while (performance.now() - t0 < IDLE_LIMIT_MS) {
    await sleep(10);
    const now = cpuNs(pids);
    if (now === null || now - before < 0.5e6) return;
    before = now;
  }
}

/**
 * Seconds from a fresh process's first line to its first 2×2 matmul read back
 * (import + init + run), 1 thread: bench/cold-child.ts, which loads nothing before
 * its clock starts (npm run bench:cold gives the phases and 2 threads).
 */
function coldStart(engine: string): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ["--experimental-wasm-relaxed-simd", coldChild, engine, "1"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    p.stdout.on("data", (d) => (out += d));
    p.on("exit", () => {
      const line = out.trim().split("\n").reverse().find((l) => l.startsWith("{"));
      const r = line ? JSON.parse(line) : null;
      resolve(r?.ok ? r.totalMs / 1000 : null);
    });
  });
}

/**
 * Longest warm-up per engine and workload. Every engine warms up by the same rule
 * (bench/engine-child.ts warmUp): rounds of ~40 ms until, after 250 ms, three consecutive rounds'
 * medians agree within 10%, because V8's JS and wasm tier-up made a child's first
 * rounds 5–25× slower for a while that differs per engine.
 */
const WARM_LIMIT_MS = quick ? 1500 : 3000;
/** Idle time between two engines' turns, and the longest wait for every engine process to go idle. */
const SETTLE_MS = 25, IDLE_LIMIT_MS = 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** roundsMs: each round's median, in round order (rounds of all engines interleave). */
interface Cell { medianMs: number; bestMs: number; gflops?: number; error?: string; unsupported?: boolean; roundsMs?: number[] }
/** unsettled: engines whose warm-up hit WARM_LIMIT_MS before two rounds agreed within 10%. */
type Row = { workload: string; flops: number; cells: Record<string, Cell>; unsettled?: string[] };

async function runWorkload(children: Child[], w: Workload): Promise<Row> {
  const row: Row = { workload: label(w), flops: flops(w), cells: {} };
  const live: { c: Child; reps: number; ms: number[] }[] = [];
  const unsettled: string[] = [];
  for (const c of children) {
    if (c.cfg.gemmOnly && w.kind !== "gemm" && w.kind !== "gemm-int8") continue; // issue 16: int8 on plain SIMD too
    // the torch child sends its first result back; it is checked here as engine-child.ts checks the others'
    const reply = await c.ask({ op: "prepare", workload: w, warmLimitMs: WARM_LIMIT_MS });
    const r = c.cfg.engine === "torch" ? checkTorchReply(w, reply) : reply;
    if (r.unsupported) row.cells[c.cfg.key] = { medianMs: NaN, bestMs: NaN, unsupported: true };
    else if (!r.ok) row.cells[c.cfg.key] = { medianMs: NaN, bestMs: NaN, error: r.error ?? `wrong result: ${r.check?.detail}` };
    // enough repetitions for ~40 ms a round, sized on a warm run
    else {
      if (!r.warmSettled) unsettled.push(`${c.cfg.key} (${r.warmRounds} warm-up rounds)`);
      live.push({ c, reps: Math.max(2, Math.min(200, Math.round(40 / Math.max(r.warmMs, 0.01)))), ms: [] });
    }
  }
  const roundMedians = new Map<Child, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const l of live) {
      // let the previous engine's threads (spinning pools, V8's background GC and compilers) go quiet before timing the next
      await settle(children);
      const res = await l.c.ask({ op: "run", reps: l.reps });
      if (!res.ms) {
        row.cells[l.c.cfg.key] = { medianMs: NaN, bestMs: NaN, error: res.error };
        continue;
      }
      l.ms.push(...res.ms);
      roundMedians.set(l.c, [...(roundMedians.get(l.c) ?? []), median(res.ms)]);
    }
  }
  for (const l of live) {
    if (row.cells[l.c.cfg.key]) continue;
    const med = median(roundMedians.get(l.c)!), best = Math.min(...l.ms);
    row.cells[l.c.cfg.key] = { medianMs: med, bestMs: best, gflops: row.flops ? row.flops / (med * 1e6) : undefined, roundsMs: roundMedians.get(l.c) };
  }
  for (const c of children) if (!c.cfg.gemmOnly || w.kind === "gemm" || w.kind === "gemm-int8") await c.ask({ op: "dispose" });
  if (unsettled.length) row.unsettled = unsettled;
  return row;
}

function fmtCell(c: Cell | undefined): string {
  if (!c) return "";
  if (c.unsupported) return "n/a";
  if (c.error) return "ERROR";
  return `${c.medianMs < 10 ? c.medianMs.toFixed(3) : c.medianMs.toFixed(1)} ms${c.gflops ? ` ${c.gflops.toFixed(1)} GF` : ""}`;
}

/** webgrad's speed-up over the fastest peer with the same thread count (>1: webgrad is faster). Native engines are no peers. */
function vsPeers(row: Row, threads: number): { ratio: number; peer: string } | null {
  const mine = row.cells[`webgrad ${threads}t`];
  if (!mine || !Number.isFinite(mine.medianMs)) return null;
  let best: [string, number] | null = null;
  for (const [k, c] of Object.entries(row.cells)) {
    if (k.startsWith("webgrad") || NATIVE.has(k.split(" ")[0]) || !k.endsWith(` ${threads}t`) || !Number.isFinite(c.medianMs)) continue;
    if (!best || c.medianMs < best[1]) best = [k, c.medianMs];
  }
  return best ? { ratio: best[1] / mine.medianMs, peer: best[0] } : null;
}

function ceilingRatio(row: Row, w: Workload, key: string, ceil: Ceiling, threads: number): string {
  const c = row.cells[key];
  if (!c || !Number.isFinite(c.medianMs)) return "";
  if (w.kind === "adam") {
    const gbps = (28 * w.n) / (c.medianMs * 1e6); // p, g, m, v read; p, m, v written
    return `${((gbps / ceil.copyGBps) * 100).toFixed(0)}% of copy (${gbps.toFixed(1)} GB/s)`;
  }
  if (!c.gflops) return "";
  const roof = (key.includes("simd") || ceil.relaxedGflops === null ? ceil.mulAddGflops : ceil.relaxedGflops) * threads;
  return `${((c.gflops / roof) * 100).toFixed(0)}% of ${key.includes("simd") ? "mul+add" : "relaxed"} ceiling`;
}

/** With webgrad and webgrad-base both run: each config's medians side by side, this tree over the other. */
function abTable(rows: Row[]): void {
  console.log(`\nA/B: webgrad (this tree) vs webgrad-base (${process.env.WEBGRAD_BASE}), median ms; ratio = this / base; * outside ±3%`);
  console.log(`  (paired: the median over rounds of this round's / base's same-round median, each pair run back to back; best: ratio of the fastest single runs)`);
  console.log(`  ${"workload".padEnd(46)} ${"config".padEnd(8)} ${"base".padStart(10)} ${"this".padStart(10)} ${"ratio".padStart(7)} ${"paired".padStart(7)} ${"best".padStart(7)}`);
  for (const r of rows) {
    for (const c of CONFIGS.filter((c) => c.engine === "webgrad")) {
      const a = r.cells[c.key.replace("webgrad", "webgrad-base")], b = r.cells[c.key];
      if (!a || !b) continue;
      const ratio = b.medianMs / a.medianMs, fmt = (x: number) => (x < 10 ? x.toFixed(3) : x.toFixed(1)).padStart(10);
      const cfg = c.key.slice("webgrad ".length);
      const pairs = (b.roundsMs ?? []).map((x, i) => x / (a.roundsMs?.[i] ?? NaN)).filter(Number.isFinite);
      const paired = pairs.length ? median(pairs).toFixed(3) : "";
      console.log(`  ${r.workload.padEnd(46)} ${cfg.padEnd(8)} ${fmt(a.medianMs)} ${fmt(b.medianMs)} ${ratio.toFixed(3).padStart(7)} ${paired.padStart(7)} ${(b.bestMs / a.bestMs).toFixed(3).padStart(7)}${Math.abs(ratio - 1) > 0.03 ? " *" : ""}`);
    }
  }
}

// ---- native PyTorch and thread scaling (issue 16 items 3 and 5): the ratio, the summary table, the scaling table

/** The thread counts the configs run at, ascending. */
const threadCounts = () => [...new Set(CONFIGS.map((c) => c.threads))].sort((a, b) => a - b);
const fmtMs = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? "" : x < 10 ? x.toFixed(3) : x.toFixed(1));

/** torch's median over webgrad's at the same thread count (>1: webgrad is faster), or null where either is missing. */
function vsTorch(row: Row, threads: number): number | null {
  const mine = row.cells[`webgrad ${threads}t`], native = row.cells[`torch ${threads}t`];
  if (!mine || !native || !Number.isFinite(mine.medianMs) || !Number.isFinite(native.medianMs)) return null;
  return native.medianMs / mine.medianMs;
}

/** Every row against torch, as a Markdown table (the README's Speed table takes its ratios from it). */
function torchTable(rows: Row[]): void {
  const ts = threadCounts().filter((n) => CONFIGS.some((c) => c.key === `torch ${n}t`) && CONFIGS.some((c) => c.key === `webgrad ${n}t`));
  if (!ts.length || !rows.length) return;
  const peers = CONFIGS.some((c) => PEERS.includes(c.engine));
  console.log(`\nwebgrad against native PyTorch, median ms; vs torch = torch ms / webgrad ms (>1: webgrad faster)${peers ? "; vs peer = best wasm peer ms / webgrad ms" : ""}`);
  const head = ["workload", ...ts.flatMap((n) => [`webgrad ${n}t`, `torch ${n}t`, `vs torch ${n}t`, ...(peers ? [`vs peer ${n}t`] : [])])];
  console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
  for (const r of rows) {
    const cells = ts.flatMap((n) => {
      const v = vsTorch(r, n), p = vsPeers(r, n);
      return [fmtMs(r.cells[`webgrad ${n}t`]?.medianMs), fmtMs(r.cells[`torch ${n}t`]?.medianMs), v === null ? "" : `${v.toFixed(2)}×`,
        ...(peers ? [p ? `${p.ratio.toFixed(2)}× ${p.peer.split(" ")[0]}` : ""] : [])];
    });
    console.log(`| ${[r.workload, ...cells].join(" | ")} |`);
  }
}

/**
 * Parallel efficiency t1 / (n · tn) per engine and workload (--threads): 100% is a
 * perfect split. On a shared machine a low figure may be a neighbour's load, not the split.
 */
function scalingTable(rows: Row[]): void {
  const ts = threadCounts();
  console.log(`\nthread scaling, median ms (speed-up t1/tn, parallel efficiency t1/(n·tn); best: the same from each config's fastest run, nearer a quiet machine's)`);
  for (const r of rows) {
    console.log(r.workload);
    for (const engine of new Set(CONFIGS.map((c) => c.engine))) {
      const one = r.cells[`${engine} 1t`];
      const parts = ts.map((n) => {
        const c = r.cells[`${engine} ${n}t`];
        if (!c || !Number.isFinite(c.medianMs)) return `${n}t —`;
        const sp = one && Number.isFinite(one.medianMs) ? one.medianMs / c.medianMs : NaN, spBest = one ? one.bestMs / c.bestMs : NaN;
        return `${n}t ${fmtMs(c.medianMs)} ms${n > 1 && Number.isFinite(sp) ? ` (${sp.toFixed(2)}×, ${((sp / n) * 100).toFixed(0)}%; best ${fmtMs(c.bestMs)} ms, ${spBest.toFixed(2)}×, ${((spBest / n) * 100).toFixed(0)}%)` : ""}`;
      });
      console.log(`  ${engine.padEnd(16)} ${parts.join("   ")}`);
    }
  }
}
// ---- end native PyTorch and thread scaling

async function main(): Promise<void> {
  const load0 = os.loadavg();
  console.log(`webgrad bench${quick ? " (quick)" : ""}: ${os.cpus()[0]?.model}, ${os.cpus().length} cores, Node ${process.version}, load average ${load0.map((x) => x.toFixed(2)).join(" ")}`);
  const ceil = await measureCeiling();
  console.log(`ceilings, 1 thread: f32x4 mul+add ${ceil.mulAddGflops.toFixed(1)} GFLOPS, relaxed_madd ${ceil.relaxedGflops?.toFixed(1) ?? "n/a"} GFLOPS, memory copy ${ceil.copyGBps.toFixed(1)} GB/s`);
  console.log(`engines: ${CONFIGS.map((c) => c.key).join(", ")}; ${rounds} interleaved rounds per workload`);
  if (scaling) {
    console.log(`thread scaling (--threads ${scaling.asked.join(",")}): ${scaling.run.join(", ")} thread(s)` +
      (scaling.dropped.length ? `; ${scaling.dropped.join(", ")} left out: this machine has ${cores} cores (more threads than cores would time the OS scheduler, not the split)` : ""));
  }
  if (torchSkipped) console.log(`torch rows skipped: ${torchSkipped}`);

  const children = llmOnly ? [] : CONFIGS.map((c) => new Child(c));
  // torch's version, BLAS, threading and allocator, once (from its first child)
  const torchChild = children.find((c) => c.cfg.engine === "torch");
  const torchInfo = torchChild ? await torchChild.ask({ op: "info" }) : null;
  if (torchInfo) console.log(torchInfo.ok ? describeTorch(torchInfo).join("\n") : `torch: ${torchInfo.error}`);
  console.log("");
  const rows: Row[] = [];
  for (const w of WORKLOADS) {
    if (only && !only.split("|").some((o) => label(w).includes(o))) continue; // --only "gemm 1024|adam 10M": any of them
    const row = await runWorkload(children, w);
    rows.push(row);
    const r1 = vsPeers(row, 1), r2 = vsPeers(row, 2);
    console.log(`${row.workload}`);
    for (const c of CONFIGS) {
      const cell = row.cells[c.key];
      if (!cell) continue;
      const extra = c.engine.startsWith("webgrad") ? ceilingRatio(row, w, c.key, ceil, c.threads) : "";
      const err = cell.error ? `  ${cell.error.split("\n")[0]}` : "";
      console.log(`  ${c.key.padEnd(20)} ${fmtCell(cell).padEnd(22)} ${extra}${err}`);
    }
    const ratios = [r1 && `1 thread: ${r1.ratio.toFixed(2)}× ${r1.peer}`, r2 && `2 threads: ${r2.ratio.toFixed(2)}× ${r2.peer}`].filter(Boolean);
    if (ratios.length) console.log(`  webgrad vs best peer — ${ratios.join("; ")}`);
    const nat = threadCounts().map((n) => [n, vsTorch(row, n)] as const).filter(([, r]) => r !== null);
    if (nat.length) console.log(`  webgrad vs torch (torch ms / webgrad ms, >1: webgrad faster) — ${nat.map(([n, r]) => `${n} thread${n > 1 ? "s" : ""}: ${r!.toFixed(2)}×`).join("; ")}`);
    if (row.unsettled) console.log(`  timings still moving after warm-up: ${row.unsettled.join(", ")}`);
  }
  for (const c of children) c.close();
  if (wanted.has("webgrad") && wanted.has("webgrad-base")) abTable(rows);
  torchTable(rows);
  if (scaling) scalingTable(rows);
  // issue 17: the llm group, after the other workloads (its engine processes are closed by then)
  let llm: LlmReport | undefined;
  if (runLlm) {
    llm = await runLlmGroup({ quick, rounds, copyGBps: ceil.copyGBps, engines: llmEngines, webgpu: argv.includes("--llm-webgpu"), log: (s) => console.log(s) });
    printLlmReport(llm, (s) => console.log(s));
  }

  const cold: Record<string, number | null> = {};
  // cold start is a JavaScript engine's (import + wasm compile); --threads measures steady state only
  for (const engine of scaling || llmOnly ? [] : new Set(CONFIGS.map((c) => c.engine).filter((e) => !NATIVE.has(e)))) {
    const runs: number[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const s = await coldStart(engine);
      if (s !== null) runs.push(s * 1000);
    }
    cold[engine] = runs.length ? median(runs) : null;
  }
  if (!scaling && !llmOnly) console.log(`\ncold start (import + init + first 2×2 matmul), ms: ${Object.entries(cold).map(([k, v]) => `${k} ${v?.toFixed(1) ?? "n/a"}`).join(", ")}`);

  const buildDir = fileURLToPath(new URL("../../build/", import.meta.url));
  const sizes = Object.fromEntries(readdirSync(buildDir).filter((f) => f.endsWith(".wasm")).map((f) => [f, statSync(buildDir + f).size]));
  console.log(`binaries: ${Object.entries(sizes).map(([f, s]) => `${f} ${(s / 1024).toFixed(1)} KB`).join(", ")}`);
  const load1 = os.loadavg();
  console.log(`load average at the end ${load1.map((x) => x.toFixed(2)).join(" ")}`);

  const failed = rows.flatMap((r) => Object.entries(r.cells).filter(([, c]) => c.error).map(([k, c]) => `${r.workload} / ${k}: ${c.error?.split("\n")[0]}`));
  // issue 17: an llm row that failed, or webgrad and llama.cpp computing different functions, fails like a wrong result
  if (llm) {
    failed.push(...llm.rows.filter((r) => r.error).map((r) => `llm ${r.task} ${r.threads}t / ${r.engine}: ${r.error}`));
    if ("ok" in llm.check && !llm.check.ok) failed.push(`llm same-function check / webgrad: ${llm.check.detail}`);
  }
  const out = fileURLToPath(new URL("../../bench/results.json", import.meta.url));
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), quick, cpu: os.cpus()[0]?.model, loadavg: [load0, load1], ceiling: ceil, rows, cold, sizes,
    torch: torchInfo ?? { skipped: torchSkipped ?? "not asked for (--engines)" }, threads: scaling ?? undefined, llm }, null, 2));
  console.log(`wrote ${out}`);
  if (failed.length) {
    console.log(`\n${failed.length} engine results were wrong or failed:\n  ${failed.join("\n  ")}`);
    // a wrong webgrad result is a bug; a peer failing is reported, not fatal
    if (failed.some((f) => f.includes("/ webgrad"))) process.exitCode = 1;
  }
}

await main();
