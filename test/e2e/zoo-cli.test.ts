// The zoo's workflow through the command line: `train` saves the weights,
// `eval` loads them and prints the very figure `train` printed, `bench`
// prints its timing lines, and a missing weights file is an error naming the
// command that makes it. Short runs only (seconds); each in a temporary
// folder, since the weights go to the current folder by default.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), "webgrad-zoo-cli-"));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args, "--threads", "1"], { cwd, encoding: "utf8", timeout: 120_000 });

/** The one line of `out` that matches `re` (the figure), or a failure that shows the output. */
function line(out: string, re: RegExp): string {
  const hits = out.split("\n").filter((l) => re.test(l));
  assert.is(hits.length, 1, `one line matching ${re} in:\n${out}`);
  return hits[0];
}

// entry, short training options, the figure's line
const cases: [string, string[], RegExp][] = [
  ["logistic", [], /^test loss \d\.\d{4}, test accuracy [\d.]+% on 200 points/],
  ["mlp-tabular", ["--epochs", "40"], /^test \(20 samples\): accuracy/],
  ["mnist-binary", ["--epochs", "1"], /^test accuracy [\d.]+% \(digit 3 vs the rest\) on 2000 held-out digits, test loss \d\.\d{4}$/],
  ["bert", ["--steps", "20"], /^test accuracy [\d.]+% on 2000 held-out strings \(majority class [\d.]+%\)/],
];

for (const [entry, opts, figure] of cases) {
  test(`${entry}: eval after a short train prints the figure train printed`, () => {
    const extra = entry === "mnist-binary" ? ["--digit", "3"] : [];
    const t = run("train", entry, ...opts, ...extra);
    assert.is(t.status, 0, t.stderr);
    assert.ok(existsSync(join(cwd, `${entry}.safetensors`)), `${entry}.safetensors in the current folder`);
    assert.match(t.stdout, `weights saved to ${entry}.safetensors`);
    const e = run("eval", entry);
    assert.is(e.status, 0, e.stderr);
    const trained = line(t.stdout, figure), evaluated = line(e.stdout, figure);
    // train may append its timing after the figure; the figure itself is the same to the digit
    assert.ok(trained.startsWith(evaluated), `train: ${trained}\neval:  ${evaluated}`);
  });
}

test("--weights FILE: train writes there and eval reads from there", () => {
  const t = run("train", "mlp-tabular", "--epochs", "20", "--seed", "3", "--weights", "sub.safetensors");
  assert.is(t.status, 0, t.stderr);
  const e = run("eval", "mlp-tabular", "--weights", "sub.safetensors");
  assert.is(e.status, 0, e.stderr);
  assert.is(line(e.stdout, /^test \(20/), line(t.stdout, /^test \(20/));
  const wrong = run("eval", "logistic", "--weights", "sub.safetensors");
  assert.is(wrong.status, 1);
  assert.match(wrong.stderr, 'logistic: sub.safetensors holds the weights of "mlp-tabular", not "logistic"');
});

test("eval without weights: exit 1 and an error naming the command that makes them", () => {
  for (const entry of ["mnist-cnn", "gpt", "convnet"]) {
    const r = run("eval", entry, "--weights", "missing.safetensors");
    assert.is(r.status, 1, r.stdout);
    assert.match(r.stderr, `${entry}: no weights at missing.safetensors: train them first with \`webgrad train ${entry} --weights missing.safetensors\``);
  }
});

test("bench prints the train-step and inference lines with the engine summary", () => {
  for (const entry of ["logistic", "mnist-cnn"]) {
    const r = run("bench", entry, "--bench-steps", "2");
    assert.is(r.status, 0, r.stderr);
    const batch = entry === "logistic" ? 32 : 64;
    for (const what of ["train step", "inference"]) {
      assert.match(r.stdout, new RegExp(`^bench ${entry} ${what}: median \\d+\\.\\d\\d ms, best \\d+\\.\\d\\d ms per batch of ${batch}, \\d+ samples/s$`, "m"));
    }
    assert.match(r.stdout, /\(2 steps after 3 warm-up; engine: webgrad: wasm backend, \w+ kernels, 1 thread/);
  }
});

test("--backend: a bad value is a clear error; wasm is what runs by default", () => {
  const bad = run("bench", "logistic", "--backend", "cuda");
  assert.is(bad.status, 1);
  assert.match(bad.stderr, '--backend must be wasm, webgpu or auto, got "cuda"');
  const ok = run("info", "--backend", "wasm");
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /"backend": "wasm"/);
});

test("every zoo entry answers train, eval and bench", async () => {
  for (const entry of ["mnist-cnn", "logistic", "mnist-binary", "mlp-tabular", "convnet", "transformer", "gpt", "lstm", "resnet", "vit", "bert"]) {
    const { cli: c } = await import(`../../host/zoo/${entry}.js`);
    for (const verb of ["train", "eval", "bench"]) assert.ok(c.verbs.includes(verb), `${entry} answers ${verb}`);
  }
});

test.after(() => rmSync(cwd, { recursive: true, force: true }));

test.run();
