// Short runs of the zoo entries built on the sequence and residual layers,
// each asserting that it learns (the long runs that reach the figures in
// docs/ZOO-LAYERS.md are not for CI).

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { trainTransformer, target, greedyDecode } from "../host/zoo/transformer.js";
import { trainLstm, sampleLstm, TANG300 } from "../host/zoo/lstm.js";
import { readFortunes } from "../host/data/text.js";
import { trainResnet } from "../host/zoo/resnet.js";
import { trainVit } from "../host/zoo/vit.js";
import { trainBert, palindromeExample } from "../host/zoo/bert.js";
import { rng } from "../host/random.js";

await wg.init({ threads: 1, verbose: false });
const BERT_STEPS = 200;

test("S6 transformer: a short run on 1–4 digit strings learns to reverse (loss falls, tokens far above chance)", async () => {
  const r = await trainTransformer({ steps: 300, maxLen: 4, dModel: 32, layers: 1, testCount: 100, warmup: 30, lr: 3e-3, logEvery: 50 });
  assert.is(r.testCount, 100);
  assert.ok(r.losses[r.losses.length - 1] < 0.6 * r.losses[0], `loss ${r.losses[0]} → ${r.losses[r.losses.length - 1]}`);
  assert.ok(r.tokenAccuracy > 0.5, `token accuracy ${r.tokenAccuracy} (chance 0.1)`);
  const out = await greedyDecode(r.model, [[1, 2, 3, 4]], 4);
  assert.is(out.length, 1);
  assert.ok(out[0].length <= 5, "decoding stops at EOS or maxLen + 1 tokens");
});

test("S6 task targets", () => {
  assert.equal(target("reverse", [1, 2, 3]), [3, 2, 1]);
  assert.equal(target("sort", [3, 1, 2, 1]), [1, 1, 2, 3]);
});

test("lstm: a short run on the Tang poems beats the unigram baseline on validation, and samples", async () => {
  const poems = await readFortunes(TANG300);
  assert.ok(poems.length > 300 && !poems.some((p) => p.includes("\x1b")), `${poems.length} poems without colour escapes`);
  const r = await trainLstm({ steps: 120, hidden: 64, logEvery: 40, evalEvery: 120, poems });
  assert.ok(r.losses[r.losses.length - 1] < 0.85 * r.losses[0], `loss ${r.losses[0]} → ${r.losses[r.losses.length - 1]}`);
  assert.ok(r.valLoss < r.unigramLoss, `validation ${r.valLoss} vs unigram ${r.unigramLoss}`);
  const s = await sampleLstm(r.model, r.chars, "春", 10, { seed: 2 });
  assert.is([...s].length, 11);
});

test("resnet: two epochs on 640 Fashion-MNIST images are far above chance on 500 test images (eval mode, running statistics)", async () => {
  const r = await trainResnet({ epochs: 2, trainCount: 640, testCount: 500, width: 8, batchSize: 32 });
  assert.is(r.trainCount, 640);
  assert.ok(r.testAccuracy > 0.3, `accuracy ${r.testAccuracy} (chance 0.1)`);
  assert.ok("layer2.downsample.1.running_var" in r.model.stateDict(), "torchvision names");
});

test("vit: two epochs on 640 Fashion-MNIST images is far above chance", async () => {
  const r = await trainVit({ epochs: 2, trainCount: 640, testCount: 500, batchSize: 32 });
  assert.ok(r.testAccuracy > 0.3, `accuracy ${r.testAccuracy} (chance 0.1)`);
});

test("bert: palindrome examples are labelled right, and a short run learns past the majority class", async () => {
  const random = rng(5);
  for (let i = 0; i < 200; i++) {
    const e = palindromeExample(random);
    assert.ok(e.digits.length >= 6 && e.digits.length <= 12);
    assert.is(e.label, e.digits.join() === [...e.digits].reverse().join() ? 1 : 0);
  }
  const r = await trainBert({ steps: BERT_STEPS, testCount: 500, logEvery: 50 });
  assert.ok(r.losses[r.losses.length - 1] < r.losses[0], `loss ${r.losses[0]} → ${r.losses[r.losses.length - 1]}`);
  assert.ok(r.testAccuracy > r.majorityBaseline + 0.1, `accuracy ${r.testAccuracy}, majority ${r.majorityBaseline}`);
});

test.run();
