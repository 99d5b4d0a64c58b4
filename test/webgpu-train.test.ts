// The same autograd and optimizer code training on WebGPU: a two-layer MLP
// (linear → relu → linear → cross-entropy, SGD with momentum, then Adam)
// for a few steps from the same parameters on one batch, on wasm and on webgpu;
// the losses agree step by step, and the gradients of the first step too.
// (The S1 CNN needs the conv twins, not there yet: docs/WEBGPU.md.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32, assertClose } from "./harness.js";

async function train(backend: "wasm" | "webgpu", optim: "sgd" | "adam"): Promise<{ losses: number[]; grad: ArrayLike<number> }> {
  await wg.init({ backend, threads: 1, verbose: false });
  const p = (data: Float32Array, shape: number[]) => wg.tensor(data, { shape, requiresGrad: true }).keep();
  const w1 = p(randomF32(32 * 20, 1).map((v) => v * 0.3), [32, 20]), b1 = p(randomF32(32, 2).map((v) => v * 0.1), [32]);
  const w2 = p(randomF32(5 * 32, 3).map((v) => v * 0.3), [5, 32]), b2 = p(randomF32(5, 4).map((v) => v * 0.1), [5]);
  const params = [w1, b1, w2, b2];
  const opt = optim === "sgd" ? new wg.optim.SGD(params, { lr: 0.1, momentum: 0.9 }) : new wg.optim.Adam(params, { lr: 0.01 });
  const losses: number[] = [];
  let grad: ArrayLike<number> = [];
  // one fixed batch, so the loss must fall
  const x = wg.tensor(randomF32(16 * 20, 10), { shape: [16, 20] }).keep();
  const y = wg.tensor(Int32Array.from({ length: 16 }, (_, i) => (i * 3) % 5), { dtype: "int32" }).keep();
  for (let step = 0; step < 4; step++) {
    opt.zeroGrad();
    const logits = wg.linear(wg.linear(x, w1, b1).relu(), w2, b2);
    const loss = wg.nn.functional.crossEntropy(logits, y);
    loss.backward();
    if (step === 0) grad = await w1.grad!.data();
    opt.step();
    losses.push((await loss.data())[0]);
  }
  wg.shutdown();
  return { losses, grad };
}

for (const optim of ["sgd", "adam"] as const) {
  test(`an MLP trains on webgpu with the same losses as on wasm (${optim})`, async () => {
    const cpu = await train("wasm", optim);
    const gpu = await train("webgpu", optim);
    assertClose(gpu.grad, cpu.grad, { rtol: 1e-4, atol: 1e-6, what: `first-step gradient of w1 (${optim})` });
    assertClose(gpu.losses, cpu.losses, { rtol: 1e-4, atol: 1e-5, what: `losses (${optim})` });
    assert.ok(gpu.losses[3] < gpu.losses[0], `the loss falls on webgpu: ${gpu.losses.map((l) => l.toFixed(4)).join(" → ")}`);
  });
}

test("on webgpu an out-of-range label gives a NaN loss (the host cannot check labels that live on the GPU)", async () => {
  await wg.init({ backend: "webgpu", verbose: false });
  const loss = wg.nn.functional.crossEntropy(wg.tensor([[0, 1, 2], [1, 1, 1]]), wg.tensor([1, 7], { dtype: "int32" }), { reduction: "none" });
  const v = await loss.data();
  assert.ok(Math.abs(v[0] - (Math.log(1 + Math.E + Math.E ** 2) - 1)) < 1e-5, `row 0 loss ${v[0]}`);
  assert.ok(Number.isNaN(v[1]), `row 1 (label 7 of 3 classes) gives NaN, got ${v[1]}`);
  wg.shutdown();
});

test.run();
