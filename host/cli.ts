#!/usr/bin/env node
// webgrad's command line: `webgrad train mnist-cnn [--epochs N] [--threads N]`.
// Node only. On Node 20 it switches on relaxed SIMD (a V8 flag that newer
// runtimes no longer need) before the engine looks for it.

import v8 from "node:v8";
import { parseArgs } from "node:util";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

const USAGE = `usage: webgrad <command> [options]

commands:
  train mnist-cnn     S1: the seed's MNIST CNN, held-out accuracy
  train mnist-binary  S3: Keras-style Conv2D(32) → MaxPool → Dense(1, sigmoid) through fit(), one digit vs the rest (--digit N)
  train logistic      S2: a two-input sigmoid unit trained through wg.grad (Adam, MSE), loss every 100 iterations
  train mlp-tabular   S4: MLP 10→5→1 on a [0, 1]-scaled table; accuracy, precision, recall, F1
  info                show what the engine detected

options:
  --epochs N          epochs (default: the recipe's)
  --threads N         worker threads including the main one (default: all cores)
  --isa simd|relaxed  force a kernel binary
  --seed N            random seed (default 0)
  --no-augment        train without random rotations/scalings/shifts
  --digit N           mnist-binary's positive digit (default 0)
  -h, --help          this text`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      epochs: { type: "string" },
      threads: { type: "string" },
      isa: { type: "string" },
      seed: { type: "string" },
      "no-augment": { type: "boolean" },
      digit: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [cmd, what] = positionals;
  if (values.help || !cmd) {
    console.log(USAGE);
    return cmd || values.help ? 0 : 2;
  }
  const wg = await import("./index.js");
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${v}"`);
    return n;
  };
  const info = await wg.init({ threads: num(values.threads, "threads"), isa: values.isa as "simd" | "relaxed" | undefined, verbose: false });
  console.log(info.summary);
  if (cmd === "info") {
    console.log(JSON.stringify(info, null, 2));
    return 0;
  }
  if (cmd === "train" && what === "mnist-cnn") {
    const { trainMnistCnn } = await import("./zoo/mnist-cnn.js");
    const progress = await makeProgress();
    const r = await trainMnistCnn({
      epochs: num(values.epochs, "epochs"),
      seed: num(values.seed, "seed"),
      augment: !values["no-augment"],
      onProgress: progress,
    });
    progress.stop();
    console.log(`trained on ${r.trainCount} digits, ${r.secondsPerEpoch.toFixed(2)} s per epoch`);
    console.log(`test accuracy ${(r.testAccuracy * 100).toFixed(2)}% on ${r.testCount} held-out digits`);
    wg.shutdown();
    return 0;
  }
  if (cmd === "train" && what === "mnist-binary") {
    const { trainMnistBinary } = await import("./zoo/mnist-binary.js");
    const { formatEpoch } = await import("./train.js");
    const epochs = num(values.epochs, "epochs") ?? 5, digit = num(values.digit, "digit") ?? 0;
    const r = await trainMnistBinary({ digit, epochs, seed: num(values.seed, "seed"), onEpoch: (l) => console.log(formatEpoch(l, epochs)) });
    console.log(`test accuracy ${(r.testAccuracy * 100).toFixed(2)}% (digit ${digit} vs the rest) on ${r.testCount} held-out digits, test loss ${r.testLoss.toFixed(4)}`);
    wg.shutdown();
    return 0;
  }
  if (cmd === "train" && what === "logistic") {
    const { trainLogistic } = await import("./zoo/logistic.js");
    const r = await trainLogistic({ seed: num(values.seed, "seed"), onLog: (i, l) => console.log(`iteration ${i}  loss ${l.toFixed(4)}`) });
    console.log(`test loss ${r.testLoss.toFixed(4)}, test accuracy ${(r.testAccuracy * 100).toFixed(1)}% on 200 points; w = [${r.w.map((v) => v.toFixed(3))}], b = ${r.b.toFixed(3)}`);
    wg.shutdown();
    return 0;
  }
  if (cmd === "train" && what === "mlp-tabular") {
    const { trainTabular } = await import("./zoo/mlp-tabular.js");
    const epochs = num(values.epochs, "epochs");
    const r = await trainTabular({ epochs, seed: num(values.seed, "seed"), onEpoch: (e, l) => (e + 1) % 50 === 0 && console.log(`epoch ${e + 1}  loss ${l.toFixed(4)}`) });
    const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
    console.log(`test (${r.testCount} samples): accuracy ${pct(r.accuracy)}, precision ${pct(r.precision)}, recall ${pct(r.recall)}, F1 ${pct(r.f1)}`);
    console.log(`confusion matrix (rows: true 0/1, columns: predicted 0/1): ${JSON.stringify(r.confusion)}`);
    wg.shutdown();
    return 0;
  }
  console.error(`webgrad: unknown command "${positionals.join(" ")}"\n\n${USAGE}`);
  return 2;
}

type Progress = ((p: { epoch: number; epochs: number; step: number; steps: number; loss: number; samplesPerSec: number; done?: boolean; testAccuracy?: number }) => void) & { stop(): void };

/** A progress bar on terminals (cli-progress), a log line per epoch elsewhere. */
async function makeProgress(): Promise<Progress> {
  if (process.stdout.isTTY) {
    const { SingleBar, Presets } = (await import("cli-progress")).default;
    let bar: InstanceType<typeof SingleBar> | null = null;
    const f = ((p) => {
      if (!bar) {
        bar = new SingleBar({ format: "epoch {ep} |{bar}| {value}/{total} steps · loss {loss} · {sps} samples/s", hideCursor: true }, Presets.shades_classic);
        bar.start(p.steps, 0, { ep: `${p.epoch + 1}/${p.epochs}`, loss: "-", sps: "-" });
      }
      bar.update(p.step, { ep: `${p.epoch + 1}/${p.epochs}`, loss: p.loss.toFixed(4), sps: Math.round(p.samplesPerSec) });
      if (p.done) {
        bar.stop();
        bar = null;
      }
    }) as Progress;
    f.stop = () => bar?.stop();
    return f;
  }
  const f = ((p) => {
    if (p.done) console.log(`epoch ${p.epoch + 1}/${p.epochs}  loss ${p.loss.toFixed(4)}  ${Math.round(p.samplesPerSec)} samples/s`);
  }) as Progress;
  f.stop = () => {};
  return f;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`webgrad: ${e?.message ?? e}`);
    process.exit(1);
  },
);
