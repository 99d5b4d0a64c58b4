// Edge hosts, which forbid compiling WebAssembly at run time and take wasm
// only as a module imported at deploy time:
//   - Cloudflare's workerd (npm `workerd`, the runtime under `wrangler dev`)
//     serves test/e2e/edge/worker.js, bundled by esbuild as wrangler does, with
//     "webgrad/wasm/simd.wasm" declared as a wasm module in the config: GET
//     /infer (a forward), /train (one SGD step: the loss falls), /no-wasm
//     (init without the module fails with a message that says what to do);
//   - Vercel's Edge Runtime (npm `edge-runtime`, an EdgeVM with code generation
//     from strings and wasm bytes off, as on Vercel) evaluates test/e2e/edge/edge.js
//     bundled into one script and runs the same forward with a module compiled
//     outside it, as `import wasm from "./x.wasm?module"` gives one.
// The two forwards must agree with each other and with Node's.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, mkdirSync, symlinkSync, copyFileSync, readFileSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const FIXTURE = join(ROOT, "test", "e2e", "edge");
const BACKENDS = join(ROOT, "dist", "host", "backends");
const scratch = mkdtempSync(join(tmpdir(), "webgrad-edge-"));
const require = createRequire(join(ROOT, "package.json"));
const X = [[0.5, -1, 2, 0.25], [1, 1, -1, 0]];
const logits: Record<string, number[][]> = {};

test.before(() => {
  if (!existsSync(join(BACKENDS, "webgrad.js"))) throw new Error("dist/host/backends/webgrad.js is missing: run `npm run build` first");
  mkdirSync(join(scratch, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(scratch, "node_modules", "webgrad"), "dir");
  for (const f of ["worker.js", "edge.js"]) copyFileSync(join(FIXTURE, f), join(scratch, f));
  copyFileSync(join(BACKENDS, "webgrad-simd.wasm"), join(scratch, "webgrad-simd.wasm"));
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as import("node:net").AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("node: the reference forward", async () => {
  const wg = await import("webgrad" as string);
  await wg.init({ threads: 1, verbose: false });
  wg.manualSeed(0);
  const model = new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 3));
  logits.node = wg.noGrad(() => model.forward(wg.tensor(X)).toArray());
  wg.shutdown();
});

test("workerd: inference and a training step in a Worker, wasm imported at deploy time", async () => {
  const esbuild = await import("esbuild");
  // as wrangler bundles: one ES module, the .wasm import left for the runtime to link
  const r = await esbuild.build({
    entryPoints: [join(scratch, "worker.js")], bundle: true, format: "esm", platform: "neutral",
    outfile: join(scratch, "worker-bundle.js"), absWorkingDir: scratch, external: ["webgrad/wasm/*"], logLevel: "silent",
  });
  assert.equal(r.errors.length + r.warnings.length, 0, [...r.errors, ...r.warnings].map((m) => m.text).join("\n"));
  // the newest compatibility date this workerd knows (its version is 1.YYYYMMDD.n): older
  // dates lack FinalizationRegistry, which the memory manager needs
  const version: string = JSON.parse(readFileSync(require.resolve("workerd/package.json"), "utf8")).version;
  const d = version.split(".")[1];
  const date = `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
  const port = await freePort();
  writeFileSync(join(scratch, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker-bundle.js"),
    (name = "webgrad/wasm/simd.wasm", wasm = embed "webgrad-simd.wasm"),
  ],
  compatibilityDate = "${date}",
);
`);
  const bin = join(ROOT, "node_modules", ".bin", "workerd");
  if (!existsSync(bin)) assert.unreachable(`workerd not found at ${bin}: run \`npm install\` (it is a devDependency)`);
  let log = "";
  const child: ChildProcess = spawn(bin, ["serve", "config.capnp"], { cwd: scratch, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (b) => (log += b));
  child.stderr!.on("data", (b) => (log += b));
  try {
    const get = async (path: string) => {
      for (let i = 0; ; i++) {
        try {
          return await (await fetch(`http://127.0.0.1:${port}${path}`)).json();
        } catch (e) {
          if (i > 100 || child.exitCode !== null) throw new Error(`workerd ${path}: ${(e as Error).message}\n${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const infer = await get("/infer");
    assert.is(infer.error, undefined, `${infer.error}\n${log}`);
    assert.is(infer.kernels, "simd");
    assert.is(infer.runtime, "workerd");
    logits.workerd = infer.logits;
    const train = await get("/train");
    assert.is(train.error, undefined, `${train.error}\n${log}`);
    console.log(`  workerd ${version} (compatibility date ${date}): ${infer.kernels}, one SGD step: loss ${train.before.toFixed(4)} → ${train.after.toFixed(4)}`);
    assert.ok(train.after < train.before, `one step lowered the loss (${train.before} → ${train.after})`);
    const none = await get("/no-wasm");
    assert.match(String(none.error), /init\(\{ wasm \}\)/, `without the module, init says to pass init({ wasm }): ${none.error}`);
  } finally {
    child.kill("SIGTERM");
  }
});

test("edge-runtime: inference in an EdgeVM that forbids run-time compilation", async () => {
  const esbuild = await import("esbuild");
  const r = await esbuild.build({
    entryPoints: [join(scratch, "edge.js")], bundle: true, format: "iife", platform: "browser",
    outfile: join(scratch, "edge-bundle.js"), absWorkingDir: scratch, logLevel: "silent",
    // a script has no import.meta: the asset URLs it would give are unused when init gets the module
    logOverride: { "empty-import-meta": "silent" },
  });
  assert.equal(r.errors.length + r.warnings.length, 0, [...r.errors, ...r.warnings].map((m) => m.text).join("\n"));
  const { EdgeRuntime } = (await import("edge-runtime" as string)).default;
  const vm = new EdgeRuntime({ codeGeneration: { strings: false, wasm: false } });
  vm.evaluate(readFileSync(join(scratch, "edge-bundle.js"), "utf8"));
  const blocked = await vm.evaluate("WebAssembly.compile(new Uint8Array([0,97,115,109,1,0,0,0])).then(() => 'compiled', (e) => String(e))");
  assert.match(blocked, /disallowed/, `the VM forbids compiling wasm, as Vercel's edge does: ${blocked}`);
  const module = await WebAssembly.compile(readFileSync(join(scratch, "webgrad-simd.wasm")));
  const out = await vm.evaluate("__webgradInfer")(module);
  console.log(`  edge-runtime: ${out.kernels}, runtime "${out.runtime}", ${out.threads} thread`);
  assert.is(out.kernels, "simd");
  assert.is(out.runtime, "edge");
  logits.edge = out.logits;
  const msg = await vm.evaluate("__webgradNoWasm")();
  assert.match(String(msg), /init\(\{ wasm \}\)/, `without the module, init says to pass init({ wasm }): ${msg}`);
});

test("the forwards agree (node, workerd, edge-runtime)", () => {
  const names = Object.keys(logits);
  assert.equal(names.sort(), ["edge", "node", "workerd"], "every host ran");
  for (const n of names) {
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      assert.ok(Math.abs(logits[n][i][j] - logits.node[i][j]) < 1e-5, `${n}[${i}][${j}] ${logits[n][i][j]} vs node ${logits.node[i][j]}`);
    }
  }
});

test.run();
