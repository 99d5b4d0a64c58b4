// The bench never rots: `npm run bench -- --quick` runs every engine on every
// quick workload (native PyTorch too where python3 has torch), and every result
// it times passed its float64 check. Nothing
// here looks at a time: speed is the bench's to report, not a test's to assert.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { torchUnavailable } from "../../bench/torch.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

test("npm run bench -- --quick: every engine runs every quick workload, every result checked", () => {
  const r = spawnSync(process.execPath, ["dist/bench/run.js", "--quick", "--rounds", "1"], { cwd: root, encoding: "utf8", timeout: 600_000 });
  assert.is(r.status, 0, `bench exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(readFileSync(`${root}bench/results.json`, "utf8"));
  assert.ok(res.quick, "results.json comes from this quick run");
  assert.ok(res.ceiling.mulAddGflops > 0 && res.ceiling.copyGBps > 0, "ceilings measured");
  assert.ok(res.rows.length >= 9, `${res.rows.length} workloads ran`);
  const engines = ["webgrad 1t", "webgrad 2t", "tfjs-wasm 1t", "onnxruntime-web 1t", "onnxruntime-web 2t", "jax-js 1t"];
  for (const row of res.rows) {
    for (const e of engines) {
      const c = row.cells[e];
      assert.ok(c, `${row.workload}: no result from ${e}`);
      assert.not.ok(c.error, `${row.workload} / ${e}: ${c.error}`);
      assert.ok(c.unsupported || c.medianMs > 0, `${row.workload} / ${e}: no time`);
    }
    assert.not.ok(row.cells["webgrad 1t"].unsupported, `webgrad runs ${row.workload}`);
  }
  for (const [engine, ms] of Object.entries(res.cold as Record<string, number | null>)) assert.ok(ms && ms > 0, `cold start of ${engine}`);
  // native PyTorch: every row checked where python3 has torch (CI has none), else one line says why not
  const noTorch = torchUnavailable();
  if (noTorch) assert.ok(r.stdout.includes(`torch rows skipped: ${noTorch}`), `the bench says why torch is left out:\n${r.stdout}`);
  else {
    for (const row of res.rows) for (const e of ["torch 1t", "torch 2t"]) assert.ok(row.cells[e]?.medianMs > 0 && !row.cells[e].error, `${row.workload} / ${e}: ${row.cells[e]?.error}`);
    assert.match(r.stdout, /webgrad vs torch \(torch ms \/ webgrad ms/);
  }
});

test.run();
