// The command line: help lists the zoo entries and, under each, the options it
// takes; unknown commands and entries fail with exit code 2 and the list to
// pick from; numeric options are checked (whole numbers, ranges) before the
// engine starts; an existing weights file is kept unless --force; a missing
// dataset names the option that points at it; and an entry runs end to end
// through its `cli` export. Runs in a scratch folder (train writes weights there).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const pkg = JSON.parse(readFileSync(fileURLToPath(new URL("../../../package.json", import.meta.url)), "utf8"));
const cwd = mkdtempSync(join(tmpdir(), "webgrad-cli-"));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", timeout: 120_000 });

test("--help lists every zoo entry present and the shared options", () => {
  const r = run("--help");
  assert.is(r.status, 0, r.stderr);
  for (const name of ["mnist-cnn", "logistic", "mnist-binary", "mlp-tabular"]) assert.match(r.stdout, name);
  assert.match(r.stdout, "--threads");
  assert.match(r.stdout, "--force");
});

test("--help lists each entry's own options under that entry", () => {
  const r = run("--help");
  const section = (name: string) => r.stdout.split(`options of ${name}:\n`)[1]?.split("\n\n")[0] ?? "";
  assert.match(section("mnist-cnn"), "--data-dir");
  assert.match(section("transformer"), "--steps");
  assert.match(section("lstm"), "--steps");
  assert.match(section("gpt"), "--prompt");
  assert.match(section("llama"), "--lora");
  assert.match(section("llama"), "--quick");
  assert.not.match(section("mnist-cnn"), "--prompt");
  // with an entry: only that entry
  const one = run("train", "gpt", "--help");
  assert.is(one.status, 0, one.stderr);
  assert.match(one.stdout, "options of gpt:");
  assert.not.match(one.stdout, "options of mnist-cnn:");
});

test("--version prints the package's version", () => {
  const r = run("--version");
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), pkg.version);
});

test("an unknown entry exits 2, says so and lists the entries", () => {
  const r = run("train", "foo");
  assert.is(r.status, 2);
  assert.match(r.stderr, 'unknown entry "foo"');
  assert.match(r.stderr, "entries: mnist-cnn, logistic");
});

test("an unknown command, a missing entry and a verb the entry lacks exit 2", () => {
  const fly = run("fly", "mnist-cnn");
  assert.is(fly.status, 2);
  assert.match(fly.stderr, 'unknown command "fly"; commands: train, eval, bench, generate, finetune, info');
  const bare = run("train");
  assert.is(bare.status, 2);
  assert.match(bare.stderr, "train needs an entry; entries: mnist-cnn");
  const gen = run("generate", "mnist-cnn");
  assert.is(gen.status, 2);
  assert.match(gen.stderr, 'unknown command "generate" for mnist-cnn, which answers train, eval, bench');
  // finetune is the llama entry's alone
  const tune = run("finetune", "gpt");
  assert.is(tune.status, 2);
  assert.match(tune.stderr, 'unknown command "finetune" for gpt, which answers train, eval, generate, bench');
});

test("shared options may come before the command; a stray argument is refused", () => {
  const before = run("--threads", "1", "train", "foo");
  assert.is(before.status, 2);
  assert.match(before.stderr, 'unknown entry "foo"');
  const stray = run("train", "logistic", "extra");
  assert.is(stray.status, 2);
  assert.match(stray.stderr, 'unexpected argument "extra"');
});

test("numeric options: whole numbers and ranges, checked before anything runs", () => {
  for (const [args, msg] of [
    [["--epochs", "1.5"], '--epochs must be a whole number ≥ 1, got "1.5"'],
    [["--epochs", "0"], '--epochs must be a whole number ≥ 1, got "0"'],
    [["--threads", "two"], '--threads must be a whole number ≥ 1, got "two"'],
    [["--seed", "minus-one"], '--seed must be a whole number ≥ 0, got "minus-one"'],
    [["--seed=-1"], '--seed must be a whole number ≥ 0, got "-1"'],
    [["--bench-steps", ""], '--bench-steps must be a whole number ≥ 1, got ""'],
  ] as const) {
    const r = run("train", "logistic", ...args);
    assert.is(r.status, 1, `${args.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, msg);
  }
  const digit = run("train", "mnist-binary", "--digit", "10");
  assert.is(digit.status, 1);
  assert.match(digit.stderr, '--digit must be a whole number from 0 to 9, got "10"');
  const topP = run("generate", "gpt", "--top-p", "1.5");
  assert.is(topP.status, 1);
  assert.match(topP.stderr, '--top-p must be a number from 0 to 1, got "1.5"');
});

test("--threads above the core count warns and still runs", () => {
  const r = run("info", "--threads", String(availableParallelism() + 1));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, `--threads ${availableParallelism() + 1} is more than the ${availableParallelism()} cores here`);
});

test("train keeps an existing weights file unless --force", () => {
  writeFileSync(join(cwd, "logistic.safetensors"), "keep me");
  const r = run("train", "logistic", "--threads", "1");
  assert.is(r.status, 1);
  assert.match(r.stderr, "logistic.safetensors exists: pass --force to overwrite it, or --weights FILE to write elsewhere");
  assert.is(readFileSync(join(cwd, "logistic.safetensors"), "utf8"), "keep me");
  writeFileSync(join(cwd, "mine.safetensors"), "keep me too");
  assert.match(run("train", "logistic", "--weights", "mine.safetensors").stderr, "mine.safetensors exists");
});

test("a missing dataset names the option that sets where the data is", () => {
  const r = run("train", "mnist-cnn", "--data", "fashion-mnist", "--data-dir", join(cwd, "nowhere"), "--epochs", "1", "--threads", "1");
  assert.is(r.status, 1, r.stdout);
  assert.match(r.stderr, join(cwd, "nowhere"));
  assert.match(r.stderr, "--data-dir");
});

test("train logistic runs through the entry's cli export and prints its loss every 100 iterations", () => {
  const r = run("train", "logistic", "--threads", "1", "--force");
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("iteration "));
  assert.is(lines.length, 10, r.stdout);
  assert.match(r.stdout, /test loss \d\.\d{4}/);
  assert.is.not(readFileSync(join(cwd, "logistic.safetensors"), "utf8"), "keep me");
});

test.after(() => rmSync(cwd, { recursive: true, force: true }));

test.run();
