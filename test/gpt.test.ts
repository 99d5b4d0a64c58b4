// S7 gpt: the KV cache gives the logits of a full forward, sampling masks and
// draws match hand-computed cases and are deterministic per seed, Hugging
// Face-named weights round-trip through safetensors with GPT-2's BPE, the
// block's gradients match finite differences, and a few steps on a slice of
// fortunes-zh lower the loss.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as wg from "../host/index.js";
import { GPT, GPT2Block, KVCache, generate, samplingProbabilities, sampleToken, gpt2ParameterShapes, loadGPT2Weights, inferGPTConfig, type GPTConfig } from "../host/models/gpt.js";
import { CharVocab, readFortuneRecords, unigramCrossEntropy, trainGptChar, saveGptChar, loadGptFile, gpt2Tokenizer, generateText, loadFortuneCorpus } from "../host/zoo/gpt.js";
import { rng } from "../host/random.js";
import { randomF32 } from "./harness.js";

await wg.init({ threads: 1, verbose: false });

const TINY: GPTConfig = { vocabSize: 50, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 4 };
const ids2d = (ids: number[]) => wg.tensor(Int32Array.from(ids), { dtype: "int32", shape: [1, ids.length] });
const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.is(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= tol)) assert.unreachable(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
};

/** Makes the tiny model's weights large enough that every layer matters (GPT-2's 0.02 init is nearly linear). */
function randomize(model: GPT, seed: number): void {
  model.parameters().forEach((p, i) => (p.view() as Float32Array).set(randomF32(p.size, seed + i).map((v) => v * 0.3)));
}

test("KV cache: prefill then one token per step gives the logits of the full forward at every position", () => {
  wg.manualSeed(1);
  const model = new GPT(TINY).eval();
  randomize(model, 10);
  const seq = Array.from({ length: 13 }, (_, i) => (i * 7 + 3) % TINY.vocabSize);
  const full = wg.noGrad(() => model.forward(ids2d(seq)).dataSync());
  const cache = new KVCache(TINY.nLayer);
  const V = TINY.vocabSize;
  wg.noGrad(() => {
    const pre = model.forward(ids2d(seq.slice(0, 5)), { cache }).dataSync();
    close(pre, full.subarray(0, 5 * V), 1e-4, "prefill");
    for (let t = 5; t < seq.length; t++) {
      const step = model.forward(ids2d([seq[t]]), { cache }).dataSync();
      close(step, full.subarray(t * V, (t + 1) * V), 1e-4, `step ${t}`);
    }
  });
  assert.is(cache.length, seq.length);
  assert.equal(cache.layers[0].k!.shape, [1, TINY.nHead, seq.length, TINY.nEmbd / TINY.nHead]);
  assert.throws(() => wg.noGrad(() => model.forward(ids2d([1, 2, 3, 4]), { cache })), /exceed the context of 16/);
  cache.dispose();
});

test("generate: cached and uncached decoding choose the same tokens (greedy and sampled); the cached window slides past the context", () => {
  wg.manualSeed(2);
  const model = new GPT(TINY);
  randomize(model, 20);
  for (const opts of [{ temperature: 0 }, { temperature: 1, topK: 10, seed: 4 }]) {
    // 30 new tokens after 4 overflow the 16 positions: both paths slide their window
    const a = generate(model, [1, 2, 3, 4], { maxNewTokens: 30, ...opts, useCache: true });
    const b = generate(model, [1, 2, 3, 4], { maxNewTokens: 10, ...opts, useCache: false });
    assert.equal(a.slice(0, 10), b, JSON.stringify(opts));
    assert.is(a.length, 30);
  }
  assert.ok(model.training, "generate restores training mode");
});

test("sampling: temperature, top-k and top-p give the hand-computed distributions", () => {
  const e = Math.E;
  close(samplingProbabilities([2, 1, 0], { topK: 2 }), [e * e / (e * e + e), e / (e * e + e), 0], 1e-12, "top-k 2");
  close(samplingProbabilities([Math.log(4), 0], { temperature: 2 }), [2 / 3, 1 / 3], 1e-12, "temperature 2");
  const p = [0.5, 0.3, 0.15, 0.05].map(Math.log);
  close(samplingProbabilities(p, { topP: 0.75 }), [0.625, 0.375, 0, 0], 1e-12, "top-p 0.75 keeps the two reaching 0.8");
  close(samplingProbabilities(p, { topP: 0.85 }), [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0], 1e-12, "top-p 0.85 keeps three");
  close(samplingProbabilities(p, { topP: 0.2 }), [1, 0, 0, 0], 1e-12, "top-p below the largest keeps it alone");
  // top-k first, then top-p on the renormalised rest (transformers' order): 0.5/0.8 = 0.625 ≥ 0.6
  close(samplingProbabilities(p, { topK: 2, topP: 0.6 }), [1, 0, 0, 0], 1e-12, "top-k then top-p");
  close(samplingProbabilities([1, 3, 2], {}), [1, e * e, e].map((v) => v / (1 + e + e * e)), 1e-12, "plain softmax, unsorted input");
  assert.is(sampleToken([0.1, 5, 3], { temperature: 0 }, () => 0.99), 1, "greedy is the argmax");
  assert.throws(() => samplingProbabilities([1, 2], { temperature: -1 }), /temperature/);
});

test("sampling: draws follow the distribution, never pick masked tokens, and repeat for a seed", () => {
  const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);
  const draw = (seed: number, n: number) => { const r = rng(seed); return Array.from({ length: n }, () => sampleToken(logits, { topP: 0.85 }, r)); };
  const d = draw(7, 20000);
  const freq = [0, 1, 2, 3].map((k) => d.filter((x) => x === k).length / d.length);
  close(freq, [0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0], 0.015, "frequencies");
  assert.equal(draw(7, 50), d.slice(0, 50), "same seed, same draws");
  assert.not.equal(draw(8, 50), d.slice(0, 50), "another seed, other draws");
  wg.manualSeed(3);
  const model = new GPT(TINY);
  randomize(model, 30);
  const g = (seed: number) => generate(model, [5], { maxNewTokens: 12, temperature: 1, seed });
  assert.equal(g(11), g(11));
  assert.not.equal(g(11), g(12));
});

test("HF names: a GPT-2-shaped model (vocab 50257) saves with transformers' names and reloads to identical logits, BPE round trip", async () => {
  const dir = mkdtempSync(join(tmpdir(), "webgrad-gpt-"));
  try {
    wg.manualSeed(4);
    const cfg: GPTConfig = { vocabSize: 50257, nPositions: 32, nEmbd: 16, nLayer: 2, nHead: 2 };
    const model = new GPT(cfg);
    const names = Object.keys(model.stateDict()).sort();
    const want = gpt2ParameterShapes(cfg);
    assert.equal(names, Object.keys(want).sort());
    for (const [k, t] of Object.entries(model.stateDict())) assert.equal(t.shape, want[k], k);
    assert.equal(model.stateDict()["h.1.attn.c_attn.weight"].shape, [16, 48], "Conv1D layout [in, out]");
    const path = join(dir, "tiny-gpt2.safetensors");
    // a plain transformers-style file: HF names, no config or vocabulary in the metadata
    await wg.io.saveSafetensors(path, model.stateDict(), { format: "pt" });
    const { model: back, tokenizer } = await loadGptFile(path, { nHead: 2 });
    assert.equal(back.config, { ...cfg, dropout: 0, layerNormEps: 1e-5 });
    assert.is(tokenizer.name, "GPT-2 BPE (r50k_base)");
    assert.equal(back.config.nEmbd, 16);
    const tok = await gpt2Tokenizer();
    const text = "Hello world, 今天天气很好。";
    const ids = tok.encode(text);
    assert.equal(ids.slice(0, 2), [15496, 995], "GPT-2's ids for 'Hello' and ' world'");
    assert.is(tok.decode(ids), text);
    const a = wg.noGrad(() => model.forward(ids2d(ids)).dataSync());
    const b = wg.noGrad(() => back.forward(ids2d(ids)).dataSync());
    assert.equal(Array.from(b), Array.from(a), "identical logits");
    const out = await generateText(back, tokenizer, "Hello world", { maxNewTokens: 5, temperature: 0 });
    const cont = generate(back, tokenizer.encode("Hello world"), { maxNewTokens: 5, temperature: 0 });
    assert.is(out, tokenizer.decode(cont));
    assert.ok(cont.every((i) => i >= 0 && i < 50257));
    // our char-level files carry config and vocabulary in the metadata
    const charPath = join(dir, "char.safetensors");
    const small = new GPT(TINY);
    await saveGptChar(charPath, small, CharVocab.fromText("天地玄黄宇宙洪荒".repeat(2)));
    const loaded = await loadGptFile(charPath);
    assert.equal(loaded.model.config.nHead, 4);
    assert.is(loaded.tokenizer.decode(loaded.tokenizer.encode("天地")), "天地");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("HF names: transformers' prefix and mask buffers are accepted; missing, extra and misshapen tensors are named", () => {
  wg.manualSeed(5);
  const model = new GPT(TINY);
  const sd = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, { dtype: "float32" as const, shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
  const hf = Object.fromEntries(Object.entries(sd).map(([k, v]) => [`transformer.${k}`, v]));
  hf["lm_head.weight"] = sd["wte.weight"];
  hf["transformer.h.0.attn.bias"] = { dtype: "float32", shape: [1, 1, 16, 16], data: new Float32Array(256) };
  const cfg = inferGPTConfig(hf, 4);
  assert.equal(cfg, { vocabSize: 50, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 4 });
  const other = new GPT(TINY);
  loadGPT2Weights(other, hf);
  assert.equal(Array.from(other.h[1].mlp.c_fc.weight.dataSync()), Array.from(sd["h.1.mlp.c_fc.weight"].data));
  const { ["h.1.ln_2.bias"]: _gone, ...missing } = sd;
  assert.throws(() => loadGPT2Weights(other, missing), /missing h\.1\.ln_2\.bias/);
  assert.throws(() => loadGPT2Weights(other, { ...sd, "h.2.ln_1.weight": sd["h.1.ln_1.weight"] }), /unexpected h\.2\.ln_1\.weight/);
  assert.throws(() => loadGPT2Weights(other, { ...sd, "h.0.attn.c_proj.weight": { ...sd["h.0.attn.c_proj.weight"], shape: [16, 64] } }), /h\.0\.attn\.c_proj\.weight is \[16,64\], expected \[32,32\]/);
  assert.throws(() => inferGPTConfig({ "foo.weight": { shape: [2, 2] } }), /is this a GPT-2 checkpoint/);
});

test("gradcheck: a GPT-2 block (attention, GELU-tanh MLP, two LayerNorms, residuals) against central differences", () => {
  wg.scope(() => {
    wg.manualSeed(6);
    const cfg: GPTConfig = { vocabSize: 10, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2 };
    const block = new GPT2Block(cfg);
    block.parameters().forEach((p, i) => (p.view() as Float32Array).set(randomF32(p.size, 40 + i).map((v) => v * 0.5 + (p.rank === 1 && i % 4 === 0 ? 1 : 0))));
    const x = wg.tensor(randomF32(2 * 5 * 8, 3), { shape: [2, 5, 8], requiresGrad: true });
    const r = wg.tensor(randomF32(2 * 5 * 8, 4), { shape: [2, 5, 8] });
    const loss = () => block.forward(x).mul(r).sum();
    block.zeroGrad();
    loss().backward();
    const eps = 1e-2;
    const checks: [string, wg.Tensor][] = [["x", x], ...block.namedParameters()];
    for (const [name, t] of checks) {
      const analytic = (name === "x" ? x.grad! : t.grad!).dataSync();
      const view = () => t.view() as Float32Array;
      for (let j = 0; j < 6; j++) {
        const i = (j * 7919 + name.length) % t.size;
        const v = view()[i];
        view()[i] = v + eps;
        const up = wg.noGrad(() => loss().item());
        view()[i] = v - eps;
        const down = wg.noGrad(() => loss().item());
        view()[i] = v;
        const numeric = (up - down) / (2 * eps);
        if (!(Math.abs(analytic[i] - numeric) <= 3e-3 + 3e-2 * Math.abs(numeric))) assert.unreachable(`${name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`);
      }
    }
  });
});

test("fortunes-zh: records without colour codes or separators, a char vocabulary, the unigram baseline by hand", async () => {
  const records = await readFortuneRecords();
  assert.ok(records.length > 1000, `${records.length} records`);
  assert.ok(records.every((r) => !r.includes("\x1b") && !/^%$/m.test(r)), "no ESC, no % lines");
  assert.ok(records.some((r) => r.includes("作者：杜甫")), "the Tang poems are in");
  const v = CharVocab.fromText("abcab", { minCount: 2 });
  assert.equal(v.chars.slice(1), ["a", "b"], "c is seen once: unk");
  assert.equal([...v.encode("abcz")], [1, 2, 0, 0]);
  assert.is(v.decode(v.encode("ba")), "ba");
  // counts with add-one: [2+1, 1+1] of 5 → −(ln 0.6 + ln 0.4)/2
  assert.ok(Math.abs(unigramCrossEntropy(Int32Array.of(0, 0, 1), Int32Array.of(0, 1), 2) + (Math.log(0.6) + Math.log(0.4)) / 2) < 1e-12);
});

test("train: 40 steps on a slice of fortunes-zh bring the loss from ln(vocab) well down, and below the slice's unigram baseline", async () => {
  const corpus = await loadFortuneCorpus({ maxChars: 30000 });
  const r = await trainGptChar({ corpus, steps: 40, nEmbd: 32, nLayer: 1, nHead: 2, context: 32, batchSize: 8, lr: 1e-2, warmupSteps: 5 });
  const first = r.losses[0], last = r.losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(Math.abs(first - Math.log(corpus.vocab.size)) < 0.5, `initial loss ${first} ≈ ln ${corpus.vocab.size}`);
  assert.ok(last < first - 1.5, `loss ${first} → ${last}`);
  assert.ok(Number.isFinite(r.validationLoss) && r.validationLoss < first - 1, `validation ${r.validationLoss}`);
  assert.ok(r.unigramLoss > 3 && r.unigramLoss < Math.log(corpus.vocab.size), `unigram ${r.unigramLoss}`);
});

test.run();
