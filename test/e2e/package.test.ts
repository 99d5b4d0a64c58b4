// The package as users get it: `npm pack` of this repository, unpacked into a
// scratch project's node_modules (no network: the runtime dependencies are
// linked from this checkout's node_modules), then imported by name, run (init
// and a matmul), its CLI asked for --version, and a strict TypeScript program
// type-checked against the shipped declarations with skipLibCheck off, under
// lib ES2022 with @types/node (Node) and with DOM (browsers).
// Packed with --ignore-scripts: `npm test` has just built dist/, and the
// prepare script (the same build, host only) is what git installs run.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, symlinkSync, existsSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const scratch = mkdtempSync(join(tmpdir(), "webgrad-package-"));
const installed = join(scratch, "node_modules", "webgrad");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let files: { path: string; size: number }[] = [];

const sh = (cmd: string, args: string[], cwd = scratch) => {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

test.before(() => {
  const out = sh(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], ROOT);
  const [info] = JSON.parse(out.slice(out.indexOf("[")));
  files = info.files;
  mkdirSync(installed, { recursive: true });
  sh("tar", ["xzf", join(scratch, info.filename), "-C", installed, "--strip-components=1"]);
  // the runtime dependencies, as npm would install them beside the package
  const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), "@types/node", "typescript"];
  for (const d of deps) {
    const from = join(ROOT, "node_modules", d);
    if (!existsSync(from)) continue;
    mkdirSync(join(scratch, "node_modules", d, ".."), { recursive: true });
    symlinkSync(from, join(scratch, "node_modules", d), "dir");
  }
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

test("the tarball holds the built package and nothing dead", () => {
  const paths = files.map((f) => f.path);
  for (const p of ["package.json", "README.md", "LICENSE", "dist/host/index.js", "dist/host/index.d.ts", "dist/host/cli.js", "dist/host/backends/worker.js",
    "dist/host/backends/webgrad.js", "dist/host/backends/inline.js",
    ...["simd", "relaxed", "simd-threads", "relaxed-threads"].map((v) => `dist/host/backends/webgrad-${v}.wasm`)]) {
    assert.ok(paths.includes(p), `${p} missing from the tarball`);
  }
  assert.equal(paths.filter((p) => p.endsWith(".map")), [], "source maps of sources that are not shipped");
  assert.equal(paths.filter((p) => !p.startsWith("dist/host/") && !["package.json", "README.md", "LICENSE"].includes(p)), [], "files outside dist/host");
  // the embedded kernels are typed `string`: their declarations are a few lines, not the base64 again
  const dts = files.find((f) => f.path === "dist/host/backends/kernels.generated.d.ts");
  assert.ok(dts && dts.size < 1000, `kernels.generated.d.ts is ${dts?.size} bytes`);
  // 400 KB: the main bundle is ~357 KB (203 KB with the typed kernel tables; then the ops, layers,
  // losses and optimizers of issue 15, issue 16's int8 layers, keepNames' 17 KB, and issue 17's Llama family,
  // loadPretrained and LoRA, ~60 KB); this guards against a file that should not be there, not growth
  const big = files.filter((f) => f.size > 400_000 && f.path !== "dist/host/backends/kernels.generated.js");
  assert.equal(big.map((f) => f.path), [], "unexpectedly large files");
});

test("import * as wg from \"webgrad\": init and a matmul", () => {
  writeFileSync(join(scratch, "main.mjs"), `
    import * as wg from "webgrad";
    import meta from "webgrad/package.json" with { type: "json" };
    const info = await wg.init({ threads: 1, verbose: false });
    const y = wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([[5], [6]]));
    // the bundle keeps class names: QuantizedLinear.from names its own class, which esbuild
    // otherwise renames _QuantizedLinear, and module reprs print constructor.name
    const q = String(wg.nn.QuantizedLinear.from(new wg.nn.Linear(2, 1))).split("(")[0];
    console.log(JSON.stringify({ backend: info.backend, y: y.toArray(), version: meta.version, q }));
    wg.shutdown();
  `);
  const r = spawnSync(process.execPath, ["main.mjs"], { cwd: scratch, encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(out, { backend: "wasm", y: [[17], [39]], version: pkg.version, q: "QuantizedLinear" });
});

test("the bin answers --version", () => {
  const r = spawnSync(process.execPath, [join(installed, pkg.bin.webgrad), "--version"], { cwd: scratch, encoding: "utf8", timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), pkg.version);
});

for (const [name, lib, types] of [["Node", ["es2022"], ["node"]], ["browser", ["es2022", "dom"], []]] as const) {
  test(`a strict program type-checks against the shipped types (${name}: lib ${lib.join(", ")}, skipLibCheck off)`, () => {
    writeFileSync(join(scratch, "main.ts"), `
      import * as wg from "webgrad";
      await wg.init();
      const x: wg.Tensor = wg.tensor([[1, 2], [3, 4]]);
      const w = wg.randn([2, 3], { requiresGrad: true, seed: 0 });
      x.matmul(w).relu().sum().backward();
      const g: wg.NestedArray | undefined = w.grad?.toArray();
      class Net extends wg.nn.Module {
        fc = new wg.nn.Linear(4, 2);
        forward(t: wg.Tensor): wg.Tensor { return this.fc.forward(t); }
      }
      const net = new Net();
      const opt = new wg.optim.SGD(net.parameters(), { lr: 0.1 });
      opt.step();
      { using t = wg.zeros([2]); void t; }
      export const out = [g, String(net)];
    `);
    writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify({
      compilerOptions: { strict: true, target: "es2022", lib, types, module: "nodenext", moduleResolution: "nodenext", skipLibCheck: false, noEmit: true },
      files: ["main.ts"],
    }));
    const r = spawnSync(process.execPath, [join(scratch, "node_modules", "typescript", "bin", "tsc"), "-p", "."], { cwd: scratch, encoding: "utf8", timeout: 120_000 });
    assert.is(r.status, 0, r.stdout + r.stderr);
  });
}

test.run();
