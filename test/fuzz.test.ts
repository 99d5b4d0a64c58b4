// The bounded fuzz run of `npm test` (test/fuzz-lib.ts holds the fuzzer and
// says what each verdict means): the hand-made repros and 350 seeded
// inputs per family, seven families, well under a minute. Every input must end as a correct load or a
// named error: no crash, hang, corruption, silent garbage or partial load.
// `npm run fuzz -- --inputs N [--seed S]` runs more, with the same checks.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { runFuzz, type Tally } from "./fuzz-lib.js";

test("fuzz: seeded mutations of safetensors, checkpoints, IDX (raw and gzip), PNG, JPEG and text end as loads or named errors", async () => {
  const t0 = performance.now(), rss0 = process.memoryUsage().rss;
  const tallies = await runFuzz({ inputs: 350, seed: 1 });
  // the high-water mark of the whole run, less where it started: no input may have cost 256 MB
  const peakMiB = (process.resourceUsage().maxRSS * 1024 - rss0) / 2 ** 20;
  console.log(`  peak memory over the start: ${peakMiB.toFixed(0)} MiB`);
  assert.ok(peakMiB < 256, `${peakMiB.toFixed(0)} MiB`);
  const total = Object.values(tallies).reduce((a, t) => a + t.inputs, 0);
  const bad = (t: Tally) => t.crash + t.hang + t.corruption + t.garbage + t.partial;
  for (const [f, t] of Object.entries(tallies)) {
    console.log(`  ${f.padEnd(12)} ${t.inputs} inputs: ${t.ok} loaded, ${t.named} named errors, ${t.crash} crashes, ${t.hang} hangs, ${t.corruption} corruptions, ${t.garbage} garbage, ${t.partial} partial; slowest ${t.slowestMs.toFixed(0)} ms`);
    assert.is(bad(t), 0, `${f}: ${t.examples.join("\n")}`);
    assert.ok(t.ok > 0 && t.named > 0, `${f}: the mutations reach both outcomes (${t.ok} loaded, ${t.named} refused)`);
  }
  assert.ok(total >= 2000, `${total} inputs`);
  assert.ok(performance.now() - t0 < 60_000, `${((performance.now() - t0) / 1000).toFixed(1)} s`);
});

test.run();
