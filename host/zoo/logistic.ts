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
 * Trains S2 and returns its loss log and test figures.
 * @example const r = await trainLogistic({ onLog: (i, l) => console.log(i, l) }); r.testLoss; // ≈ 0.03
 */
export async function trainLogistic(opts: LogisticOptions = {}): Promise<LogisticResult> {
  const iterations = opts.iterations ?? 1000, bs = opts.batchSize ?? 32, every = opts.every ?? 100, seed = opts.seed ?? 0;
  const train = linePoints(1000, seed + 1), test = linePoints(200, seed + 2);
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
    sum += scope(() => {
      const x = tensor(xb, { shape: [bs, 2] }), y = tensor(yb, { shape: [bs, 1] });
      const { value, grads } = grad(() => mseLoss(predict(x), y), [w, b]);
      opt.applyGradients(grads);
      return value.item();
    });
    if (it % every === 0) {
      log.push([it, sum / every]);
      opts.onLog?.(it, sum / every);
      sum = 0;
    }
  }
  const { testLoss, testAccuracy } = scope(() => {
    const p = predict(tensor(test.x, { shape: [200, 2] }));
    const loss = mseLoss(p, tensor(test.y, { shape: [200, 1] })).item();
    const pv = p.dataSync();
    let correct = 0;
    for (let i = 0; i < 200; i++) correct += (pv[i] > 0.5 ? 1 : 0) === test.y[i] ? 1 : 0;
    return { testLoss: loss, testAccuracy: correct / 200 };
  });
  const r = { log, testLoss, testAccuracy, w: Array.from(w.dataSync()), b: b.item() };
  w.dispose();
  b.dispose();
  return r;
}

/** `webgrad train logistic`: S2, the loss every 100 iterations. */
export const cli: ZooCommand = {
  summary: "S2: a two-input sigmoid unit trained through wg.grad (Adam, MSE), loss every 100 iterations",
  verbs: ["train"],
  async run(ctx) {
    const r = await trainLogistic({ seed: ctx.seed, onLog: (i, l) => ctx.log(`iteration ${i}  loss ${l.toFixed(4)}`) });
    ctx.log(`test loss ${r.testLoss.toFixed(4)}, test accuracy ${(r.testAccuracy * 100).toFixed(1)}% on 200 points; w = [${r.w.map((v) => v.toFixed(3))}], b = ${r.b.toFixed(3)}`);
  },
};
