// The doc examples that start the WebGPU backend (doc-examples.test.ts skips them),
// run here, where the test runner gives Dawn a Vulkan driver (SwiftShader when no GPU).
// In-process: Dawn is a native module, kept out of worker threads.
import { test } from "uvu";
import { transformSync } from "esbuild";
import * as wg from "../host/index.js";
import { extractExamples, prepare, tempCwd, needsWebGpu, runPrepared } from "./doc-examples-lib.js";
import { fixtures } from "./doc-prelude.js";

const BASE = { threads: 1, verbose: false } as const;
await wg.init(BASE);
const transpile = (ts: string) => transformSync(ts, { loader: "ts", target: "es2022" }).code;
const examples = extractExamples().filter(needsWebGpu);
let checked = 0;

for (const e of examples) {
  const name = `${e.file}:${e.line}`;
  test(name, async () => {
    const p = prepare(e, Object.keys(fixtures), transpile);
    let error = p.error;
    if (!error) {
      const leave = tempCwd();
      try {
        const r = await runPrepared({ file: e.file, js: p.js, checks: p.checks, fixtures: p.fixtures });
        checked += r.checked;
        if (!r.ok) error = `${r.error}${r.logs.length ? `\n        its output: ${r.logs.slice(-5).join("\n        ")}` : ""}`;
        else console.log(`  ok    ${name} (${r.checked} value${r.checked === 1 ? "" : "s"} checked, ${r.ms.toFixed(0)} ms)`);
      } finally {
        leave();
        await wg.init(BASE); // back to wasm for the next example
      }
    }
    if (!error) return;
    console.log(`  FAIL  ${name}: ${error}`);
    throw new Error(`${name}: ${error}`);
  });
}

test("summary", () => {
  console.log(`\nWebGPU doc examples: ${examples.length} run, ${checked} comment values checked`);
  wg.shutdown();
});

test.run();
