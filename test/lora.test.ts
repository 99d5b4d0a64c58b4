// wg.lora on a tiny Llama, on wasm and WebGPU: attach freezes the base and
// wraps PEFT's default targets (the model's outputs unchanged, B = 0); only the
// adapters get gradients; a few steps lower the loss; save writes PEFT's names
// and adapter_config.json fields (asserted literally); load into a fresh base
// gives identical outputs; merge matches the unmerged model within 1e-5.

import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as wg from "../host/index.js";
import { createCausalLM, type LlamaForCausalLM } from "../host/models/llama.js";
import { LoraLinear } from "../host/lora.js";
import { forEachBackend } from "./backends.js";

const work = mkdtempSync(join(tmpdir(), "webgrad-lora-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const CONFIG = { architectures: ["LlamaForCausalLM"], vocab_size: 32, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, initializer_range: 0.2, max_position_embeddings: 32 };

/** The same base model every time (seeded). */
function base(): LlamaForCausalLM {
  wg.manualSeed(7);
  return createCausalLM(CONFIG);
}

const ids = () => wg.tensor([[1, 5, 9, 2, 7, 3, 11, 4]], { dtype: "int32" });
const logits = async (m: wg.nn.Module) => Float32Array.from(await wg.noGrad(() => m.forward(ids())).data() as Float32Array);
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i])), 0);

/** Trains the adapters a few Adam steps on one batch; returns the losses. */
async function train(model: LlamaForCausalLM, steps: number): Promise<number[]> {
  const opt = new wg.optim.Adam(wg.trainable(model), { lr: 0.05 });
  const x = wg.tensor([[1, 2, 3, 4, 5, 6, 7, 8]], { dtype: "int32" }).keep();
  const y = wg.tensor([[2, 3, 4, 5, 6, 7, 8, 9]], { dtype: "int32" }).keep();
  const losses: number[] = [];
  model.train();
  for (let s = 0; s < steps; s++) {
    const loss = model.loss(x, y);
    losses.push((await loss.data())[0]);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
  x.dispose(); y.dispose();
  model.eval();
  return losses;
}

const ADAPTED = ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"];

forEachBackend("lora", (backend, test) => {
  test("attach: PEFT's default targets (q_proj, v_proj) wrapped, the base frozen, outputs unchanged since B starts at 0", async () => {
    const model = base().eval();
    const before = await logits(model);
    const names = wg.lora.attach(model, { r: 4, alpha: 8 });
    assert.equal(names, ADAPTED);
    assert.ok(model.model.layers[0].self_attn.q_proj instanceof LoraLinear);
    assert.ok(model.model.layers[0].self_attn.k_proj instanceof wg.nn.Linear);
    const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad).map(([n]) => n);
    assert.equal(trainable, ADAPTED.flatMap((n) => [`${n}.lora_A.weight`, `${n}.lora_B.weight`]));
    const q = model.model.layers[0].self_attn.q_proj as unknown as LoraLinear;
    assert.is(q.scaling, 2);
    assert.equal(q.lora_A.weight.shape, [4, 16]);
    assert.equal(q.lora_B.weight.shape, [16, 4]);
    assert.ok((await q.lora_B.weight.data()).every((v) => v === 0));
    // A is U(±1/√in), PEFT's kaiming_uniform_(a=√5)
    const a = await q.lora_A.weight.data();
    assert.ok(a.every((v) => Math.abs(v) <= 1 / Math.sqrt(16)) && a.some((v) => Math.abs(v) > 0.1));
    assert.equal(await logits(model), before);
    assert.throws(() => wg.lora.attach(model), /already has LoRA adapters/);
  });

  test("only the adapters get gradients; A's is 0 while B is 0, B's is not", async () => {
    const model = base();
    wg.lora.attach(model, { r: 2, alpha: 4, targetModules: ["q_proj", "v_proj", "down_proj"] });
    const x = wg.tensor([[1, 2, 3, 4]], { dtype: "int32" }), y = wg.tensor([[2, 3, 4, 5]], { dtype: "int32" });
    model.loss(x, y).backward();
    for (const [name, p] of model.namedParameters()) {
      if (!p.requiresGrad) { assert.is(p.grad, null, `${name} is frozen`); continue; }
      const g = await p.grad!.data();
      if (name.endsWith("lora_A.weight")) assert.ok(g.every((v) => v === 0), `${name}: dL/dA = scaling·Bᵀ·… = 0`);
      else assert.ok(g.some((v) => v !== 0), `${name} has a gradient`);
    }
  });

  test("a few Adam steps on the adapters lower the loss; the base weights do not move", async () => {
    const model = base();
    const frozen = await (model.model.layers[0].self_attn.q_proj as wg.nn.Linear).weight.data();
    wg.lora.attach(model, { r: 4, alpha: 8, dropout: 0.1 });
    const losses = await train(model, 8);
    assert.ok(losses[losses.length - 1] < losses[0] - 0.1, `loss ${losses.map((l) => l.toFixed(3)).join(" → ")}`);
    const q = model.model.layers[0].self_attn.q_proj as unknown as LoraLinear;
    assert.equal(await q.base_layer.weight.data(), frozen);
  });

  test("wg.fit trains the adapters (the optimizer over every parameter: frozen ones skipped), the loss falls, the base stays", async () => {
    const model = base();
    wg.lora.attach(model, { r: 4, alpha: 8 });
    const frozen = await model.model.embed_tokens.weight.data();
    // fit releases each batch after its step: one made per step
    const batches = { length: 4, *[Symbol.iterator]() {
      for (let i = 0; i < 4; i++) yield { x: wg.tensor([[1, 2, 3, 4, 5, 6, 7, 8]], { dtype: "int32" }), y: wg.tensor([[2, 3, 4, 5, 6, 7, 8, 9]], { dtype: "int32" }), size: 1 };
    } };
    const history = await wg.fit(model, batches, {
      optimizer: new wg.optim.Adam(model.parameters(), { lr: 0.05 }),
      loss: (out, b) => wg.nn.crossEntropy(out.reshape(-1, CONFIG.vocab_size), b.y.reshape(-1)),
      epochs: 3, progress: false, onEpoch: () => {},
    });
    assert.ok(history[2].loss < history[0].loss - 0.05, `fit loss ${history.map((h) => h.loss.toFixed(3)).join(" → ")}`);
    assert.equal(await model.model.embed_tokens.weight.data(), frozen);
  });

  test("save writes PEFT's layout (names and adapter_config.json literally); load into a fresh base gives identical logits", async () => {
    const model = base();
    wg.lora.attach(model, { r: 4, alpha: 16, dropout: 0.05 });
    await train(model, 3);
    const tuned = await logits(model);
    const dir = join(work, `adapter-${backend}`);
    const files = await wg.lora.save(model, dir, { baseModelNameOrPath: "tiny-llama" });
    assert.equal(Object.keys(files), ["adapter_model.safetensors", "adapter_config.json"]);
    const st = wg.io.parseSafetensors(new Uint8Array(readFileSync(join(dir, "adapter_model.safetensors"))));
    assert.equal(Object.keys(st.tensors), [
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
      "base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight", "base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight",
      "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
      "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight",
    ]);
    assert.equal(st.tensors["base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight"].shape, [4, 16]);
    assert.equal(st.tensors["base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight"].shape, [8, 4]);
    assert.equal({ ...st.metadata }, { format: "pt" });
    const config = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
    assert.is(config.peft_type, "LORA");
    assert.is(config.task_type, "CAUSAL_LM");
    assert.is(config.r, 4);
    assert.is(config.lora_alpha, 16);
    assert.is(config.lora_dropout, 0.05);
    assert.equal(config.target_modules, ["q_proj", "v_proj"]);
    assert.is(config.base_model_name_or_path, "tiny-llama");
    assert.is(config.bias, "none");
    assert.is(config.fan_in_fan_out, false);
    assert.is(config.use_rslora, false);
    assert.is(config.use_dora, false);
    assert.is(config.modules_to_save, null);
    const fresh = base().eval();
    assert.ok(maxDiff(await logits(fresh), tuned) > 1e-4, "training moved the outputs");
    assert.equal(await wg.lora.load(fresh, dir), ADAPTED);
    assert.equal(await logits(fresh), tuned);
    assert.ok(!fresh.parameters().some((p) => p.requiresGrad && !fresh.namedParameters().find(([, q]) => q === p)![0].includes("lora_")));
  });

  test("merge: W + B·A·scaling in plain nn.Linear layers, the same logits within 1e-5", async () => {
    const model = base();
    wg.lora.attach(model, { r: 4, alpha: 8, targetModules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] });
    await train(model, 3);
    const unmerged = await logits(model);
    const names = wg.lora.merge(model);
    assert.is(names.length, 14);
    assert.ok(model.model.layers[1].mlp.down_proj instanceof wg.nn.Linear);
    assert.ok(!model.namedParameters().some(([n]) => n.includes("lora_")));
    assert.equal(Object.keys(model.stateDict()), Object.keys(base().stateDict()), "the base's own names again");
    const merged = await logits(model);
    assert.ok(maxDiff(merged, unmerged) < 1e-5, `merged vs unmerged: ${maxDiff(merged, unmerged)}`);
    assert.ok(maxDiff(merged, await logits(base())) > 1e-4, "the merge changed the base weights");
    assert.throws(() => wg.lora.merge(model), /no LoRA adapters/);
  });

  if (backend !== "wasm") return;
  test("errors: no matching Linear, an int8 model, a mismatched or foreign adapter", async () => {
    assert.throws(() => wg.lora.attach(base(), { targetModules: ["qkv"] }), /no nn\.Linear matches targetModules \["qkv"\]; the model's Linear layers are model\.layers\.0\.self_attn\.q_proj/);
    assert.throws(() => wg.lora.attach(base(), { r: 0 }), /r must be/);
    const int8 = createCausalLM(CONFIG, { dtype: "int8" });
    wg.models.loadCausalLMWeights(int8, base().stateDict());
    assert.throws(() => wg.lora.attach(int8), /is int8 \(QuantizedLinear\).*load the model in float32/);
    const model = base();
    wg.lora.attach(model, { r: 4 });
    const dir = join(work, "adapter-errors");
    await wg.lora.save(model, dir);
    const cfg = JSON.parse(readFileSync(join(dir, "adapter_config.json"), "utf8"));
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, r: 2 }));
    let err = await wg.lora.load(base(), dir).then(() => null, (e: Error) => e.message);
    assert.match(err ?? "", /lora_A\.weight is \[4,16\], this model with r 2 expects \[2,16\]/);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, peft_type: "PREFIX_TUNING" }));
    err = await wg.lora.load(base(), dir).then(() => null, (e: Error) => e.message);
    assert.match(err ?? "", /peft_type is "PREFIX_TUNING", only "LORA"/);
    writeFileSync(join(dir, "adapter_config.json"), JSON.stringify({ ...cfg, target_modules: ["q_proj", "v_proj", "k_proj"] }));
    const fresh = base();
    err = await wg.lora.load(fresh, dir).then(() => null, (e: Error) => e.message);
    assert.match(err ?? "", /has no base_model\.model\.model\.layers\.0\.self_attn\.k_proj\.lora_A\.weight/);
    assert.ok(fresh.model.layers[0].self_attn.q_proj instanceof wg.nn.Linear, "a failed load leaves the base as it was");
  });
});
