// loadPretrained: a Hugging Face folder from every kind of source (a folder, a
// file: URL, a local HTTP server, a fake FileSystemDirectoryHandle, Files by
// name) loads the same weights; sharded indexes; clear errors on malformed
// folders; int8 close to f32; the tokenizer (a BPE trained by the npm
// `tokenizers` package: scripts/llm-fixture-tokenizer.mjs) and the chat
// template; the lazy safetensors reader.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync, copyFileSync, mkdirSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";
import * as wg from "../host/index.js";
import { GPT, gpt2StateDict } from "../host/models/gpt.js";
import { LlamaForCausalLM, createCausalLM } from "../host/models/llama.js";
import { QuantizedLinear } from "../host/nn/quantized.js";
import { randomF32 } from "./harness.js";

await wg.init({ threads: 1, verbose: false });

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TOKENIZER_DIR = join(ROOT, "test/fixtures/llm/tokenizer");
const work = mkdtempSync(join(tmpdir(), "webgrad-pretrained-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

const ids2d = (ids: number[]) => wg.tensor(Int32Array.from(ids), { dtype: "int32", shape: [1, ids.length] });
const logitsOf = (m: wg.nn.Module, ids: number[]) => wg.noGrad(() => Float32Array.from(m.forward(ids2d(ids)).dataSync() as Float32Array));
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.is(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};
const PROMPT = [1, 5, 9, 2, 7, 3];

/** uvu has no assert.rejects: the promise must fail with a message matching `re`. */
async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!re.test((e as Error).message)) assert.unreachable(`the error ${JSON.stringify((e as Error).message)} does not match ${re}`);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

// ------------------------------------------------------------ GPT-2 folder

const GPT2_CONFIG = { model_type: "gpt2", architectures: ["GPT2LMHeadModel"], vocab_size: 400, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, bos_token_id: 382, eos_token_id: 383 };

/** A GPT-2 folder with weights large enough that every layer matters, the fixture tokenizer beside it. */
function gpt2Folder(name: string): { dir: string; model: GPT } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  wg.manualSeed(3);
  const model = new GPT({ vocabSize: 400, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 4 }).eval();
  model.parameters().forEach((p, i) => (p.view() as Float32Array).set(randomF32(p.size, 40 + i).map((v) => v * 0.3)));
  writeFileSync(join(dir, "model.safetensors"), wg.io.serializeSafetensors(gpt2StateDict(model)));
  writeFileSync(join(dir, "config.json"), JSON.stringify(GPT2_CONFIG));
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ bos_token_id: 382, eos_token_id: [383, 384], do_sample: true, temperature: 0.7, top_k: 20, top_p: 0.9, repetition_penalty: 1.1 }));
  for (const f of readdirSync(TOKENIZER_DIR)) copyFileSync(join(TOKENIZER_DIR, f), join(dir, f));
  return { dir, model };
}

const base = gpt2Folder("gpt2");
const want = logitsOf(base.model, PROMPT);

test("folder: config, weights, tokenizer and generation_config; the logits are the saved model's, bit for bit", async () => {
  const { model, tokenizer, config, generationConfig, chatTemplate } = await wg.models.loadPretrained(base.dir);
  assert.ok(model instanceof GPT);
  assert.is(config.model_type, "gpt2");
  assert.equal(maxDiff(logitsOf(model, PROMPT), want), 0);
  assert.equal(generationConfig, { bos_token_id: 382, eos_token_id: [383, 384], pad_token_id: 384, do_sample: true, temperature: 0.7, top_k: 20, top_p: 0.9, repetition_penalty: 1.1 });
  assert.ok(tokenizer && chatTemplate && chatTemplate.includes("add_generation_prompt"));
  assert.is(model.training, false);
});

test("file: URL base (with and without a trailing slash) loads the same weights", async () => {
  for (const url of [pathToFileURL(base.dir).href, pathToFileURL(base.dir).href + "/"]) {
    const { model } = await wg.models.loadPretrained(url);
    assert.is(maxDiff(logitsOf(model, PROMPT), want), 0, url);
  }
  const { model } = await wg.models.loadPretrained(pathToFileURL(base.dir));
  assert.is(maxDiff(logitsOf(model, PROMPT), want), 0, "a URL object");
});

/** A static server over `dir`, with HEAD and 404s, as a model host is, and byte ranges when asked; counts GETs and bytes sent per file. */
async function serve(dir: string, ranges = false): Promise<{ url: string; server: Server; gets: Map<string, number>; sent: Map<string, number> }> {
  const gets = new Map<string, number>(), sent = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url!, "http://x").pathname.replace(/^\/models\/tiny\//, ""));
    const path = join(dir, name);
    if (name.includes("..") || !existsSync(path)) { res.writeHead(404).end("not found"); return; }
    let body = readFileSync(path);
    const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    const head = { "content-type": "application/octet-stream", ...(ranges ? { "accept-ranges": "bytes" } : {}) };
    if (req.method === "GET") gets.set(name, (gets.get(name) ?? 0) + 1);
    if (ranges && range && req.method === "GET") {
      body = body.subarray(+range[1], +range[2] + 1);
      res.writeHead(206, { ...head, "content-length": body.length });
    } else {
      res.writeHead(200, { ...head, "content-length": body.length });
    }
    if (req.method === "GET") sent.set(name, (sent.get(name) ?? 0) + body.length);
    res.end(req.method === "HEAD" ? undefined : body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/models/tiny`, server, gets, sent };
}

test("http URL base: a local server's files load to the same logits, each file fetched once", async () => {
  const { url, server, gets } = await serve(base.dir);
  try {
    const { model, tokenizer, generationConfig } = await wg.models.loadPretrained(url);
    assert.is(maxDiff(logitsOf(model, PROMPT), want), 0);
    assert.ok(tokenizer);
    assert.equal(generationConfig.eos_token_id, [383, 384]);
    assert.is(gets.get("model.safetensors"), 1);
    await rejects(() => wg.models.loadPretrained(url + "/nowhere"), /has no config\.json/);
  } finally {
    server.close();
  }
});

test("http URL base with byte ranges: each tensor fetched on its own, the file's bytes sent once in all", async () => {
  const { url, server, gets, sent } = await serve(base.dir, true);
  try {
    const { model } = await wg.models.loadPretrained(url);
    assert.is(maxDiff(logitsOf(model, PROMPT), want), 0);
    const size = readFileSync(join(base.dir, "model.safetensors")).length;
    const tensors = Object.keys(wg.io.parseSafetensors(new Uint8Array(readFileSync(join(base.dir, "model.safetensors")))).tensors).length;
    assert.is(gets.get("model.safetensors"), 2 + tensors, "the length, the header, then one request per tensor");
    assert.is(sent.get("model.safetensors"), size);
  } finally {
    server.close();
  }
});

/** A FileSystemDirectoryHandle as browsers give it (showDirectoryPicker, OPFS), over Blobs: the methods the loader uses, NotFoundError included. */
function fakeDirectoryHandle(dir: string, name = "tiny"): wg.models.FileSystemDirectoryHandleLike {
  const notFound = (n: string) => Object.assign(new Error(`${n} not found`), { name: "NotFoundError" });
  return {
    kind: "directory",
    name,
    async getFileHandle(n: string) {
      const p = join(dir, n);
      if (!existsSync(p)) throw notFound(n);
      return { kind: "file", name: n, getFile: async () => new Blob([readFileSync(p)]) } as never;
    },
    async getDirectoryHandle(n: string) {
      throw notFound(n);
    },
  };
}

test("FileSystemDirectoryHandle (a fake of the browser's) and Files by name load the same weights", async () => {
  const { model } = await wg.models.loadPretrained(fakeDirectoryHandle(base.dir));
  assert.is(maxDiff(logitsOf(model, PROMPT), want), 0);
  const files: Record<string, Blob> = {};
  for (const f of readdirSync(base.dir)) files[f] = new Blob([readFileSync(join(base.dir, f))]);
  const fromFiles = await wg.models.loadPretrained(files);
  assert.is(maxDiff(logitsOf(fromFiles.model, PROMPT), want), 0);
  assert.ok(fromFiles.tokenizer);
  // an <input webkitdirectory>'s FileList: Files whose webkitRelativePath starts with the picked folder
  const list = readdirSync(base.dir).map((f) => Object.assign(new File([readFileSync(join(base.dir, f))], f), { webkitRelativePath: `tiny/${f}` }));
  const fromList = await wg.models.loadPretrained(list);
  assert.is(maxDiff(logitsOf(fromList.model, PROMPT), want), 0);
});

/** Splits a folder's model.safetensors into `n` shards with an index, as transformers' save_pretrained(max_shard_size) does. */
function shard(from: string, to: string, n: number): string[] {
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f !== "model.safetensors") copyFileSync(join(from, f), join(to, f));
  const { tensors } = wg.io.parseSafetensors(new Uint8Array(readFileSync(join(from, "model.safetensors"))));
  const names = Object.keys(tensors);
  const weightMap: Record<string, string> = {};
  const files: string[] = [];
  for (let s = 0; s < n; s++) {
    const file = `model-${String(s + 1).padStart(5, "0")}-of-${String(n).padStart(5, "0")}.safetensors`;
    const part: Record<string, wg.io.StoredTensor> = {};
    for (const name of names.filter((_, i) => i % n === s)) { part[name] = tensors[name]; weightMap[name] = file; }
    writeFileSync(join(to, file), wg.io.serializeSafetensors(part));
    files.push(file);
  }
  writeFileSync(join(to, "model.safetensors.index.json"), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
  return files;
}

test("sharded: model.safetensors.index.json over 3 shards loads the same logits; a missing shard or a misplaced tensor is named", async () => {
  const dir = join(work, "gpt2-sharded");
  const files = shard(base.dir, dir, 3);
  const { model } = await wg.models.loadPretrained(dir);
  assert.is(maxDiff(logitsOf(model, PROMPT), want), 0);
  const index = JSON.parse(readFileSync(join(dir, "model.safetensors.index.json"), "utf8"));
  // a tensor the index puts in the wrong shard
  const moved = structuredClone(index);
  const name = Object.keys(moved.weight_map).find((k) => moved.weight_map[k] === files[0])!;
  moved.weight_map[name] = files[1];
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify(moved));
  await rejects(() => wg.models.loadPretrained(dir), new RegExp(`puts ${name.replace(/\./g, "\\.")} in ${files[1]}, which has no such tensor`));
  // a shard that is not there
  rmSync(join(dir, files[2]));
  writeFileSync(join(dir, "model.safetensors.index.json"), JSON.stringify(index));
  await rejects(() => wg.models.loadPretrained(dir), new RegExp(`maps tensors to ${files[2]}, which is not in`));
});

test("malformed folders: each gives an error that says what is wrong", async () => {
  const dir = join(work, "bad");
  const reset = () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    for (const f of readdirSync(base.dir)) copyFileSync(join(base.dir, f), join(dir, f));
  };
  reset();
  rmSync(join(dir, "config.json"));
  await rejects(() => wg.models.loadPretrained(dir), /has no config\.json/);
  reset();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...GPT2_CONFIG, model_type: "bert", architectures: ["BertForMaskedLM"] }));
  await rejects(() => wg.models.loadPretrained(dir), /model_type "bert" \(architectures \["BertForMaskedLM"\]\) is not supported; webgrad loads llama, qwen2, mistral, gpt2/);
  reset();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...GPT2_CONFIG, n_embd: 48, n_head: 4 }));
  await rejects(() => wg.models.loadPretrained(dir), /wte\.weight is \[400,32\], expected \[400,48\]/);
  reset();
  rmSync(join(dir, "model.safetensors"));
  await rejects(() => wg.models.loadPretrained(dir), /has neither model\.safetensors nor model\.safetensors\.index\.json/);
  reset();
  writeFileSync(join(dir, "model.safetensors"), readFileSync(join(base.dir, "model.safetensors")).subarray(0, 1000));
  await rejects(() => wg.models.loadPretrained(dir), /model\.safetensors: safetensors: .*(outside|does not fit)/);
  reset();
  writeFileSync(join(dir, "config.json"), "{ not json");
  await rejects(() => wg.models.loadPretrained(dir), /config\.json is not valid JSON/);
  await rejects(() => wg.models.loadPretrained(dir, { dtype: "int4" as never }), /dtype must be "float32" or "int8"/);
});

test("int8 GPT-2: the Linear projections become QuantizedLinear, logits within 5% of the f32 range (weights and activations both quantised)", async () => {
  const { model } = await wg.models.loadPretrained(base.dir, { dtype: "int8" });
  const got = logitsOf(model, PROMPT);
  const range = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const d = maxDiff(got, want);
  assert.ok(d > 0 && d < 0.05 * range, `int8 logits differ by ${d} against a range of ${range}`);
  assert.ok(String(model).includes("QuantizedLinear"));
});

// ------------------------------------------------------- Llama family

const LLAMA = { architectures: ["LlamaForCausalLM"], model_type: "llama", vocab_size: 400, hidden_size: 64, intermediate_size: 192, num_hidden_layers: 2,
  num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 64, rms_norm_eps: 1e-6, tie_word_embeddings: false, bos_token_id: 382, eos_token_id: 383 };
const QWEN2 = { ...LLAMA, architectures: ["Qwen2ForCausalLM"], model_type: "qwen2", tie_word_embeddings: true };

/** A model of `config` with every weight (biases too) random and large enough to matter, saved as an HF folder with the fixture tokenizer. */
function llmFolder(name: string, config: Record<string, unknown>, seed: number): { dir: string; model: LlamaForCausalLM } {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const model = createCausalLM(config as never).eval();
  for (const [k, p] of model.namedParameters()) {
    const v = randomF32(p.size, seed++);
    (p.view() as Float32Array).set(k.endsWith("norm.weight") ? v.map((x) => 1 + 0.2 * x) : v.map((x) => 0.15 * x));
  }
  writeFileSync(join(dir, "model.safetensors"), wg.io.serializeSafetensors(model.stateDict()));
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  writeFileSync(join(dir, "generation_config.json"), JSON.stringify({ bos_token_id: 382, eos_token_id: [383, 384], max_new_tokens: 5 }));
  for (const f of readdirSync(TOKENIZER_DIR)) copyFileSync(join(TOKENIZER_DIR, f), join(dir, f));
  return { dir, model };
}

const llama = llmFolder("llama", LLAMA, 100);
const llamaWant = logitsOf(llama.model, PROMPT);
const qwen = llmFolder("qwen2", QWEN2, 300);
const qwenWant = logitsOf(qwen.model, PROMPT);

test("Llama folder: the model createCausalLM builds, its logits the saved model's bit for bit; generate reads generation_config.json", async () => {
  const { model, generationConfig, tokenizer } = await wg.models.loadPretrained(llama.dir);
  assert.ok(model instanceof LlamaForCausalLM);
  assert.is(maxDiff(logitsOf(model, PROMPT), llamaWant), 0);
  assert.equal(generationConfig.eos_token_id, [383, 384]);
  const llm = model as LlamaForCausalLM;
  assert.is(llm.generationConfig, generationConfig);
  const out = await llm.generate(tokenizer!.encode("the moon"));
  assert.ok(out.length >= 1 && out.length <= 5, `max_new_tokens from generation_config.json: ${out.length} tokens`);
  const greedy = await llama.model.generate(tokenizer!.encode("the moon"), { maxNewTokens: 5, stop: [383, 384] });
  assert.equal(out, greedy, "greedy by default (no do_sample), as the saved model");
});

test("Qwen2, tied embeddings and q/k/v biases, sharded over 2 files: the same logits", async () => {
  const dir = join(work, "qwen2-sharded");
  shard(qwen.dir, dir, 2);
  const { model } = await wg.models.loadPretrained(dir);
  assert.is((model as LlamaForCausalLM).lm_head, null);
  assert.is(maxDiff(logitsOf(model, PROMPT), qwenWant), 0);
});

/** The source of a folder that records the engine's bytes in use each time a file is opened or a range read (one tensor at a time). */
function watched(dir: string): { source: wg.models.ModelSource; peak: () => number } {
  const inner = wg.models.modelSource(dir);
  let peak = 0;
  const note = () => { peak = Math.max(peak, wg.memory().inUse); };
  return {
    peak: () => peak,
    source: {
      description: inner.description,
      has: (n) => inner.has(n),
      readJson: (n) => inner.readJson(n),
      readBytes: async (n) => { note(); return inner.readBytes(n); },
      openRange: async (n) => {
        const r = await inner.openRange!(n);
        return { size: r.size, read: async (s, e) => { note(); return r.read(s, e); } };
      },
    },
  };
}

test("int8: projections and the head QuantizedLinear, the logits createCausalLM's own int8 load gives, within 6% of the f32 range; the f32 projections never allocated", async () => {
  for (const [which, folder, ref] of [["llama", llama, llamaWant], ["qwen2 (tied head)", qwen, qwenWant]] as const) {
    const { model } = await wg.models.loadPretrained(folder.dir, { dtype: "int8" });
    const llm = model as LlamaForCausalLM;
    assert.ok(llm.model.layers[1].mlp.down_proj instanceof QuantizedLinear, which);
    assert.ok(llm.lm_head instanceof QuantizedLinear, which);
    const got = logitsOf(model, PROMPT);
    // the same numbers as quantising after a whole f32 load (createCausalLM's int8 path): streaming changes memory, not results
    const whole = createCausalLM(folder.model.config, { dtype: "int8" });
    wg.models.loadCausalLMWeights(whole, folder.model.stateDict());
    assert.is(maxDiff(got, logitsOf(whole, PROMPT)), 0, which);
    whole.dispose();
    // weights and activations both quantised (7-bit rows): a few percent of the logits' range on random weights
    const range = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const d = maxDiff(got, ref);
    assert.ok(d > 0 && d < 0.06 * range, `${which}: int8 logits differ by ${d} against a range of ${range}`);
    model.dispose();
  }
  // bytes in use while loading (sampled at every file read), above what was in use before: an int8 load peaks at its
  // finished model plus about one f32 tensor (each projection is quantised from its own tensor as it is read), never
  // at the f32 model; the f32 load holds every f32 projection
  const projBytes = 4 * llama.model.namedParameters().filter(([k]) => /_proj\.weight$|lm_head/.test(k)).reduce((a, [, p]) => a + p.size, 0);
  const largest = 4 * Math.max(...llama.model.parameters().map((p) => p.size));
  const measure = async (dtype: "float32" | "int8") => {
    const before = wg.memory().inUse;
    const w = watched(llama.dir);
    const { model } = await wg.models.loadPretrained(w.source, { dtype });
    const result = { peak: w.peak() - before, after: wg.memory().inUse - before };
    model.dispose();
    return result;
  };
  const f32 = await measure("float32"), int8 = await measure("int8");
  console.log(`  load peaks above the start: f32 ${f32.peak} bytes (model ${f32.after}), int8 ${int8.peak} (model ${int8.after}); f32 projections ${projBytes}`);
  assert.ok(f32.peak >= projBytes, `f32 load: ${f32.peak} bytes in use at its peak, the projections alone take ${projBytes}`);
  assert.ok(int8.after < f32.after, `the int8 model (${int8.after} bytes) is smaller than the f32 one (${f32.after})`);
  assert.ok(int8.peak <= int8.after + 2 * largest, `int8 load: peak ${int8.peak} bytes, the finished model ${int8.after}, the largest f32 tensor ${largest}`);
});

test("int8Decode false: no weight-only decode rows (a byte a weight less), logits near f32 either way", async () => {
  const sized = async (opts: wg.models.PretrainedOptions) => {
    const before = wg.memory().inUse;
    const { model } = await wg.models.loadPretrained(llama.dir, opts);
    return { model, bytes: wg.memory().inUse - before };
  };
  const withRows = await sized({ dtype: "int8" }), without = await sized({ dtype: "int8", int8Decode: false });
  const weights = llama.model.namedParameters().filter(([k]) => /_proj\.weight$|lm_head/.test(k)).reduce((a, [, p]) => a + p.size, 0);
  assert.ok(withRows.bytes - without.bytes >= weights, `decode rows: ${withRows.bytes - without.bytes} bytes for ${weights} int8 weights`);
  // one token: gemv_i8 (f32 activations) with the rows, the int8 GEMM (activations quantised too) without; both near f32
  const ref = logitsOf(llama.model, [5]), range = ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  for (const [what, m] of [["with rows", withRows.model], ["without", without.model]] as const) {
    const d = maxDiff(logitsOf(m, [5]), ref);
    assert.ok(d < 0.06 * range, `${what}: ${d} against a range of ${range}`);
  }
  withRows.model.dispose();
  without.model.dispose();
  await rejects(() => wg.models.loadPretrained(llama.dir, { int8Decode: "yes" as never }), /int8Decode must be true or false/);
});

test("Llama folder errors: a tensor of the wrong shape, a missing tensor, an unexpected one", async () => {
  const dir = join(work, "llama-bad");
  const reset = (config: object, tensors?: Record<string, wg.io.StoredTensor>) => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    if (tensors) writeFileSync(join(dir, "model.safetensors"), wg.io.serializeSafetensors(tensors));
    else copyFileSync(join(llama.dir, "model.safetensors"), join(dir, "model.safetensors"));
  };
  reset({ ...LLAMA, intermediate_size: 128 });
  await rejects(() => wg.models.loadPretrained(dir), /model\.layers\.0\.mlp\.gate_proj\.weight is \[192,64\] in the file, the model built from config\.json expects \[128,64\]/);
  await rejects(() => wg.models.loadPretrained(dir, { dtype: "int8" }), /gate_proj\.weight is \[192,64\] in the file, the model built from config\.json expects \[128,64\]/);
  const { tensors } = wg.io.parseSafetensors(new Uint8Array(readFileSync(join(llama.dir, "model.safetensors"))));
  const less = { ...tensors };
  delete less["model.layers.1.input_layernorm.weight"];
  reset(LLAMA, less);
  await rejects(() => wg.models.loadPretrained(dir), /has no model\.layers\.1\.input_layernorm\.weight, which the llama model needs/);
  reset(LLAMA, { ...tensors, "model.layers.2.mlp.up_proj.weight": tensors["model.layers.1.mlp.up_proj.weight"] });
  await rejects(() => wg.models.loadPretrained(dir), /tensors the llama model built from config\.json does not: model\.layers\.2\.mlp\.up_proj\.weight/);
});

// The folders scripts/torch-fixtures.py writes (helper hm's) with their plain-PyTorch reference: F32 (Llama, llama3 RoPE),
// BF16 (Qwen2, tied, q/k/v biases), F16 (Mistral, sliding window); tiny-llama has the tokenizer scripts/llm-fixture-tokenizer.mjs trains
const FIXTURES = join(ROOT, "test/fixtures/llm");
for (const name of ["tiny-llama", "tiny-qwen2", "tiny-mistral"]) {
  test(`${name} (scripts/torch-fixtures.py) through loadPretrained: logits within 1e-4 of PyTorch's, the reference greedy continuation`, async () => {
    const ref = JSON.parse(readFileSync(join(FIXTURES, name, "reference.json"), "utf8"));
    const { model, generationConfig } = await wg.models.loadPretrained(join(FIXTURES, name));
    const llm = model as LlamaForCausalLM;
    const b = Buffer.from(ref.logits.b64, "base64");
    const want = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    const got = wg.noGrad(() => llm.forward(wg.tensor(Int32Array.from(ref.ids.flat()), { dtype: "int32", shape: [ref.ids.length, ref.ids[0].length] })).dataSync());
    for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-4 + 1e-4 * Math.abs(want[i]))) assert.unreachable(`logit ${i}: ${got[i]} vs ${want[i]}`);
    assert.equal(generationConfig.eos_token_id, JSON.parse(readFileSync(join(FIXTURES, name, "generation_config.json"), "utf8")).eos_token_id);
    assert.equal(await llm.generate(ref.prompt, { maxNewTokens: ref.greedy.length, stop: [], temperature: 0 }), ref.greedy);
  });
}

test("tiny-llama's trained tokenizer: ids inside its vocabulary, <s> and </s> at config.json's bos/eos ids, a chat prompt the model continues", async () => {
  const dir = join(FIXTURES, "tiny-llama");
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const { model, tokenizer } = await wg.models.loadPretrained(dir);
  const tok = tokenizer!;
  assert.is(tok.bosTokenId, config.bos_token_id);
  assert.is(tok.eosTokenId, config.eos_token_id);
  assert.ok(tok.vocabSize <= config.vocab_size, `${tok.vocabSize} tokens for vocab_size ${config.vocab_size}`);
  assert.is(tok.decode(tok.encode("the moon is bright")), "the moon is bright");
  assert.is(tok.decode(tok.encode("Zebra")), "<unk>ebra", "a symbol the corpus never had is <unk>");
  const prompt = tok.applyChatTemplate([{ role: "user", content: "hi!" }], { tokenize: true });
  assert.is(tok.decode(prompt), "<s>user: hi!</s>\nassistant:");
  const reply = await (model as LlamaForCausalLM).generate(prompt, { maxNewTokens: 4 });
  assert.ok(reply.length >= 1 && reply.every((id) => id >= 0 && id < config.vocab_size));
});

// -------------------------------------------------------------- tokenizer

test("tokenizer: encode/decode round trip, special tokens, skipSpecialTokens", async () => {
  const { tokenizer } = await wg.models.loadPretrained(base.dir);
  const tok = tokenizer!;
  const text = "Hello, world! The quick brown fox reads the moon.";
  const ids = tok.encode(text);
  assert.ok(ids.length > 5 && ids.length < text.length, `${ids.length} tokens`);
  assert.is(tok.decode(ids), text);
  assert.is(tok.eosTokenId, 383);
  assert.is(tok.bosTokenId, 382);
  assert.is(tok.vocabSize, 385);
  const withSpecial = tok.encode("<|bos|>Hello<|eos|>");
  assert.is(withSpecial[0], 382);
  assert.is(withSpecial[withSpecial.length - 1], 383);
  assert.is(tok.decode(withSpecial, { skipSpecialTokens: true }), "Hello");
  assert.is(tok.decode(withSpecial), "<|bos|>Hello<|eos|>");
  // characters the corpus never had still round-trip (byte-level BPE)
  assert.is(tok.decode(tok.encode("zebra ☃ 月")), "zebra ☃ 月");
});

test("chat template: rendered with bos_token, eos_token and add_generation_prompt; tokenize gives the ids", async () => {
  const { tokenizer } = await wg.models.loadPretrained(base.dir);
  const tok = tokenizer!;
  const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "what is the moon?" }];
  assert.is(tok.applyChatTemplate(messages), "<|bos|>system: Be brief.<|eos|>\nuser: what is the moon?<|eos|>\nassistant:");
  assert.is(tok.applyChatTemplate(messages, { addGenerationPrompt: false }), "<|bos|>system: Be brief.<|eos|>\nuser: what is the moon?<|eos|>\n");
  const ids = tok.applyChatTemplate(messages, { tokenize: true });
  assert.is(ids[0], 382);
  assert.is(ids.filter((i) => i === 382).length, 1, "BOS once: the template wrote it, encode does not add another");
  assert.is(tok.decode(ids), tok.applyChatTemplate(messages));
  assert.throws(() => tok.applyChatTemplate([{ role: "user" } as never]), /messages must be an array of \{ role, content \}/);
  // chat_template.jinja (transformers' newer layout) is read when tokenizer_config.json has none
  const dir = join(work, "jinja");
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(base.dir)) copyFileSync(join(base.dir, f), join(dir, f));
  const cfg = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  delete cfg.chat_template;
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(cfg));
  writeFileSync(join(dir, "chat_template.jinja"), "{% for m in messages %}[{{ m.role }}] {{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}");
  const fromJinja = await wg.models.loadPretrained(dir);
  assert.is(fromJinja.tokenizer!.applyChatTemplate([{ role: "user", content: "hi" }]), "[user] hi[assistant]");
  assert.ok(fromJinja.chatTemplate!.startsWith("{% for m in messages %}"));
});

// ------------------------------------------------------ lazy safetensors

test("SafetensorsFile: one tensor at a time, the same values as parseSafetensors; a range reader reads the header and that tensor only", async () => {
  const bytes = new Uint8Array(readFileSync(join(base.dir, "model.safetensors")));
  const whole = wg.io.parseSafetensors(bytes).tensors;
  const reads: [number, number][] = [];
  const file = await wg.io.SafetensorsFile.open(async (s, e) => { reads.push([s, e]); return bytes.slice(s, e); }, bytes.length);
  assert.equal(file.names, Object.keys(whole));
  const name = "h.1.mlp.c_fc.weight";
  const t = await file.read(name);
  assert.equal(t.shape, whole[name].shape);
  assert.equal([...t.data], [...whole[name].data]);
  assert.is(reads.length, 3, "the length, the header, the tensor");
  const e = file.entry(name);
  assert.equal(reads[2], [file.dataStart + e.begin, file.dataStart + e.end]);
  assert.throws(() => file.entry("nope"), /no tensor "nope" in this file/);
  // the same validation as parseSafetensors: a truncated file fails at open, not at a read
  await rejects(() => wg.io.SafetensorsFile.open(async (s, e) => bytes.slice(s, e), bytes.length - 4), /trailing bytes|outside the/);
  // a reader that returns less than asked (a truncated download) is named
  const short = await wg.io.SafetensorsFile.open(async (s, e) => bytes.slice(s, e > 100 + file.dataStart ? e - 1 : e), bytes.length);
  await rejects(() => short.read(name), /gave \d+ bytes, its range holds/);
  // BF16 and F16 decode to f32
  const bf = wg.io.SafetensorsFile.fromBytes(bf16File([1.5, -2, 0.333984375]));
  assert.equal([...(await bf.read("x")).data], [1.5, -2, 0.333984375]);
});

/** A safetensors file with one BF16 tensor "x" (values exactly representable). */
function bf16File(values: number[]): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ x: { dtype: "BF16", shape: [values.length], data_offsets: [0, 2 * values.length] } }));
  const out = new Uint8Array(8 + header.length + 2 * values.length);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  const f = new Float32Array(values), u = new Uint32Array(f.buffer);
  values.forEach((_, i) => dv.setUint16(8 + header.length + 2 * i, u[i] >>> 16, true));
  return out;
}

test.run();
