// Arguments that were accepted and should not have been (issue 13): wrong
// dtypes read as the other dtype's bits, fractional geometry truncated, NaN
// probabilities and hyperparameters, int32 values that wrap, unknown options
// ignored, raw TypeErrors from bad shapes. Each must be refused with an error
// that names the function and the argument, before anything runs.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";

await wg.init({ threads: 1, verbose: false });

const x4 = () => wg.ones([1, 1, 6, 6]), w4 = () => wg.ones([2, 1, 3, 3]);

test("linear and conv2d refuse int32 weights and biases instead of reading their bits as floats", () => {
  assert.throws(() => wg.linear(wg.ones([2, 3]), wg.ones([4, 3], { dtype: "int32" })), /linear weight: expected a float32 tensor, got int32/);
  assert.throws(() => wg.linear(wg.ones([2, 3]), wg.ones([4, 3]), wg.ones([4], { dtype: "int32" })), /linear bias: expected a float32 tensor/);
  assert.throws(() => wg.conv2d(x4(), w4(), wg.ones([2], { dtype: "int32" })), /conv2d bias: expected a float32 tensor/);
});

test("conv2d and pooling refuse fractional, negative or unknown geometry, naming the option", () => {
  assert.throws(() => wg.conv2d(x4(), w4(), null, { stride: 1.5 }), /conv2d: stride must be an integer ≥ 1 or a pair of them, got 1\.5/);
  assert.throws(() => wg.conv2d(x4(), w4(), null, { padding: 0.5 }), /conv2d: padding must be an integer ≥ 0/);
  assert.throws(() => wg.conv2d(x4(), w4(), null, { dilation: 2.5 }), /conv2d: dilation must be/);
  assert.throws(() => wg.conv2d(x4(), w4(), null, { stride: [1, NaN] as any }), /conv2d: stride must be/);
  assert.throws(() => wg.conv2d(x4(), w4(), null, { groups: 1.5 }), /conv2d: groups must be a positive integer, got 1\.5/);
  assert.throws(() => wg.conv2d(x4(), w4(), null, { paddingMode: "reflect" } as any), /conv2d: unknown option "paddingMode"/);
  assert.equal(wg.conv2d(x4(), w4(), null, { stride: [2, 1], padding: 1 }).shape, [1, 2, 3, 6]);
  assert.throws(() => wg.maxPool2d(x4(), 1.5), /maxPool2d: kernel must be an integer ≥ 1/);
  assert.throws(() => wg.avgPool2d(x4(), 2, { stride: 0 }), /avgPool2d: stride must be an integer ≥ 1/);
  assert.throws(() => wg.maxPool2d(x4(), 2, { countIncludePad: true } as any), /maxPool2d: unknown option "countIncludePad"/);
  assert.equal(wg.avgPool2d(x4(), 2, { countIncludePad: false }).shape, [1, 1, 3, 3]);
});

test("unsqueeze(0.5), dropout(p = NaN) and an unknown dropout option are refused", () => {
  assert.throws(() => wg.unsqueeze(wg.ones([3]), 0.5), /unsqueeze: dim 0\.5 out of range/);
  assert.throws(() => wg.dropout(wg.ones([3]), NaN), /dropout: p must be a finite number in \[0, 1\), got NaN/);
  assert.throws(() => wg.dropout(wg.ones([3]), 1), /dropout: p must be/);
  assert.throws(() => wg.dropout(wg.ones([3]), 0.5, true, { sead: 1 } as any), /dropout: unknown option "sead"/);
});

test("optimizers refuse NaN momentum, betas outside [0, 1), negative eps, and unknown options", () => {
  const p = () => [wg.nn.parameter(wg.ones([2]))];
  assert.throws(() => new wg.optim.SGD(p(), { lr: 0.1, momentum: NaN }), /SGD: momentum must be a finite number in \[0, ∞\), got NaN/);
  assert.throws(() => new wg.optim.SGD(p(), { lr: Infinity }), /SGD: lr must be a finite number/);
  assert.throws(() => new wg.optim.SGD(p(), { lr: 0.1, momentun: 0.9 } as any), /SGD: unknown option "momentun"/);
  assert.throws(() => new wg.optim.Adam(p(), { betas: [2, -1] }), /Adam: betas\[0\] must be a finite number in \[0, 1\), got 2/);
  assert.throws(() => new wg.optim.Adam(p(), { betas: [0.9, -1] }), /Adam: betas\[1\] must be/);
  assert.throws(() => new wg.optim.AdamW(p(), { eps: -1 }), /AdamW: eps must be a finite number in \[0, ∞\), got -1/);
  assert.throws(() => new wg.optim.AdamW(p(), { weight_decay: 0.1 } as any), /AdamW: unknown option "weight_decay"/);
});

test("tensor creation: int32 range and integers, dtypes, shapes and arange bounds are checked by name", () => {
  assert.throws(() => wg.tensor([3e9], { dtype: "int32" }), /tensor: int32 tensor given 3000000000 at position 0, outside -2\^31\.\.2\^31-1/);
  assert.throws(() => wg.full([2], 1.5, { dtype: "int32" }), /full: value must be an integer in -2147483648\.\.2147483647, got 1\.5/);
  assert.throws(() => wg.tensor([1], { dtype: "float64" as any }), /tensor: dtype must be "float32" or "int32", got "float64"/);
  assert.throws(() => wg.zeros([2], { dtype: "float64" as any }), /zeros: dtype must be/);
  assert.throws(() => wg.zeros(null as any), /zeros: shape must be an array of dimensions, got null/);
  assert.throws(() => wg.zeros(5 as any), /zeros: shape must be an array of dimensions, got 5/);
  assert.throws(() => wg.zeros([2, 1.5]), /zeros: shape \[2,1\.5\] has a dimension that is not a non-negative integer/);
  assert.throws(() => wg.arange(Infinity), /arange: end must be a finite number, got Infinity/);
  assert.throws(() => wg.arange(NaN), /arange: end must be a finite number, got NaN/);
  assert.throws(() => wg.tensor([1, 2], { shap: [2] } as any), /tensor: unknown option "shap"/);
  assert.throws(() => wg.randn([2], { sed: 1 } as any), /randn: unknown option "sed"/);
  assert.equal(wg.full([2], -5, { dtype: "int32" }).toArray(), [-5, -5]);
  assert.equal(wg.arange(3).toArray(), [0, 1, 2]);
});

test("init: threads, maxMemory and unknown options are checked before anything starts", async () => {
  const rejects = async (opts: any, re: RegExp) => {
    try {
      await wg.init(opts);
    } catch (e) {
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable(`init(${JSON.stringify(opts)}) should fail`);
  };
  await rejects({ threads: 500 }, /init: threads must be an integer in 1\.\.256, got 500/);
  await rejects({ threads: 1.5 }, /init: threads must be an integer/);
  await rejects({ maxMemory: NaN }, /init: maxMemory must be an integer in 16777216\.\.4294967296, got NaN/);
  await rejects({ maxMemory: "abc" }, /init: maxMemory must be an integer .* got "abc"/);
  await rejects({ maxMemory: 0 }, /maxMemory must be/);
  await rejects({ maxMemory: -1 }, /maxMemory must be/);
  await rejects({ maxMemory: 65535 }, /maxMemory must be/);
  await rejects({ thread: 2 }, /init: unknown option "thread"/);
  // the engine that was running still runs
  assert.equal(wg.ones([2]).toArray(), [1, 1]);
});

test("loaders and folders refuse unknown options and fractional sizes by name", async () => {
  const ds = new wg.data.ArrayDataset(new Float32Array(8), [2], new Int32Array(4));
  assert.throws(() => new wg.data.DataLoader(ds, { batchSize: 2.5 }), /DataLoader: batchSize must be an integer ≥ 1, got 2\.5/);
  assert.throws(() => new wg.data.DataLoader(ds, { batch_size: 2 } as any), /DataLoader: unknown option "batch_size"/);
  for (const [opts, re] of [[{ sise: [2, 2] }, /readImageFolder: unknown option "sise"/], [{ size: [2, 2.5] }, /size must be \[height, width\] of positive integers/]] as const) {
    try {
      await wg.data.readImageFolder("/nonexistent-webgrad-folder", opts as any);
      assert.unreachable(String(re));
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
});

test("nn layers: sizes are positive integers and unknown options are refused", () => {
  assert.throws(() => new wg.nn.Conv2d(1, 4, 3, 1, 0, { groups: 2 }), /Conv2d: groups 2 must divide inChannels 1 and outChannels 4/);
  assert.throws(() => new wg.nn.Conv2d(1, 4, 3, 1, 0, { paddingMode: "zeros" } as any), /Conv2d: unknown option "paddingMode"/);
  assert.throws(() => new wg.nn.Conv2d(1, 4, 1.5), /Conv2d: kernelSize must be an integer ≥ 1/);
  assert.throws(() => new wg.nn.Conv2d(1, 4, 3, 0), /Conv2d: stride must be an integer ≥ 1/);
  assert.throws(() => new wg.nn.Linear(2.5, 3), /Linear: inFeatures must be an integer ≥ 1, got 2\.5/);
  assert.throws(() => new wg.nn.Linear(2, 3, { bais: false } as any), /Linear: unknown option "bais"/);
});

test("internals are not on wg.*: the raw-pointer gemm and its flags", () => {
  assert.is((wg as any).gemm, undefined);
  assert.is((wg as any).gemmRaw, undefined);
  assert.is((wg as any).TRANS_A, undefined);
  assert.type(wg.matmul, "function");
  assert.type(wg.linear, "function");
});

test.run();
