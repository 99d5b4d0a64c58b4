// The kernel manifests (kernels/*.mjs) are the one description of every
// kernel's arguments: these tests check that what is generated from them is
// fresh and that the generator refuses an AssemblyScript export or a backend
// that drifts from them (docs/KERNELS.md, "Families and signatures").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, mkdtempSync, writeFileSync, mkdirSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as wg from "../host/index.js";
import { UnaryOp, type KernelName } from "../host/backends/abi.generated.js";
import { EXPORT_ARGS, KERNEL_FAMILY } from "../host/backends/abi-tables.generated.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const manifest = () => import(new URL("../../scripts/kernels/manifest.mjs", import.meta.url).href);
const gen = () => import(new URL("../../scripts/gen-kernels.mjs", import.meta.url).href);

test("the committed generated files (assembly/opcodes.generated.ts, docs/KERNELS.md) are what the manifests give", async () => {
  const { committed, built } = await (await gen()).generateFromManifests();
  for (const [path, text] of Object.entries(committed as Record<string, string>)) {
    assert.ok(readFileSync(root + path, "utf8") === text, `${path} is stale: run node scripts/gen-kernels.mjs`);
  }
  // the build outputs too, for this build (npm run build regenerates them)
  for (const [path, text] of Object.entries(built as Record<string, string>)) {
    assert.ok(readFileSync(root + path, "utf8") === text, `${path} is stale: run npm run build`);
  }
});

test("one op-code table: the host's, the kernels' and the docs' come from the manifest", () => {
  const as = readFileSync(root + "assembly/opcodes.generated.ts", "utf8");
  for (const [name, code] of Object.entries(UnaryOp)) assert.match(as, new RegExp(`export const UNARY_${name.toUpperCase()}: i32 = ${code};`));
  const doc = readFileSync(root + "docs/KERNELS.md", "utf8");
  assert.match(doc, new RegExp(`UnaryOp \\(\`UNARY_\\*\`\\): ${Object.entries(UnaryOp).map(([k, v]) => `${v} ${k}`).join(", ")}\\.`));
});

/** A copy of the manifests and assembly/ in a temporary root, with `edit` applied to one file. */
function scratchRoot(file: string, edit: (s: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), "webgrad-manifest-"));
  cpSync(root + "kernels", join(dir, "kernels"), { recursive: true });
  cpSync(root + "assembly", join(dir, "assembly"), { recursive: true });
  const p = join(dir, file);
  writeFileSync(p, edit(readFileSync(p, "utf8")));
  mkdirSync(join(dir, "docs"), { recursive: true });
  return dir;
}

test("an AssemblyScript export whose parameters differ from its manifest is refused, naming both", async () => {
  const m = await manifest();
  const dir = scratchRoot("assembly/movement.ts", (s) => s.replace("export function fill_f32(y: usize, n: i32, value: f32)", "export function fill_f32(y: usize, value: f32, n: i32)"));
  const fams = await m.loadManifests(dir);
  assert.throws(() => m.checkExports(dir, fams), /assembly\/movement\.ts: fill_f32\(y: usize, value: f32, n: i32\) differs from kernels\/movement\.mjs: \(y: usize, n: i32, value: f32\)/);
  assert.not.throws(() => m.checkExports(root.replace(/\/$/, ""), fams), "the real tree agrees with its manifests");
});

test("a kernel with neither a WGSL twin nor a GPU plan is refused unless it is internal to the wasm schedules", async () => {
  const m = await manifest();
  const dir = scratchRoot("kernels/movement.mjs", (s) => s.replace(`fill_f32: { doc: "y[i] = value.", args: { y: "ptr", n: "u32", value: "f32" }, gpu: { grid: "n" } },`, `fill_f32: { doc: "y[i] = value.", args: { y: "ptr", n: "u32", value: "f32" } },`));
  let err: Error | null = null;
  try {
    await m.loadManifests(dir);
  } catch (e) {
    err = e as Error;
  }
  assert.match(String(err?.message), /kernels\/movement\.mjs: fill_f32 has no gpu entry/);
});

test("both backends run every kernel of the manifests, through the same typed table", async () => {
  await wg.init({ backend: "wasm", threads: 1, verbose: false });
  const be = wg.backend();
  const names = Object.keys(EXPORT_ARGS) as KernelName[];
  assert.ok(names.length >= 40, `${names.length} kernels`);
  for (const k of names) {
    assert.ok(be.supports(k), `wasm runs ${k}`);
    assert.ok(KERNEL_FAMILY[k], `${k} has a family`);
  }
  // a call through the seam: named arguments, the backend's own schedule
  const x = wg.tensor([1, -2, 3, -4]);
  const y = wg.zeros([4]);
  be.kernels.unary_f32({ op: UnaryOp.relu, x: x.ptr, y: y.ptr, n: 4 });
  assert.equal(Array.from(y.dataSync()), [1, 0, 3, 0]);
  wg.shutdown();
});

test.run();
