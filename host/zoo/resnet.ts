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
// horizontal flips; trained through fit() and scored with evaluateAsync().

import * as nn from "../nn/index.js";
import { SGD } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { manualSeed, rng } from "../random.js";
import { scope } from "../scope.js";
import { loadFashionMnist, FASHION_MNIST_MEAN, FASHION_MNIST_STD, type ImageSet } from "../data/mnist.js";
import { shuffled } from "../data/transforms.js";
import type { Optimizer } from "../optim/optimizer.js";
import type { ZooCommand, CliContext } from "./command.js";
import { evaluateMnist, imageBatches, FASHION_AUGMENT, type Aug, type Norm } from "./mnist-cnn.js";
import { fit, LearningRateSchedule } from "../train.js";
import { saveEntryWeights, loadEntryModel, runBench, classifierBench, pct } from "./common.js";

/** Fashion-MNIST's pixel mean and std (host/data/mnist.ts's). */
export const FASHION_NORM: Norm = { mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD };

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

/**
 * Accuracy over the first `limit` images of a set in eval mode (Fashion-MNIST's normalisation).
 * @example
 * const testSet = { images: wg.rand([4, 28, 28]).dataSync(), labels: Int32Array.of(9, 2, 1, 1), count: 4, height: 28, width: 28 };
 * const acc = await evaluateResnet(new SmallResNet(), testSet); // the fraction right (0.9… trained)
 * acc >= 0 && acc <= 1; // true
 */
export function evaluateResnet(model: nn.Module, set: ImageSet, limit = set.count, batch = 250): Promise<number> {
  return evaluateMnist(model, set, Int32Array.from({ length: limit }, (_, i) => i), batch, FASHION_NORM);
}

/** What the ResNet and the ViT share: a seeded subset of Fashion-MNIST's training images, flips, a schedule. */
export interface FashionSubsetOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  /** Training images used (a seeded random subset). */
  trainCount: number;
  /** Test images evaluated (the first this many of the 10,000). */
  testCount?: number;
  /** The lr schedule for a run of `total` steps. */
  schedule: (total: number) => LearningRateSchedule;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

/**
 * Trains an image classifier on a seeded subset of Fashion-MNIST (random
 * horizontal flips, cross-entropy, drop-last batches) and scores it on the test images.
 * @example
 * const model = new SmallResNet(4), opt = new wg.optim.SGD(model.parameters(), { lr: 0.05 });
 * const r = await trainFashionSubset(model, opt, { epochs: 1, batchSize: 16, seed: 0, trainCount: 32, testCount: 50, schedule: (n) => wg.LearningRateSchedule.cosine(n) });
 * r.losses.length; // 1
 * r.testCount; // 50
 */
export async function trainFashionSubset(model: nn.Module, opt: Optimizer, opts: FashionSubsetOptions) {
  const { epochs, batchSize: bs, seed } = opts;
  const { train, test } = await loadFashionMnist();
  const trainCount = Math.min(opts.trainCount, train.count), testCount = Math.min(opts.testCount ?? test.count, test.count);
  const subset = shuffled(train.count, seed + 11).slice(0, trainCount);
  const flip: Aug = { random: rng(seed + 5), fn: FASHION_AUGMENT };
  // a new seeded order of the subset every epoch, drop-last batches
  const source = imageBatches(train, subset, bs, flip, FASHION_NORM, (epoch) => Int32Array.from(shuffled(trainCount, seed * 1000 + epoch), (i) => subset[i]), true);
  const t0 = performance.now();
  const history = await fit(model, source, {
    optimizer: opt, loss: "crossEntropy", epochs, progress: false, onEpoch: (l) => opts.onEpoch?.(l.epoch, l.loss, (performance.now() - t0) / 1000),
    callbacks: [opts.schedule(epochs * source.length)],
  });
  const losses = history.map((l) => l.loss);
  const seconds = (performance.now() - t0) / 1000;
  return { testAccuracy: await evaluateResnet(model, test, testCount), testCount, trainCount, seconds, losses };
}

/** `eval` and `bench` of a Fashion-MNIST classifier entry (resnet, vit). */
export async function fashionEvalOrBench(ctx: CliContext, entry: string, build: (settings: Record<string, any>) => nn.Module, optimizer: (m: nn.Module) => Optimizer): Promise<void> {
  if (ctx.verb === "bench") {
    manualSeed(ctx.seed ?? 0);
    const model = build({});
    return runBench(ctx, entry, classifierBench(model, optimizer(model), [64, 1, 28, 28], 10));
  }
  const { model, settings } = await loadEntryModel(ctx, entry, build);
  ctx.log(fashionFigure({ testAccuracy: await evaluateResnet(model, (await loadFashionMnist()).test, settings.testCount), testCount: settings.testCount }));
}

/** The figure line of a Fashion-MNIST classifier entry. */
export const fashionFigure = (r: { testAccuracy: number; testCount: number }) => `test accuracy ${pct(r.testAccuracy)} on ${r.testCount} Fashion-MNIST test images`;

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
 * @example
 * // a smoke run (the recipe: 4 epochs on 12,000 images, tested on all 10,000)
 * const r = await trainResnet({ epochs: 1, trainCount: 64, testCount: 50, batchSize: 32, width: 4 });
 * r.trainCount; // 64
 */
export async function trainResnet(opts: ResnetTrainOptions = {}): Promise<ResnetResult> {
  const epochs = opts.epochs ?? 4, seed = opts.seed ?? 0, baseLr = opts.lr ?? 0.05;
  manualSeed(seed);
  const model = new SmallResNet(opts.width ?? 16);
  const opt = new SGD(model.parameters(), { lr: baseLr, momentum: 0.9, weightDecay: 5e-4 });
  const r = await trainFashionSubset(model, opt, {
    epochs, seed, batchSize: opts.batchSize ?? 64, trainCount: opts.trainCount ?? 12000, testCount: opts.testCount, onEpoch: opts.onEpoch,
    schedule: (total) => LearningRateSchedule.cosine(total),
  });
  return { ...r, model };
}

const resnetOptimizer = (m: nn.Module) => new SGD(m.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });

/** `webgrad train|eval|bench resnet`: the small ResNet on a Fashion-MNIST subset, accuracy on the 10,000 test images. */
export const cli: ZooCommand = {
  summary: "Small ResNet (BasicBlock + BatchNorm2d) on a Fashion-MNIST subset, accuracy on the 10,000 test images",
  verbs: ["train", "eval", "bench"],
  options: {
    "train-count": { type: "string", help: "training images used (default 12000 of 60000)" },
    "test-count": { type: "string", help: "test images scored, the first N (default all 10000; fewer for a quick run)" },
  },
  async run(ctx) {
    if (ctx.verb !== "train") return fashionEvalOrBench(ctx, "resnet", (s) => new SmallResNet(s.width ?? 16), resnetOptimizer);
    const trainCount = ctx.num(ctx.values["train-count"], "train-count");
    const r = await trainResnet({ epochs: ctx.epochs, trainCount, testCount: ctx.num(ctx.values["test-count"], "test-count"), batchSize: ctx.batchSize, seed: ctx.seed, onEpoch: (e, l, s) => ctx.log(`epoch ${e}  loss ${l.toFixed(4)}  ${s.toFixed(0)} s`) });
    ctx.log(`${fashionFigure(r)}, trained on ${r.trainCount} images, ${r.seconds.toFixed(0)} s`);
    await saveEntryWeights(ctx, "resnet", r.model.stateDict(), { width: 16, testCount: r.testCount });
  },
};
