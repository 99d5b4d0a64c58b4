// int8 post-training quantisation (against hand-computed values), ensembles
// (the mean of the members' softmax) and freezing for transfer learning.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";

await wg.init({ threads: 1, verbose: false });

test("quantizeInt8: one symmetric scale per output channel, round to nearest, dequantised error ≤ half a step", () => {
  const w = Float32Array.from([1, -0.3, 0.1, 0, 0, 0, -2, 0.5, 1]);
  const q = wg.quantizeInt8(w, [3, 3]);
  assert.equal([...q.q], [127, -38, 13, 0, 0, 0, -127, 32, 64]);
  assert.ok(Math.abs(q.scales[0] - 1 / 127) < 1e-9 && q.scales[1] === 1 && Math.abs(q.scales[2] - 2 / 127) < 1e-9);
  const back = wg.dequantizeInt8(q);
  for (let i = 0; i < w.length; i++) assert.ok(Math.abs(back[i] - w[i]) <= q.scales[Math.floor(i / 3)] / 2 + 1e-7, `value ${i}`);
  assert.throws(() => wg.quantizeInt8(w, [2, 4]), /9 values do not split into 2 output channels/);
});

test("quantizeModelInt8: Linear and Conv2d weights replaced by their int8 values, biases kept, outputs barely move", () => {
  wg.manualSeed(3);
  const net = new wg.nn.Sequential(new wg.nn.Conv2d(2, 4, 3), new wg.nn.ReLU(), new wg.nn.Flatten(), new wg.nn.Linear(4 * 4 * 4, 5));
  const x = wg.randn([3, 2, 6, 6]).keep();
  const before = wg.noGrad(() => net.forward(x).dataSync());
  const bias = (net.stateDict()["3.bias"].dataSync() as Float32Array).slice();
  const r = wg.quantizeModelInt8(net);
  assert.equal(Object.keys(r.weights), ["0.weight", "3.weight"]);
  assert.is(r.f32Bytes, 4 * (4 * 2 * 9 + 5 * 64));
  assert.is(r.int8Bytes, 4 * 2 * 9 + 4 * 4 + 5 * 64 + 5 * 4);
  assert.equal([...net.stateDict()["3.weight"].dataSync()], [...wg.dequantizeInt8(r.weights["3.weight"])]);
  assert.equal([...net.stateDict()["3.bias"].dataSync()], [...bias]);
  const after = wg.noGrad(() => net.forward(x).dataSync());
  let worst = 0, scale = 0;
  for (let i = 0; i < before.length; i++) { worst = Math.max(worst, Math.abs(after[i] - before[i])); scale = Math.max(scale, Math.abs(before[i])); }
  assert.ok(worst > 0 && worst < 0.02 * scale, `largest change ${worst} against outputs up to ${scale}`);
  x.dispose();
  assert.throws(() => wg.quantizeModelInt8(new wg.nn.ReLU()), /no Linear or Conv2d/);
});

test("ensemblePredict: the mean of the members' softmax outputs", () => {
  wg.manualSeed(4);
  const a = new wg.nn.Linear(3, 4), b = new wg.nn.Linear(3, 4);
  const x = wg.tensor([[1, 2, 3], [-1, 0, 1]]).keep();
  const pa = wg.noGrad(() => a.forward(x).softmax(-1).dataSync()), pb = wg.noGrad(() => b.forward(x).softmax(-1).dataSync());
  const p = wg.ensemblePredict([a, b], x);
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - (pa[i] + pb[i]) / 2) < 1e-6);
  assert.throws(() => wg.ensemblePredict([a, new wg.nn.Linear(3, 2)], x), /disagree on the output size/);
  x.dispose();
});

test("transfer learning: load weights, freeze the body, fine-tune the head; frozen weights do not move", () => {
  wg.manualSeed(5);
  const make = () => new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 2));
  const pre = make(), net = make();
  net.loadStateDict(pre.stateDict());
  const body = net.namedChildren()[0][1]; // the first Linear
  wg.freeze(body);
  assert.is(wg.trainable(net).length, 2);
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.5 });
  const x = wg.randn([16, 4]).keep(), y = wg.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 2), { dtype: "int32" }).keep();
  const w0 = [...net.stateDict()["0.weight"].dataSync()], h0 = [...net.stateDict()["2.weight"].dataSync()];
  const losses: number[] = [];
  for (let s = 0; s < 20; s++) {
    losses.push(wg.scope(() => {
      opt.zeroGrad();
      const l = wg.nn.crossEntropy(net.forward(x), y);
      l.backward();
      opt.step();
      return l.item();
    }));
  }
  assert.equal([...net.stateDict()["0.weight"].dataSync()], w0);
  assert.not.equal([...net.stateDict()["2.weight"].dataSync()], h0);
  assert.ok(losses[19] < losses[0], `loss ${losses[0]} → ${losses[19]}`);
  x.dispose(); y.dispose();
});

test.run();
