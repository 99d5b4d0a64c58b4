// The demo's engine, in a module Web Worker so training never blocks the page:
// webgrad is imported as the built package (dist/host/index.js), the network
// is S1 from host/zoo/mnist-cnn.ts (same layers, same parameter names, so its
// weights load in `webgrad eval mnist-cnn` and back), trained with the seed's
// optimizer: SGD lr 0.01, momentum 0.9, batch 64. One worker runs one backend;
// the page switches backends by starting a new worker and handing it the
// weights (tensors of one engine cannot cross into another).
//
// Messages in:  init {backend, threads, seed} · train {epochs, augment, evalEvery}
//               · stop · predict {pixels} · save {store} · restore {store}
//               · getWeights · setWeights {weights} · evaluate
// Messages out: ready {info} · progress {…} · trained {…} · prediction {probs}
//               · saved/restored {…} · weights {weights} · accuracy {…} · error {message}

import * as wg from "../dist/host/index.js";
import { serveMessages } from "./serve-messages.js";
import { MNIST_MEAN, MNIST_STD, MNIST_AUGMENT, HOLDOUT, HOLDOUT_SEED, CHECKPOINT } from "./settings.js";

class MnistCNN extends wg.nn.Module {
  conv1 = new wg.nn.Conv2d(1, 16, 3, 1);
  relu = new wg.nn.ReLU();
  pool = new wg.nn.MaxPool2d(2);
  fc = new wg.nn.Linear(16 * 13 * 13, 10);
  forward(x) {
    const h = this.pool.forward(this.relu.forward(this.conv1.forward(x)));
    return this.fc.forward(h.flatten(1));
  }
}

let model = null, opt = null, info = null;
let data = null; // { images: Float32Array (normalised), raw: Float32Array ([0,1]), labels, count, train, test }
let stopping = false, training = false, step = 0;

const post = (type, body = {}) => self.postMessage({ type, ...body });

/** The digits the server serves as /mnist.bin (scripts/demo.mjs: mnistBinary), validated before use. */
async function loadDigits() {
  if (data) return data;
  const res = await fetch(new URL("../mnist.bin", import.meta.url));
  if (!res.ok) throw new Error(`/mnist.bin: HTTP ${res.status}: ${await res.text()}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const view = new DataView(bytes.buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  const count = bytes.length >= 16 ? view.getUint32(4, true) : 0;
  if (magic !== "MNST" || view.getUint32(8, true) !== 28 || view.getUint32(12, true) !== 28 || bytes.length !== 16 + count * 785) {
    throw new Error(`/mnist.bin is not the demo's digit file (${bytes.length} bytes)`);
  }
  const labels = Int32Array.from(bytes.subarray(16, 16 + count));
  const raw = new Float32Array(count * 784);
  const px = bytes.subarray(16 + count);
  for (let i = 0; i < raw.length; i++) raw[i] = px[i] / 255;
  // the held-out split of host/zoo/mnist-cnn.ts (splitHoldout): the same 2,000 digits
  const order = wg.data.shuffled(count, HOLDOUT_SEED);
  data = { raw, labels, count, test: order.slice(0, HOLDOUT), train: order.slice(HOLDOUT) };
  return data;
}

function normalized(pixels) {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i] - MNIST_MEAN) / MNIST_STD;
  return out;
}

/** The digits idx[from..to) (augmented when `random` is given), normalised, with their labels. */
function batch(idx, from, to, random) {
  const n = to - from, x = new Float32Array(n * 784), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = idx[from + i];
    const src = data.raw.subarray(k * 784, k * 784 + 784), dst = x.subarray(i * 784, i * 784 + 784);
    if (random) wg.data.randomAffine(src, dst, 28, 28, MNIST_AUGMENT, random);
    else dst.set(src);
    y[i] = data.labels[k];
  }
  return { x: normalized(x), y };
}

/** Held-out accuracy, in batches of 500, without the tape. */
async function evaluate() {
  model.eval();
  let correct = 0;
  for (let i = 0; i < data.test.length; i += 500) {
    const to = Math.min(data.test.length, i + 500);
    const { x, y } = batch(data.test, i, to, null);
    const predT = wg.scope(() => wg.noGrad(() => model.forward(wg.tensor(x, { shape: [to - i, 1, 28, 28] })).argmax(1)));
    const pred = await predT.data();
    predT.dispose();
    for (let j = 0; j < y.length; j++) correct += pred[j] === y[j] ? 1 : 0;
  }
  model.train();
  return correct / data.test.length;
}

/** mulberry32: the augmentation's own random stream (the engine's stays for weight init). */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A macrotask: lets a `stop` (or a `predict`) message in between training steps. */
const yieldToEvents = () => new Promise((r) => setTimeout(r, 0));

async function train({ epochs = 2, augment = true, evalEvery = 40, seed = 0 }) {
  await loadDigits();
  training = true;
  stopping = false;
  const bs = 64, steps = Math.ceil(data.train.length / bs);
  const random = augment ? rng(seed + 1 + step) : null;
  const t0 = performance.now();
  let window = [], seen = 0, accuracy;
  try {
    for (let epoch = 0; epoch < epochs && !stopping; epoch++) {
      const order = wg.data.shuffled(data.train.length, seed * 1000 + epoch + step);
      const idx = order.map((i) => data.train[i]);
      for (let s = 0; s < steps && !stopping; s++) {
        const from = s * bs, to = Math.min(idx.length, from + bs);
        const { x, y } = batch(idx, from, to, random);
        const lossT = wg.scope(() => {
          opt.zeroGrad();
          const l = wg.nn.crossEntropy(model.forward(wg.tensor(x, { shape: [to - from, 1, 28, 28] })), wg.tensor(y, { dtype: "int32" }));
          l.backward();
          opt.step();
          return l;
        });
        const loss = await lossT.itemAsync();
        lossT.dispose();
        step++;
        seen += to - from;
        window.push(loss);
        const last = epoch === epochs - 1 && s === steps - 1;
        if (step % evalEvery === 0 || last) accuracy = await evaluate();
        if (step % 5 === 0 || last) {
          const secs = (performance.now() - t0) / 1000;
          post("progress", {
            step, epoch: epoch + (s + 1) / steps, epochs, loss: window.reduce((a, b) => a + b, 0) / window.length,
            accuracy: step % evalEvery === 0 || last ? accuracy : undefined, samplesPerSec: seen / secs, seconds: secs,
          });
          window = [];
          await yieldToEvents();
        }
      }
    }
    accuracy = await evaluate();
    post("trained", { step, accuracy, stopped: stopping, seconds: (performance.now() - t0) / 1000 });
  } finally {
    training = false;
  }
}

async function handle(msg) {
  switch (msg.type) {
    case "init": {
      info = await wg.init({ backend: msg.backend ?? "wasm", threads: msg.threads, verbose: false });
      wg.manualSeed(msg.seed ?? 0);
      model = new MnistCNN();
      opt = new wg.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
      step = 0;
      await loadDigits();
      return post("ready", { info: { backend: info.backend, kernels: info.kernels, threads: info.threads, summary: info.summary }, count: data.count, held: data.test.length });
    }
    case "train":
      if (training) return post("error", { message: "already training" });
      return train(msg);
    case "stop":
      stopping = true;
      return;
    case "predict": {
      const x = normalized(msg.pixels);
      model.eval();
      const t = wg.scope(() => wg.noGrad(() => model.forward(wg.tensor(x, { shape: [1, 1, 28, 28] })).softmax(1)));
      model.train();
      const probs = Array.from(await t.data());
      t.dispose();
      return post("prediction", { probs, id: msg.id });
    }
    case "evaluate":
      await loadDigits();
      return post("accuracy", { accuracy: await evaluate() });
    case "save": {
      const store = msg.store ?? "auto";
      await wg.io.saveCheckpoint(CHECKPOINT, { model, optimizer: opt, step, store, extra: { network: "mnist-cnn (S1)" } });
      return post("saved", { path: CHECKPOINT, store: store === "auto" ? wg.io.defaultStore() : store, step });
    }
    case "restore": {
      const store = msg.store ?? "auto";
      const r = await wg.io.loadCheckpoint(CHECKPOINT, { model, optimizer: opt, store });
      step = r.step;
      return post("restored", { path: CHECKPOINT, store: store === "auto" ? wg.io.defaultStore() : store, step, accuracy: await evaluate() });
    }
    case "getWeights": {
      const weights = {};
      for (const [k, t] of Object.entries(model.stateDict())) weights[k] = { shape: [...t.shape], data: Float32Array.from(await t.data()) };
      return post("weights", { weights, step });
    }
    case "setWeights": {
      const sd = {};
      for (const [k, w] of Object.entries(msg.weights)) sd[k] = wg.tensor(w.data, { shape: w.shape });
      model.loadStateDict(sd);
      for (const t of Object.values(sd)) t.dispose();
      step = msg.step ?? 0;
      return post("weightsSet", { step });
    }
    default:
      throw new Error(`unknown message ${JSON.stringify(msg.type)}`);
  }
}

// messages are handled one at a time, in order, except `stop` and `predict`, which may
// arrive while training runs (the loop yields between steps)
serveMessages(handle, post, (msg) => (msg.type === "stop" || msg.type === "predict") && training);
