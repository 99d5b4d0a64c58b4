// S2: the seed's two-input logistic unit, sigmoid(w·x + b), trained through a
// gradient tape (wg.grad, TensorFlow's GradientTape style) with Adam lr 0.01
// and MSE, 1000 iterations of batch 32, loss printed every 100 iterations,
// then a test loss.
//
// Data (made here, seeded): points uniform in [0, 1]², label 1 above the line
// x0 + x1 = 1 — separable, so a logistic unit can learn it and the loss falls
// the way the seed's printout shows.

import { grad } from "../autograd.js";
import { tensor, zeros } from "../ops/creation.js";
import { mseLoss } from "../nn/functional.js";
import { Adam } from "../optim/index.js";
import { rng } from "../random.js";
import { scope } from "../scope.js";
import type { Tensor } from "../tensor.js";
import type { ZooCommand } from "./command.js";
import { saveEntryWeights, loadEntryWeights, runBench } from "./common.js";

export interface LogisticOptions {
  iterations?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Called every `every` iterations with the mean loss of those iterations. */
  onLog?: (iteration: number, loss: number) => void;
  every?: number;
}

export interface LogisticResult {
  /** [iteration, mean training loss over the last `every` iterations]. */
  log: [number, number][];
  testLoss: number;
  testAccuracy: number;
  w: number[];
  b: number;
  seed: number;
}

/** n points uniform in [0, 1]² and their labels (x0 + x1 > 1). */
export function linePoints(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const r = rng(seed), x = new Float32Array(2 * n), y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = r();
    x[2 * i + 1] = r();
    y[i] = x[2 * i] + x[2 * i + 1] > 1 ? 1 : 0;
  }
  return { x, y };
}

/**
 * MSE and accuracy of the unit (w [2, 1], b [1]) on the 200 test points of `seed`,
 * read back with await (so on every backend).
 * @example
 * // the true boundary x0 + x1 = 1, steep: every test point on its side
 * (await scoreLogistic(wg.tensor([[20], [20]]), wg.tensor([-20]), 0)).testAccuracy; // 1
 */
export async function scoreLogistic(w: Tensor, b: Tensor, seed: number): Promise<{ testLoss: number; testAccuracy: number }> {
  const test = linePoints(200, seed + 2);
  const { p, loss } = scope(() => {
    const p = tensor(test.x, { shape: [200, 2] }).matmul(w).add(b).sigmoid();
    return { p, loss: mseLoss(p, tensor(test.y, { shape: [200, 1] })) };
  });
  try {
    const pv = await p.data();
    let correct = 0;
    for (let i = 0; i < 200; i++) correct += (pv[i] > 0.5 ? 1 : 0) === test.y[i] ? 1 : 0;
    return { testLoss: await loss.itemAsync(), testAccuracy: correct / 200 };
  } finally {
    p.dispose();
    loss.dispose();
  }
}

/**
 * Trains S2 and returns its loss log and test figures.
 * @example const r = await trainLogistic({ onLog: (i, l) => console.log(i, l) }); r.testLoss; // ≈ 0.03
 */
export async function trainLogistic(opts: LogisticOptions = {}): Promise<LogisticResult> {
  const iterations = opts.iterations ?? 1000, bs = opts.batchSize ?? 32, every = opts.every ?? 100, seed = opts.seed ?? 0;
  const train = linePoints(1000, seed + 1);
  const w = zeros([2, 1]).keep(), b = zeros([1]).keep();
  const opt = new Adam([w, b], { lr: opts.lr ?? 0.01 });
  const predict = (x: Tensor) => x.matmul(w).add(b).sigmoid();
  const pick = rng(seed + 3);
  const log: [number, number][] = [];
  let sum = 0;
  for (let it = 1; it <= iterations; it++) {
    const xb = new Float32Array(2 * bs), yb = new Float32Array(bs);
    for (let j = 0; j < bs; j++) {
      const i = Math.floor(pick() * 1000);
      xb.set(train.x.subarray(2 * i, 2 * i + 2), 2 * j);
      yb[j] = train.y[i];
    }
    const value = scope(() => {
      const x = tensor(xb, { shape: [bs, 2] }), y = tensor(yb, { shape: [bs, 1] });
      const { value, grads } = grad(() => mseLoss(predict(x), y), [w, b]);
      opt.applyGradients(grads);
      return value;
    });
    sum += await value.itemAsync(); // at once on wasm, a readback on WebGPU
    value.dispose();
    if (it % every === 0) {
      log.push([it, sum / every]);
      opts.onLog?.(it, sum / every);
      sum = 0;
    }
  }
  const { testLoss, testAccuracy } = await scoreLogistic(w, b, seed);
  const r = { log, testLoss, testAccuracy, w: Array.from(await w.data()), b: await b.itemAsync(), seed };
  w.dispose();
  b.dispose();
  return r;
}

const figure = (r: { testLoss: number; testAccuracy: number }) => `test loss ${r.testLoss.toFixed(4)}, test accuracy ${(r.testAccuracy * 100).toFixed(1)}% on 200 points`;

/** `webgrad train|eval|bench logistic`: S2, the loss every 100 iterations. The unit is saved as PyTorch's Linear(2, 1). */
export const cli: ZooCommand = {
  summary: "S2: a two-input sigmoid unit trained through wg.grad (Adam, MSE), loss every 100 iterations",
  verbs: ["train", "eval", "bench"],
  options: { steps: { type: "string", help: "training iterations (default 1000)" } },
  async run(ctx) {
    if (ctx.verb === "train") {
      const iterations = ctx.num(ctx.values.steps, "steps");
      const r = await trainLogistic({ iterations, batchSize: ctx.batchSize, every: iterations !== undefined && iterations < 100 ? iterations : undefined, seed: ctx.seed, onLog: (i, l) => ctx.log(`iteration ${i}  loss ${l.toFixed(4)}`) });
      ctx.log(`${figure(r)}; w = [${r.w.map((v) => v.toFixed(3))}], b = ${r.b.toFixed(3)}`);
      await saveEntryWeights(ctx, "logistic", { weight: tensor(Float32Array.from(r.w), { shape: [1, 2] }), bias: tensor([r.b]) }, { seed: r.seed });
      return;
    }
    if (ctx.verb === "eval") {
      const { tensors, settings, path } = await loadEntryWeights(ctx, "logistic");
      if (!tensors.weight || !tensors.bias) throw new Error(`logistic: ${path} lacks "weight" [1, 2] and "bias" [1]`);
      const w = tensor(Float32Array.from(tensors.weight.data), { shape: [2, 1] }), b = tensor(Float32Array.from(tensors.bias.data), { shape: [1] });
      ctx.log(figure(await scoreLogistic(w, b, settings.seed ?? 0)));
      return;
    }
    const w = zeros([2, 1]).keep(), b = zeros([1]).keep(), opt = new Adam([w, b], { lr: 0.01 });
    const { x, y } = linePoints(32, 1);
    const loss = () => mseLoss(tensor(x, { shape: [32, 2] }).matmul(w).add(b).sigmoid(), tensor(y, { shape: [32, 1] }));
    await runBench(ctx, "logistic", {
      batchSize: 32,
      trainStep: () => {
        const { value, grads } = grad(loss, [w, b]);
        opt.applyGradients(grads);
        return value;
      },
      infer: loss,
    });
  },
};
