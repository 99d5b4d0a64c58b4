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
import { wllamaUnavailable } from "../../bench/wllama.js";

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
  // issue 17: the llm group on a scaled-down Llama (quick), webgrad beside wllama (Chromium) where it can run
  const llm = res.llm;
  assert.ok(llm, "results.json has the llm group");
  assert.ok(llm.plan.config.hidden_size < 576, "quick mode scales the model down");
  assert.ok(llm.copyGBps > 0);
  const row = (task: string, engine: string, threads: number) => llm.rows.find((x: any) => x.task === task && x.engine === engine && x.threads === threads);
  const noWllama = wllamaUnavailable();
  for (const threads of [1, 2]) {
    for (const task of ["decode f32", "decode int8", "prefill f32", "prefill int8"]) {
      // webgrad-chromium: webgrad in the page beside wllama's (the same browser)
      for (const engine of noWllama ? ["webgrad"] : ["webgrad", "webgrad-chromium", "wllama"]) {
        const x = row(task, engine, threads);
        assert.ok(x, `llm: no ${task} row from ${engine} ${threads}t`);
        assert.not.ok(x.error, `llm ${task} / ${engine} ${threads}t: ${x.error}`);
        assert.ok(x.tokensPerSec > 0 && x.medianMs > 0, `llm ${task} / ${engine} ${threads}t: no time`);
        if (task.startsWith("decode")) assert.ok(x.weightBytes > 0 && x.ofRoofline > 0, `llm ${task} / ${engine} ${threads}t: no roofline ratio`);
      }
    }
  }
  const lora = row("lora", "webgrad", 2);
  assert.ok(lora && !lora.error, `llm LoRA row: ${lora?.error}`);
  assert.ok(lora.tokensPerSec > 0 || /wg\.lora\.attach is not in this tree/.test(lora.note), "LoRA steps timed (or the tree has no wg.lora yet)");
  if (lora.tokensPerSec > 0) assert.ok(lora.memory.poolHighBytes > 0 && lora.memory.wasmMemoryBytes >= lora.memory.poolHighBytes, "LoRA peak memory reported");
  if (noWllama) assert.ok(r.stdout.includes(`wllama: skipped: ${noWllama}`), "the bench says why wllama is left out");
  else assert.ok(llm.check.ok, `webgrad and llama.cpp compute the same function: ${llm.check.detail}`);
});

test.run();
