// The WebGPU row reductions (softmax family, layer and RMS norm, contiguous reduce /
// argmax / argmin) against their wasm twins, twice: with the device's default
// features (the subgroup kernels of shaders/*.subgroups.wgsl; SwiftShader has
// subgroups, of size 4) and with init({ gpuFeatures: [] }) (the workgroup-tree
// fallback). Row lengths hit every remainder of the 4-wide subgroup and the
// 128-wide workgroup; ROW_REDUCTION.workgroupFromCols is set to 0 for the sweep
// so even 1-column rows go through the workgroup-per-row kernels, then the
// default is checked to keep short rows on the one-invocation-per-row kernels.
// Each pass asserts from backend.compiledEntries() which variant ran.
//
// No adapter FAILS this file (as test/webgpu.test.ts): it never skips.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, assertClose, randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";
import type { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { ROW_REDUCTION } from "../host/backends/webgpu/plans.js";
import * as wg from "../host/index.js";
import { putBoth, compareTwins, gpuCall } from "./webgpu-twins.js";

const WIDTHS = [1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1000, 4099];
const ROW_KERNELS = ["softmax_f32", "log_softmax_f32", "softmax_backward_f32", "log_softmax_backward_f32", "softmax_xent_f32",
  "layernorm_f32", "layernorm_backward_f32", "rmsnorm_f32", "rmsnorm_backward_f32", "reduce_f32", "argmax_f32", "argmin_f32"];

let box: KernelBox;
let gpu: WebGpuBackend;

test.before(() => {
  box = kernels("simd");
});
test.after(() => {
  ROW_REDUCTION.workgroupFromCols = 32;
  wg.shutdown();
});

const put = (data: Float32Array | Int32Array) => putBoth(box, gpu, data);
const compare = (g: number, w: number, n: number, what: string, tol?: { rtol: number; atol: number }) => compareTwins(box, gpu, g, w, n, what, tol);

/** Values on a grid of quarters in [-2, 2]: many exact ties (the max included) and both signed zeros. */
function quarters(n: number, seed: number): Float32Array {
  return randomF32(n, seed).map((v) => Math.round(v * 8) / 4);
}

/** Every row kernel at every width, against wasm. */
async function sweep(pass: string): Promise<void> {
  for (const [wi, cols] of WIDTHS.entries()) {
    box.reset();
    const rows = [1, 3, 2][wi % 3], n = rows * cols, what = `${pass} ${rows}×${cols}`;
    // softmax family
    const [xw, xg] = put(randomF32(n, n).map((v) => v * 8));
    const [yw, yg] = put(new Float32Array(n)), [dyw, dyg] = put(randomF32(n, n + 1)), [dxw, dxg] = put(new Float32Array(n));
    for (const [fwd, bwd] of [["softmax_f32", "softmax_backward_f32"], ["log_softmax_f32", "log_softmax_backward_f32"]] as const) {
      box.k[fwd](xw, yw, rows, cols); gpuCall(gpu, fwd, xg, yg, rows, cols);
      await compare(yg, yw, n, `${fwd} ${what}`, { rtol: 5e-5, atol: 1e-6 });
      box.k[bwd](yw, dyw, dxw, rows, cols); gpuCall(gpu, bwd, yg, dyg, dxg, rows, cols);
      await compare(dxg, dxw, n, `${bwd} ${what}`, { rtol: 1e-4, atol: 2e-5 });
    }
    const labels = Int32Array.from({ length: rows }, (_, r) => (r * 7 + cols - 1) % cols);
    const [lw, lg] = put(labels), [lossw, lossg] = put(new Float32Array(rows)), [pw, pg] = put(new Float32Array(n));
    box.k.softmax_xent_f32(xw, lw, lossw, pw, rows, cols); gpuCall(gpu, "softmax_xent_f32", xg, lg, lossg, pg, rows, cols);
    await compare(lossg, lossw, rows, `softmax_xent loss ${what}`, { rtol: 1e-5, atol: 2e-5 });
    await compare(pg, pw, n, `softmax_xent probs ${what}`, { rtol: 5e-5, atol: 1e-6 });
    // its backward has no row sum (one invocation per element, whatever the variant): per-row and broadcast dloss
    const [gw, gg] = put(randomF32(rows, 9));
    for (const stride of [1, 0]) {
      box.k.softmax_xent_backward_f32(pw, lw, gw, stride, dxw, rows, cols, 0.5);
      gpuCall(gpu, "softmax_xent_backward_f32", pg, lg, gg, stride, dxg, rows, cols, 0.5);
      await compare(dxg, dxw, n, `softmax_xent_backward dlossStride=${stride} ${what}`, { rtol: 5e-5, atol: 1e-7 });
    }
    // layer norm, with gamma and beta on even widths, without on odd ones
    const affine = cols % 2 === 0;
    const [gamw, gamg] = affine ? put(randomF32(cols, 5)) : [0, 0], [betw, betg] = affine ? put(randomF32(cols, 6)) : [0, 0];
    const [mw, mg] = put(new Float32Array(rows)), [rw, rg] = put(new Float32Array(rows));
    const xn = randomF32(n, n + 2).map((v, i) => v * 3 + (i % 7)); // an offset mean: the two-pass variance matters
    const [xnw, xng] = put(xn);
    box.k.layernorm_f32(xnw, gamw, betw, yw, mw, rw, rows, cols, 1e-5);
    gpuCall(gpu, "layernorm_f32", xng, gamg, betg, yg, mg, rg, rows, cols, 1e-5);
    await compare(yg, yw, n, `layernorm ${what}`, { rtol: 1e-4, atol: 2e-4 });
    await compare(mg, mw, rows, `layernorm mean ${what}`, { rtol: 1e-5, atol: 1e-5 });
    await compare(rg, rw, rows, `layernorm rstd ${what}`, { rtol: 1e-4, atol: 1e-5 });
    box.k.layernorm_backward_f32(xnw, dyw, gamw, mw, rw, dxw, rows, cols);
    gpuCall(gpu, "layernorm_backward_f32", xng, dyg, gamg, mg, rg, dxg, rows, cols);
    await compare(dxg, dxw, n, `layernorm_backward ${what}`, { rtol: 2e-4, atol: 2e-4 });
    // RMS norm (issue 17), with its weight on even widths (gamma), without on odd ones
    const [rsw, rsg] = put(new Float32Array(rows));
    box.k.rmsnorm_f32(xnw, gamw, yw, rsw, rows, cols, 1e-5);
    gpuCall(gpu, "rmsnorm_f32", xng, gamg, yg, rsg, rows, cols, 1e-5);
    await compare(yg, yw, n, `rmsnorm ${what}`, { rtol: 1e-4, atol: 1e-5 });
    await compare(rsg, rsw, rows, `rmsnorm rstd ${what}`, { rtol: 1e-5, atol: 0 });
    box.k.rmsnorm_backward_f32(xnw, dyw, gamw, rsw, dxw, rows, cols);
    gpuCall(gpu, "rmsnorm_backward_f32", xng, dyg, gamg, rsg, dxg, rows, cols);
    await compare(dxg, dxw, n, `rmsnorm_backward ${what}`, { rtol: 2e-4, atol: 2e-5 });
    // contiguous reduce / argmax / argmin: ties, signed zeros, and a NaN row (its first NaN wins)
    const q = quarters(n, n + 3);
    if (rows > 1) { q[cols + Math.floor(cols / 2)] = NaN; q[2 * cols - 1] = NaN; }
    const [qw, qg] = put(q);
    const [ow, og] = put(new Float32Array(rows)), [iw, ig] = put(new Int32Array(rows));
    for (let op = 0; op < 4; op++) {
      box.k.reduce_f32(op, qw, ow, rows, cols, 1); gpuCall(gpu, "reduce_f32", op, qg, og, rows, cols, 1);
      await compare(og, ow, rows, `reduce op=${op} ${what}`, { rtol: 1e-5, atol: 1e-5 * Math.sqrt(cols) });
    }
    for (const k of ["argmax_f32", "argmin_f32"] as const) {
      box.k[k](qw, iw, rows, cols, 1); gpuCall(gpu, k, qg, ig, rows, cols, 1);
      assert.equal(Array.from(new Int32Array(await gpu.read(ig, rows * 4))), Array.from(box.i32(iw, rows)), `${k} ${what}`);
    }
    // softmax of a row holding a NaN: NaN throughout, as wasm's max propagates it
    if (rows > 1) {
      box.k.softmax_f32(qw, yw, rows, cols); gpuCall(gpu, "softmax_f32", qg, yg, rows, cols);
      await compare(yg, yw, n, `softmax with a NaN row ${what}`, { rtol: 5e-5, atol: 1e-6 });
    }
  }
}

/** Empty rows, and rows on a 2-D grid. */
async function edges(pass: string): Promise<void> {
  box.reset();
  // len 0: sum 0, mean NaN, max −inf, min +inf, argmax 0 (the wasm twin's answers)
  const rows = 3;
  const [ew, eg] = put(new Float32Array(1)), [ow, og] = put(new Float32Array(rows)), [iw, ig] = put(new Int32Array(rows).fill(7));
  for (let op = 0; op < 4; op++) {
    box.k.reduce_f32(op, ew, ow, rows, 0, 1); gpuCall(gpu, "reduce_f32", op, eg, og, rows, 0, 1);
    // exact (assertClose cannot compare infinities): 0, NaN, −inf, +inf
    assert.equal(Array.from(new Float32Array(await gpu.read(og, rows * 4))), Array.from(box.f32(ow, rows)), `${pass} reduce op=${op} over empty rows`);
  }
  box.k.argmax_f32(ew, iw, rows, 0, 1); gpuCall(gpu, "argmax_f32", eg, ig, rows, 0, 1);
  assert.equal(Array.from(new Int32Array(await gpu.read(ig, rows * 4))), Array.from(box.i32(iw, rows)), `${pass} argmax over empty rows`);
  // −0 and +0 tie as the extreme (the first wins): rows of 200 spread over many lanes and subgroups
  const zeros = new Float32Array(400);
  for (let i = 0; i < 200; i++) { zeros[i] = -5; zeros[200 + i] = 5; }
  zeros[70] = -0; zeros[150] = 0; zeros[190] = -0; // argmax of row 0: 70
  zeros[240] = 0; zeros[241] = -0; zeros[399] = -0; // argmin of row 1: 40
  const [zw, zg] = put(zeros), [zaw, zag] = put(new Int32Array(2));
  for (const k of ["argmax_f32", "argmin_f32"] as const) {
    box.k[k](zw, zaw, 2, 200, 1); gpuCall(gpu, k, zg, zag, 2, 200, 1);
    assert.equal(Array.from(new Int32Array(await gpu.read(zag, 8))), Array.from(box.i32(zaw, 2)), `${pass} ${k} with −0 and +0 tied`);
  }
  // the 2-D grid of the workgroup kernels (row = x + y·groups in x), with at most 7 groups in x:
  // 40 rows → 7×6 groups, the last 2 past the end. (65536 real workgroups take SwiftShader 30 s.)
  ROW_REDUCTION.maxGroupsX = 7;
  try {
    const r2 = 40, c2 = 33, n2 = r2 * c2;
    const [xw, xg] = put(quarters(n2, 12)), [sw, sg] = put(new Float32Array(r2)), [aw, ag] = put(new Int32Array(r2));
    const [lw, lg] = put(Int32Array.from({ length: r2 }, (_, r) => r % c2)), [pw, pg] = put(new Float32Array(n2)), [lossw, lossg] = put(new Float32Array(r2));
    box.k.reduce_f32(1, xw, sw, r2, c2, 1); gpuCall(gpu, "reduce_f32", 1, xg, sg, r2, c2, 1);
    await compare(sg, sw, r2, `${pass} reduce mean, ${r2} rows on a 7-wide 2-D grid`, { rtol: 1e-5, atol: 1e-6 });
    box.k.argmin_f32(xw, aw, r2, c2, 1); gpuCall(gpu, "argmin_f32", xg, ag, r2, c2, 1);
    assert.equal(Array.from(new Int32Array(await gpu.read(ag, r2 * 4))), Array.from(box.i32(aw, r2)), `${pass} argmin, ${r2} rows on a 7-wide 2-D grid`);
    box.k.softmax_xent_f32(xw, lw, lossw, pw, r2, c2); gpuCall(gpu, "softmax_xent_f32", xg, lg, lossg, pg, r2, c2);
    await compare(lossg, lossw, r2, `${pass} softmax_xent loss, ${r2} rows on a 7-wide 2-D grid`, { rtol: 1e-5, atol: 1e-5 });
    await compare(pg, pw, n2, `${pass} softmax_xent probs, ${r2} rows on a 7-wide 2-D grid`, { rtol: 5e-5, atol: 1e-6 });
  } finally {
    ROW_REDUCTION.maxGroupsX = 65535;
  }
}

/** Past 65535 rows for real: short rows, so the per-row kernel (a 2-D grid of 256-wide groups) at the default threshold. */
async function manyRows(pass: string): Promise<void> {
  box.reset();
  ROW_REDUCTION.workgroupFromCols = 32;
  const many = 70000, cols = 3;
  const [xw, xg] = put(randomF32(many * cols, 11)), [sw, sg] = put(new Float32Array(many)), [iw, ig] = put(new Int32Array(many));
  box.k.reduce_f32(0, xw, sw, many, cols, 1); gpuCall(gpu, "reduce_f32", 0, xg, sg, many, cols, 1);
  await compare(sg, sw, many, `${pass} reduce sum over ${many} rows of ${cols}`, { rtol: 1e-5, atol: 1e-6 });
  box.k.argmax_f32(xw, iw, many, cols, 1); gpuCall(gpu, "argmax_f32", xg, ig, many, cols, 1);
  assert.equal(Array.from(new Int32Array(await gpu.read(ig, many * 4))), Array.from(box.i32(iw, many)), `${pass} argmax over ${many} rows`);
}

/** With the default threshold, short rows stay on the one-invocation-per-row kernel and wide ones do not. */
async function defaultChoice(pass: string, wide: string): Promise<void> {
  box.reset();
  ROW_REDUCTION.workgroupFromCols = 32;
  const before = new Set(gpu.compiledEntries());
  for (const cols of [10, 100]) {
    const rows = 5, n = rows * cols;
    const [xw, xg] = put(randomF32(n, cols)), [yw, yg] = put(new Float32Array(n));
    box.k.log_softmax_f32(xw, yw, rows, cols); gpuCall(gpu, "log_softmax_f32", xg, yg, rows, cols);
    await compare(yg, yw, n, `${pass} log_softmax ${rows}×${cols} at the default threshold`, { rtol: 5e-5, atol: 1e-6 });
  }
  assert.not.ok(before.has("log_softmax_f32"), `${pass}: the sweep (threshold 0) never ran the per-row kernel`);
  assert.ok(gpu.compiledEntries().includes("log_softmax_f32"), `${pass}: 10 columns ran the per-row kernel`);
  assert.ok(gpu.compiledEntries().includes(`log_softmax_f32_${wide}`), `${pass}: 100 columns ran log_softmax_f32_${wide}`);
}

async function start(features?: string[]): Promise<void> {
  wg.shutdown();
  await wg.init({ backend: "webgpu", verbose: false, ...(features ? { gpuFeatures: features } : {}) });
  gpu = wg.backend() as WebGpuBackend;
  ROW_REDUCTION.workgroupFromCols = 0;
}

test("default features: the subgroup row kernels match wasm at every width (or, without subgroups, the workgroup ones)", async () => {
  await start();
  console.log(`  ${gpu.summary}`);
  const wide = gpu.caps.subgroups ? "subgroup" : "workgroup";
  if (!gpu.caps.subgroups) console.log("  this adapter has no subgroups: the default pass runs the workgroup kernels (the subgroup variants are untested here)");
  await sweep(`[${wide}]`);
  await edges(`[${wide}]`);
  const compiled = gpu.compiledEntries();
  for (const k of ROW_KERNELS) {
    assert.ok(compiled.includes(`${k}_${wide}`), `${k}_${wide} was compiled (have: ${compiled})`);
    assert.not.ok(compiled.includes(`${k}_${wide === "subgroup" ? "workgroup" : "subgroup"}`), `${k}: only the ${wide} variant ran`);
  }
  await defaultChoice(`[${wide}]`, wide);
  await manyRows(`[${wide}]`);
});

test("gpuFeatures: []: the workgroup-tree fallbacks match wasm at every width, and no subgroup kernel compiles", async () => {
  await start([]);
  assert.not.ok(gpu.caps.subgroups, "gpuFeatures [] turns subgroups off");
  await sweep("[workgroup]");
  await edges("[workgroup]");
  const compiled = gpu.compiledEntries();
  for (const k of ROW_KERNELS) {
    assert.ok(compiled.includes(`${k}_workgroup`), `${k}_workgroup was compiled (have: ${compiled})`);
    assert.not.ok(compiled.includes(`${k}_subgroup`), `${k}: no subgroup variant with gpuFeatures []`);
  }
  await defaultChoice("[workgroup]", "workgroup");
  await manyRows("[workgroup]");
});

test.run();
