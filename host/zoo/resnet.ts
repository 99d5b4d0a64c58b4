// A small ResNet (torchvision's BasicBlock with BatchNorm2d) on Fashion-MNIST
// from Debian's dataset-fashion-mnist IDX files: a 3×3 stem of 16 channels,
// three stages of one BasicBlock each (16, 32 and 64 channels at 28, 14 and 7
// pixels), global average pooling and a linear classifier. Trained on a
// subset of the 60,000 training images (the whole set takes too long on two
// cores; the count is stated with the figure), evaluated on all 10,000 test
// images in eval mode (BatchNorm2d's running statistics).
//
// Recipe: inputs normalised with Fashion-MNIST's mean and std, SGD momentum
// 0.9, lr 0.05 with cosine decay, weight decay 5e-4, batch 64, random
// horizontal flips.

import * as nn from "../nn/index.js";
import { SGD } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { noGrad } from "../autograd.js";
import { manualSeed, rng } from "../random.js";
import { scope } from "../scope.js";
import { loadIdx, type ImageSet } from "../data/mnist.js";
import { shuffled } from "../data/transforms.js";
import type { ZooCommand } from "./command.js";

export const FASHION_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MEAN = 0.286, FASHION_STD = 0.353;

/** Fashion-MNIST's train or test split from the IDX files. Kept here until host/data has its own Fashion-MNIST helper. */
export function loadFashionMnist(split: "train" | "test", dir = FASHION_DIR): Promise<ImageSet> {
  const p = split === "train" ? "train" : "t10k";
  const key = `${dir}/${p}`;
  // decoded once per process: the 60,000 training images take seconds to gunzip and convert
  let set = loaded.get(key);
  if (!set) loaded.set(key, (set = loadIdx(`${key}-images-idx3-ubyte.gz`, `${key}-labels-idx1-ubyte.gz`)));
  return set;
}
const loaded = new Map<string, Promise<ImageSet>>();

/**
 * Stem conv → BasicBlock ×3 (stride 1, 2, 2) → global average pool → Linear.
 * @example new SmallResNet().forward(wg.zeros([2, 1, 28, 28])).shape; // [2, 10]
 */
export class SmallResNet extends nn.Module {
  conv1: nn.Conv2d;
  bn1: nn.BatchNorm2d;
  layer1: nn.BasicBlock;
  layer2: nn.BasicBlock;
  layer3: nn.BasicBlock;
  fc: nn.Linear;
  constructor(width = 16, inChannels = 1, classes = 10) {
    super();
    this.conv1 = new nn.Conv2d(inChannels, width, 3, 1, 1, { bias: false });
    this.bn1 = new nn.BatchNorm2d(width);
    this.layer1 = new nn.BasicBlock(width, width);
    this.layer2 = new nn.BasicBlock(width, 2 * width, 2);
    this.layer3 = new nn.BasicBlock(2 * width, 4 * width, 2);
    this.fc = new nn.Linear(4 * width, classes);
  }
  forward(x: Tensor): Tensor {
    let h = this.bn1.forward(this.conv1.forward(x)).relu();
    h = this.layer3.forward(this.layer2.forward(this.layer1.forward(h)));
    return this.fc.forward(h.mean([2, 3]));
  }
}

function batchOf(set: ImageSet, idx: ArrayLike<number>, from: number, to: number, flip: (() => number) | null): Float32Array {
  const px = set.height * set.width, w = set.width;
  const out = new Float32Array((to - from) * px);
  for (let i = from; i < to; i++) {
    const src = set.images.subarray(idx[i] * px, idx[i] * px + px);
    const dst = out.subarray((i - from) * px, (i - from + 1) * px);
    if (flip && flip() < 0.5) {
      for (let r = 0; r < set.height; r++) for (let c = 0; c < w; c++) dst[r * w + c] = src[r * w + w - 1 - c];
    } else dst.set(src);
  }
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - FASHION_MEAN) / FASHION_STD;
  return out;
}

/**
 * Accuracy over a whole set in eval mode.
 * @example evaluateResnet(model, testSet); // 0.9…
 */
export function evaluateResnet(model: nn.Module, set: ImageSet, limit = set.count, batch = 250): number {
  model.eval();
  const idx = Int32Array.from({ length: limit }, (_, i) => i);
  let correct = 0;
  for (let i = 0; i < limit; i += batch) {
    const to = Math.min(limit, i + batch);
    correct += scope(() => noGrad(() => {
      const x = tensor(batchOf(set, idx, i, to, null), { shape: [to - i, 1, set.height, set.width] });
      const pred = model.forward(x).argmax(1).view() as Int32Array;
      let c = 0;
      for (let j = 0; j < to - i; j++) c += pred[j] === set.labels[i + j] ? 1 : 0;
      return c;
    }));
  }
  model.train();
  return correct / limit;
}

export interface ResnetTrainOptions {
  epochs?: number;
  /** Training images used (a seeded random subset; default 12,000 of 60,000). */
  trainCount?: number;
  /** Test images evaluated (default all 10,000). */
  testCount?: number;
  batchSize?: number;
  lr?: number;
  width?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

export interface ResnetResult {
  testAccuracy: number;
  testCount: number;
  trainCount: number;
  seconds: number;
  losses: number[];
  model: SmallResNet;
}

/**
 * Trains the small ResNet on a Fashion-MNIST subset and reports test accuracy.
 * @example const r = await trainResnet({ epochs: 3 }); console.log(r.testAccuracy);
 */
export async function trainResnet(opts: ResnetTrainOptions = {}): Promise<ResnetResult> {
  const epochs = opts.epochs ?? 4, bs = opts.batchSize ?? 64, seed = opts.seed ?? 0, baseLr = opts.lr ?? 0.05;
  const train = await loadFashionMnist("train"), test = await loadFashionMnist("test");
  const trainCount = Math.min(opts.trainCount ?? 12000, train.count), testCount = Math.min(opts.testCount ?? test.count, test.count);
  const subset = shuffled(train.count, seed + 11).slice(0, trainCount);
  manualSeed(seed);
  const model = new SmallResNet(opts.width ?? 16);
  const opt = new SGD(model.parameters(), { lr: baseLr, momentum: 0.9, weightDecay: 5e-4 });
  const flip = rng(seed + 5);
  const steps = Math.floor(trainCount / bs), total = epochs * steps;
  const losses: number[] = [];
  const t0 = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = shuffled(trainCount, seed * 1000 + epoch);
    const idx = Int32Array.from(order, (i) => subset[i]);
    let sum = 0;
    for (let s = 0; s < steps; s++) {
      const k = epoch * steps + s;
      opt.lr = baseLr * 0.5 * (1 + Math.cos((Math.PI * k) / total));
      sum += scope(() => {
        const x = tensor(batchOf(train, idx, s * bs, (s + 1) * bs, flip), { shape: [bs, 1, 28, 28] });
        const y = tensor(Int32Array.from({ length: bs }, (_, j) => train.labels[idx[s * bs + j]]), { dtype: "int32" });
        opt.zeroGrad();
        const l = nn.crossEntropy(model.forward(x), y);
        l.backward();
        opt.step();
        return l.item();
      });
    }
    losses.push(sum / steps);
    opts.onEpoch?.(epoch + 1, sum / steps, (performance.now() - t0) / 1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  const testAccuracy = evaluateResnet(model, test, testCount);
  return { testAccuracy, testCount, trainCount, seconds, losses, model };
}

/** `webgrad train resnet`: the small ResNet on a Fashion-MNIST subset, accuracy on the 10,000 test images. */
export const cli: ZooCommand = {
  summary: "Small ResNet (BasicBlock + BatchNorm2d) on a Fashion-MNIST subset, accuracy on the 10,000 test images",
  verbs: ["train"],
  options: { "train-count": { type: "string", help: "training images used (default 12000 of 60000)" } },
  async run(ctx) {
    const trainCount = ctx.num(ctx.values["train-count"], "train-count");
    const r = await trainResnet({ epochs: ctx.epochs, trainCount, seed: ctx.seed, onEpoch: (e, l, s) => ctx.log(`epoch ${e}  loss ${l.toFixed(4)}  ${s.toFixed(0)} s`) });
    ctx.log(`test accuracy ${(r.testAccuracy * 100).toFixed(2)}% on ${r.testCount} Fashion-MNIST test images, trained on ${r.trainCount} images, ${r.seconds.toFixed(0)} s`);
  },
};
