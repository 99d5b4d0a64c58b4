// loadPretrained on every backend: the weights stream into the engine's own
// tensors (wasm memory or GPU buffers), f32 matching the PyTorch reference of
// scripts/torch-fixtures.py and int8 (quantised on the device) close to it;
// a loaded model takes LoRA adapters and trains there.

import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as wg from "../host/index.js";
import type { LlamaForCausalLM } from "../host/models/llama.js";
import { QuantizedLinear } from "../host/nn/quantized.js";
import { forEachBackend } from "./backends.js";

const DIR = fileURLToPath(new URL("../../test/fixtures/llm/tiny-qwen2/", import.meta.url));
const ref = JSON.parse(readFileSync(join(DIR, "reference.json"), "utf8"));
const b = Buffer.from(ref.logits.b64, "base64");
const want = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const ids = () => wg.tensor(Int32Array.from(ref.ids.flat() as number[]), { dtype: "int32", shape: [ref.ids.length, ref.ids[0].length] });
const range = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

forEachBackend("loadPretrained", (backend, test) => {
  test("tiny-qwen2 (BF16, tied): f32 logits within 1e-4 of PyTorch's", async () => {
    const { model } = await wg.models.loadPretrained(DIR);
    const got = await wg.noGrad(() => model.forward(ids())).data();
    for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-4 * Math.abs(want[i]))) assert.unreachable(`${backend} logit ${i}: ${got[i]} vs ${want[i]}`);
    model.dispose();
  });

  test("tiny-qwen2 int8: QuantizedLinear projections and head, logits within 6% of the reference's range", async () => {
    const { model } = await wg.models.loadPretrained(DIR, { dtype: "int8" });
    const llm = model as LlamaForCausalLM;
    assert.ok(llm.model.layers[0].self_attn.q_proj instanceof QuantizedLinear);
    assert.ok((llm.lm_head as unknown) instanceof QuantizedLinear);
    const got = await wg.noGrad(() => model.forward(ids())).data();
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(got[i] - want[i]));
    assert.ok(d > 0 && d < 0.06 * range, `${backend}: int8 logits differ by ${d} against a range of ${range}`);
    model.dispose();
  });

  test("a loaded model takes LoRA adapters and a few steps lower its loss", async () => {
    const { model } = await wg.models.loadPretrained(DIR);
    const llm = model as LlamaForCausalLM;
    wg.lora.attach(llm, { r: 4, alpha: 8, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj"] });
    const opt = new wg.optim.Adam(wg.trainable(llm), { lr: 0.02 });
    const x = wg.tensor([ref.ids[0].slice(0, -1)], { dtype: "int32" }).keep(), y = wg.tensor([ref.ids[0].slice(1)], { dtype: "int32" }).keep();
    const losses: number[] = [];
    llm.train();
    for (let s = 0; s < 6; s++) {
      const loss = llm.loss(x, y);
      losses.push((await loss.data())[0]);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    assert.ok(losses[5] < losses[0], `${backend}: loss ${losses.map((l) => l.toFixed(3)).join(" → ")}`);
    x.dispose(); y.dispose();
  });
});
