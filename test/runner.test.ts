// The test runner (scripts/test.mjs): a Debian package the tests read that is
// missing (and cannot be installed) skips the files that need it, naming the
// package, the reason and the install line, and the last line stays
// `N passed, M failed, K skipped`. WEBGRAD_PRETEND_MISSING makes a package
// look absent without touching the system; WEBGRAD_NO_APT keeps apt-get out.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runner = (filter: string, missing: string) => spawnSync(process.execPath, ["scripts/test.mjs", filter], {
  cwd: root, encoding: "utf8", timeout: 120_000,
  env: { ...process.env, WEBGRAD_PRETEND_MISSING: missing, WEBGRAD_NO_APT: "1" },
});

test("a missing package skips the files that need it, with the reason, and the summary counts them", () => {
  const r = runner("zoo-data", "dataset-fashion-mnist");
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, "zoo-data.test.js: skipped, needs dataset-fashion-mnist (Fashion-MNIST's IDX files");
  assert.match(r.stdout, "install with: apt-get install dataset-fashion-mnist");
  const last = r.stdout.trim().split("\n").pop()!;
  assert.match(last, /^0 passed, 0 failed, [1-9]\d* skipped$/);
});

test("files that need none of the missing packages still run", () => {
  const r = runner("print", "fortunes-zh,chromium");
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.not.match(r.stdout, "skipped");
  assert.match(r.stdout.trim().split("\n").pop()!, /^[1-9]\d* passed, 0 failed$/);
});

test.run();
