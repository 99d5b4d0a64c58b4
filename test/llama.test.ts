// Issue 17 model: the Llama family (LlamaForCausalLM, Qwen2ForCausalLM,
// MistralForCausalLM) against a plain-PyTorch reference of transformers'
// forward. scripts/torch-fixtures.py wrote tiny random Hugging Face folders
// (test/fixtures/llm/<name>/: config.json, model.safetensors in F32 / BF16 /
// F16, generation_config.json) and reference.json: the logits of a fixed [2, 7]
// batch and a 12-token greedy continuation computed without a cache (the whole
// sequence re-run each step), so matching it token for token also checks the
// KV cache. rope.json holds transformers' inv_freq for every rope_scaling type.

import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as wg from "../host/index.js";
import { forEachBackend } from "./backends.js";
import {
  createCausalLM, loadCausalLMWeights, ropeInvFreq, applyRepetitionPenalty, LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM,
  type LlamaConfig, type GenerationConfig,
} from "../host/models/llama.js";
import { KVCache, samplingProbabilities } from "../host/models/gpt.js";
import { StaticKVCache } from "../host/models/kv-cache.js";
import { QuantizedLinear } from "../host/nn/quantized.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "fixtures", "llm");
const FOLDERS = ["tiny-llama", "tiny-qwen2", "tiny-mistral"] as const;

interface Reference {
  weights_dtype: string;
  ids: number[][];
  logits: { shape: number[]; b64: string };
  prompt: number[];
  greedy: number[];
}

const readJson = (...p: string[]) => JSON.parse(readFileSync(join(DIR, ...p), "utf8"));
const f32 = (b64: string) => {
  const b = Buffer.from(b64, "base64");
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const ids2d = (rows: number[][]) => wg.tensor(Int32Array.from(rows.flat()), { dtype: "int32", shape: [rows.length, rows[0].length] });

/** A fixture folder loaded as the loader will: config.json → createCausalLM, model.safetensors → loadCausalLMWeights. */
async function loadFolder(name: string, opts: { dtype?: "float32" | "int8" } = {}): Promise<{ model: LlamaForCausalLM; ref: Reference; config: LlamaConfig }> {
  const config = readJson(name, "config.json") as LlamaConfig;
  const model = createCausalLM(config, { init: false, ...opts });
  const { tensors } = await wg.io.loadSafetensors(join(DIR, name, "model.safetensors"));
  loadCausalLMWeights(model, tensors);
  model.generationConfig = readJson(name, "generation_config.json") as GenerationConfig;
  return { model: model.eval(), ref: readJson(name, "reference.json") as Reference, config };
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, what: string): number {
  assert.is(got.length, want.length, `${what}: lengths`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    worst = Math.max(worst, d);
    if (!(d <= atol + rtol * Math.abs(want[i]))) assert.unreachable(`${what}: element ${i}: ${got[i]} vs ${want[i]} (|Δ| ${d})`);
  }
  return worst;
}

/** uvu's assert.throws for a promise: it must reject with a message matching re. */
async function rejects(fn: () => Promise<unknown>, re: RegExp, what = ""): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!re.test((e as Error).message)) assert.unreachable(`${what}: "${(e as Error).message}" does not match ${re}`);
    return;
  }
  assert.unreachable(`${what}: expected a rejection matching ${re}`);
}

const TINY: LlamaConfig = {
  architectures: ["LlamaForCausalLM"], vocab_size: 40, hidden_size: 16, intermediate_size: 24,
  num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
};

forEachBackend("llama", (backend, test) => {
  for (const name of FOLDERS) {
    test(`${name}: logits of a [2, 7] batch match the PyTorch reference within 1e-4`, async () => {
      const { model, ref } = await loadFolder(name);
      const logits = wg.noGrad(() => model.forward(ids2d(ref.ids)));
      assert.equal(logits.shape, ref.logits.shape);
      assertClose(await logits.data(), f32(ref.logits.b64), 1e-4, 1e-4, `${name} logits`);
      model.dispose();
    });

    test(`${name}: greedy generation (KV cache) matches the reference computed without a cache, token for token`, async () => {
      const { model, ref } = await loadFolder(name);
      const out = await model.generate(ref.prompt, { maxNewTokens: 12, temperature: 0, stop: [] });
      assert.equal(out, ref.greedy);
      model.dispose();
    });
  }

  for (const kind of ["KVCache", "StaticKVCache"] as const) {
    for (const name of ["tiny-mistral", "tiny-llama"] as const) {
      test(`${name}: a ${kind} fed in chunks gives the full forward's logits at every position${name === "tiny-mistral" ? " (sliding window 4 < sequence)" : ""}`, async () => {
        const { model, ref } = await loadFolder(name);
        const seq = [...ref.prompt, ...ref.greedy]; // 17 tokens: Mistral's window slides
        const V = model.config.vocab_size;
        const full = await wg.noGrad(() => model.forward(ids2d([seq]))).data();
        const cache = kind === "KVCache" ? model.newCache() : model.newCache(seq.length);
        const stepped: number[] = [];
        // a 3-token prefill, a 6-token chunk (several queries past the window), then one token at a time
        const chunks = [seq.slice(0, 3), seq.slice(3, 9), ...seq.slice(9).map((t) => [t])];
        for (const c of chunks) stepped.push(...await wg.noGrad(() => model.forward(ids2d([c]), { cache })).data());
        assert.is(cache.length, seq.length);
        cache.dispose();
        assert.is(stepped.length, seq.length * V);
        assertClose(stepped, full, 2e-5, 1e-4, "cached vs full");
        model.dispose();
      });
    }
  }

  test("generate: useCache false gives the same tokens; a prompt tensor [1, S] works like the array; stream yields them in order", async () => {
    const { model, ref } = await loadFolder("tiny-llama");
    const a = await model.generate(ref.prompt, { maxNewTokens: 12, temperature: 0, stop: [], useCache: false });
    assert.equal(a, ref.greedy);
    const b = await model.generate(ids2d([ref.prompt]), { maxNewTokens: 12, stop: [] });
    assert.equal(b, ref.greedy, "greedy by default (generation_config do_sample false)");
    assert.equal(await model.generate(Int32Array.from(ref.prompt), { maxNewTokens: 3, stop: [] }), ref.greedy.slice(0, 3), "an Int32Array prompt");
    const streamed: number[] = [];
    for await (const id of model.stream(ref.prompt, { maxNewTokens: 5, stop: [] })) streamed.push(id);
    assert.equal(streamed, ref.greedy.slice(0, 5));
    // leaving a stream early (break) runs its finally: the preallocated cache is freed
    const inUse = wg.memory().inUse;
    for await (const id of model.stream(ref.prompt, { maxNewTokens: 12, stop: [] })) if (id === ref.greedy[1]) break;
    await model.generate(ref.prompt, { maxNewTokens: 3, stop: [] });
    // (wasm only: WebGPU may release a buffer after the work that reads it has finished, later than this line)
    if (backend === "wasm") assert.is(wg.memory().inUse, inUse, "no tensor outlives a generation");
    model.dispose();
  });

  test("generate: stop defaults to generation_config's eos_token_id (a list for Qwen2) and is emitted last", async () => {
    const { model, ref } = await loadFolder("tiny-llama");
    const stopAt = ref.greedy[4];
    const cut = ref.greedy.slice(0, ref.greedy.indexOf(stopAt) + 1);
    model.generationConfig = { eos_token_id: [1000, stopAt] };
    assert.equal(await model.generate(ref.prompt, { maxNewTokens: 12 }), cut);
    assert.equal(await model.generate(ref.prompt, { maxNewTokens: 12, stop: stopAt }), cut, "stop as one id");
    assert.equal(await model.generate(ref.prompt, { maxNewTokens: 12, stop: [] }), ref.greedy, "[] never stops");
    model.generationConfig = null;
    model.config.eos_token_id = stopAt; // no generation config: config.json's eos_token_id
    assert.equal(await model.generate(ref.prompt, { maxNewTokens: 12 }), cut);
    model.dispose();
  });

  test("generate: repetitionPenalty follows transformers' RepetitionPenaltyLogitsProcessor (checked against a hand-written loop)", async () => {
    const { model, ref } = await loadFolder("tiny-qwen2");
    const penalty = 1.8, V = model.config.vocab_size;
    const seq = [...ref.prompt];
    const want: number[] = [];
    for (let step = 0; step < 8; step++) {
      const all = await wg.noGrad(() => model.forward(ids2d([seq]))).data();
      const last = Array.from(all.slice((seq.length - 1) * V, seq.length * V));
      for (const id of new Set(seq)) last[id] = last[id] > 0 ? last[id] / penalty : last[id] * penalty;
      let best = 0;
      for (let i = 1; i < V; i++) if (last[i] > last[best]) best = i;
      seq.push(best);
      want.push(best);
    }
    const got = await model.generate(ref.prompt, { maxNewTokens: 8, repetitionPenalty: penalty, stop: [] });
    assert.equal(got, want);
    assert.not.equal(got, ref.greedy.slice(0, 8), "the penalty changes this continuation");
    model.dispose();
  });

  test("generate: sampling is deterministic per seed, differs across seeds, topK 1 is greedy", async () => {
    const { model, ref } = await loadFolder("tiny-mistral"); // generation_config: do_sample, temperature 0.7, top_k 20
    const s1 = await model.generate(ref.prompt, { maxNewTokens: 10, seed: 1, stop: [] });
    assert.equal(await model.generate(ref.prompt, { maxNewTokens: 10, seed: 1, stop: [] }), s1);
    const seeds = await Promise.all([2, 3, 4].map((seed) => model.generate(ref.prompt, { maxNewTokens: 10, seed, temperature: 1.5, topK: 0, stop: [] })));
    assert.ok(seeds.some((s) => s.join() !== s1.join()), "other seeds draw other tokens");
    assert.equal(await model.generate(ref.prompt, { maxNewTokens: 12, temperature: 1, topK: 1, stop: [] }), ref.greedy);
    model.dispose();
  });

  test("training: loss.backward reaches every parameter and an Adam step lowers the loss (Qwen2, tied head)", async () => {
    const { model } = await loadFolder("tiny-qwen2");
    model.train();
    const seq = Array.from({ length: 9 }, (_, i) => (i * 37 + 11) % model.config.vocab_size);
    const x = ids2d([seq.slice(0, 8)]), y = ids2d([seq.slice(1)]);
    const opt = new wg.optim.Adam(model.parameters(), { lr: 3e-3 });
    const loss0 = model.loss(x, y);
    const before = (await loss0.data())[0];
    loss0.backward();
    for (const [n, p] of model.namedParameters()) assert.ok(p.grad, `${n} has a gradient`);
    const g = await model.model.layers[0].self_attn.q_proj.bias!.grad!.data();
    assert.ok(g.some((v) => v !== 0), "q_proj.bias gradient is not all zeros");
    opt.step();
    model.zeroGrad();
    for (let i = 0; i < 4; i++) {
      model.loss(x, y).backward();
      opt.step();
      model.zeroGrad();
    }
    const after = (await model.loss(x, y).data())[0];
    assert.ok(after < before - 0.05, `loss ${before} → ${after}`);
    model.dispose();
  });

  test("training through the sliding-window mask (Mistral, 9 tokens > window 4): every gradient finite, q_proj's not all zero", async () => {
    const { model } = await loadFolder("tiny-mistral");
    model.train();
    const seq = Array.from({ length: 10 }, (_, i) => (i * 13 + 5) % model.config.vocab_size);
    const loss = model.loss(ids2d([seq.slice(0, 9)]), ids2d([seq.slice(1)]));
    loss.backward();
    for (const [n, p] of model.namedParameters()) {
      const g = await p.grad!.data();
      assert.ok(g.every(Number.isFinite), `${n}: finite gradient`);
    }
    const gq = await model.model.layers[0].self_attn.q_proj.weight.grad!.data();
    assert.ok(gq.some((v) => v !== 0));
    model.dispose();
  });

  test("dtype int8: projections and the tied head become QuantizedLinear; logits stay close to float32", async () => {
    const { model: f } = await loadFolder("tiny-qwen2");
    const { model: q, ref } = await loadFolder("tiny-qwen2", { dtype: "int8" });
    assert.ok(q.model.layers[1].mlp.down_proj instanceof QuantizedLinear);
    assert.ok(q.lm_head instanceof QuantizedLinear, "tied head: an int8 copy of embed_tokens");
    const a = await wg.noGrad(() => f.forward(ids2d(ref.ids))).data();
    const b = await wg.noGrad(() => q.forward(ids2d(ref.ids))).data();
    let maxAbs = 0, maxErr = 0;
    for (let i = 0; i < a.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[i]));
      maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
    }
    assert.ok(maxErr < 0.05 * maxAbs, `int8 logits within 5% of the largest: ${maxErr} vs ${maxAbs}`);
    assert.throws(() => loadCausalLMWeights(q, f.stateDict()), /already loaded and quantised/);
    f.dispose();
    q.dispose();
  });

  if (backend !== "wasm") return;

  // ------------------------------------------------ backend-independent checks (run once)

  test("state dict names and order are transformers' (the safetensors files' names)", async () => {
    for (const name of FOLDERS) {
      const { model } = await loadFolder(name);
      const { tensors } = await wg.io.loadSafetensors(join(DIR, name, "model.safetensors"));
      assert.equal(Object.keys(model.stateDict()), Object.keys(tensors), name);
      model.dispose();
    }
    const m = createCausalLM({ ...TINY, attention_bias: true, mlp_bias: true });
    const keys = Object.keys(m.stateDict());
    for (const k of ["model.layers.1.self_attn.o_proj.bias", "model.layers.0.mlp.down_proj.bias", "lm_head.weight"]) assert.ok(keys.includes(k), k);
    const qwen = new Qwen2ForCausalLM({ ...TINY, attention_bias: true });
    assert.ok(!Object.keys(qwen.stateDict()).includes("model.layers.0.self_attn.o_proj.bias"), "Qwen2: no o_proj bias");
    assert.ok(Object.keys(qwen.stateDict()).includes("model.layers.0.self_attn.k_proj.bias"), "Qwen2: k_proj bias");
  });

  test("ropeInvFreq matches transformers' inv_freq and attention scaling for every rope_scaling type", () => {
    const { cases } = readJson("rope.json");
    assert.ok(cases.length >= 9);
    for (const c of cases) {
      const cfg = { ...c.config, head_dim: c.config.hidden_size / c.config.num_attention_heads };
      const { invFreq, attentionScaling } = ropeInvFreq(c.name, cfg, c.seq_len);
      assertClose(invFreq, c.inv_freq, 0, 2e-6, `${c.name} inv_freq`);
      assertClose([attentionScaling], [c.attention_scaling], 0, 1e-6, `${c.name} attention_scaling`);
    }
  });

  test("sliding windows per layer as transformers decides them: Mistral every layer, Qwen2 from max_window_layers when use_sliding_window, layer_types first", () => {
    const windows = (m: LlamaForCausalLM) => m.model.layers.map((l) => l.self_attn.slidingWindow);
    assert.equal(windows(new MistralForCausalLM({ ...TINY, sliding_window: 8 })), [8, 8]);
    assert.equal(windows(new MistralForCausalLM({ ...TINY, sliding_window: null })), [null, null]);
    assert.equal(windows(new Qwen2ForCausalLM({ ...TINY, sliding_window: 8 })), [null, null], "use_sliding_window defaults to false");
    assert.equal(windows(new Qwen2ForCausalLM({ ...TINY, sliding_window: 8, use_sliding_window: true, max_window_layers: 1 })), [null, 8]);
    assert.equal(windows(new Qwen2ForCausalLM({ ...TINY, sliding_window: 8, layer_types: ["sliding_attention", "full_attention"] })), [8, null]);
    assert.equal(windows(new LlamaForCausalLM({ ...TINY, sliding_window: 8 })), [null, null], "LlamaConfig has no window");
  });

  test("createCausalLM picks the class from architectures, then model_type; unknown ones name the supported", () => {
    assert.ok(createCausalLM({ ...TINY, architectures: ["MistralForCausalLM"] }) instanceof MistralForCausalLM);
    assert.ok(createCausalLM({ ...TINY, architectures: undefined, model_type: "qwen2" }) instanceof Qwen2ForCausalLM);
    assert.throws(() => createCausalLM({ ...TINY, architectures: ["GPTNeoXForCausalLM"], model_type: "gpt_neox" }),
      /unsupported architecture "GPTNeoXForCausalLM".*LlamaForCausalLM.*Qwen2ForCausalLM.*MistralForCausalLM/);
    assert.throws(() => createCausalLM({ ...TINY, hidden_size: undefined } as unknown as LlamaConfig), /no hidden_size/);
    assert.throws(() => createCausalLM({ ...TINY, num_key_value_heads: 3 }), /multiple of num_key_value_heads 3/);
    assert.throws(() => createCausalLM({ ...TINY, rope_scaling: { rope_type: "longrope" } }), /rope_scaling type "longrope" is not supported/);
    assert.throws(() => createCausalLM({ ...TINY, rope_scaling: { rope_type: "llama3", factor: 8 } }), /low_freq_factor/);
    assert.throws(() => createCausalLM({ ...TINY, hidden_act: "gelu" }), /hidden_act "gelu"/);
    assert.throws(() => createCausalLM(TINY, { dtype: "int4" as "int8" }), /dtype must be "float32" or "int8"/);
    const v5 = createCausalLM({ ...TINY, rope_parameters: { rope_type: "linear", rope_theta: 5e5, factor: 2 } });
    assert.is(v5.config.rope_theta, 5e5, "transformers 5's rope_parameters");
    assert.equal(v5.config.rope_scaling, { rope_type: "linear", factor: 2 });
    assert.is(createCausalLM({ ...TINY, rope_parameters: { rope_type: "default", rope_theta: 1e6 } }).config.rope_scaling, null);
    assert.throws(() => createCausalLM({ ...TINY, rope_parameters: { full_attention: {} } as never }), /rope_parameters must be an object \{ rope_type, rope_theta/);
    const m = createCausalLM({ ...TINY, head_dim: 6 }, { init: false });
    assert.equal(m.model.layers[0].self_attn.q_proj.weight.shape, [24, 16], "head_dim overrides hidden/heads");
    assert.is(m.model.layers[0].self_attn.q_proj.weight.dataSync().every((v) => v === 0), true, "init: false is zeros");
  });

  test("loadCausalLMWeights names missing, unexpected and wrong-shaped tensors; a tied model ignores a stored lm_head", () => {
    const src = createCausalLM(TINY);
    const sd = src.stateDict();
    const dst = createCausalLM(TINY, { init: false });
    const { ["model.norm.weight"]: _norm, ...noNorm } = sd;
    assert.throws(() => loadCausalLMWeights(dst, noNorm), /missing model\.norm\.weight/);
    assert.throws(() => loadCausalLMWeights(dst, { ...sd, "model.layers.2.mlp.up_proj.weight": sd["model.norm.weight"] }), /unexpected model\.layers\.2\.mlp\.up_proj\.weight/);
    assert.throws(() => loadCausalLMWeights(dst, { ...sd, "lm_head.weight": wg.zeros([41, 16]) }), /lm_head\.weight is \[41,16\], expected \[40,16\]/);
    loadCausalLMWeights(dst, sd);
    assert.equal(dst.model.norm.weight.toArray(), src.model.norm.weight.toArray());
    const tied = createCausalLM({ ...TINY, tie_word_embeddings: true }, { init: false });
    const { ["lm_head.weight"]: head, ...rest } = sd;
    loadCausalLMWeights(tied, { ...rest, "lm_head.weight": head, "model.layers.0.self_attn.rotary_emb.inv_freq": wg.zeros([2]) });
    assert.ok(!("lm_head.weight" in tied.stateDict()));
  });

  test("generate and forward options are checked, with errors that say what was wrong", async () => {
    const m = createCausalLM(TINY);
    const bad: [object, RegExp][] = [
      [{ maxNewTokens: 2, temprature: 1 }, /unknown option "temprature"/],
      [{ maxNewTokens: -1 }, /maxNewTokens must be an integer ≥ 0/],
      [{}, /give maxNewTokens/],
      [{ maxNewTokens: 2, topP: 0 }, /topP must be a finite number in \(0, 1\]/],
      [{ maxNewTokens: 2, repetitionPenalty: 0 }, /repetitionPenalty must be a finite number in \(0/],
      [{ maxNewTokens: 2, stop: "2" }, /stop must be a token id or a list/],
      [{ maxNewTokens: 2, temperature: -1 }, /temperature must be a finite number in \[0/],
      [{ maxNewTokens: 2, useCache: "no" }, /useCache must be true or false/],
    ];
    for (const [opts, re] of bad) await rejects(() => m.generate([1, 2], opts as never), re, JSON.stringify(opts));
    await rejects(() => m.generate([], { maxNewTokens: 1 }), /at least one token/);
    assert.throws(() => m.stream([1], { maxNewTokens: 1, topK: -2 }), /stream: topK must be an integer ≥ 0/, "stream checks its options at once");
    await rejects(() => m.generate("hi" as never, { maxNewTokens: 1 }), /ids must be a number\[\], an Int32Array or an int32 tensor/);
    m.generationConfig = { max_new_tokens: null as never };
    await rejects(() => m.generate([1], {}), /give maxNewTokens/);
    m.generationConfig = { max_new_tokens: 2 };
    assert.is((await m.generate([1], { stop: [] })).length, 2, "generation_config's max_new_tokens");
    m.generationConfig = null;
    await rejects(() => m.generate([1, 40], { maxNewTokens: 1 }), /token id 40 is outside the vocabulary of 40/);
    await rejects(() => m.generate(wg.tensor([[1, 2], [3, 4]], { dtype: "int32" }), { maxNewTokens: 1 }), /int32 \[1, S\] \(batch 1\)/);
    assert.throws(() => m.forward(wg.tensor([[1, 2]])), /ids must be an int32 tensor \[B, S\]/);
    assert.throws(() => m.forward(wg.tensor([[1, 2]], { dtype: "int32" }), { cache: new KVCache(3) }), /KVCache or StaticKVCache with 2 layers/);
    assert.throws(() => m.forward(wg.tensor([[1, 2]], { dtype: "int32" }), { cache: new StaticKVCache(2, 1, 1, 8, 4) }), /need 2 × 1 × 2 × 4 \(make it with model.newCache\(maxLength, batch\)\)/);
    assert.equal(await m.generate([1, 2], { maxNewTokens: 0 }), []);
    const l = new Float32Array([3, -3, 0.5]);
    applyRepetitionPenalty(l, [0, 1], 1.5);
    assert.equal(Array.from(l), [2, -4.5, 0.5]);
  });

  test("wg.quantizeDynamic swaps an untied model's projections and head; the LlamaForCausalLM constructor defaults to llama", async () => {
    const m = new LlamaForCausalLM({ vocab_size: 40, hidden_size: 16, intermediate_size: 24, num_hidden_layers: 1, num_attention_heads: 2 });
    assert.is(m.config.model_type, "llama");
    assert.is(m.config.num_key_value_heads, 2);
    wg.quantizeDynamic(m);
    assert.ok(m.lm_head instanceof QuantizedLinear && m.model.layers[0].self_attn.o_proj instanceof QuantizedLinear);
    assert.is((await m.generate([1, 2, 3], { maxNewTokens: 3, stop: [] })).length, 3);
    const tied = createCausalLM({ ...TINY, tie_word_embeddings: true });
    const x = wg.tensor([[1, 2, 3]], { dtype: "int32" });
    const before = wg.noGrad(() => tied.eval().forward(x)).dataSync();
    wg.quantizeDynamic(tied);
    assert.ok(tied.lm_head instanceof QuantizedLinear, "tied head: an int8 copy of embed_tokens");
    assert.ok(tied.model.embed_tokens.weight.shape.join() === "40,16", "the float table stays for the lookups");
    const after = wg.noGrad(() => tied.forward(x)).dataSync();
    assertClose(after, before, 0.05, 0.05, "int8 vs float logits");
  });

  test("sampling a large vocabulary: Float32Array logits (the selection path) give exactly the comparator sort's probabilities", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const n of [3, 17, 1000, 70000]) {
      const l = new Float32Array(n);
      // coarse values: many ties (lower index first), both zeros, negatives
      for (let i = 0; i < n; i++) l[i] = Math.round((rand() - 0.6) * 40) / 4;
      if (n > 3) { l[1] = -0; l[2] = 0; }
      for (const opts of [{ topK: 5 }, { topK: 0, topP: 0.9 }, { topK: 50, topP: 0.5, temperature: 0.7 }, { topK: n }, {}]) {
        const fast = samplingProbabilities(l, opts), slow = samplingProbabilities(Array.from(l), opts);
        for (let i = 0; i < n; i++) if (fast[i] !== slow[i]) assert.unreachable(`n ${n} ${JSON.stringify(opts)}: p[${i}] ${fast[i]} vs ${slow[i]}`);
      }
    }
  });

  test("logitsToKeep computes the head for the last positions only", () => {
    const m = createCausalLM(TINY).eval();
    const x = wg.tensor([[1, 2, 3, 4, 5]], { dtype: "int32" });
    const all = wg.noGrad(() => m.forward(x)).dataSync();
    const last2 = wg.noGrad(() => m.forward(x, { logitsToKeep: 2 }));
    assert.equal(last2.shape, [1, 2, 40]);
    assertClose(last2.dataSync(), all.slice(3 * 40), 1e-6, 1e-6, "last 2 rows");
    assert.equal(wg.noGrad(() => m.forward(x, { logitsToKeep: 0 })).shape, [1, 5, 40]);
    assert.throws(() => m.forward(x, { logitsToKeep: -1 }), /logitsToKeep must be an integer ≥ 0/);
  });
});
