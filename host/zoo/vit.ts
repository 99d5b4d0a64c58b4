// A tiny Vision Transformer on Fashion-MNIST: 7×7 patches (a Conv2d with
// stride 7, so 16 patches of 28×28), a learned [CLS] token and learned
// positions, pre-norm encoder layers with GELU, and a linear head on [CLS].
// Trained on a subset of the training images (stated with the figure),
// evaluated on all 10,000 test images.
//
// Recipe: d_model 64, 4 heads, 4 layers, feed-forward 128, no dropout; AdamW
// lr 2e-3 (weight decay 0.05), 100-step warm-up then cosine decay, batch 64,
// random horizontal flips.

import * as nn from "../nn/index.js";
import { AdamW } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { normal } from "../ops/random.js";
import { cat } from "../ops/shape.js";
import { manualSeed } from "../random.js";
import { trainFashionSubset, fashionEvalOrBench, fashionFigure } from "./resnet.js";
import type { ZooCommand } from "./command.js";
import { saveEntryWeights } from "./common.js";
import { LearningRateSchedule } from "../train.js";

/**
 * Patch embedding → [CLS] + positions → encoder → LayerNorm → head.
 * @example new TinyViT().forward(wg.zeros([2, 1, 28, 28])).shape; // [2, 10]
 */
export class TinyViT extends nn.Module {
  patch_embed: nn.Conv2d;
  cls_token: Tensor;
  pos_embed: nn.LearnedPositionalEmbedding;
  encoder: nn.TransformerEncoder;
  norm: nn.LayerNorm;
  head: nn.Linear;
  constructor(readonly dModel = 64, layers = 4, nhead = 4, readonly patch = 7, image = 28, classes = 10) {
    super();
    this.patch_embed = new nn.Conv2d(1, dModel, patch, patch);
    this.cls_token = nn.parameter(normal([1, 1, dModel], 0, 0.02));
    const n = (image / patch) ** 2 + 1;
    this.pos_embed = new nn.LearnedPositionalEmbedding(n, dModel, { std: 0.02 });
    this.encoder = new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(dModel, nhead, { dimFeedforward: 2 * dModel, dropout: 0, activation: "gelu", normFirst: true, batchFirst: true }), layers);
    this.norm = new nn.LayerNorm(dModel);
    this.head = new nn.Linear(dModel, classes);
  }
  forward(x: Tensor): Tensor {
    const B = x.shape[0];
    const p = this.patch_embed.forward(x).flatten(2).transpose(1, 2); // [B, patches, d]
    const h = this.pos_embed.forward(cat([this.cls_token.expand([B, 1, this.dModel]), p], 1));
    const z = this.norm.forward(this.encoder.forward(h));
    return this.head.forward(z.slice(1, 0, 1).reshape(B, this.dModel));
  }
}

export interface VitTrainOptions {
  epochs?: number;
  trainCount?: number;
  testCount?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

/**
 * Trains the tiny ViT on a Fashion-MNIST subset and reports test accuracy.
 * @example
 * // a smoke run (the recipe: 5 epochs on 12,000 images, tested on all 10,000)
 * const r = await trainVit({ epochs: 1, trainCount: 64, testCount: 50, batchSize: 32 });
 * r.testCount; // 50
 */
export async function trainVit(opts: VitTrainOptions = {}) {
  const epochs = opts.epochs ?? 5, seed = opts.seed ?? 0, baseLr = opts.lr ?? 2e-3;
  manualSeed(seed);
  const model = new TinyViT();
  const r = await trainFashionSubset(model, vitOptimizer(model, baseLr), {
    epochs, seed, batchSize: opts.batchSize ?? 64, trainCount: opts.trainCount ?? 12000, testCount: opts.testCount, onEpoch: opts.onEpoch,
    // the warm-up's last step is the cosine's peak; the cosine reaches 0 on the last step
    schedule: (total) => LearningRateSchedule.cosine(total, { warmup: Math.min(100, total), reachFloor: true }),
  });
  return { ...r, model };
}

function vitOptimizer(model: nn.Module, lr = 2e-3) {
  return new AdamW(model.parameters(), { lr, weightDecay: 0.05 });
}

/** `webgrad train|eval|bench vit`: the tiny ViT on a Fashion-MNIST subset, accuracy on the 10,000 test images. */
export const cli: ZooCommand = {
  summary: "Tiny ViT (7×7 patches, 4 pre-norm layers) on a Fashion-MNIST subset, accuracy on the 10,000 test images",
  verbs: ["train", "eval", "bench"],
  options: {
    "train-count": { type: "string", help: "training images used (default 12000 of 60000)" },
    "test-count": { type: "string", help: "test images scored, the first N (default all 10000; fewer for a quick run)" },
  },
  async run(ctx) {
    if (ctx.verb !== "train") return fashionEvalOrBench(ctx, "vit", () => new TinyViT(), (m) => vitOptimizer(m));
    const trainCount = ctx.num(ctx.values["train-count"], "train-count");
    const r = await trainVit({ epochs: ctx.epochs, trainCount, testCount: ctx.num(ctx.values["test-count"], "test-count"), batchSize: ctx.batchSize, seed: ctx.seed, onEpoch: (e, l, s) => ctx.log(`epoch ${e}  loss ${l.toFixed(4)}  ${s.toFixed(0)} s`) });
    ctx.log(`${fashionFigure(r)}, trained on ${r.trainCount} images, ${r.seconds.toFixed(0)} s`);
    await saveEntryWeights(ctx, "vit", r.model.stateDict(), { testCount: r.testCount });
  },
};
