// The llama entry through the command line, at `--quick` size (a tiny model
// on 600 records; seconds): `train llama` writes a Hugging Face folder,
// reloads it with loadPretrained to the same validation loss and continues the
// seed's prompt; `finetune llama --lora` lowers the validation loss on the
// held-out Tang poems and writes a PEFT adapter that reloads to the same loss;
// the errors for a missing model and a missing --lora name what to do.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtempSync, rmSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const cli = fileURLToPath(new URL("../../host/cli.js", import.meta.url));
const cwd = mkdtempSync(join(tmpdir(), "webgrad-zoo-llama-"));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args, "--threads", "1"], { cwd, encoding: "utf8", timeout: 120_000 });

/** The number a line of `out` holds after `label` (the figure), or a failure that shows the output. */
function figure(out: string, re: RegExp): number {
  const m = out.match(re);
  assert.ok(m, `${re} in:\n${out}`);
  return Number(m![1]);
}

test("train llama --quick: a Hugging Face folder that reloads to the same validation loss, and a continuation of the seed's prompt", () => {
  const t = run("train", "llama", "--quick");
  assert.is(t.status, 0, t.stderr + t.stdout);
  for (const f of ["config.json", "model.safetensors", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) {
    assert.ok(existsSync(join(cwd, "llama-zh", f)), `llama-zh/${f}`);
  }
  const config = JSON.parse(readFileSync(join(cwd, "llama-zh", "config.json"), "utf8"));
  assert.equal([config.architectures, config.model_type, config.tie_word_embeddings], [["LlamaForCausalLM"], "llama", true]);
  assert.ok(typeof JSON.parse(readFileSync(join(cwd, "llama-zh", "tokenizer_config.json"), "utf8")).chat_template === "string", "a chat template");
  const trained = figure(t.stdout, /^validation loss (\d+\.\d+) nats\/token \(perplexity [\d.]+\)/m);
  const reloaded = figure(t.stdout, /^reloaded with wg\.models\.loadPretrained: validation loss (\d+\.\d+) \(trained [\d.]+: the same\)/m);
  assert.ok(Math.abs(trained - reloaded) < 1e-4, `${trained} vs ${reloaded}`);
  assert.ok(trained < figure(t.stdout, /unigram baseline (\d+\.\d+) nats\/token/), "below the unigram baseline");
  assert.match(t.stdout, /^今天天气很好，阳光明媚。/m);
  // eval scores the folder on the same validation records: train's figure
  const e = run("eval", "llama", "--quick");
  assert.is(e.status, 0, e.stderr);
  const line = (out: string) => out.match(/^validation loss [\d.]+ nats\/token \(perplexity [\d.]+\) on \d+ tokens/m)?.[0];
  assert.ok(line(t.stdout) && line(e.stdout) === line(t.stdout), `train: ${line(t.stdout)}\neval:  ${line(e.stdout)}`);
  // the folder is not overwritten by accident
  const again = run("train", "llama", "--quick");
  assert.is(again.status, 1);
  assert.match(again.stderr, "llama-zh exists: pass --force to overwrite it");
});

test("finetune llama --lora --quick: the held-out Tang poems' loss goes down; a PEFT adapter beside the model, reloaded to the same loss", () => {
  const f = run("finetune", "llama", "--lora", "--quick");
  assert.is(f.status, 0, f.stderr + f.stdout);
  const before = figure(f.stdout, /^validation loss before: (\d+\.\d+) nats\/token/m);
  const after = figure(f.stdout, /^validation loss after: +(\d+\.\d+) nats\/token/m);
  assert.ok(after < before, `LoRA lowers the validation loss: ${before} → ${after}`);
  assert.match(f.stdout, /^base \+ adapter reloaded \(wg\.lora\.load\): validation loss [\d.]+ \(after fine-tune [\d.]+: the same\)/m);
  for (const name of ["adapter_model.safetensors", "adapter_config.json"]) assert.ok(existsSync(join(cwd, "llama-zh-lora-tang", name)), name);
  const cfg = JSON.parse(readFileSync(join(cwd, "llama-zh-lora-tang", "adapter_config.json"), "utf8"));
  assert.equal([cfg.peft_type, cfg.r, cfg.lora_alpha, [...cfg.target_modules].sort()], ["LORA", 8, 16, ["k_proj", "o_proj", "q_proj", "v_proj"]]);
  assert.match(f.stdout, /^《春夜》\n作者：李白\n/m);
  // generate applies a saved adapter
  const g = run("generate", "llama", "--adapter", "llama-zh-lora-tang", "--tokens", "5");
  assert.is(g.status, 0, g.stderr);
  assert.match(g.stdout, "with the LoRA adapter of llama-zh-lora-tang/ on 8 projections");
});

test("finetune without a model, or without --lora: errors that say what to do", () => {
  const none = run("finetune", "llama", "--lora", "--quick", "--weights", "nowhere");
  assert.is(none.status, 1);
  assert.match(none.stderr, "llama: no model at nowhere/ (no config.json there): train it first with `webgrad train llama --weights nowhere`");
  const plain = run("finetune", "llama", "--quick");
  assert.is(plain.status, 1);
  assert.match(plain.stderr, "llama finetune: pass --lora");
});

test.after(() => rmSync(cwd, { recursive: true, force: true }));

test.run();
