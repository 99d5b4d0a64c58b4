// Printing like PyTorch: console.log(tensor) and console.log(module) through
// the inspect hooks (Symbol.for, no node: import), the expected strings being
// PyTorch's output for the same values with `shape=…, dtype=…` appended.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspect } from "node:util";
import * as wg from "../host/index.js";

const nn = wg.nn;
test.before(async () => {
  await wg.init({ threads: 1, verbose: false });
});
test.after(() => wg.shutdown());

test("a small float tensor: PyTorch's layout, integer-valued floats as `1.`", () => {
  const t = wg.tensor([[1, 2], [3, 4]]);
  assert.is(inspect(t), "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)");
  assert.is(String(t), inspect(t));
  assert.is(inspect({ t: wg.tensor([1, 2]) }), "{ t: tensor([1., 2.], shape=[2], dtype=float32) }");
});

test("fixed and scientific modes, one width for every element", () => {
  assert.is(String(wg.tensor([1.5, 2.25, -3])), "tensor([ 1.5000,  2.2500, -3.0000], shape=[3], dtype=float32)");
  assert.is(String(wg.tensor([1e-5, 1, 100])), "tensor([1.0000e-05, 1.0000e+00, 1.0000e+02], shape=[3], dtype=float32)");
  assert.is(String(wg.tensor([NaN, Infinity, -0, 0])), "tensor([nan, inf, -0., 0.], shape=[4], dtype=float32)");
  assert.is(String(wg.tensor([1, 20, 300], { dtype: "int32" })), "tensor([  1,  20, 300], shape=[3], dtype=int32)");
  assert.is(String(wg.tensor(5)), "tensor(5., shape=[], dtype=float32)");
  assert.is(String(wg.zeros([0, 3])), "tensor([], shape=[0, 3], dtype=float32)");
});

test("above 1000 elements: 3 edge items each side of `...` in every dimension, lines wrapped at 80 columns", () => {
  assert.is(String(wg.zeros([1001])), "tensor([0., 0., 0.,  ..., 0., 0., 0.], shape=[1001], dtype=float32)");
  assert.is(String(wg.zeros([1000])).includes("..."), false);
  const t = wg.tensor(Array.from({ length: 2000 }, (_, i) => i % 7), { shape: [40, 50] });
  // torch.arange(2000.).reshape(40, 50) % 7
  assert.is(String(t), [
    "tensor([[0., 1., 2.,  ..., 5., 6., 0.],",
    "        [1., 2., 3.,  ..., 6., 0., 1.],",
    "        [2., 3., 4.,  ..., 0., 1., 2.],",
    "        ...,",
    "        [2., 3., 4.,  ..., 0., 1., 2.],",
    "        [3., 4., 5.,  ..., 1., 2., 3.],",
    "        [4., 5., 6.,  ..., 2., 3., 4.]], shape=[40, 50], dtype=float32)",
  ].join("\n"));
  // torch.arange(30.) / 7: a row wider than 80 columns wraps under the first element
  assert.is(String(wg.tensor(Array.from({ length: 30 }, (_, i) => i / 7))).split("\n")[0],
    "tensor([0.0000, 0.1429, 0.2857, 0.4286, 0.5714, 0.7143, 0.8571, 1.0000, 1.1429,");
});

test("3-D tensors separate their matrices by a blank line; requiresGrad and the tape's op are shown", () => {
  const t = wg.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
  assert.is(String(t), "tensor([[[1., 2.],\n         [3., 4.]],\n\n        [[5., 6.],\n         [7., 8.]]], shape=[2, 2, 2], dtype=float32)");
  const w = wg.tensor([1, 2], { requiresGrad: true });
  assert.is(String(w), "tensor([1., 2.], shape=[2], dtype=float32, requiresGrad=true)");
  assert.match(String(w.mul(2)), /^tensor\(\[2\., 4\.\], shape=\[2\], dtype=float32, gradFn=<\w+>\)$/);
});

test("a released tensor prints without reading freed memory", () => {
  const t = wg.tensor([1, 2]);
  t.dispose();
  assert.is(String(t), "tensor(<released>, shape=[2], dtype=float32)");
});

test("modules print their layer tree like PyTorch", () => {
  class Net extends nn.Module {
    conv1 = new nn.Conv2d(1, 16, 3, 1);
    pool = new nn.MaxPool2d(2);
    fc = new nn.Linear(2704, 10);
    forward(x: wg.Tensor) { return x; }
  }
  assert.is(inspect(new Net()), [
    "Net(",
    "  (conv1): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))",
    "  (pool): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
    "  (fc): Linear(in_features=2704, out_features=10, bias=True)",
    ")",
  ].join("\n"));
  assert.is(String(new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.LayerNorm(8), new nn.Dropout(0.1))), [
    "Sequential(",
    "  (0): Linear(in_features=4, out_features=8, bias=True)",
    "  (1): ReLU()",
    "  (2): LayerNorm((8,), eps=1e-05, elementwise_affine=True)",
    "  (3): Dropout(p=0.1, inplace=False)",
    ")",
  ].join("\n"));
  assert.is(String(new nn.Conv2d(3, 8, [3, 5], 2, 1, { bias: false })), "Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), bias=False)");
  assert.is(String(new nn.BatchNorm2d(16)), "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
  assert.is(String(new nn.LSTM(10, 20, { numLayers: 2, batchFirst: true })), "LSTM(10, 20, num_layers=2, batch_first=True)");
  assert.is(String(new nn.LSTM(10, 20, { projSize: 5, numLayers: 2, bias: false, batchFirst: true, dropout: 0.5, bidirectional: true })),
    "LSTM(10, 20, proj_size=5, num_layers=2, bias=False, batch_first=True, dropout=0.5, bidirectional=True)");
  assert.is(String(new nn.GRU(10, 20, { bidirectional: true })), "GRU(10, 20, bidirectional=True)");
  assert.is(String(new nn.Embedding(100, 32)), "Embedding(100, 32)");
});

test("arrays of modules print as a ModuleList, identical runs folded as PyTorch 2 does", () => {
  const s = String(new nn.TransformerEncoder(new nn.TransformerEncoderLayer(32, 4, { dimFeedforward: 64 }), 2));
  assert.match(s, /^TransformerEncoder\(\n  \(layers\): ModuleList\(\n    \(0-1\): 2 x TransformerEncoderLayer\(\n      \(self_attn\): MultiheadAttention\(/);
  assert.match(s, "      (norm1): LayerNorm((32,), eps=1e-05, elementwise_affine=True)\n");
});

test("a layer of one's own shows its extraRepr()", () => {
  class Scale extends nn.Module {
    constructor(readonly factor: number) { super(); }
    override extraRepr() { return `factor=${this.factor}`; }
    forward(x: wg.Tensor) { return x.mul(this.factor); }
  }
  class Wrap extends nn.Module {
    inner = new Scale(2);
    forward(x: wg.Tensor) { return this.inner.forward(x); }
  }
  assert.is(String(new Wrap()), "Wrap(\n  (inner): Scale(factor=2)\n)");
});

test.run();
