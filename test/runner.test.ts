// The test runner (scripts/test.mjs): a Debian package the tests read that is
// missing (and cannot be installed) skips the files that need it, naming the
// package, the reason and the install line, and the last line stays
// `N passed, M failed, K skipped`. It runs two steps, unit files (test/) in
// parallel and then e2e files (test/e2e/) one at a time, and the file filter
// reaches both. WEBGRAD_PRETEND_MISSING makes a package look absent without
// touching the system; WEBGRAD_NO_APT keeps apt-get out.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const runner = (filter: string, missing: string, ...flags: string[]) => spawnSync(process.execPath, ["scripts/test.mjs", ...flags, filter], {
  cwd: root, encoding: "utf8", timeout: 120_000,
  // without VK_ICD_FILENAMES the WebGPU files need chromium (its SwiftShader), so pretending it is missing skips them
  env: { ...process.env, WEBGRAD_PRETEND_MISSING: missing, WEBGRAD_NO_APT: "1", VK_ICD_FILENAMES: "" },
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

test("the filter picks files in both steps, unit then e2e, and --unit / --e2e run one step", () => {
  // "gpu-" names the unit WebGPU files and webgpu-runtimes (e2e); with chromium "missing" all are skipped, so nothing runs
  const r = runner("gpu-", "chromium");
  assert.is(r.status, 0, r.stdout + r.stderr);
  const unit = r.stdout.indexOf("=== unit tests"), e2e = r.stdout.indexOf("=== e2e tests");
  assert.ok(unit >= 0 && e2e > unit, r.stdout);
  assert.ok(r.stdout.indexOf("webgpu-to.test.js: skipped") > unit && r.stdout.indexOf("webgpu-to.test.js: skipped") < e2e, "a unit file in the unit step");
  assert.ok(r.stdout.indexOf("e2e/webgpu-runtimes.test.js: skipped") > e2e, "an e2e file in the e2e step");
  assert.match(r.stdout.trim().split("\n").pop()!, /^0 passed, 0 failed, [1-9]\d* skipped$/);
  const u = runner("gpu-", "chromium", "--unit");
  assert.match(u.stdout, "=== unit tests");
  assert.not.match(u.stdout, "=== e2e tests");
  const e = runner("gpu-", "chromium", "--e2e");
  assert.not.match(e.stdout, "=== unit tests");
  assert.match(e.stdout, "e2e/webgpu-runtimes.test.js: skipped");
});

test.run();
