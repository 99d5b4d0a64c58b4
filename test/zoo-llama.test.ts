// The llama zoo entry's pieces: the BPE trained by npm `tokenizers` has the
// asked-for size, Llama's special tokens first and every byte (so any text
// round-trips), and the Rust reader (what transformers uses) and the JS reader
// (@huggingface/tokenizers, what webgrad loads with) give the same ids from the
// tokenizer.json we write; the Tang split holds out exactly the pre-training's
// validation poems; a saved folder has transformers' files and names, and
// reloads to bit-identical logits. The whole CLI run (train, reload, LoRA
// fine-tune) is test/e2e/zoo-llama.test.ts.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Template } from "@huggingface/jinja";
import * as wg from "../host/index.js";
import { trainByteLevelBpe } from "../host/zoo/bpe.js";
import { readFortuneRecords, splitRecords, FORTUNES_ZH, TANG300 } from "../host/zoo/fortunes.js";
import { jsonTokenizer, tokenizerConfig, encodeRecords, tangSplit, trainLlama, saveLlamaFolder, loadLlamaFolder, QUICK_RECIPE, llamaConfig, LLAMA_RECIPE } from "../host/zoo/llama.js";

await wg.init({ threads: 1, verbose: false });
const napi = createRequire(import.meta.url)("tokenizers");
const dir = mkdtempSync(join(tmpdir(), "webgrad-zoo-llama-"));

const records = (await readFortuneRecords(FORTUNES_ZH)).slice(0, 400);
const json = await trainByteLevelBpe(records, { vocabSize: 700 });

test("BPE: the asked-for size, <unk> <s> </s> as ids 0-2, all 256 byte symbols, merges in training order", () => {
  const vocab = json.model.vocab;
  assert.is(Object.keys(vocab).length, 700);
  assert.equal([vocab["<unk>"], vocab["<s>"], vocab["</s>"]], [0, 1, 2]);
  const ids = Object.values(vocab).sort((a, b) => a - b);
  assert.equal(ids, Array.from({ length: 700 }, (_, i) => i), "ids 0..699, each once");
  for (const sym of napi.byteLevelAlphabet() as string[]) assert.ok(sym in vocab, `byte symbol ${JSON.stringify(sym)}`);
  assert.is(json.model.merges.length, 700 - 3 - 256);
  // every merge's parts exist before it, and its result gets the next id
  json.model.merges.forEach(([a, b], i) => {
    assert.ok(vocab[a] < 259 + i && vocab[b] < 259 + i, `merge ${i}: parts known before it`);
    assert.is(vocab[a + b], 259 + i, `merge ${i}: result id`);
  });
});

test("BPE: the Rust reader and @huggingface/tokenizers encode alike, and text round-trips (unseen bytes too)", async () => {
  const rust = napi.Tokenizer.fromString(JSON.stringify(json));
  const js = await jsonTokenizer(json, tokenizerConfig(64));
  const texts = [...records.slice(0, 30), "今天天气很好，阳光明媚。", "emoji 🦙 and Ωmega, tabs\tand  spaces .", "床前明月光，疑是地上霜。"];
  for (const t of texts) {
    const a = (await rust.encode(t)).getIds(), b = js.encode(t);
    assert.equal(b, a, `same ids for ${JSON.stringify(t.slice(0, 40))}`);
    assert.is(b[0], 1, "<s> first");
    assert.is(js.decode(b, { skipSpecialTokens: true }), t);
  }
  assert.ok(js.encode("今天天气很好", { addSpecialTokens: false })[0] !== 1, "no <s> when asked");
});

test("records as a stream: <s> … </s> per record", async () => {
  const js = await jsonTokenizer(json, tokenizerConfig(64));
  const ids = encodeRecords(js, ["天气", "很好"]);
  const a = js.encode("天气", { addSpecialTokens: false }), b = js.encode("很好", { addSpecialTokens: false });
  assert.equal(Array.from(ids), [1, ...a, 2, 1, ...b, 2]);
});

test("chat template renders with @huggingface/jinja", () => {
  const c = tokenizerConfig(64);
  const out = new Template(c.chat_template as string).render({
    messages: [{ role: "user", content: "写一句诗" }, { role: "assistant", content: "床前明月光" }, { role: "user", content: "再来" }],
    bos_token: "<s>", eos_token: "</s>", add_generation_prompt: true,
  });
  assert.is(out, "<s>问：写一句诗\n答：床前明月光</s>\n问：再来\n答：");
});

test("Tang split: the validation poems are exactly the Tang poems the pre-training held out", async () => {
  const { train, validation } = await tangSplit();
  const tang = await readFortuneRecords([TANG300]);
  assert.is(train.length + validation.length, tang.length);
  const held = new Set(splitRecords(await readFortuneRecords(FORTUNES_ZH)).validation);
  for (const p of validation) assert.ok(held.has(p), "held out by the pre-training");
  for (const p of train) assert.not.ok(held.has(p), "trained on by the pre-training");
  assert.ok(validation.length >= 10, `${validation.length} validation poems`);
});

test("config.json: a LlamaForCausalLM with GQA, SwiGLU ~2.75×, tied embeddings", () => {
  const c = llamaConfig(LLAMA_RECIPE, 3000);
  assert.equal(c.architectures, ["LlamaForCausalLM"]);
  assert.is(c.model_type, "llama");
  assert.is(c.num_attention_heads! / c.num_key_value_heads!, 2);
  assert.is(c.intermediate_size / c.hidden_size, 2.75);
  assert.is(c.tie_word_embeddings, true);
  assert.is(c.rope_theta, 10000);
});

test("a saved folder: transformers' files, names and metadata; reloads to the same logits", async () => {
  const r = await trainLlama({ recipe: { ...QUICK_RECIPE, records: 200 }, steps: 2 });
  const folder = join(dir, "tiny");
  const files = await saveLlamaFolder(folder, r.model, r.config, r.corpus.tokenizerJson);
  assert.equal(files.sort(), ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]);
  const { tensors, metadata } = await wg.io.loadSafetensors(join(folder, "model.safetensors"));
  assert.equal({ ...metadata }, { format: "pt" }, "metadata: format pt, as transformers writes it");
  assert.ok("model.embed_tokens.weight" in tensors && "model.layers.0.self_attn.k_proj.weight" in tensors && "model.norm.weight" in tensors);
  assert.not.ok("lm_head.weight" in tensors, "tied: no lm_head stored");
  assert.equal(tensors["model.layers.0.self_attn.k_proj.weight"].shape, [QUICK_RECIPE.kvHeads * (QUICK_RECIPE.hiddenSize / QUICK_RECIPE.heads), QUICK_RECIPE.hiddenSize]);
  const gen = JSON.parse(readFileSync(join(folder, "generation_config.json"), "utf8"));
  assert.equal([gen.eos_token_id, gen.temperature, gen.top_k], [2, 0.8, 40]);
  const back = await loadLlamaFolder(folder);
  const ids = wg.tensor([[1, 5, 9, 300, 2]], { dtype: "int32" });
  const a = wg.noGrad(() => r.model.eval().forward(ids).dataSync()), b = wg.noGrad(() => back.model.forward(ids).dataSync());
  assert.equal(Array.from(b), Array.from(a), "bit-identical logits");
});

test("a missing folder: an error naming the command that makes it", async () => {
  try {
    await loadLlamaFolder(join(dir, "nothing-here"));
    assert.unreachable("should throw");
  } catch (e) {
    assert.match((e as Error).message, /no model at .*nothing-here\/ \(no config\.json there\): train it first with `webgrad train llama --weights .*nothing-here`/);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
