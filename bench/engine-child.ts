// One engine in its own process (so engines never share a heap, a wasm memory
// or worker threads), driven by bench/run.ts over stdin/stdout, one JSON
// message a line:
//   → {op:"prepare", workload, warmLimitMs?}
//                                ← {ok, check, firstMs, warmMs, warmRounds, warmSettled, unsupported?}
//                                  (first run, correctness check, warm-up until timings settle: see warmUp)
//   → {op:"run", reps}           ← {ms: [per-run milliseconds]}
//   → {op:"dispose"}             ← {ok}
// (Cold start is bench/cold-child.ts: this file loads a good deal before any engine.)

import v8 from "node:v8";
import { createInterface } from "node:readline";
import type { Engine, Prepared, Workload } from "./workloads.js";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const { check } = await import("./reference.js");

const [name, threadsArg, variant] = process.argv.slice(2);

async function load(n: string): Promise<Engine> {
  return (await import(`./engines/${n}.js`)).default as Engine;
}

const send = (m: unknown) => process.stdout.write(JSON.stringify(m) + "\n");

/** Most time one workload may spend warming up in one engine before it is timed regardless. */
const WARM_LIMIT_MS = 3000;
/** Each warm-up round repeats the workload for about this long (as a timed round does). */
const WARM_ROUND_MS = 40;
/** Three consecutive warm-up rounds agreeing within this fraction count as settled... */
const SETTLED = 0.1;
/** ...after at least this long: Liftoff code runs steadily too, until TurboFan's background compile lands. */
const WARM_MIN_MS = 250;

/**
 * Runs `p` in rounds of ~WARM_ROUND_MS until, after WARM_MIN_MS, the last three
 * rounds' medians agree within SETTLED, or `limitMs` has passed.
 *
 * Why rounds until settled rather than a fixed count: V8 tiers up both JS
 * (Ignition → Sparkplug → TurboFan) and wasm (Liftoff → TurboFan, compiled in the
 * background) on its own schedule, so a child's first workload ran 5–25× slower
 * for its first rounds, and how long that lasts differs per engine (tfjs-wasm's
 * and onnxruntime-web's large binaries take longest). Waiting for the timings to
 * settle covers JS and wasm tiering, thread-pool start-up and first-touch page
 * faults alike, and every engine gets exactly the same rule. (V8 flags such as
 * --no-wasm-dynamic-tiering would only cover wasm, not the engines' JS host code,
 * and would change cold-start behaviour.)
 */
async function warmUp(p: Prepared, limitMs: number): Promise<{ warmMs: number; rounds: number; settled: boolean }> {
  const start = performance.now();
  const time = async () => {
    const t0 = performance.now();
    await p.run();
    return performance.now() - t0;
  };
  let best = await time();
  const medians: number[] = [];
  while (true) {
    const reps = Math.max(2, Math.min(200, Math.round(WARM_ROUND_MS / Math.max(best, 0.01))));
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) ms.push(await time());
    best = Math.min(best, ...ms);
    medians.push([...ms].sort((a, b) => a - b)[ms.length >> 1]);
    const last = medians.slice(-3);
    const elapsed = performance.now() - start;
    const settled = elapsed >= WARM_MIN_MS && last.length === 3 && Math.max(...last) <= (1 + SETTLED) * Math.min(...last);
    if (settled || elapsed > limitMs) return { warmMs: Math.min(...ms), rounds: medians.length, settled };
  }
}

const engine = await load(name);
await engine.init({ threads: Number(threadsArg), variant: variant || undefined });
let current: Prepared | null = null;

for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line);
  try {
    if (msg.op === "prepare") {
      current?.dispose();
      current = await engine.prepare(msg.workload as Workload);
      if (!current) {
        send({ ok: true, unsupported: true });
        continue;
      }
      const t0 = performance.now();
      await current.run();
      const firstMs = performance.now() - t0;
      const c = check(msg.workload, await current.result());
      if (!c.ok) {
        send({ ok: false, check: c, firstMs });
        continue;
      }
      // warm-up until the timings settle, so the parent's rounds (sized on warmMs) see steady state
      const w = await warmUp(current, msg.warmLimitMs ?? WARM_LIMIT_MS);
      send({ ok: true, check: c, firstMs, warmMs: w.warmMs, warmRounds: w.rounds, warmSettled: w.settled });
    } else if (msg.op === "run") {
      const ms: number[] = [];
      for (let r = 0; r < msg.reps; r++) {
        const t0 = performance.now();
        await current!.run();
        ms.push(performance.now() - t0);
      }
      send({ ms });
    } else if (msg.op === "dispose") {
      current?.dispose();
      current = null;
      send({ ok: true });
    }
  } catch (e) {
    send({ ok: false, error: String((e as Error)?.stack ?? e) });
  }
}
process.exit(0);
