#!/usr/bin/env node
// webgrad's command line: `webgrad train mnist-cnn [--epochs N] [--threads N]`,
// `webgrad eval mnist-cnn`, `webgrad bench mnist-cnn`, `webgrad generate gpt
// --prompt ...`, `webgrad --help` for the list.
// Node only. On Node 20 it switches on relaxed SIMD (a V8 flag that newer
// runtimes no longer need) before the engine looks for it.

import v8 from "node:v8";
import { parseArgs } from "node:util";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");

// Each zoo entry lives in host/zoo/<name>.ts and exports `cli: ZooCommand`;
// this file only parses the options every command shares and dispatches, so
// a new entry is a new file and nothing here changes.

import type { ZooCommand, CliContext, Progress } from "./zoo/command.js";

/** The zoo entries the CLI knows, in the order `--help` lists them. */
const ENTRIES = ["mnist-cnn", "logistic", "mnist-binary", "mlp-tabular", "convnet", "transformer", "gpt", "lstm", "resnet", "vit", "bert"];

async function loadEntry(name: string): Promise<ZooCommand | null> {
  if (!/^[a-z0-9-]+$/.test(name)) return null;
  try {
    return ((await import(`./zoo/${name}.js`)) as { cli?: ZooCommand }).cli ?? null;
  } catch (e: any) {
    if (e?.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes(`zoo/${name}.js`)) return null;
    throw e;
  }
}

async function usage(): Promise<string> {
  const entries = (await Promise.all(ENTRIES.map(async (name) => [name, await loadEntry(name)] as const))).filter(([, c]) => c);
  const width = Math.max(...entries.map(([, c]) => c!.verbs.join("|").length));
  const rows = entries.map(([name, c]) => `  ${c!.verbs.join("|").padEnd(width)} ${name.padEnd(13)} ${c!.summary}`);
  const opts = new Map<string, string>();
  for (const name of ENTRIES) for (const [k, v] of Object.entries((await loadEntry(name))?.options ?? {})) opts.set(k, v.help);
  return `usage: webgrad <command> <entry> [options]

commands:
${rows.join("\n")}
  ${"info".padEnd(width + 14)} show what the engine detected

options for every command:
  --epochs N          epochs (default: the recipe's)
  --threads N         worker threads including the main one (default: all cores)
  --isa simd|relaxed  force a kernel binary
  --backend B         wasm (default), webgpu, or auto (WebGPU when a GPU is found, wasm otherwise)
  --matmul-precision f16|f32
                      webgpu: f16 GEMM tiles and products with f32 sums (about 3 significant
                      digits per product; needs the adapter feature shader-f16); default f32
  --weights FILE      train: where the weights go; eval, generate: where they come from
                      (default <entry>.safetensors in the current folder)
  --bench-steps N     bench: timed steps after 3 warm-up steps (default 10)
  --seed N            random seed (default 0)
  -h, --help          this text

options of some entries:
${[...opts].map(([k, h]) => `  --${k.padEnd(18)}${h}`).join("\n")}`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const [cmd, what] = argv.filter((a) => !a.startsWith("-"));
  const entry = cmd && cmd !== "info" && what ? await loadEntry(what) : null;
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      epochs: { type: "string" },
      threads: { type: "string" },
      isa: { type: "string" },
      backend: { type: "string" },
      "matmul-precision": { type: "string" },
      weights: { type: "string" },
      "bench-steps": { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
      ...Object.fromEntries(Object.entries(entry?.options ?? {}).map(([k, v]) => [k, { type: v.type }])),
    },
  });
  if (values.help || !cmd) {
    console.log(await usage());
    return cmd || values.help ? 0 : 2;
  }
  if (cmd !== "info" && (!entry || !entry.verbs.includes(cmd))) {
    console.error(`webgrad: unknown command "${positionals.join(" ")}"\n\n${await usage()}`);
    return 2;
  }
  const wg = await import("./index.js");
  const num = (v: unknown, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (typeof v !== "string" || !Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${v}"`);
    return n;
  };
  const backend = (values.backend as string | undefined) ?? "wasm";
  if (!["wasm", "webgpu", "auto"].includes(backend)) throw new Error(`--backend must be wasm, webgpu or auto, got "${backend}"`);
  const precision = (values["matmul-precision"] as string | undefined) ?? "f32";
  if (precision !== "f32" && precision !== "f16") throw new Error(`--matmul-precision must be f32 or f16, got "${precision}"`);
  // the wasm kernels are f32 only: say so rather than ignore the option
  if (precision === "f16" && backend === "wasm") throw new Error("--matmul-precision f16 is for the WebGPU backend: add --backend webgpu (or auto)");
  const info = await wg.init({
    threads: num(values.threads, "threads"), isa: values.isa as "simd" | "relaxed" | undefined, backend: backend as "wasm" | "webgpu" | "auto",
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
    seed: num(values.seed, "seed"),
    progress: makeProgress,
    log: (line) => console.log(line),
    engine,
  };
  try {
    return (await entry!.run(ctx)) ?? 0;
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
