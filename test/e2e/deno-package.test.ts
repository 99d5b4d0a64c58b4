// Deno through an `npm:` specifier, with no network: a scratch project whose
// package.json depends on webgrad and whose node_modules/webgrad links this
// checkout (as `npm install` would have left it); Deno runs with
// --node-modules-dir=manual, so `npm:webgrad` resolves from that folder through
// package.json's "exports" (the bundled entry), and the npm registry is pointed
// at a closed port, so any download would fail the test. The program trains 5
// steps on 2 threads (node:worker_threads under Deno). Bun runs the same program
// importing "webgrad" by its bare name.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const scratch = mkdtempSync(join(tmpdir(), "webgrad-deno-"));
const bin = (n: string) => join(ROOT, "node_modules", ".bin", n);

const program = (specifier: string) => `
import * as wg from "${specifier}";
const info = await wg.init({ threads: 2, verbose: false });
wg.manualSeed(0);
const net = new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 3));
const opt = new wg.optim.SGD(net.parameters(), { lr: 0.5 });
const x = wg.tensor([[0.5, -1, 2, 0.25], [1, 1, -1, 0]]), y = wg.tensor([0, 2], { dtype: "int32" });
const losses = [];
for (let i = 0; i < 5; i++) losses.push(wg.scope(() => { opt.zeroGrad(); const l = wg.nn.crossEntropy(net.forward(x), y); l.backward(); opt.step(); return l.item(); }));
console.log("WEBGRAD_RESULT " + JSON.stringify({ kernels: info.kernels, threads: info.threads, runtime: info.runtime, losses, resolved: import.meta.resolve("${specifier}") }));
wg.shutdown();
`;

test.before(() => {
  if (!existsSync(join(ROOT, "dist", "host", "backends", "webgrad.js"))) throw new Error("dist/host/backends/webgrad.js is missing: run `npm run build` first");
  mkdirSync(join(scratch, "node_modules"), { recursive: true });
  symlinkSync(ROOT, join(scratch, "node_modules", "webgrad"), "dir");
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "app", private: true, type: "module", dependencies: { webgrad: pkg.version } }));
  writeFileSync(join(scratch, "deno.mjs"), program("npm:webgrad"));
  writeFileSync(join(scratch, "bun.mjs"), program("webgrad"));
});

test.after(() => rmSync(scratch, { recursive: true, force: true }));

function run(name: string, cmd: string, args: string[]) {
  if (!existsSync(cmd)) assert.unreachable(`${name} not found at ${cmd}: run \`npm install\` (it is a devDependency)`);
  const r = spawnSync(cmd, args, {
    cwd: scratch, encoding: "utf8", timeout: 60_000,
    env: { ...process.env, DENO_DIR: join(scratch, ".deno"), NPM_CONFIG_REGISTRY: "http://127.0.0.1:9/", DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("WEBGRAD_RESULT "));
  assert.ok(r.status === 0 && line, `${name} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(line!.slice("WEBGRAD_RESULT ".length));
  console.log(`  ${name}: ${out.kernels}, ${out.threads} threads, loss ${out.losses[0].toFixed(4)} → ${out.losses.at(-1).toFixed(4)}, resolved to ${out.resolved}`);
  assert.is(out.threads, 2);
  assert.ok(out.kernels.endsWith("-threads"), out.kernels);
  assert.ok(out.losses.at(-1) < out.losses[0], `the loss fell: ${out.losses.join(", ")}`);
  assert.ok(String(out.resolved).endsWith("/dist/host/backends/webgrad.js"), `resolved through "exports" to the bundled entry: ${out.resolved}`);
  return out;
}

test("deno: npm:webgrad from node_modules, nothing downloaded", () => {
  const out = run("deno", bin("deno"), ["run", "--node-modules-dir=manual", "--allow-read", "--allow-env", "deno.mjs"]);
  assert.is(out.runtime, "deno");
  const npmCache = join(scratch, ".deno", "npm");
  const cached = existsSync(npmCache) ? readdirSync(npmCache, { recursive: true }) : [];
  assert.equal(cached, [], "Deno's npm cache stayed empty");
});

test("bun: import \"webgrad\" by name", () => {
  const out = run("bun", bin("bun"), ["bun.mjs"]);
  assert.is(out.runtime, "bun");
});

test.run();
