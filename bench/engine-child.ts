// One engine in its own process (so engines never share a heap, a wasm memory
// or worker threads), driven by bench/run.ts over stdin/stdout, one JSON
// message a line:
//   → {op:"prepare", workload}   ← {ok, check, firstMs, warmMs, unsupported?}  (first run, correctness check, warm-up)
//   → {op:"run", reps}           ← {ms: [per-run milliseconds]}
//   → {op:"dispose"}             ← {ok}
// `node engine-child.js <engine> cold` prints the cold-start seconds and exits.

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

if (threadsArg === "cold") {
  const engine = await load(name);
  if (!engine.coldStart) send({ seconds: null });
  else send({ seconds: await engine.coldStart() });
  process.exit(0);
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
      // warm-up: JIT tiers, thread pools and caches settle before the parent sizes its rounds on warmMs
      const warm: number[] = [];
      for (let i = 0; i < 3 || (i < 50 && warm.reduce((a, b) => a + b, 0) < 100); i++) {
        const t1 = performance.now();
        await current.run();
        warm.push(performance.now() - t1);
      }
      send({ ok: c.ok, check: c, firstMs, warmMs: Math.min(...warm) });
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
