// Metrics against values computed by hand (and, for the macro case, by
// scikit-learn's definitions worked through on paper).

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";

await wg.init({ threads: 1, verbose: false });

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test("accuracy and confusion matrix, arrays and tensors alike", () => {
  const pred = [0, 2, 1, 1, 0, 2], target = [0, 1, 1, 2, 0, 2];
  close(wg.metrics.accuracy(pred, target), 4 / 6, "accuracy");
  assert.equal(wg.metrics.confusionMatrix(pred, target), [[2, 0, 0], [0, 1, 1], [0, 1, 1]]);
  const pt = wg.tensor(pred, { dtype: "int32" }), tt = wg.tensor(target); // int32 and float32 labels
  close(wg.metrics.accuracy(pt, tt), 4 / 6, "accuracy of tensors");
  assert.equal(wg.metrics.confusionMatrix(pt, tt, 4)[3], [0, 0, 0, 0], "numClasses pads the matrix");
});

test("binary precision, recall and F1 (positive class 1 by default, or another)", () => {
  // tp 2, fp 1, fn 2, tn 3
  const pred = [1, 1, 1, 0, 0, 0, 0, 0], target = [1, 1, 0, 1, 1, 0, 0, 0];
  const r = wg.metrics.precisionRecallF1(pred, target);
  close(r.precision, 2 / 3, "precision");
  close(r.recall, 2 / 4, "recall");
  close(r.f1, (2 * (2 / 3) * (1 / 2)) / (2 / 3 + 1 / 2), "f1");
  close(wg.metrics.recall(pred, target, { positive: 0 }), 3 / 4, "recall of class 0 (tn 3 of 4 negatives)");
  // no positive predictions at all: precision is 0, not NaN (scikit-learn's zero_division=0)
  assert.equal(wg.metrics.precisionRecallF1([0, 0], [1, 0]), { precision: 0, recall: 0, f1: 0 });
});

test("macro average over the classes that occur", () => {
  const pred = [0, 2, 1, 1, 0, 2], target = [0, 1, 1, 2, 0, 2];
  // class 0: p 1, r 1, f1 1; class 1: p 1/2, r 1/2; class 2: p 1/2, r 1/2
  const r = wg.metrics.precisionRecallF1(pred, target, { average: "macro" });
  close(r.precision, (1 + 0.5 + 0.5) / 3, "macro precision");
  close(r.recall, (1 + 0.5 + 0.5) / 3, "macro recall");
  close(r.f1, (1 + 0.5 + 0.5) / 3, "macro f1");
  // class 1 occurs nowhere: it does not dilute the mean
  close(wg.metrics.f1([0, 2, 2], [0, 2, 0], { average: "macro" }), (2 / 3 + 2 / 3) / 2, "absent class skipped");
});

test("bad input names the metric and the sample", () => {
  assert.throws(() => wg.metrics.accuracy([0, 1], [0]), /accuracy: 2 predictions for 1 targets/);
  assert.throws(() => wg.metrics.accuracy([0, 1.5], [0, 1]), /accuracy: pred\[1\] = 1.5 is not a class index/);
  assert.throws(() => wg.metrics.f1([], []), /no samples/);
  assert.throws(() => wg.metrics.confusionMatrix([3], [0], 2), /class 3 at 0 is out of range for 2 classes/);
});

test.run();
