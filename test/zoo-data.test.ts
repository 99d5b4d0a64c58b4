// Short runs of the data-heavy zoo entries: S1 on Fashion-MNIST and S5 on an
// image folder (its weights saved as safetensors with PyTorch names and
// reloaded). The long runs that reach docs/ZOO-DATA.md's figures are not here.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import * as wg from "../host/index.js";
import { FASHION_MNIST_DIR } from "../host/data/mnist.js";
import { writeFashionMnistFolder } from "../host/data/folder.js";
import { trainFashionMnistCnn } from "../host/zoo/mnist-cnn.js";
import { trainConvNet, ConvNet } from "../host/zoo/convnet.js";
import { loadSafetensors } from "../host/io/checkpoint.js";

await wg.init({ threads: 1, verbose: false });
const tmp = mkdtempSync(join(tmpdir(), "webgrad-zoo-data-"));
const haveFashion = existsSync(FASHION_MNIST_DIR);

test("S1 --data fashion-mnist: one plain epoch on 6,000 training images beats 70% on the 10,000 test images", async () => {
  if (!haveFashion) return;
  const r = await trainFashionMnistCnn({ epochs: 1, averageLast: 0, augment: false, trainLimit: 6000 });
  assert.is(r.trainCount, 6000);
  assert.is(r.testCount, 10000);
  assert.ok(r.testAccuracy > 0.7, `accuracy ${r.testAccuracy}`);
});

test("S5 convnet: a synthetic two-class folder is learned, saved with PyTorch names, reloaded to the same accuracy", async () => {
  // class "bright" images are light, class "dark" ones dark, both noisy and of mixed sizes
  const dir = join(tmp, "shapes");
  let seed = 1;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (const split of ["train", "test"]) {
    for (const [c, base] of [["bright", 170], ["dark", 60]] as const) {
      mkdirSync(join(dir, split, c), { recursive: true });
      for (let i = 0; i < (split === "train" ? 40 : 20); i++) {
        const size = i % 2 ? 32 : 40;
        const p = new PNG({ width: size, height: size });
        for (let k = 0; k < size * size; k++) {
          const v = Math.max(0, Math.min(255, base + (rand() - 0.5) * 160));
          p.data.set([v, v, v, 255], 4 * k);
        }
        writeFileSync(join(dir, split, c, `${i}.png`), PNG.sync.write(p));
      }
    }
  }
  const weightsPath = join(tmp, "convnet.safetensors");
  const epochs: number[] = [];
  const r = await trainConvNet({ folder: dir, epochs: 2, batchSize: 16, weightsPath, onEpoch: (p) => epochs.push(p.testAccuracy) });
  assert.equal(r.classes, ["bright", "dark"]);
  assert.is(epochs.length, 2);
  assert.is(r.trainCount, 80);
  assert.ok(r.testAccuracy >= 0.9, `accuracy ${r.testAccuracy}`);
  assert.is(r.reloadedAccuracy, r.testAccuracy);
  const { tensors, metadata } = await loadSafetensors(weightsPath);
  assert.equal(Object.keys(tensors).sort(), ["conv1.bias", "conv1.weight", "conv2.bias", "conv2.weight", "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]);
  assert.equal(tensors["conv2.weight"].shape, [64, 32, 3, 3]);
  assert.equal(tensors["fc1.weight"].shape, [128, 64 * 8 * 8]);
  assert.equal(JSON.parse(metadata.classes), ["bright", "dark"]);
  assert.throws(() => new ConvNet(10, 3, 30), /multiple of 4/);
});

test("S5 convnet: one epoch on 100 images per class of the Fashion-MNIST folder beats 50%", async () => {
  if (!haveFashion) return;
  const folder = join(tmp, "fashion");
  await writeFashionMnistFolder(folder, { limit: 1200 });
  const r = await trainConvNet({ folder, epochs: 1, limitPerClass: 100, weightsPath: join(tmp, "f.safetensors") });
  assert.is(r.classes.length, 10);
  assert.ok(r.testAccuracy > 0.5, `accuracy ${r.testAccuracy}`);
  assert.is(r.reloadedAccuracy, r.testAccuracy);
});

// the temporary folder goes when the tests are done, passed or failed
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
