// S4: the seed's MLP for binary classification on tabular data, Linear(10→5)
// → ReLU → Linear(5→1), binary cross-entropy, Adam; reports accuracy,
// precision, recall, F1 and the confusion matrix.
//
// Data (made here, seeded): 100 samples × 10 features uniform in [0, 1] (so
// already scaled to [0, 1], as the seed scales its features), labelled by a
// hidden linear rule plus noise (±0.25, so ~10% of labels sit on the "wrong"
// side and the metrics mean something), median as threshold, so the classes are
// balanced; 80 train, 20 test. Full-batch training through fit(): 100 samples
// need no batches.

import * as nn from "../nn/index.js";
import { Adam } from "../optim/index.js";
import { tensor } from "../ops/creation.js";
import { manualSeed, rng } from "../random.js";
import * as metrics from "../metrics.js";
import type { ZooCommand, CliContext } from "./command.js";
import { saveEntryWeights, loadEntryModel, runBench, lossStep } from "./common.js";
import { fit } from "../train.js";
import { noGrad } from "../autograd.js";
import { ArrayDataset, DataLoader } from "../data/loader.js";

export class TabularMLP extends nn.Module {
  fc1 = new nn.Linear(10, 5);
  relu = new nn.ReLU();
  fc2 = new nn.Linear(5, 1);
  forward(x: import("../tensor.js").Tensor) {
    return this.fc2.forward(this.relu.forward(this.fc1.forward(x)));
  }
}

export interface TabularOptions {
  epochs?: number;
  /** Rows per step (default 80: the whole training table, one step per epoch). */
  batchSize?: number;
  lr?: number;
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

export interface TabularResult {
  losses: number[];
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  confusion: number[][];
  testCount: number;
  model: TabularMLP;
  seed: number;
}

/** The seeded table: x [n, 10] in [0, 1], y ∈ {0, 1} from a hidden noisy linear rule. */
export function makeTable(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const r = rng(seed);
  const wTrue = Array.from({ length: 10 }, () => r() * 2 - 1);
  const x = new Float32Array(n * 10), score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 10; j++) x[i * 10 + j] = r();
    score[i] = wTrue.reduce((s, w, j) => s + w * x[i * 10 + j], 0) + 0.25 * (r() * 2 - 1);
  }
  const median = [...score].sort((a, b) => a - b)[n >> 1];
  return { x, y: Float32Array.from(score, (s) => (s > median ? 1 : 0)) };
}

/**
 * The test metrics of `model` on the 20 held-out rows of the table of `seed`
 * (the logits read back with await, so on every backend).
 * @example
 * const s = await scoreTabular(new TabularMLP(), 0); // s.accuracy, s.f1, s.confusion, …
 * s.testCount; // 20
 */
export async function scoreTabular(model: TabularMLP, seed: number): Promise<Omit<TabularResult, "losses" | "model" | "seed">> {
  const { x, y } = makeTable(100, seed + 11);
  const was = model.training;
  model.eval();
  const logits = noGrad(() => model.forward(tensor(x.subarray(800), { shape: [20, 10] })));
  let out: Float32Array;
  try {
    out = (await logits.data()) as Float32Array;
  } finally {
    logits.dispose();
    model.train(was);
  }
  const pred = Array.from(out, (v) => (v > 0 ? 1 : 0)); // logits: > 0 is class 1
  const target = Array.from(y.subarray(80));
  return { accuracy: metrics.accuracy(pred, target), ...metrics.precisionRecallF1(pred, target), confusion: metrics.confusionMatrix(pred, target, 2), testCount: 20 };
}

/**
 * Trains S4 and reports the test metrics.
 * @example const r = await trainTabular(); console.log(r.accuracy, r.f1);
 */
export async function trainTabular(opts: TabularOptions = {}): Promise<TabularResult> {
  const epochs = opts.epochs ?? 300, seed = opts.seed ?? 0;
  const { x, y } = makeTable(100, seed + 11);
  manualSeed(seed);
  const model = new TabularMLP();
  const opt = new Adam(model.parameters(), { lr: opts.lr ?? 0.01 });
  // full batch: one step per epoch on the 80 training rows
  const rows = new DataLoader(new ArrayDataset(x.subarray(0, 800), [10], y.subarray(0, 80)), { batchSize: opts.batchSize ?? 80 });
  const history = await fit(model, rows, {
    optimizer: opt, loss: "binaryCrossEntropyWithLogits", epochs, progress: false,
    onEpoch: (l) => opts.onEpoch?.(l.epoch - 1, l.loss),
  });
  const losses = history.map((l) => l.loss);
  return { losses, ...(await scoreTabular(model, seed)), model, seed };
}

function logFigure(ctx: CliContext, r: Omit<TabularResult, "losses" | "model" | "seed">): void {
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  ctx.log(`test (${r.testCount} samples): accuracy ${pct(r.accuracy)}, precision ${pct(r.precision)}, recall ${pct(r.recall)}, F1 ${pct(r.f1)}`);
  ctx.log(`confusion matrix (rows: true 0/1, columns: predicted 0/1): ${JSON.stringify(r.confusion)}`);
}

/** `webgrad train|eval|bench mlp-tabular`: S4 with accuracy, precision, recall, F1 and the confusion matrix. */
export const cli: ZooCommand = {
  summary: "S4: MLP 10→5→1 on a [0, 1]-scaled table; accuracy, precision, recall, F1",
  verbs: ["train", "eval", "bench"],
  async run(ctx) {
    if (ctx.verb === "bench") {
      manualSeed(ctx.seed ?? 0);
      const model = new TabularMLP(), opt = new Adam(model.parameters(), { lr: 0.01 });
      const { x, y } = makeTable(80, 1);
      const xt = tensor(x, { shape: [80, 10] }).keep(), yt = tensor(y, { shape: [80, 1] }).keep();
      return runBench(ctx, "mlp-tabular", {
        batchSize: 80, // the recipe trains on the whole table at once
        trainStep: () => lossStep(opt, () => nn.binaryCrossEntropyWithLogits(model.forward(xt), yt)),
        infer: () => model.forward(xt),
      });
    }
    if (ctx.verb === "eval") {
      const { model, settings } = await loadEntryModel(ctx, "mlp-tabular", () => new TabularMLP());
      return logFigure(ctx, await scoreTabular(model, settings.seed ?? 0));
    }
    const r = await trainTabular({ epochs: ctx.epochs, batchSize: ctx.batchSize, seed: ctx.seed, onEpoch: (e, l) => (e + 1) % 50 === 0 && ctx.log(`epoch ${e + 1}  loss ${l.toFixed(4)}`) });
    logFigure(ctx, r);
    await saveEntryWeights(ctx, "mlp-tabular", r.model.stateDict(), { seed: r.seed });
  },
};
