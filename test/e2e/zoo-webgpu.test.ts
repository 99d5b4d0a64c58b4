// Every zoo entry trains on the WebGPU backend: a few steps of each through
// the command line with `--backend webgpu`, on the software adapter where no
// GPU is (Debian chromium's SwiftShader Vulkan driver). Each run must finish,
// print a finite training loss and its figure (a number), and save weights.
// The zoo's host code reads the GPU only with await (itemAsync, data(),
// evaluateAsync, generateAsync): a synchronous read of a GPU tensor throws
// "tensor lives on webgpu", so this file is what keeps the zoo GPU-clean.
//
// SwiftShader is slow: the short settings (tiny batches and data, few
// steps) keep each entry to seconds or tens of seconds; the time limit per
// entry is generous but bounded. WebGPU is expected as test/backends.ts
// decides it: where it is expected and the adapter does not start, every
// entry fails (never a skip); where it is not expected, the file says so.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { availableBackends } from "../backends.js";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), "webgrad-zoo-webgpu-"));
const expected = availableBackends().includes("webgpu"); // also points VK_ICD_FILENAMES at SwiftShader
const run = (...args: string[]) =>
  spawnSync(process.execPath, [cli, ...args, "--backend", "webgpu", "--force"], { cwd, encoding: "utf8", timeout: 180_000, env: process.env });

// entry, short training options, the figure (its first group: a number)
const cases: [string, string[], RegExp][] = [
  ["logistic", ["--steps", "20", "--batch-size", "8"], /^test loss (\d+\.\d+), test accuracy/m],
  ["mlp-tabular", ["--epochs", "50"], /^test \(20 samples\): accuracy ([\d.]+)%/m],
  ["mnist-binary", ["--epochs", "1", "--train-count", "64", "--test-count", "64", "--batch-size", "16"], /^test accuracy ([\d.]+)% \(digit 0 vs the rest\) on 64 held-out digits/m],
  ["mnist-cnn", ["--epochs", "1", "--train-count", "64", "--test-count", "64", "--batch-size", "16"], /^test accuracy ([\d.]+)% on 64 held-out digits/m],
  ["convnet", ["--epochs", "1", "--limit", "2", "--batch-size", "10"], /^test accuracy ([\d.]+)% on 20 test images/m],
  ["transformer", ["--steps", "4", "--batch-size", "8", "--test-count", "8"], /exact-sequence accuracy ([\d.]+)% .* on 8 held-out strings/m],
  ["gpt", ["--steps", "2", "--batch-size", "1", "--tokens", "4", "--test-count", "64"], /^validation loss (\d+\.\d+) nats\/char on \d+ characters/m],
  ["lstm", ["--steps", "2", "--batch-size", "2", "--test-count", "16"], /^validation (\d+\.\d+) nats\/char/m],
  ["resnet", ["--epochs", "1", "--train-count", "8", "--test-count", "8", "--batch-size", "4"], /^test accuracy ([\d.]+)% on 8 Fashion-MNIST test images/m],
  ["vit", ["--epochs", "1", "--train-count", "16", "--test-count", "16", "--batch-size", "8"], /^test accuracy ([\d.]+)% on 16 Fashion-MNIST test images/m],
  ["bert", ["--steps", "4", "--batch-size", "8", "--test-count", "16"], /^test accuracy ([\d.]+)% on 16 held-out strings/m],
  ["llama", ["--quick", "--steps", "4"], /^validation loss (\d+\.\d+) nats\/token/m],
];

test("the cases cover every zoo entry", () => {
  const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" }).stdout;
  const listed = [...help.matchAll(/^ {2}\S+\|\S+ +([a-z0-9-]+) /gm)].map((m) => m[1]);
  assert.equal(cases.map((c) => c[0]).sort(), listed.sort());
});

if (!expected) {
  test("WebGPU is not expected here (no Vulkan driver: VK_ICD_FILENAMES unset and no SwiftShader): the zoo's GPU runs are not tried", () => {});
}

for (const [entry, opts, figure] of expected ? cases : []) {
  test(`${entry} trains on --backend webgpu: a finite loss and its figure`, () => {
    const t0 = performance.now();
    const r = run("train", entry, ...opts);
    const out = `${r.stdout}\n${r.stderr}`;
    assert.is(r.error, undefined, `${entry}: ${r.error?.message}\n${out}`);
    assert.is(r.status, 0, out);
    assert.match(r.stdout, /^webgrad: webgpu backend on /m, "the engine ran WebGPU");
    const losses = [...r.stdout.matchAll(/\bloss (\S+?)[,\s]/g)].map((m) => Number(m[1]));
    assert.ok(losses.length > 0, `${entry}: a training loss line in:\n${out}`);
    for (const l of losses) assert.ok(Number.isFinite(l), `${entry}: loss ${l} in:\n${out}`);
    const m = figure.exec(r.stdout);
    assert.ok(m, `${entry}: the figure ${figure} in:\n${out}`);
    assert.ok(Number.isFinite(Number(m![1])), `${entry}: figure ${m![1]}`);
    const saved = entry === "convnet" ? "convnet.safetensors" : entry === "llama" ? "llama-zh/model.safetensors" : `${entry}.safetensors`;
    assert.ok(existsSync(join(cwd, saved)), `${entry}: weights saved`);
    console.log(`  ${entry}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });
}

test.after(() => rmSync(cwd, { recursive: true, force: true }));

test.run();
