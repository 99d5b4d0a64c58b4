// Unknown options are errors everywhere (issue 13): `conv2d({ groups: 2 })`
// once ran an ungrouped convolution without a word. Every public function or
// constructor that takes an options object is called here once with an option
// it does not know, and the error must name the function and the option; then
// values that would silently do something odd (NaN or 1 as a dropout, a
// misspelt reduction, a negative eps) are refused by name too.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { rejects } from "./harness.js";
import * as wg from "../host/index.js";
import { checkOptions } from "../host/ops/util.js";

await wg.init({ threads: 1, verbose: false });

const { nn } = wg;
const F = nn.functional;
const bogus = { bogus: 1 } as any;

/** fn() must throw "<who>: unknown option "<name>"". */
function unknown(who: string, fn: () => unknown, name = "bogus"): void {
  const esc = who.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  assert.throws(fn, new RegExp(`^${esc}: unknown option "${name}"`), who);
}


const x3 = () => wg.randn([2, 3, 4], { seed: 1 });
const q4 = () => wg.randn([1, 2, 3, 4], { seed: 2 });
const loader = () => new wg.data.DataLoader(new wg.data.ArrayDataset(new Float32Array(8), [2], new Int32Array(4)), { batchSize: 2 });

test("checkOptions names the function, the option and the ones it knows", () => {
  assert.throws(() => checkOptions("f", { b: 1 }, ["a"]), /^f: unknown option "b" \(known: a\)$/);
  assert.throws(() => checkOptions("f", null, ["a"]), /f: options must be an object, got null/);
  assert.throws(() => checkOptions("f", [1], ["a"]), /f: options must be an object, got an array/);
  checkOptions("f", { a: undefined }, ["a"]);
});

test("ops: attention, creation and gelu refuse unknown options and odd values", () => {
  unknown("scaledDotProductAttention", () => wg.scaledDotProductAttention(q4(), q4(), q4(), { groups: 2 } as any), "groups");
  assert.throws(() => wg.scaledDotProductAttention(q4(), q4(), q4(), { scale: NaN }), /scaledDotProductAttention: scale must be a finite number/);
  assert.throws(() => wg.scaledDotProductAttention(q4(), q4(), q4(), { causal: "yes" as any }), /scaledDotProductAttention: causal must be true or false/);
  unknown("zeros", () => wg.zeros([2], bogus));
  unknown("ones", () => wg.ones([2], bogus));
  unknown("zerosLike", () => wg.zerosLike(wg.ones([2]), bogus));
  unknown("onesLike", () => wg.onesLike(wg.ones([2]), bogus));
  unknown("arange", () => wg.arange(3, undefined, 1, bogus));
  unknown("eye", () => wg.eye(2, bogus));
  assert.throws(() => wg.gelu(wg.ones([2]), "tanhh" as any), /gelu: approximate must be "none" \| "tanh", got "tanhh"/);
  assert.throws(() => new nn.GELU("fast" as any), /GELU: approximate must be/);
});

test("Tensor.backward and Module.loadStateDict refuse unknown options", () => {
  const w = wg.tensor([2], { requiresGrad: true });
  unknown("backward", () => w.mul(w).sum().backward({ retain_graph: true } as any), "retain_graph");
  assert.throws(() => w.mul(w).sum().backward({ grad: [1] as any }), /backward: grad must be a tensor/);
  assert.throws(() => w.mul(w).sum().backward({ retainGraph: 1 as any }), /backward: retainGraph must be true or false/);
  const fc = new nn.Linear(2, 2);
  unknown("loadStateDict", () => fc.loadStateDict(fc.stateDict(), { strcit: false } as any), "strcit");
  unknown("checkStateDict", () => fc.checkStateDict(fc.stateDict(), bogus));
  assert.throws(() => fc.loadStateDict(fc.stateDict(), { strict: "no" as any }), /loadStateDict: strict must be true or false/);
});

test("nn layers: LayerNorm, BatchNorm2d, BasicBlock, LSTM, GRU, Dropout", () => {
  unknown("LayerNorm", () => new nn.LayerNorm(4, 1e-5, { elementwise_affine: false } as any), "elementwise_affine");
  assert.throws(() => new nn.LayerNorm(4, -1), /LayerNorm: eps must be a finite number in \[0, ∞\), got -1/);
  assert.throws(() => new nn.LayerNorm(4, { eps: 1e-6 } as any), /LayerNorm: eps must be a finite number/);
  unknown("BatchNorm2d", () => new nn.BatchNorm2d(3, { track_running_stats: false } as any), "track_running_stats");
  assert.throws(() => new nn.BatchNorm2d(3, { eps: -1e-5 }), /BatchNorm2d: eps must be/);
  assert.throws(() => new nn.BatchNorm2d(3, { momentum: 1.5 }), /BatchNorm2d: momentum must be a finite number in \[0, 1\]/);
  assert.throws(() => new nn.BatchNorm2d(3, { momentum: NaN }), /BatchNorm2d: momentum must be/);
  assert.ok(new nn.BatchNorm2d(3, { momentum: null }).momentum === null, "momentum null: a cumulative average");
  unknown("BasicBlock", () => new nn.BasicBlock(4, 4, 1, { groups: 2 } as any), "groups");
  assert.throws(() => new nn.BasicBlock(4, 4, 1, { downsample: "yes" as any }), /BasicBlock: downsample must be true or false/);
  unknown("LSTM", () => new nn.LSTM(3, 4, { num_layers: 2 } as any), "num_layers");
  unknown("GRU", () => new nn.GRU(3, 4, { bidirectonal: true } as any), "bidirectonal");
  unknown("LSTM", () => new nn.LSTM(3, 4, { proj_size: 2 } as any), "proj_size");
  assert.throws(() => new nn.GRU(3, 4, { projSize: 2 } as any), /GRU: projSize is only supported for LSTM, not GRU/);
  assert.throws(() => new nn.LSTM(3, 4, { projSize: 4 }), /LSTM: projSize must be smaller than hiddenSize \(4\), got 4/);
  assert.throws(() => new nn.LSTM(3, 4, { projSize: -1 }), /LSTM: projSize must be an integer ≥ 0, got -1/);
  assert.throws(() => new nn.LSTM(3, 4, { bidirectional: 1 as any }), /LSTM: bidirectional must be true or false/);
  assert.throws(() => new nn.LSTM(3, 4, { dropout: NaN }), /LSTM: dropout must be a finite number in \[0, 1\), got NaN/);
  assert.throws(() => new nn.GRU(3, 4, { numLayers: 1.5 }), /GRU: numLayers must be an integer ≥ 1/);
  assert.throws(() => new nn.Dropout(1), /Dropout: p must be a finite number in \[0, 1\)/);
  assert.throws(() => new nn.Dropout(NaN), /Dropout: p must be/);
});

test("attention layers and Transformer: constructors and forward options", () => {
  unknown("MultiheadAttention", () => new nn.MultiheadAttention(4, 2, { batch_first: true } as any), "batch_first");
  assert.throws(() => new nn.MultiheadAttention(4, 2, { dropout: 1 }), /MultiheadAttention: dropout must be a finite number in \[0, 1\)/);
  const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });
  const x = x3().reshape(2, 3, 4);
  unknown("MultiheadAttention.forward", () => mha.forward(x, x, x, { causal: true } as any), "causal");
  assert.throws(() => mha.forward(x, x, x, { attnMask: [[0]] as any }), /MultiheadAttention.forward: attnMask must be a tensor or null/);
  for (const L of [nn.TransformerEncoderLayer, nn.TransformerDecoderLayer]) {
    unknown(L.name, () => new L(4, 2, { dim_feedforward: 8 } as any), "dim_feedforward");
    assert.throws(() => new L(4, 2, { dropout: -0.1 }), new RegExp(`${L.name}: dropout must be`));
    assert.throws(() => new L(4, 2, { activation: "swish" as any }), new RegExp(`${L.name}: activation must be "relu", "gelu" or a function`));
    assert.throws(() => new L(4, 2, { layerNormEps: -1 }), new RegExp(`${L.name}: layerNormEps must be`));
  }
  const small = { dimFeedforward: 8, dropout: 0, batchFirst: true };
  const enc = new nn.TransformerEncoderLayer(4, 2, small), dec = new nn.TransformerDecoderLayer(4, 2, small);
  unknown("TransformerEncoderLayer.forward", () => enc.forward(x, { mask: null } as any), "mask");
  unknown("TransformerDecoderLayer.forward", () => dec.forward(x, x, { isCausal: true } as any), "isCausal");
  const encs = new nn.TransformerEncoder(enc, 1), decs = new nn.TransformerDecoder(dec, 1);
  unknown("TransformerEncoder.forward", () => encs.forward(x, { srcMask: null } as any), "srcMask");
  unknown("TransformerDecoder.forward", () => decs.forward(x, x, bogus));
  assert.throws(() => new nn.TransformerEncoder(enc, -1), /TransformerEncoder: numLayers must be an integer ≥ 0/);
  assert.throws(() => new nn.TransformerDecoder(enc as any, 1), /TransformerDecoder: the layer must be a TransformerDecoderLayer/);
  unknown("Transformer", () => new nn.Transformer({ dModel: 4, nhead: 2, num_encoder_layers: 1 } as any), "num_encoder_layers");
  assert.throws(() => new nn.Transformer({ dModel: 4, nhead: 2, numEncoderLayers: 1.5 }), /Transformer: numEncoderLayers must be an integer/);
  assert.throws(() => new nn.Transformer({ dModel: 4, nhead: 2, dropout: NaN }), /Transformer: dropout must be/);
  const t = new nn.Transformer({ dModel: 4, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, ...small });
  unknown("Transformer.forward", () => t.forward(x, x, { isCausal: true } as any), "isCausal");
  assert.equal(t.forward(x, x, { srcIsCausal: true, tgtIsCausal: true }).shape, [2, 3, 4], "every known option passes");
  unknown("PositionalEncoding", () => new nn.PositionalEncoding(4, { max_len: 10 } as any), "max_len");
  assert.throws(() => new nn.PositionalEncoding(4, { maxLen: 0 }), /PositionalEncoding: maxLen must be an integer ≥ 1/);
  unknown("LearnedPositionalEmbedding", () => new nn.LearnedPositionalEmbedding(8, 4, { init: "normal" } as any), "init");
  assert.throws(() => new nn.LearnedPositionalEmbedding(8, 4, { std: -1 }), /LearnedPositionalEmbedding: std must be/);
});

test("losses: unknown options and a reduction outside mean | sum | none", () => {
  const logits = wg.tensor([[2, 0], [0, 2]]), labels = wg.tensor([0, 1], { dtype: "int32" }), p = wg.tensor([0.5, 0.5]), t = wg.tensor([1, 0]);
  const calls: [string, (o: any) => unknown][] = [
    ["crossEntropy", (o) => F.crossEntropy(logits, labels, o)],
    ["nllLoss", (o) => F.nllLoss(logits.logSoftmax(), labels, o)],
    ["mseLoss", (o) => F.mseLoss(p, t, o)],
    ["binaryCrossEntropy", (o) => F.binaryCrossEntropy(p, t, o)],
    ["binaryCrossEntropyWithLogits", (o) => F.binaryCrossEntropyWithLogits(p, t, o)],
  ];
  for (const [name, call] of calls) {
    unknown(name, () => call({ reduce: "sum" }), "reduce");
    assert.throws(() => call({ reduction: "Mean" }), new RegExp(`${name}: reduction must be "mean" \\| "sum" \\| "none", got "Mean"`));
    assert.equal((call({ reduction: "none" }) as wg.Tensor).rank, 1, `${name} reduction none`);
  }
});

test("fit, evaluate, callbacks and schedules refuse unknown options and odd values", async () => {
  const model = new nn.Sequential(new nn.Linear(2, 2));
  const optimizer = new wg.optim.SGD(model.parameters(), { lr: 0.1 });
  const base = { optimizer, loss: "crossEntropy" as const, onEpoch: () => {}, progress: false };
  await rejects(() => wg.fit(model, loader(), { ...base, epoch: 2 } as any), /^fit: unknown option "epoch"/);
  await rejects(() => wg.fit(model, loader(), { ...base, loss: "crossentropy" } as any), /fit: loss must be "crossEntropy" \| /);
  await rejects(() => wg.fit(model, loader(), { ...base, metrics: ["acc"] } as any), /fit: unknown metric "acc"/);
  await rejects(() => wg.fit(model, loader(), { ...base, epochs: 1.5 }), /fit: epochs must be an integer ≥ 0/);
  await rejects(() => wg.fit(model, loader(), { ...base, clipGradNorm: NaN }), /fit: clipGradNorm must be a number > 0/);
  await rejects(() => wg.fit(model, loader(), { ...base, progress: "yes" } as any), /fit: progress must be true or false/);
  unknown("evaluate", () => wg.evaluate(model, loader(), { loss: "crossEntropy", metrics: ["accuracy"] } as any), "metrics");
  assert.throws(() => wg.evaluate(model, loader(), {} as any), /evaluate: the loss option is required/);
  unknown("EarlyStopping", () => new wg.EarlyStopping({ min_delta: 0.1 } as any), "min_delta");
  assert.throws(() => new wg.EarlyStopping({ monitor: "val_loss" as any }), /EarlyStopping: monitor must be "loss" \| "valLoss"/);
  assert.throws(() => new wg.EarlyStopping({ patience: -1 }), /EarlyStopping: patience must be an integer ≥ 0/);
  unknown("ModelCheckpoint", () => new wg.ModelCheckpoint({ path: "x.safetensors", save_best_only: true } as any), "save_best_only");
  assert.throws(() => new wg.ModelCheckpoint({ path: "x.safetensors", store: "disk" as any }), /ModelCheckpoint: store must be "auto" \| "fs"/);
  assert.throws(() => wg.LearningRateSchedule.step(0), /LearningRateSchedule.step: every must be an integer ≥ 1/);
  assert.throws(() => wg.LearningRateSchedule.step(10, NaN), /LearningRateSchedule.step: gamma must be/);
  assert.throws(() => wg.LearningRateSchedule.cosine(0), /LearningRateSchedule.cosine: totalSteps must be/);
  assert.throws(() => wg.LearningRateSchedule.warmup(-1), /LearningRateSchedule.warmup: steps must be/);
  assert.throws(() => wg.LearningRateSchedule.warmup(4, {} as any), /LearningRateSchedule.warmup: then must be a LearningRateSchedule/);
  assert.throws(() => new wg.LearningRateSchedule(0.1 as any), /LearningRateSchedule: factor must be a function/);
  assert.throws(() => wg.clipGradNorm(model.parameters(), 0), /clipGradNorm: maxNorm must be a number > 0/);
});

test("io: safetensors and checkpoints refuse unknown options and unknown stores", async () => {
  const model = new nn.Linear(2, 2);
  await rejects(() => wg.io.saveSafetensors("/tmp/webgrad-options.safetensors", model.stateDict(), {}, bogus), /^saveSafetensors: unknown option "bogus"/);
  await rejects(() => wg.io.saveSafetensors("/tmp/webgrad-options.safetensors", model.stateDict(), {}, { store: "disk" as any }), /saveSafetensors: store must be/);
  await rejects(() => wg.io.loadSafetensors("/tmp/webgrad-options-none.safetensors", { maxTensor: 1 } as any), /^loadSafetensors: unknown option "maxTensor"/);
  await rejects(() => wg.io.saveCheckpoint("/tmp/webgrad-options.safetensors", { model, stpe: 1 } as any), /^saveCheckpoint: unknown option "stpe"/);
  await rejects(() => wg.io.saveCheckpoint("/tmp/webgrad-options.safetensors", { modle: model } as any), /saveCheckpoint: unknown option "modle"/);
  await rejects(() => wg.io.saveCheckpoint("/tmp/webgrad-options.safetensors", {} as any), /saveCheckpoint: model must be a Module/);
  await rejects(() => wg.io.loadCheckpoint("/tmp/webgrad-options.safetensors", { model, restore_rng: false } as any), /^loadCheckpoint: unknown option "restore_rng"/);
  await rejects(() => wg.io.loadCheckpoint("/tmp/webgrad-options.safetensors", { model, restoreRng: "no" } as any), /loadCheckpoint: restoreRng must be true or false/);
  await rejects(() => wg.io.readFileBytes("/tmp/webgrad-options.safetensors", "disk" as any), /store must be "auto" \| "fs" \| "opfs" \| "indexeddb", got "disk"/);
});

test("GPT: config, forward, sampling and generate options", () => {
  const { GPT, KVCache, generate, samplingProbabilities, sampleToken } = wg.models;
  const cfg = { vocabSize: 10, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2 };
  unknown("GPT", () => new GPT({ ...cfg, n_layer: 2 } as any), "n_layer");
  assert.throws(() => new GPT({ ...cfg, nLayer: 0 }), /GPT: nLayer must be an integer ≥ 1/);
  assert.throws(() => new GPT({ ...cfg, dropout: 1 }), /GPT: dropout must be/);
  const gpt = new GPT(cfg);
  const ids = wg.tensor([[1, 2]], { dtype: "int32" });
  unknown("GPT.forward", () => gpt.forward(ids, { kvCache: new KVCache(1) } as any), "kvCache");
  assert.throws(() => gpt.forward(ids, { cache: {} as any }), /GPT.forward: cache must be a KVCache/);
  unknown("samplingProbabilities", () => samplingProbabilities([1, 2], { top_k: 1 } as any), "top_k");
  assert.throws(() => samplingProbabilities([1, 2], { topP: 0 }), /samplingProbabilities: topP must be a finite number in \(0, 1\]/);
  assert.throws(() => samplingProbabilities([1, 2], { topK: 1.5 }), /samplingProbabilities: topK must be an integer ≥ 0/);
  unknown("sampleToken", () => sampleToken([1, 2], { temp: 0 } as any, Math.random), "temp");
  unknown("generate", () => generate(gpt, [1], { maxNewTokens: 2, max_new_tokens: 2 } as any), "max_new_tokens");
  assert.throws(() => generate(gpt, [1], { maxNewTokens: 2.5 }), /generate: maxNewTokens must be an integer ≥ 0/);
  assert.throws(() => generate(gpt, [1], {} as any), /generate: maxNewTokens must be an integer/);
  assert.throws(() => generate(gpt, [1], { maxNewTokens: 2, temperature: NaN }), /generate: temperature must be/);
  assert.equal(generate(gpt, [1], { maxNewTokens: 2, temperature: 0, topK: 3, topP: 0.9, seed: 1, useCache: true, onToken: () => {} }).length, 2, "every known option passes");
});

test("metrics, deploy, data transforms, readers and CharVocab", async () => {
  unknown("precisionRecallF1", () => wg.metrics.precisionRecallF1([1, 0], [1, 0], { averaging: "macro" } as any), "averaging");
  unknown("precision", () => wg.metrics.precision([1, 0], [1, 0], bogus));
  unknown("recall", () => wg.metrics.recall([1, 0], [1, 0], bogus));
  unknown("f1", () => wg.metrics.f1([1, 0], [1, 0], bogus));
  assert.throws(() => wg.metrics.f1([1, 0], [1, 0], { average: "micro" as any }), /f1: average must be "binary" \| "macro", got "micro"/);
  assert.throws(() => wg.metrics.precision([1, 0], [1, 0], { positive: -1 }), /precision: positive must be an integer ≥ 0/);
  assert.throws(() => wg.metrics.confusionMatrix([1, 0], [1, 0], 0), /confusionMatrix: numClasses must be an integer ≥ 1/);
  assert.throws(() => wg.freeze(new nn.Linear(2, 2), "no" as any), /freeze: frozen must be true or false/);
  const img = new Float32Array(16), out = new Float32Array(16);
  unknown("randomAffine", () => wg.data.randomAffine(img, out, 4, 4, { rotate: 10 } as any, Math.random), "rotate");
  assert.throws(() => wg.data.randomAffine(img, out, 4, 4, { scale: [1.1, 0.9] }, Math.random), /randomAffine: scale must be \[lo, hi\] with 0 < lo ≤ hi/);
  assert.throws(() => wg.data.randomAffine(img, out, 4, 4, { degrees: NaN }, Math.random), /randomAffine: degrees must be/);
  assert.throws(() => wg.data.normalize(img, 0, 0), /normalize: std must be a finite number in \(0, ∞\)/);
  assert.throws(() => wg.data.normalizeChannels(img, [0], [NaN], 16), /normalizeChannels: std\[0\] must be/);
  assert.throws(() => wg.data.randomCropPad(img, out, 1, 4, 4, -1, Math.random), /randomCropPad: pad must be an integer ≥ 0/);
  unknown("CharVocab", () => new wg.data.CharVocab(["a"], { unknown: true } as any), "unknown");
  unknown("CharVocab.fromText", () => wg.data.CharVocab.fromText("ab", { min_count: 1 } as any), "min_count");
  await rejects(() => wg.data.loadIdx("/nonexistent-a", "/nonexistent-b", { max_bytes: 1 } as any), /^loadIdx: unknown option "max_bytes"/);
  await rejects(() => wg.data.parseIdxPair(new Uint8Array(0), new Uint8Array(0), undefined, { max_bytes: 1 } as any), /^parseIdxPair: unknown option "max_bytes"/);
  await rejects(() => wg.data.gunzipBytes(new Uint8Array(0), "x", { max_bytes: 1 } as any), /^gunzipBytes: unknown option "max_bytes"/);
  await rejects(() => wg.data.decodeImage(new Uint8Array(0), "x", { max_pixels: 1 } as any), /^decodeImage: unknown option "max_pixels"/);
});

test.run();
