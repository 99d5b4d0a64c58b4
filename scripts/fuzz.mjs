// `npm run fuzz -- --inputs N [--seed S] [--family png,jpeg]`: the fuzzer of
// test/fuzz-lib.ts over more inputs than `npm test` runs, one table line per
// family, exit code 1 if any input crashed, hung, corrupted memory, loaded
// garbage or loaded partly (the inputs that did are kept in the temp folder).
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const { values } = parseArgs({ options: { inputs: { type: "string", default: "2000" }, seed: { type: "string", default: "1" }, family: { type: "string" } } });
const inputs = Number(values.inputs), seed = Number(values.seed);
if (!Number.isSafeInteger(inputs) || inputs < 1) throw new Error(`fuzz: --inputs must be a positive integer, got ${values.inputs}`);
if (!Number.isSafeInteger(seed)) throw new Error(`fuzz: --seed must be an integer, got ${values.seed}`);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { runFuzz, FAMILIES } = await import(join(root, "dist", "test", "fuzz-lib.js"));
const families = values.family ? values.family.split(",") : FAMILIES;
for (const f of families) if (!FAMILIES.includes(f)) throw new Error(`fuzz: unknown family ${f} (one of ${FAMILIES.join(", ")})`);
let failed = 0;
console.log(`family        inputs  loaded   named  crash  hang  corrupt  garbage  partial  slowest`);
const t0 = performance.now();
await runFuzz({
  inputs, seed, families,
  onFamily: (f, t) => {
    const bad = t.crash + t.hang + t.corruption + t.garbage + t.partial;
    failed += bad;
    console.log(`${f.padEnd(12)} ${String(t.inputs).padStart(7)} ${String(t.ok).padStart(7)} ${String(t.named).padStart(7)} ${String(t.crash).padStart(6)} ${String(t.hang).padStart(5)} ${String(t.corruption).padStart(8)} ${String(t.garbage).padStart(8)} ${String(t.partial).padStart(8)} ${t.slowestMs.toFixed(0).padStart(6)} ms`);
    for (const e of t.examples) console.log(`    ${e}`);
  },
});
console.log(`${((performance.now() - t0) / 1000).toFixed(1)} s, max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
process.exit(failed ? 1 : 0);
