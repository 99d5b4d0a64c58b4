// The f16 GEMM (shaders/gemm.f16.wgsl, init's matmulPrecision "f16").
// SwiftShader, which every other WebGPU test uses, has no shader-f16; Mesa's
// lavapipe (Debian's mesa-vulkan-drivers, a CPU Vulkan driver) has it under
// Deno's wgpu (Dawn rejects lavapipe), so the kernel runs in a Deno child,
// test/runtimes/webgpu-f16.mjs, which prints one WEBGPU_F16_RESULT line:
// every transpose / ACCUMULATE combination over shapes that hit every tile
// remainder of both tilings, in f16 and then f32 precision, against float64
// with each precision's error bound; Inf/NaN; training steps in both.
// No lavapipe means a FAILING test that says what to install, never a skip.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { runForResult } from "./harness.js";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import * as wg from "../host/index.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHILD = join(ROOT, "test", "runtimes", "webgpu-f16.mjs");
const LAVAPIPE_ICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";
// lavapipe is a CPU driver on a shared 2-core CI machine: the child takes about a minute
const TIMEOUT_MS = 300_000;

interface GemmCase { m: number; n: number; k: number; flags: number; worst: number; outsideF32: number; elements: number }
interface Run {
  backend: string; summary: string; gpuFeatures?: string[]; caps: { f16: boolean; matmulF16: boolean };
  gemm: GemmCase[]; nonFinite: string[]; train: { mlp: number[]; cnn: number[] }; pipelines: string[];
}
interface Result { f16?: Run; f32?: Run; featuresOff?: string; seconds?: number; error?: string }

test("node, SwiftShader (no shader-f16): matmulPrecision \"f16\" throws the clear error", async () => {
  try {
    await wg.init({ backend: "webgpu", matmulPrecision: "f16", verbose: false });
    assert.unreachable("init succeeded: this adapter has shader-f16 (SwiftShader gained it? then test that path here)");
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.startsWith("init succeeded")) throw e;
    assert.match(msg, /matmulPrecision "f16" needs the adapter feature shader-f16, which .* lacks; use matmulPrecision "f32"/);
  } finally {
    wg.shutdown();
  }
  // the same device in f32 precision works (the refusal is about f16 only)
  const info = await wg.init({ backend: "webgpu", matmulPrecision: "f32", verbose: false });
  assert.is(info.backend, "webgpu");
  assert.not.match(info.summary, /f16 matmul/);
  wg.shutdown();
});

test("cli: --matmul-precision f16|f32 reaches init (help, bad values, wasm, SwiftShader's refusal)", () => {
  const cli = fileURLToPath(new URL("../host/cli.js", import.meta.url));
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", timeout: 120_000, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp" } });
  assert.match(run("--help").stdout, /--matmul-precision f16\|f32/);
  const bad = run("info", "--backend", "webgpu", "--matmul-precision", "f64");
  assert.is(bad.status, 1);
  assert.match(bad.stderr, /--matmul-precision must be f32 or f16, got "f64"/);
  const wasm = run("info", "--matmul-precision", "f16");
  assert.is(wasm.status, 1);
  assert.match(wasm.stderr, /--matmul-precision f16 is for the WebGPU backend/);
  // SwiftShader (this file's driver) lacks shader-f16: the engine's error comes through
  const gpu = run("info", "--backend", "webgpu", "--matmul-precision", "f16");
  assert.is(gpu.status, 1, gpu.stdout + gpu.stderr);
  assert.match(gpu.stderr, /matmulPrecision "f16" needs the adapter feature shader-f16/);
  const f32 = run("info", "--backend", "webgpu", "--matmul-precision", "f32");
  assert.is(f32.status, 0, f32.stderr);
  assert.match(f32.stdout, /webgpu backend/);
});

async function runChild(): Promise<Result> {
  const deno = join(ROOT, "node_modules", ".bin", "deno");
  if (!existsSync(deno)) return { error: `deno not found at ${deno}: run npm install` };
  // lavapipe, not the SwiftShader that scripts/test.mjs set for this file (and not chromium's Vulkan loader)
  const env = {
    ...process.env,
    VK_ICD_FILENAMES: LAVAPIPE_ICD,
    XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp",
    LD_LIBRARY_PATH: (process.env.LD_LIBRARY_PATH ?? "").split(":").filter((p) => p && p !== "/usr/lib/chromium").join(":"),
  };
  return runForResult<Result>(deno, ["run", "--allow-read", "--allow-env", CHILD], { cwd: ROOT, marker: "WEBGPU_F16_RESULT", timeoutMs: TIMEOUT_MS, env });
}

const name = (c: GemmCase) => `${c.m}×${c.n}×${c.k} ${c.flags & 1 ? "T" : "N"}${c.flags & 2 ? "T" : "N"}${c.flags & 4 ? "+=" : "="}`;

test("deno on lavapipe (shader-f16): f16 GEMM within its bound, f32 GEMM tight, training close to f32", async () => {
  if (!existsSync(LAVAPIPE_ICD)) {
    assert.unreachable(`Mesa's lavapipe Vulkan driver is missing (${LAVAPIPE_ICD}): apt-get install -y mesa-vulkan-drivers (CI's .ci/run installs it); the f16 GEMM is tested only there`);
  }
  const r = await runChild();
  if (r.error) assert.unreachable(`deno child: ${r.error}`);
  const f16 = r.f16!, f32 = r.f32!;
  console.log(`  ${f16.summary} (${r.seconds} s in the child)`);

  assert.is(f16.backend, "webgpu");
  assert.ok(f16.gpuFeatures!.includes("shader-f16"), `lavapipe lists shader-f16: ${f16.gpuFeatures}`);
  assert.match(f16.summary, /shader-f16.*f16 matmul/);
  assert.ok(f16.caps.matmulF16 && !f32.caps.matmulF16, "caps.matmulF16 follows matmulPrecision");
  // every GEMM, the training's included, went through the f16 entries, and only those
  assert.equal(f16.pipelines.sort(), ["gemm_f32_128_f16", "gemm_f32_f16"]);
  assert.equal(f32.pipelines.sort(), ["gemm_f32", "gemm_f32_128", "gemm_f32_small"]); // f32 runs thin shapes per element of C
  assert.is(f16.gemm.length, 16 * 8);

  // f16: |C' − C| ≤ 6.02·2^-11·Σ|ab| + γ(⌈k/4⌉+1)·(|C0| + 1.01·Σ|ab|) (gemm.f16.wgsl), worst = error / bound
  for (const c of f16.gemm) assert.ok(c.worst <= 1, `f16 ${name(c)}: error ${c.worst.toFixed(3)}× its bound`);
  // and really f16: most elements lie outside what an f32 kernel can give (inputs are not f16-representable)
  const outside = f16.gemm.reduce((s, c) => s + c.outsideF32, 0), elements = f16.gemm.reduce((s, c) => s + c.elements, 0);
  assert.ok(outside > 0.5 * elements, `f16 results outside the f32 bound: ${outside} of ${elements} elements (an f32 path would give 0)`);
  // f32 in the same run: within γ(k+1)·(|C0| + Σ|ab|) everywhere
  for (const c of f32.gemm) {
    assert.ok(c.worst <= 1, `f32 ${name(c)}: error ${c.worst.toFixed(3)}× the f32 bound`);
    assert.is(c.outsideF32, 0, `f32 ${name(c)}`);
  }
  // an Inf in row 1 of A and a NaN in row 3: the same rows of ±Inf and NaN as the f32 kernel gives
  assert.equal(f32.nonFinite, ["finite", "inf", "finite", "nan", "finite"]);
  assert.equal(f16.nonFinite, f32.nonFinite);

  for (const key of ["mlp", "cnn"] as const) {
    const a = f16.train[key], b = f32.train[key];
    assert.ok(a.every(Number.isFinite) && a[a.length - 1] < a[0] - 0.1, `${key} trains with f16 matmul: ${a.join(" → ")}`);
    for (let i = 0; i < a.length; i++) {
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-2 * Math.abs(b[i]) + 1e-3, `${key} step ${i}: f16 loss ${a[i]} vs f32 ${b[i]}`);
    }
  }
  assert.match(r.featuresOff!, /matmulPrecision "f16" needs the adapter feature shader-f16, which .* has but the features option turned off/);
});

test.run();
