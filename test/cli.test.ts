// The command line: help lists the zoo entries that exist, unknown commands
// fail with exit code 2, and an entry runs end to end through its `cli` export.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../host/cli.js", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000 });

test("--help lists every zoo entry present and the shared options", () => {
  const r = run("--help");
  assert.is(r.status, 0, r.stderr);
  for (const name of ["mnist-cnn", "logistic", "mnist-binary", "mlp-tabular"]) assert.match(r.stdout, name);
  assert.match(r.stdout, "--threads");
});

test("an unknown entry exits 2 and shows the usage", () => {
  const r = run("train", "no-such-model");
  assert.is(r.status, 2);
  assert.match(r.stderr, 'unknown command "train no-such-model"');
  assert.match(r.stderr, "usage: webgrad");
});

test("a bad option value is a clear error, exit 1", () => {
  const r = run("train", "logistic", "--seed", "minus-one");
  assert.is(r.status, 1);
  assert.match(r.stderr, '--seed must be a non-negative number, got "minus-one"');
});

test("train logistic runs through the entry's cli export and prints its loss every 100 iterations", () => {
  const r = run("train", "logistic", "--threads", "1");
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n").filter((l) => l.startsWith("iteration "));
  assert.is(lines.length, 10, r.stdout);
  assert.match(r.stdout, /test loss \d\.\d{4}/);
});

test.run();
