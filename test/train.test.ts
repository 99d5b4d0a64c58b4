// The training workflow's pieces: datasets and loaders (split, shuffling,
// drop-last, transforms, bad shapes), fit() with validation, metrics and
// callbacks (early stopping with restore, learning-rate schedules), gradient
// clipping, evaluate() and predict().

import { test } from "uvu";
import * as assert from "uvu/assert";
import { rejects } from "./harness.js";
import * as wg from "../host/index.js";

await wg.init({ threads: 1, verbose: false });

const ds = (n: number) => new wg.data.ArrayDataset(Float32Array.from({ length: n * 2 }, (_, i) => i), [2], Int32Array.from({ length: n }, (_, i) => i));

test("ArrayDataset: split is a seeded partition; subset copies; bad shapes are refused", () => {
  const [a, b, c] = ds(10).split([0.6, 0.2, 0.2], 3);
  assert.equal([a.length, b.length, c.length], [6, 2, 2]);
  const ids = [...a.y, ...b.y, ...c.y].sort((x, y) => x - y);
  assert.equal(ids, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "every sample once");
  assert.equal(Array.from(ds(10).split([0.6, 0.2, 0.2], 3)[0].y), Array.from(a.y), "same seed, same split");
  const s = ds(10).subset([4, 1]);
  assert.equal(Array.from(s.x), [8, 9, 2, 3]);
  assert.throws(() => new wg.data.ArrayDataset(new Float32Array(5), [2], new Int32Array(2)), /do not split into samples of shape \[2\]/);
  assert.throws(() => new wg.data.ArrayDataset(new Float32Array(4), [2], new Int32Array(3)), /2 samples but 3 target values/);
  assert.throws(() => ds(4).split([0.5, 0.6]), /sum to 1/);
});

test("DataLoader: batches, drop-last, a new seeded order each epoch, transforms on copies", () => {
  const loader = new wg.data.DataLoader(ds(10), { batchSize: 4 });
  const sizes = [...loader].map((b) => wg.scope(() => b.size));
  assert.equal(sizes, [4, 4, 2]);
  assert.is(new wg.data.DataLoader(ds(10), { batchSize: 4, dropLast: true }).length, 2);
  const order = (l: wg.data.DataLoader) => [...l].flatMap((b) => Array.from(b.y.dataSync()));
  const shuffled = new wg.data.DataLoader(ds(10), { batchSize: 3, shuffle: true, seed: 1 });
  const e1 = order(shuffled), e2 = order(shuffled);
  assert.equal([...e1].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.not.equal(e1, e2, "a new order each epoch");
  assert.equal(order(new wg.data.DataLoader(ds(10), { batchSize: 3, shuffle: true, seed: 1 })), e1, "seeded");
  const data = ds(2);
  const t = new wg.data.DataLoader(data, { batchSize: 2, transform: (s) => s.fill(-1) });
  const [b] = [...t];
  assert.equal(Array.from(b.x.dataSync()), [-1, -1, -1, -1]);
  assert.equal(Array.from(data.x), [0, 1, 2, 3], "the dataset itself is untouched");
  assert.equal(b.y.dtype, "int32");
});

/** A separable two-class problem: class = x0 > x1. */
function twoClass(n: number, seed: number) {
  const r = wg.data.shuffled(n * 2, seed);
  const x = Float32Array.from(r, (v) => v / (n * 2));
  const y = Int32Array.from({ length: n }, (_, i) => (x[2 * i] > x[2 * i + 1] ? 1 : 0));
  return new wg.data.ArrayDataset(x, [2], y);
}

test("fit: loss falls, validation and accuracy are logged, evaluate and predict agree", async () => {
  wg.manualSeed(0);
  const model = new wg.nn.Sequential(new wg.nn.Linear(2, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 2));
  const [train, val] = twoClass(400, 1).split([0.8, 0.2], 0);
  const history = await wg.fit(model, new wg.data.DataLoader(train, { batchSize: 32, shuffle: true }), {
    optimizer: new wg.optim.Adam(model.parameters(), { lr: 0.05 }), loss: "crossEntropy", epochs: 8,
    validation: new wg.data.DataLoader(val, { batchSize: 100 }), metrics: ["accuracy"], onEpoch: () => {},
  });
  assert.is(history.length, 8);
  assert.ok(history[7].loss < 0.5 * history[0].loss, `loss ${history[0].loss} → ${history[7].loss}`);
  assert.ok(history[7].valAccuracy! > 0.9, `val accuracy ${history[7].valAccuracy}`);
  const e = wg.evaluate(model, new wg.data.DataLoader(val, { batchSize: 7 }), { loss: "crossEntropy" });
  assert.ok(Math.abs(e.accuracy - history[7].valAccuracy!) < 1e-12, "evaluate == the last validation");
  const out = wg.predict(model, new wg.data.DataLoader(val, { batchSize: 7 }));
  const pred = Array.from({ length: val.length }, (_, i) => (out[2 * i + 1] > out[2 * i] ? 1 : 0));
  assert.ok(Math.abs(wg.metrics.accuracy(pred, val.y) - e.accuracy) < 1e-12, "predict → the same accuracy");
});

test("EarlyStopping stops after `patience` epochs without improvement and restores the best weights", async () => {
  wg.manualSeed(0);
  const model = new wg.nn.Linear(2, 2);
  const data = twoClass(64, 2);
  const stopper = new wg.EarlyStopping({ monitor: "loss", patience: 2, restoreBest: true });
  // lr so large that the loss bounces: the best epoch comes early
  const history = await wg.fit(model, new wg.data.DataLoader(data, { batchSize: 64 }), {
    optimizer: new wg.optim.SGD(model.parameters(), { lr: 40 }), loss: "crossEntropy", epochs: 30, callbacks: [stopper], onEpoch: () => {},
  });
  assert.ok(history.length < 30, `stopped after ${history.length} epochs`);
  assert.is(stopper.stoppedEpoch, history.length);
  assert.is(stopper.stoppedEpoch - stopper.bestEpoch, 2, "patience 2");
  const restored = wg.evaluate(model, new wg.data.DataLoader(data, { batchSize: 64 }), { loss: "crossEntropy" }).loss;
  const best = Math.min(...history.map((h) => h.loss));
  assert.ok(restored <= best + 1e-6 || restored < history[history.length - 1].loss, `restored loss ${restored}, best epoch loss ${best}`);
  assert.throws(() => new wg.EarlyStopping({ monitor: "valLoss" }).onEpochEnd({} as any, { epoch: 1, loss: 1, lr: 1, seconds: 0 }), /"valLoss" is not logged/);
});

test("learning-rate schedules: step, cosine, warm-up", () => {
  const at = (s: wg.LearningRateSchedule, step: number) => s.factor(step, 0.1);
  const st = wg.LearningRateSchedule.step(10, 0.5);
  assert.equal([at(st, 0), at(st, 9), at(st, 10), at(st, 25)], [0.1, 0.1, 0.05, 0.025]);
  const cos = wg.LearningRateSchedule.cosine(100, 0.01);
  assert.ok(Math.abs(at(cos, 0) - 0.1) < 1e-12 && Math.abs(at(cos, 50) - 0.055) < 1e-12 && Math.abs(at(cos, 100) - 0.01) < 1e-12);
  const wu = wg.LearningRateSchedule.warmup(4, st);
  assert.equal([at(wu, 0), at(wu, 3), at(wu, 4), at(wu, 14)], [0.025, 0.1, 0.1, 0.05]);
});

// The zoo's schedules before they moved onto LearningRateSchedule.cosine, verbatim:
// the schedule must give the lr every recipe had, step for step.
const OLD = {
  // host/zoo/common.ts warmupCosineFloor (transformer, bert): 1-based step
  floor5: (step: number, lr: number, warmup: number, steps: number) => step <= warmup ? (lr * step) / warmup : lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / Math.max(1, steps - warmup)))),
  // host/zoo/gpt.ts warmupCosine: 0-based step
  gpt: (step: number, lr: number, warmup: number, total: number) => {
    if (step < warmup) return (lr * (step + 1)) / warmup;
    const t = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
    return lr / 10 + ((lr - lr / 10) * (1 + Math.cos(Math.PI * t))) / 2;
  },
  // host/zoo/lstm.ts: 1-based step
  lstm: (step: number, baseLr: number, steps: number) => baseLr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (step - 1)) / steps))),
  // host/zoo/convnet.ts: 0-based step over the run
  convnet: (step: number, lr: number, total: number) => (lr * (1 + Math.cos((Math.PI * step) / total))) / 2,
  // host/zoo/resnet.ts: 0-based k of total
  resnet: (k: number, baseLr: number, total: number) => baseLr * 0.5 * (1 + Math.cos((Math.PI * k) / total)),
  // host/zoo/vit.ts: 0-based k0 of total
  vit: (k0: number, baseLr: number, total: number) => {
    const k = k0 + 1, warmup = Math.min(100, total);
    return k <= warmup ? (baseLr * k) / warmup : baseLr * 0.5 * (1 + Math.cos((Math.PI * (k - warmup)) / (total - warmup)));
  },
};

test("LearningRateSchedule.cosine gives every zoo recipe's old lr, step for step", () => {
  const same = (what: string, total: number, sched: wg.LearningRateSchedule, old: (s: number) => number, base: number) => {
    for (let s = 0; s < total; s++) {
      const a = sched.lrAt(s, base), b = old(s);
      assert.ok(Math.abs(a - b) <= 1e-15 * base, `${what} step ${s}: ${a} vs the old ${b}`);
    }
  };
  const C = wg.LearningRateSchedule.cosine;
  for (const [steps, warmup] of [[2500, 200], [3000, 100], [300, 30], [50, 50], [10, 0]]) {
    same(`transformer/bert ${steps}/${warmup}`, steps, C(steps, { warmup, floor: 0.05, reachFloor: true }), (s) => OLD.floor5(s + 1, 1e-3, warmup, steps), 1e-3);
  }
  for (const [steps, warmup] of [[400, 40], [3000, 100], [20, 2]]) same(`gpt ${steps}`, steps, C(steps, { warmup, floor: 0.1 }), (s) => OLD.gpt(s, 3e-3, warmup, steps), 3e-3);
  for (const steps of [600, 120]) same(`lstm ${steps}`, steps, C(steps, { floor: 0.1 }), (s) => OLD.lstm(s + 1, 3e-3, steps), 3e-3);
  same("convnet 6×938", 6 * 938, C(6 * 938), (s) => OLD.convnet(s, 1e-3, 6 * 938), 1e-3);
  same("resnet 4×187", 4 * 187, C(4 * 187), (s) => OLD.resnet(s, 0.05, 4 * 187), 0.05);
  for (const total of [5 * 187, 40, 100]) same(`vit ${total}`, total, C(total, { warmup: Math.min(100, total), reachFloor: true }), (s) => OLD.vit(s, 2e-3, total), 2e-3);
  assert.throws(() => C(10, { floor: 0.1, minLr: 0.01 }), /not both/);
  assert.throws(() => C(10, { warmUp: 3 } as any), /unknown option "warmUp"/);
});

test("fit: several optimizers, a forward and loss function, a generated batch source, WeightAveraging", async () => {
  wg.manualSeed(1);
  const model = new wg.nn.Sequential(new wg.nn.Linear(2, 4), new wg.nn.ReLU(), new wg.nn.Linear(4, 1));
  const [first, ...rest] = model.parameters();
  const a = new wg.optim.SGD([first], { lr: 0.1 }), b = new wg.optim.SGD(rest, { lr: 0.05 });
  const lrs: number[][] = [], stepLosses: number[] = [];
  const random = wg.data.shuffled(1000, 2);
  let i = 0;
  const source: wg.BatchSource<{ pts: Float32Array; size: number }> = {
    length: 5,
    *[Symbol.iterator]() { for (let k = 0; k < 5; k++) yield { pts: Float32Array.from({ length: 16 }, () => random[i++ % 1000] / 1000), size: 8 }; },
  };
  const avg = new wg.WeightAveraging({ lastEpochs: 2 });
  const seen: number[][] = [];
  const history = await wg.fit(model, source, {
    optimizer: [a, b], epochs: 3, onEpoch: () => {},
    forward: (m, bt) => m.forward(wg.tensor(bt.pts, { shape: [8, 2] })),
    loss: (out, bt) => out.sub(wg.tensor(Float32Array.from({ length: 8 }, (_, j) => bt.pts[2 * j] + bt.pts[2 * j + 1]), { shape: [8, 1] })).square().mean(),
    callbacks: [wg.LearningRateSchedule.cosine(15), { onStepBegin: () => lrs.push([a.lr, b.lr]), onEpochEnd: (ctx) => { seen.push(Array.from(ctx.model.parameters()[3].dataSync())); } }, avg],
    onStep: (_e, _s, _n, _mean, l) => stepLosses.push(l),
  });
  assert.is(history.length, 3);
  assert.is(stepLosses.length, 15, "onStep gets each step's own loss");
  assert.ok(Math.abs(history[0].loss - stepLosses.slice(0, 5).reduce((x, y) => x + y) / 5) < 1e-6, "the epoch's loss is its steps' mean");
  assert.equal(lrs[0], [0.1, 0.05], "each optimizer keeps its own base lr");
  assert.ok(Math.abs(lrs[10][0] / lrs[10][1] - 2) < 1e-12 && lrs[10][0] < 0.1);
  // epochs 2 and 3 averaged: the model holds their mean at the end of epoch 3
  const final = model.parameters()[3].dataSync()[0];
  assert.ok(Math.abs(final - (seen[1][0] + seen[2][0]) / 2) < 1e-6, `averaged bias ${final} vs ${seen[1][0]}, ${seen[2][0]}`);
  assert.is(avg.count, 2);
  await rejects(() => wg.fit(model, source, { optimizer: a, loss: (o) => o.mean(), metrics: ["accuracy"] }), /accuracy metric needs a loss name/);
  await rejects(() => wg.fit(model, source, { optimizer: a, loss: "mse" }), /batch has no tensor x/);
});


test("clipGradNorm rescales to the max norm and reports the norm before, as a tensor", () => {
  const a = wg.tensor([0, 0], { requiresGrad: true }), b = wg.tensor([0], { requiresGrad: true });
  a.mul(wg.tensor([3, 0])).sum().add(b.mul(4).sum()).backward(); // grads [3, 0] and [4]: norm 5
  const norm = wg.clipGradNorm([a, b], 1);
  assert.equal(norm.shape, []);
  assert.ok(Math.abs(norm.item() - 5) < 1e-6);
  const g = [...a.grad!.dataSync(), ...b.grad!.dataSync()];
  assert.ok(Math.abs(g[0] - 0.6) < 1e-5 && Math.abs(g[2] - 0.8) < 1e-5, `${g}`);
});

test("ModelCheckpoint: saves each epoch (or only improvements) atomically, and the file resumes the model and optimizer", async () => {
  const { mkdtempSync, existsSync, readdirSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(`${tmpdir()}/wg-ckpt-`);
  const xs = Float32Array.from({ length: 64 * 2 }, (_, i) => Math.sin(i));
  const ys = Float32Array.from({ length: 64 }, (_, i) => (xs[2 * i] + xs[2 * i + 1] > 0 ? 1 : 0));
  const data = new wg.data.ArrayDataset(xs, [2], ys);
  wg.manualSeed(0);
  const model = new wg.nn.Sequential(new wg.nn.Linear(2, 4), new wg.nn.ReLU(), new wg.nn.Linear(4, 1), new wg.nn.Sigmoid());
  const optimizer = new wg.optim.Adam(model.parameters(), { lr: 0.05 });
  const every = new wg.ModelCheckpoint({ path: `${dir}/e{epoch}.safetensors`, monitor: "loss" });
  const best = new wg.ModelCheckpoint({ path: `${dir}/best.safetensors`, monitor: "valLoss", saveBestOnly: true });
  const loader = new wg.data.DataLoader(data, { batchSize: 16 });
  await wg.fit(model, loader, { optimizer, loss: "binaryCrossEntropy", epochs: 3, validation: loader, callbacks: [every, best], onEpoch: () => {}, progress: false });
  assert.equal(every.saved, [1, 2, 3].map((e) => `${dir}/e${e}.safetensors`));
  assert.ok(best.saved.length >= 1 && best.saved.every((p) => p === `${dir}/best.safetensors`));
  assert.ok(existsSync(`${dir}/e3.safetensors`) && readdirSync(dir).every((f) => !f.includes(".tmp-")), "no temporary files left");
  wg.manualSeed(5);
  const fresh = new wg.nn.Sequential(new wg.nn.Linear(2, 4), new wg.nn.ReLU(), new wg.nn.Linear(4, 1), new wg.nn.Sigmoid());
  const freshOpt = new wg.optim.Adam(fresh.parameters(), { lr: 0.05 });
  const { step, extra } = await wg.io.loadCheckpoint(`${dir}/e3.safetensors`, { model: fresh, optimizer: freshOpt });
  assert.is(step, 3 * loader.length);
  assert.is((extra as { epoch: number }).epoch, 3);
  model.parameters().forEach((p, i) => assert.equal(Array.from(fresh.parameters()[i].dataSync()), Array.from(p.dataSync())));
  assert.throws(() => new wg.ModelCheckpoint({} as any), /a path is required/);
  const noVal = new wg.ModelCheckpoint({ path: `${dir}/x.safetensors`, saveBestOnly: true });
  let err = "";
  try {
    await wg.fit(model, loader, { optimizer, loss: "binaryCrossEntropy", epochs: 1, callbacks: [noVal], onEpoch: () => {}, progress: false });
  } catch (e) {
    err = (e as Error).message;
  }
  assert.match(err, /"valLoss" is not logged/);
  const { rmSync } = await import("node:fs");
  rmSync(dir, { recursive: true, force: true });
});

test.run();
