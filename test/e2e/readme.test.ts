// The README's JavaScript examples, run verbatim as a user would paste them:
// each ```js block becomes a file inside the package (so `import "webgrad"`
// resolves to this package by its own name, as it does in a user's project),
// run by a fresh Node process. Asserted: it exits cleanly and prints what the
// README says it prints.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const blocks = [...readFileSync(join(ROOT, "README.md"), "utf8").matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
const dir = join(ROOT, "dist", "readme-examples");

function run(code: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
  assert.is(r.status, 0, `${name} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

test("the README has its examples", () => {
  assert.ok(blocks.length >= 2, `found ${blocks.length} js blocks`);
});

test("README: the first example prints the product as PyTorch would", () => {
  const out = run(blocks.find((b) => b.includes("matmul(wg.tensor([[5], [6]])"))!, "print.mjs");
  assert.match(out, /tensor\(\[\[17\.\],\s+\[39\.\]\], shape=\[2, 1\], dtype=float32\)/);
});

test("README: the Example runs all 10 steps, its loss falling, with no scope or dispose", () => {
  const code = blocks.find((b) => b.includes("class Net extends wg.nn.Module"))!;
  assert.not.match(code, /scope|dispose|keep\(/, "the example is PyTorch-style");
  const out = run(code, "example.mjs");
  const losses = [...out.matchAll(/^(\d) (\S+)$/gm)].map((m) => [+m[1], +m[2]]);
  assert.equal(losses.map((l) => l[0]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], `steps printed:\n${out}`);
  assert.ok(losses.every((l) => Number.isFinite(l[1])));
  assert.ok(losses[9][1] < losses[0][1], `the loss fell: ${losses[0][1]} → ${losses[9][1]}`);
});

// issue 17: the "Large language models" example loads the folder it writes, chats, and its LoRA steps lower the loss
test("README: the LLM example loads a Hugging Face folder, streams a reply and fine-tunes LoRA adapters", () => {
  const out = run(blocks.find((b) => b.includes("wg.models.loadPretrained(dir)"))!, "llm.mjs");
  assert.match(out, /^reply: ".*"$/m);
  const losses = [...out.matchAll(/^lora step (\d) (\S+)$/gm)].map((m) => +m[2]);
  assert.is(losses.length, 5, out);
  assert.ok(losses[4] < losses[0], `the loss fell: ${losses[0]} → ${losses[4]}`);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
