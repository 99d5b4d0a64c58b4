// Bad input gets an error naming the op and the shapes or values at fault,
// thrown before anything is written.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";

await wg.init({ threads: 1, verbose: false });

function throwsNamed(fn: () => unknown, re: RegExp) {
  const before = wg.memory().inUse;
  assert.throws(fn, re);
  // nothing leaked past the failed call's own temporaries
  assert.ok(wg.memory().inUse - before < 1 << 20);
}

test("matmul: inner dimensions", () => {
  throwsNamed(() => wg.zeros([2, 3]).matmul(wg.zeros([4, 5])), /matmul: \[2,3\] @ \[4,5\]: inner dimensions 3 and 4 differ/);
});
test("broadcasting", () => {
  throwsNamed(() => wg.zeros([2, 3]).add(wg.zeros([4])), /add: shapes \[2,3\] and \[4\] cannot be broadcast/);
});
test("dtypes", () => {
  throwsNamed(() => wg.tensor([1, 2], { dtype: "int32" }).exp(), /exp: expected a float32 tensor, got int32/);
  throwsNamed(() => wg.nn.crossEntropy(wg.zeros([2, 3]), wg.zeros([2])), /crossEntropy: labels must be int32/);
  throwsNamed(() => wg.tensor([1.5], { dtype: "int32" }), /non-integer value 1.5/);
});
test("out-of-range labels and indices, before any kernel writes", () => {
  const logits = wg.zeros([2, 3], { requiresGrad: true });
  throwsNamed(() => wg.nn.crossEntropy(logits, wg.tensor([0, 3], { dtype: "int32" })), /crossEntropy: label 3 at position 1 is out of range for 3 classes/);
  throwsNamed(() => wg.nn.crossEntropy(logits, wg.tensor([-1, 0], { dtype: "int32" })), /label -1 at position 0/);
  throwsNamed(() => wg.nn.crossEntropy(logits, wg.tensor([0, 1, 2], { dtype: "int32" })), /3 labels \[3\] for 2 rows/);
  const table = wg.zeros([4, 2]);
  throwsNamed(() => wg.embedding(wg.tensor([1, 4], { dtype: "int32" }), table), /embedding: index 4 at position 1 is out of range for a table of 4 rows/);
  assert.ok(table.dataSync().every((v) => v === 0), "table untouched");
});
test("conv2d and pooling shapes", () => {
  throwsNamed(() => wg.conv2d(wg.zeros([1, 3, 8, 8]), wg.zeros([4, 2, 3, 3])), /conv2d: input \[1,3,8,8\] has 3 channels, weight \[4,2,3,3\] expects 2/);
  throwsNamed(() => wg.conv2d(wg.zeros([3, 8, 8]), wg.zeros([4, 3, 3, 3])), /conv2d: input must be \[N, C, H, W\], got \[3,8,8\]/);
  throwsNamed(() => wg.conv2d(wg.zeros([1, 1, 2, 2]), wg.zeros([1, 1, 3, 3])), /smaller than the kernel/);
  throwsNamed(() => wg.maxPool2d(wg.zeros([1, 1, 1, 1]), 2), /maxPool2d: kernel 2x2 stride 2,2 does not fit input \[1,1,1,1\]/);
});
test("linear, layerNorm, attention, reshape, cat", () => {
  throwsNamed(() => wg.linear(wg.zeros([2, 5]), wg.zeros([3, 4])), /linear: input \[2,5\] has 5 features, weight \[3,4\] expects 4/);
  throwsNamed(() => wg.layerNorm(wg.zeros([2, 5]), [4]), /layerNorm: input \[2,5\] does not end with normalized shape \[4\]/);
  throwsNamed(() => wg.scaledDotProductAttention(wg.zeros([1, 4, 8]), wg.zeros([1, 5, 7]), wg.zeros([1, 5, 8])), /attention: q \[1,4,8\], k \[1,5,7\]/);
  throwsNamed(() => wg.zeros([2, 3]).reshape(4, 2), /reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/);
  throwsNamed(() => wg.cat([wg.zeros([2, 2]), wg.zeros([3, 3])], 1), /cat: shapes \[2,2\], \[3,3\] differ outside dim 1/);
  throwsNamed(() => wg.zeros([2]).sum(3), /sum: dim 3 is out of range for a tensor of rank 1/);
});
test("tensor construction and backward misuse", () => {
  throwsNamed(() => wg.tensor([[1, 2], [3]]), /ragged nested array/);
  throwsNamed(() => wg.tensor([1, 2, 3], { shape: [2, 2] }), /3 values do not fill shape \[2,2\]/);
  throwsNamed(() => wg.zeros([2]).sum().backward(), /backward: the tensor does not require grad/);
  const w = wg.ones([3], { requiresGrad: true });
  throwsNamed(() => w.mul(2).backward(), /backward: output has shape \[3\]; pass \{ grad \}/);
  const l = w.mul(w).sum();
  l.backward();
  throwsNamed(() => l.backward(), /already freed/);
  throwsNamed(() => wg.zeros([1, 2]).item(), /item: tensor has shape \[1,2\], not one element/);
});
test("optimizers and modules", () => {
  throwsNamed(() => new wg.optim.SGD([], { lr: 0.1 }), /SGD: got no parameters/);
  throwsNamed(() => new wg.optim.SGD([wg.ones([1], { requiresGrad: true })], { lr: 0.1, nesterov: true }), /Nesterov momentum requires/);
  const a = new wg.nn.Linear(2, 3), b = new wg.nn.Linear(3, 3);
  throwsNamed(() => a.loadStateDict(b.stateDict()), /loadStateDict: weight has shape \[3,3\], this module expects \[3,2\]/);
});

test.run();
