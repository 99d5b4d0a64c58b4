// S5: the seed's ConvNet for 32×32 colour images read from class folders:
// Conv(3→32, 3, pad 1) → ReLU → MaxPool 2 → Conv(32→64, 3, pad 1) → ReLU →
// MaxPool 2 → Linear(64·8·8→128) → ReLU → Linear(128→10), cross-entropy,
// Adam lr 0.001, batch 64, 10 epochs, accuracy after every epoch; then the
// weights go to a safetensors file (PyTorch names) and back into a fresh
// model, which is evaluated again.
//
// Data: `--folder DIR` with DIR/train and DIR/test (one sub-folder per class),
// or, when none is given, Fashion-MNIST written as such a folder (32×32,
// three channels, PNG; see writeFashionMnistFolder) in the cache folder.
// Recipe beyond the seed's: inputs normalised with the training images'
// per-channel mean and std; a horizontal flip half the time; the lr follows a
// cosine from 0.001 to 0 over the run, which is 6 epochs rather than the
// seed's 10: on this 2-core machine an epoch of 60,000 images takes minutes
// (see docs/ZOO-DATA.md).

import * as nn from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { Tensor } from "../tensor.js";
import { tensor } from "../ops/creation.js";
import { manualSeed } from "../random.js";
import { scope } from "../scope.js";
import { ArrayDataset, DataLoader } from "../data/loader.js";
import { hflip, randomCropPad, normalizeChannels } from "../data/transforms.js";
import { readImageFolder, imageFolderDataset, writeFashionMnistFolder, defaultFashionFolder, type LabelledImages } from "../data/folder.js";
import { saveSafetensors, loadSafetensors } from "../io/checkpoint.js";
import { evaluateAsync, fit, LearningRateSchedule, type Callback } from "../train.js";
import type { ZooCommand } from "./command.js";
import { randn } from "../ops/random.js";
import { weightsPath, loadEntryModel, runBench, classifierBench, pct, int8Comparison, int8Lines, type Int8Figures } from "./common.js";

export class ConvNet extends nn.Module {
  conv1: nn.Conv2d;
  conv2: nn.Conv2d;
  pool = new nn.MaxPool2d(2);
  relu = new nn.ReLU();
  fc1: nn.Linear;
  fc2: nn.Linear;
  constructor(readonly classes = 10, readonly inChannels = 3, readonly size = 32) {
    super();
    if (size % 4 !== 0) throw new Error(`ConvNet: image size ${size} must be a multiple of 4 (two 2×2 pools)`);
    this.conv1 = new nn.Conv2d(inChannels, 32, 3, 1, 1);
    this.conv2 = new nn.Conv2d(32, 64, 3, 1, 1);
    this.fc1 = new nn.Linear(64 * (size / 4) * (size / 4), 128);
    this.fc2 = new nn.Linear(128, classes);
  }
  forward(x: Tensor): Tensor {
    let h = this.pool.forward(this.relu.forward(this.conv1.forward(x)));
    h = this.pool.forward(this.relu.forward(this.conv2.forward(h)));
    return this.fc2.forward(this.relu.forward(this.fc1.forward(h.flatten(1))));
  }
}

export interface ConvNetTrainOptions {
  /** Folder with train/ and test/ sub-folders (one folder per class in each); default: Fashion-MNIST written as one. */
  folder?: string;
  /** Where the Fashion-MNIST folder is cached (default defaultFashionFolder()). */
  cacheDir?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Horizontal flips half the time (default true). */
  augment?: boolean;
  /** Also shift by up to ±shift pixels (random crop with that padding; default 0). */
  shift?: number;
  /** Cosine lr decay to 0 over the run (default true); false keeps lr constant as the seed does. */
  cosine?: boolean;
  /** Read at most this many images per class from each split (quick runs). */
  limitPerClass?: number;
  /** Where the trained weights go (default <folder>/convnet.safetensors). */
  weightsPath?: string;
  onStep?: (p: { epoch: number; epochs: number; step: number; steps: number; loss: number; samplesPerSec: number }) => void;
  onEpoch?: (p: { epoch: number; epochs: number; loss: number; testAccuracy: number; seconds: number; samplesPerSec: number }) => void;
  log?: (line: string) => void;
}

export interface ConvNetResult {
  testAccuracy: number;
  /** Accuracy of a fresh model loaded from the saved safetensors file. */
  reloadedAccuracy: number;
  /** Accuracy of that model with its Linear and Conv2d layers on the int8 kernels (wg.quantizeDynamic). */
  int8Accuracy: number;
  /** int8 against f32, Linear only and Linear + Conv2d: accuracies and inference times. */
  int8: Int8Figures[];
  accuracies: number[];
  losses: number[];
  trainCount: number;
  testCount: number;
  secondsPerEpoch: number;
  weightsPath: string;
  classes: string[];
  model: ConvNet;
}

/** Per-channel mean and std of a set of C×H×W images. */
function channelStats(set: LabelledImages): { mean: number[]; std: number[] } {
  const px = set.height * set.width, mean: number[] = [], std: number[] = [];
  for (let c = 0; c < set.channels; c++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < set.count; i++) {
      const at = (i * set.channels + c) * px;
      for (let p = at; p < at + px; p++) {
        s += set.images[p];
        s2 += set.images[p] * set.images[p];
      }
    }
    const n = set.count * px, m = s / n;
    mean.push(m);
    std.push(Math.sqrt(Math.max(1e-12, s2 / n - m * m)));
  }
  return { mean, std };
}

/**
 * Accuracy of `model` on a dataset of images, in batches, without the tape
 * (evaluateAsync: the predictions are read back with await, so on every backend).
 * @example
 * const testSet = new wg.data.ArrayDataset(wg.rand([6, 1, 8, 8]).dataSync(), [1, 8, 8], Int32Array.of(0, 1, 0, 1, 0, 1));
 * const acc = await accuracyOn(new ConvNet(2, 1, 8), testSet); // the fraction right: 0.92… for the trained recipe
 * acc >= 0 && acc <= 1; // true
 */
export async function accuracyOn(model: nn.Module, ds: ArrayDataset, batch = 256): Promise<number> {
  return (await evaluateAsync(model, new DataLoader(ds, { batchSize: batch }), { loss: "crossEntropy" })).accuracy;
}

/** The test half of an image folder, as the recipe reads it (32×32, three channels). */
function readTestFolder(folder: string, limitPerClass?: number): Promise<LabelledImages> {
  return readImageFolder(`${folder}/test`, { size: [32, 32], channels: 3, limitPerClass });
}

/**
 * Trains S5 on an image folder, saves and reloads the weights.
 * @example const r = await trainConvNet({ epochs: 1, limitPerClass: 20 }); r.testAccuracy, r.reloadedAccuracy;
 */
export async function trainConvNet(opts: ConvNetTrainOptions = {}): Promise<ConvNetResult> {
  const log = opts.log ?? (() => {});
  const epochs = opts.epochs ?? 6, bs = opts.batchSize ?? 64, seed = opts.seed ?? 0, lr = opts.lr ?? 0.001;
  let folder = opts.folder;
  if (!folder) {
    folder = opts.cacheDir ?? (await defaultFashionFolder(32));
    const t0 = performance.now();
    await writeFashionMnistFolder(folder, { size: 32, onProgress: (n, total) => log(`writing Fashion-MNIST as PNG: ${n}/${total}`) });
    log(`Fashion-MNIST image folder: ${folder} (${((performance.now() - t0) / 1000).toFixed(1)} s to check or write)`);
  }
  const t0 = performance.now();
  const trainImages = await readImageFolder(`${folder}/train`, { size: [32, 32], channels: 3, limitPerClass: opts.limitPerClass });
  const testImages = await readTestFolder(folder, opts.limitPerClass);
  if (trainImages.classes.join() !== testImages.classes.join()) {
    throw new Error(`convnet: ${folder}/train has classes [${trainImages.classes}] but ${folder}/test has [${testImages.classes}]`);
  }
  log(`read ${trainImages.count} training and ${testImages.count} test images of ${trainImages.classes.length} classes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const { mean, std } = channelStats(trainImages);
  for (const s of [trainImages, testImages]) normalizeChannels(s.images, mean, std, 32 * 32);
  const train = imageFolderDataset(trainImages), test = imageFolderDataset(testImages);

  manualSeed(seed);
  const model = new ConvNet(trainImages.classes.length);
  const opt = new Adam(model.parameters(), { lr });
  const scratch = new Float32Array(3 * 32 * 32);
  // The flip/shift act on normalised values: padding fills with 0, the mean.
  const shift = opts.shift ?? 0;
  const transform = opts.augment === false ? undefined : (x: Float32Array, random: () => number) => {
    if (shift > 0) {
      randomCropPad(x, scratch, 3, 32, 32, shift, random);
      x.set(scratch);
    }
    if (random() < 0.5) hflip(x, 3, 32, 32);
  };
  const loader = new DataLoader(train, { batchSize: bs, shuffle: true, seed, transform });
  const steps = loader.length, accuracies: number[] = [];
  let seconds = 0, e0 = 0, sec = 0;
  const timer: Callback = { onStepBegin: (_ctx, step) => void (step % steps === 0 && (e0 = performance.now())) };
  // the test accuracy after every epoch (the seed's printout), outside the epoch's training time
  const score: Callback = {
    async onEpochEnd(_ctx, l) {
      accuracies.push(await accuracyOn(model, test));
      opts.onEpoch?.({ epoch: l.epoch - 1, epochs, loss: l.loss, testAccuracy: accuracies[l.epoch - 1], seconds: sec, samplesPerSec: train.length / sec });
    },
  };
  const history = await fit(model, loader, {
    optimizer: opt, loss: "crossEntropy", epochs, progress: false, onEpoch: () => {},
    callbacks: [timer, ...(opts.cosine !== false ? [LearningRateSchedule.cosine(epochs * steps)] : []), score],
    onStep: (epoch, step, _n, loss) => {
      const el = (performance.now() - e0) / 1000;
      if (step === steps) seconds += sec = el;
      opts.onStep?.({ epoch, epochs, step, steps, loss, samplesPerSec: Math.min(train.length, step * bs) / el });
    },
  });
  const losses = history.map((l) => l.loss);

  const weightsPath = opts.weightsPath ?? `${folder}/convnet.safetensors`;
  // the settings `webgrad eval convnet` needs to read and normalise the same test folder
  const settings = { folder, limitPerClass: opts.limitPerClass, classes: trainImages.classes, mean, std };
  await saveSafetensors(weightsPath, model.stateDict(), {
    format: "pt", classes: JSON.stringify(trainImages.classes), mean: JSON.stringify(mean), std: JSON.stringify(std),
    webgrad_entry: "convnet", webgrad_settings: JSON.stringify(settings),
  });
  const fresh = new ConvNet(trainImages.classes.length);
  fresh.loadStateDict((await loadSafetensors(weightsPath)).tensors);
  const reloadedAccuracy = await accuracyOn(fresh, test);
  const int8 = await convNetInt8(fresh, test);
  return {
    int8Accuracy: int8[1].int8, int8,
    testAccuracy: accuracies[accuracies.length - 1], reloadedAccuracy, accuracies, losses, trainCount: train.length, testCount: test.length,
    secondsPerEpoch: seconds / epochs, weightsPath, classes: trainImages.classes, model,
  };
}

/**
 * S5 on the int8 kernels: copies with the Linear layers, then the Linear and
 * Conv2d layers, quantised (wg.quantizeDynamic), scored on the test set, and a
 * batch of 256 (or of the test images, when fewer: quick runs, 2 rounds) timed
 * on each beside the f32 model.
 */
async function convNetInt8(model: ConvNet, test: ArrayDataset): Promise<Int8Figures[]> {
  const copy = () => { const c = new ConvNet(model.classes, model.inChannels, model.size); c.loadStateDict(model.stateDict()); return c; };
  const batch = Math.min(256, test.length);
  const x = randn([batch, model.inChannels, model.size, model.size]).keep();
  const out: Int8Figures[] = [];
  for (const layers of [["Linear"], ["Linear", "Conv2d"]] as const) {
    out.push({ ...await int8Comparison(model, copy, (m) => accuracyOn(m, test), (m) => m.forward(x), { layers: [...layers], rounds: batch < 256 ? 2 : 10 }), batch });
  }
  x.dispose();
  return out;
}

const figure = (acc: number, count: number) => `test accuracy ${pct(acc)} on ${count} test images`;

/** `webgrad train|eval|bench convnet [--folder DIR]`: S5 with per-epoch test accuracy, then the save/reload check. */
export const cli: ZooCommand = {
  summary: "S5: the seed's ConvNet on 32×32 colour images from class folders (default: Fashion-MNIST written as PNG)",
  verbs: ["train", "eval", "bench"],
  options: {
    folder: { type: "string", help: "folder with train/ and test/, one sub-folder per class (default: Fashion-MNIST as PNG in the cache)" },
    cache: { type: "string", help: "where to write the Fashion-MNIST folder (default $WEBGRAD_CACHE or ~/.cache/webgrad/fashion-mnist-folder-32)" },
    "no-augment": { type: "boolean", help: "train without flips" },
    shift: { type: "string", help: "also shift images by up to this many pixels (random crop with padding; default 0)" },
    "constant-lr": { type: "boolean", help: "keep lr 0.001 throughout (the seed's), no cosine decay" },
    limit: { type: "string", help: "read at most this many images per class (quick runs)" },
  },
  async run(ctx) {
    if (ctx.verb === "bench") {
      manualSeed(ctx.seed ?? 0);
      const model = new ConvNet(10);
      return runBench(ctx, "convnet", classifierBench(model, new Adam(model.parameters(), { lr: 0.001 }), [64, 3, 32, 32], 10));
    }
    if (ctx.verb === "eval") {
      const { model, settings } = await loadEntryModel(ctx, "convnet", (s) => new ConvNet((s.classes ?? []).length || 10));
      const folder = (ctx.values.folder as string | undefined) ?? settings.folder;
      if (!folder) throw new Error("convnet: the weights file does not say which folder it was trained on: pass --folder DIR");
      const test = await readTestFolder(folder, ctx.num(ctx.values.limit, "limit") ?? settings.limitPerClass);
      if (settings.classes && test.classes.join() !== settings.classes.join()) {
        throw new Error(`convnet: ${folder}/test has classes [${test.classes}] but the weights were trained on [${settings.classes}]`);
      }
      normalizeChannels(test.images, settings.mean, settings.std, 32 * 32);
      const ds = imageFolderDataset(test);
      ctx.log(figure(await accuracyOn(model, ds), test.count));
      for (const r of await convNetInt8(model, ds)) for (const line of int8Lines(r, "accuracy", r.batch ?? 256)) ctx.log(line);
      return;
    }
    const progress = await ctx.progress();
    const r = await trainConvNet({
      folder: ctx.values.folder as string | undefined, cacheDir: ctx.values.cache as string | undefined,
      epochs: ctx.epochs, batchSize: ctx.batchSize, seed: ctx.seed, augment: !ctx.values["no-augment"], shift: ctx.num(ctx.values.shift, "shift"), cosine: !ctx.values["constant-lr"],
      limitPerClass: ctx.num(ctx.values.limit, "limit"), weightsPath: weightsPath(ctx, "convnet"),
      onStep: progress, log: ctx.log,
      onEpoch: (p) => {
        progress({ ...p, step: 1, steps: 1, done: true });
        ctx.log(`epoch ${p.epoch + 1}/${p.epochs}: loss ${p.loss.toFixed(4)}, test accuracy ${pct(p.testAccuracy)} (${p.seconds.toFixed(1)} s)`);
      },
    });
    progress.stop();
    ctx.log(`trained on ${r.trainCount} images, ${r.secondsPerEpoch.toFixed(1)} s per epoch`);
    ctx.log(figure(r.testAccuracy, r.testCount));
    ctx.log(`weights saved to ${r.weightsPath}; a fresh model loaded from it scores ${pct(r.reloadedAccuracy)}`);
    for (const f of r.int8) for (const line of int8Lines(f, "accuracy", f.batch ?? 256)) ctx.log(line);
  },
};
