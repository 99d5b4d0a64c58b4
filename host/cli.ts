#!/usr/bin/env node
// webgrad's command line: `webgrad train mnist-cnn [--epochs N] [--threads N]`,
// `webgrad eval mnist-cnn`, `webgrad bench mnist-cnn`, `webgrad generate gpt
// --prompt ...`, `webgrad finetune llama --lora`, `webgrad --help` for the
// list, `webgrad --version`.
// Node only. On Node 20 it switches on relaxed SIMD (a V8 flag that newer
// runtimes no longer need) before the engine looks for it.

import v8 from "node:v8";
import os from "node:os";
import { parseArgs } from "node:util";
import { existsSync, readFileSync } from "node:fs";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

// Each zoo entry lives in host/zoo/<name>.ts and exports `cli: ZooCommand`;
// this file only parses the options every command shares and dispatches, so
// a new entry is a new file and nothing here changes.

import type { ZooCommand, CliContext, Progress } from "./zoo/command.js";
import { MissingPackageError, OPTIONAL_PACKAGES } from "./zoo/packages.js";

/** The verbs an entry may answer (each entry lists the ones it does). */
const VERBS = ["train", "eval", "bench", "generate", "finetune"];
/** The zoo entries the CLI knows, in the order `--help` lists them. */
const ENTRIES = ["mnist-cnn", "logistic", "mnist-binary", "mlp-tabular", "convnet", "transformer", "gpt", "lstm", "resnet", "vit", "bert", "llama"];

async function loadEntry(name: string): Promise<ZooCommand | null> {
  if (!/^[a-z0-9-]+$/.test(name)) return null;
  try {
    return ((await import(`./zoo/${name}.js`)) as { cli?: ZooCommand }).cli ?? null;
  } catch (e: any) {
    if (e?.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes(`zoo/${name}.js`)) return null;
    throw e;
  }
}

/** The package's version, from the package.json two folders up (dist/host/cli.js → package root). */
function version(): string {
  return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version;
}

/**
 * What a numeric option may hold, checked before the engine starts (a typo must
 * not cost a training run): whole numbers where a fraction means nothing, and
 * the range that makes sense. Options not listed here are non-negative numbers.
 */
const NUMERIC: Record<string, { int?: boolean; min?: number; max?: number }> = {
  epochs: { int: true, min: 1 },
  "batch-size": { int: true, min: 1 },
  "test-count": { int: true, min: 1 },
  threads: { int: true, min: 1 },
  "bench-steps": { int: true, min: 1 },
  seed: { int: true, min: 0 },
  steps: { int: true, min: 1 },
  tokens: { int: true, min: 1 },
  "top-k": { int: true, min: 0 },
  "top-p": { min: 0, max: 1 },
  temperature: { min: 0 },
  heads: { int: true, min: 1 },
  digit: { int: true, min: 0, max: 9 },
  "train-count": { int: true, min: 1 },
  limit: { int: true, min: 1 },
  shift: { int: true, min: 0 },
  // llama finetune --lora: the adapters' rank and scale
  r: { int: true, min: 1 },
  alpha: { min: 0 },
};

/**
 * Parses a numeric option by its rule in NUMERIC (undefined when absent).
 * @example num("3", "epochs"); // 3; num("1.5", "epochs") throws `--epochs must be a whole number ≥ 1, got "1.5"`
 */
function num(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const rule = NUMERIC[name] ?? { min: 0 };
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  const ok = Number.isFinite(n) && (!rule.int || Number.isInteger(n)) && n >= (rule.min ?? -Infinity) && n <= (rule.max ?? Infinity);
  if (!ok) {
    const kind = rule.int ? "a whole number" : "a number";
    const range = rule.max !== undefined ? ` from ${rule.min ?? "-∞"} to ${rule.max}` : rule.min !== undefined ? ` ≥ ${rule.min}` : "";
    throw new Error(`--${name} must be ${kind}${range}, got "${v}"`);
  }
  return n;
}

/** The options every command takes (parseArgs' form); SHARED_OPTIONS is their help. */
const SHARED = {
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  threads: { type: "string" },
  isa: { type: "string" },
  backend: { type: "string" },
  "matmul-precision": { type: "string" },
  weights: { type: "string" },
  force: { type: "boolean" },
  "bench-steps": { type: "string" },
  seed: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** The shared options, each with the commands it applies to. */
const SHARED_OPTIONS = `options for every command:
  --epochs N          epochs (default: the recipe's)
  --batch-size N      train: samples per training step (default: the recipe's); with --steps,
                      --epochs, --train-count or --limit it makes a short run (on a software GPU too)
  --threads N         worker threads including the main one (default: all cores)
  --isa simd|relaxed  force a kernel binary
  --backend B         wasm (default), webgpu, or auto (WebGPU when a GPU is found, wasm otherwise)
  --matmul-precision f16|f32
                      webgpu: f16 GEMM tiles and products with f32 sums (about 3 significant
                      digits per product; needs the adapter feature shader-f16); default f32
  --weights FILE      train: where the weights go; eval, generate: where they come from
                      (default <entry>.safetensors in the current folder)
  --force             train: overwrite an existing weights file
  --bench-steps N     bench: timed steps after 3 warm-up steps (default 10)
  --seed N            random seed (default 0)
  -h, --help          this text (with an entry: that entry's options only)
  --version           webgrad's version`;

/** `--help`: the commands and entries, the shared options, then each entry's own options under its name. */
async function usage(only?: string): Promise<string> {
  const names = only ? [only] : ENTRIES;
  const entries = (await Promise.all(names.map(async (name) => [name, await loadEntry(name)] as const))).filter(([, c]) => c);
  const width = Math.max(...entries.map(([, c]) => c!.verbs.join("|").length));
  const rows = entries.map(([name, c]) => `  ${c!.verbs.join("|").padEnd(width)} ${name.padEnd(13)} ${c!.summary}`);
  const own = entries.filter(([, c]) => Object.keys(c!.options ?? {}).length).map(([name, c]) =>
    `options of ${name}:\n${Object.entries(c!.options!).map(([k, v]) => `  --${k.padEnd(18)}${v.help}`).join("\n")}`);
  return `usage: webgrad <command> <entry> [options]

commands:
${rows.join("\n")}${only ? "" : `\n  ${"info".padEnd(width + 14)} show what the engine detected`}

${SHARED_OPTIONS}${own.length ? `\n\n${own.join("\n\n")}` : ""}`;
}

/** Known entries, for the "unknown entry" message. */
async function entryList(): Promise<string> {
  const present = (await Promise.all(ENTRIES.map(async (name) => ((await loadEntry(name)) ? name : null)))).filter(Boolean);
  return present.join(", ");
}

/** The option of an entry that says where its data is, for a missing-data error. */
function dataOption(entry: ZooCommand | null): string | null {
  const opts = entry?.options ?? {};
  for (const k of ["data-dir", "folder"]) if (k in opts) return `--${k}`;
  return null;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--version")) {
    console.log(version());
    return 0;
  }
  // the command and entry first (shared options may come before them), then every option with the entry's own
  const [cmd, what] = parseArgs({ args: argv, options: SHARED, strict: false, allowPositionals: true }).positionals;
  const entry = cmd && cmd !== "info" && what ? await loadEntry(what) : null;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...SHARED, ...Object.fromEntries(Object.entries(entry?.options ?? {}).map(([k, v]) => [k, { type: v.type }])) },
  });
  const extra = positionals.slice(cmd === "info" ? 1 : 2);
  if (extra.length) {
    console.error(`webgrad: unexpected argument "${extra[0]}" (webgrad --help says more)`);
    return 2;
  }
  if (values.help || !cmd) {
    console.log(await usage(entry ? what : undefined));
    return cmd || values.help ? 0 : 2;
  }
  if (cmd !== "info") {
    if (!VERBS.includes(cmd)) {
      console.error(`webgrad: unknown command "${cmd}"; commands: ${[...VERBS, "info"].join(", ")} (webgrad --help says more)`);
      return 2;
    }
    if (!what) {
      console.error(`webgrad: ${cmd} needs an entry; entries: ${await entryList()} (webgrad --help says more)`);
      return 2;
    }
    if (!entry) {
      console.error(`webgrad: unknown entry "${what}"; entries: ${await entryList()} (webgrad --help says more)`);
      return 2;
    }
    if (!entry.verbs.includes(cmd)) {
      console.error(`webgrad: unknown command "${cmd}" for ${what}, which answers ${entry.verbs.join(", ")}\n\n${await usage(what)}`);
      return 2;
    }
  }
  // every numeric option is checked before anything starts
  for (const k of Object.keys(NUMERIC)) num(values[k as keyof typeof values], k);
  const threads = num(values.threads, "threads");
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  if (threads !== undefined && threads > cores) {
    console.error(`webgrad: warning: --threads ${threads} is more than the ${cores} cores here: threads will take turns on them, which is slower, not faster`);
  }
  if (cmd === "train") {
    // every entry's train writes --weights or <entry>.safetensors; say so before training, not after
    const path = (values.weights as string | undefined) ?? entry?.weights ?? `${what}.safetensors`;
    if (existsSync(path) && !values.force) {
      console.error(`webgrad: ${path} exists: pass --force to overwrite it, or --weights FILE to write elsewhere`);
      return 1;
    }
  }
  const wg = await import("./index.js");
  const backend = (values.backend as string | undefined) ?? "wasm";
  if (!["wasm", "webgpu", "auto"].includes(backend)) throw new Error(`--backend must be wasm, webgpu or auto, got "${backend}"`);
  const precision = (values["matmul-precision"] as string | undefined) ?? "f32";
  if (precision !== "f32" && precision !== "f16") throw new Error(`--matmul-precision must be f32 or f16, got "${precision}"`);
  // the wasm kernels are f32 only: say so rather than ignore the option
  if (precision === "f16" && backend === "wasm") throw new Error("--matmul-precision f16 is for the WebGPU backend: add --backend webgpu (or auto)");
  const info = await wg.init({
    threads, isa: values.isa as "simd" | "relaxed" | undefined, backend: backend as "wasm" | "webgpu" | "auto",
    matmulPrecision: values["matmul-precision"] === undefined ? undefined : precision, verbose: false,
  });
  const engine = `${info.summary}${backend === "auto" ? ` (--backend auto picked ${info.backend}${info.fallback ? `: ${info.fallback}` : ""})` : ""}`;
  console.log(engine);
  if (cmd === "info") {
    console.log(JSON.stringify(info, null, 2));
    return 0;
  }
  const ctx: CliContext = {
    verb: cmd,
    values: values as Record<string, string | boolean | undefined>,
    num,
    epochs: num(values.epochs, "epochs"),
    batchSize: num(values["batch-size"], "batch-size"),
    seed: num(values.seed, "seed"),
    progress: makeProgress,
    log: (line) => console.log(line),
    engine,
  };
  try {
    return (await entry!.run(ctx)) ?? 0;
  } catch (e) {
    // an optional package the entry needs (host/zoo/packages.ts): say which, and how to get it
    if (e instanceof MissingPackageError) {
      console.error(`webgrad ${cmd} ${what} needs the npm package \`${e.pkg}\` (${OPTIONAL_PACKAGES[e.pkg]}): npm install ${e.pkg}`);
      return 1;
    }
    // a dataset that is not there: name the option that points at it
    const option = dataOption(entry);
    const msg = String((e as Error)?.message ?? e);
    if (option && !msg.includes(option) && /not found|neither .* exists|cannot read|no such file|ENOENT/i.test(msg)) {
      (e as Error).message = `${msg}; ${option} sets where ${what} reads its data`;
    }
    throw e;
  } finally {
    wg.shutdown();
  }
}


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
