// WebGPU kernel twins (shaders/*.wgsl) against their wasm twins on the same
// inputs: gemm over every transpose / accumulate combination with m, n, k below,
// at and above the 64×64×16 tile (strided, C padding left untouched);
// every elementwise kernel over lengths hitting each remainder of the 256-wide
// workgroup, plus one length past 65535 groups (the 2-D launch) that also grows
// the heap; RMS norm (short rows per invocation, wide rows per workgroup), rope
// and swiglu (issue 17); then what init({ backend: "webgpu" }) alone does (its
// ops: ops.test.ts).
//
// In Node the adapter comes from the `webgpu` package (Dawn); with no GPU,
// scripts/test.mjs starts this file with SwiftShader (LD_LIBRARY_PATH and
// VK_ICD_FILENAMES, see docs/WEBGPU.md). No adapter FAILS this file: it never skips.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, assertClose, randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { GEMM_SMALL } from "../host/backends/webgpu/plans.js";
import { UnaryOp, type KernelName } from "../host/backends/abi.generated.js";
import { EXPORT_ARGS } from "../host/backends/abi-tables.generated.js";
import * as wg from "../host/index.js";
import { putBoth, compareTwins, gpuCall } from "./webgpu-twins.js";

const TRANS_A = 1, TRANS_B = 2, ACCUMULATE = 4;
let box: KernelBox;
let gpu: WebGpuBackend;

test.before(async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
  console.log(`  ${gpu.summary}`);
});
test.after(() => gpu?.shutdown());

const put = (data: Float32Array | Int32Array, shift = 0) => putBoth(box, gpu, data, shift);

async function readF32(ptr: number, n: number): Promise<Float32Array> {
  return new Float32Array(await gpu.read(ptr, n * 4));
}

// ---------------------------------------------------------------------------
// gemm

const M = [1, 5, 63, 64, 65, 130];
const N = [1, 17, 64, 67];
const K = [1, 15, 16, 17, 40];

// twice: every shape through the 64×64 tiles (the thin-product threshold at 0), then with the
// default thresholds, where the thin ones (m or n < 32, k < 16) take gemm_f32_small
for (const [what, small] of [["64×64 tiles for every shape", { belowMN: 0, belowK: 0 }], ["default thresholds: thin shapes through gemm_f32_small", { ...GEMM_SMALL }]] as const) {
test(`gemm_f32 (${what}): every transpose and accumulate flag, m/n/k around the 64×64×16 tile, strided operands`, async () => {
  const saved = { ...GEMM_SMALL };
  Object.assign(GEMM_SMALL, small);
  const before = new Set(gpu.compiledEntries());
  for (let flags = 0; flags < 8; flags++) {
    box.reset();
    const cases: { m: number; n: number; k: number; cw: number; cg: number; len: number }[] = [];
    let seed = flags * 1000;
    for (const m of M) for (const n of N) {
      const k = K[(seed++) % K.length];
      const lda = (flags & TRANS_A ? m : k) + (seed % 3), ldb = (flags & TRANS_B ? k : n) + (seed % 2), ldc = n + 1 + (seed % 4);
      const [aw, ag] = put(randomF32((flags & TRANS_A ? k : m) * lda, seed), seed % 3);
      const [bw, bg] = put(randomF32((flags & TRANS_B ? n : k) * ldb, seed + 1), (seed + 1) % 3);
      const len = m * ldc;
      const [cw, cg] = put(randomF32(len, seed + 2), 1);
      const scratch = box.alloc(box.k.gemm_packed_b_bytes(k, n) + 16);
      box.k.gemm_f32(aw, bw, cw, m, n, k, lda, ldb, ldc, flags, scratch);
      gpuCall(gpu, "gemm_f32", ag, bg, cg, m, n, k, lda, ldb, ldc, flags, 0);
      cases.push({ m, n, k, cw, cg, len });
    }
    for (const c of cases) {
      // the whole of C, padding columns included: they must keep their values
      assertClose(await readF32(c.cg, c.len), box.f32(c.cw, c.len), {
        rtol: 1e-5, atol: 1e-6 + 2e-7 * c.k, what: `gemm flags=${flags} m=${c.m} n=${c.n} k=${c.k}`,
      });
    }
  }
  Object.assign(GEMM_SMALL, saved);
  const ran = gpu.compiledEntries().filter((e) => !before.has(e));
  if (small.belowMN > 0) assert.ok(gpu.compiledEntries().includes("gemm_f32_small"), "thin shapes ran gemm_f32_small");
  else assert.ok(!ran.includes("gemm_f32_small") && gpu.compiledEntries().includes("gemm_f32"), `every shape through the tiles: compiled ${ran.join(", ")}`);
});
}

test("gemm_f32 with 128×128 tiles (m, n ≥ 128): 257×129×300, every flag, matches the wasm twin", async () => {
  for (let flags = 0; flags < 8; flags++) {
    box.reset();
    const m = 257, n = 129, k = 300;
    const [aw, ag] = put(randomF32(m * k, 7));
    const [bw, bg] = put(randomF32(k * n, 8));
    const [cw, cg] = put(randomF32(m * n, 9));
    box.k.gemm_f32(aw, bw, cw, m, n, k, flags & TRANS_A ? m : k, flags & TRANS_B ? k : n, n, flags, box.alloc(box.k.gemm_packed_b_bytes(k, n)));
    gpuCall(gpu, "gemm_f32", ag, bg, cg, m, n, k, flags & TRANS_A ? m : k, flags & TRANS_B ? k : n, n, flags, 0);
    assertClose(await readF32(cg, m * n), box.f32(cw, m * n), { rtol: 1e-5, atol: 1e-4, what: `gemm 257×129×300 flags=${flags}` });
  }
});

// ---------------------------------------------------------------------------
// elementwise

const NS = [0, 1, 3, 255, 256, 257, 1000];
// every op code of the manifest, by number (kernels/elementwise.mjs)
const UNARY = Object.keys(UnaryOp).sort((a, b) => UnaryOp[a as keyof typeof UnaryOp] - UnaryOp[b as keyof typeof UnaryOp]);
const POSITIVE = new Set([2, 3, 10]); // log, sqrt, rsqrt: inputs in (0.1, 3.1)

function input(op: number, n: number, seed: number): Float32Array {
  const x = randomF32(n, seed).map((v) => v * 3);
  if (POSITIVE.has(op) || op === 11) return x.map((v) => Math.abs(v) + 0.1);
  return x;
}

const compare = (gp: number, wp: number, n: number, what: string, tol?: { rtol: number; atol: number }) => compareTwins(box, gpu, gp, wp, n, what, tol);

test("unary_f32 and unary_backward_f32: every op code, lengths around the workgroup size", async () => {
  for (let op = 0; op < UNARY.length; op++) {
    for (const n of [0, 1, 255, 256, 257]) { // every remainder class of the 256-wide group; SwiftShader is slow
      box.reset();
      const x = input(op, n, op * 31 + n);
      const [xw, xg] = put(x);
      const [yw, yg] = put(new Float32Array(n));
      const [dyw, dyg] = put(randomF32(n, n + 5));
      const [dxw, dxg] = put(new Float32Array(n));
      box.k.unary_f32(op, xw, yw, n);
      gpuCall(gpu, "unary_f32", op, xg, yg, n);
      box.k.unary_backward_f32(op, xw, yw, dyw, dxw, n);
      gpuCall(gpu, "unary_backward_f32", op, xg, yg, dyg, dxg, n);
      // WGSL's exp/log/tanh/sin are within a few ulp, not bit-equal to the wasm polynomials
      await compare(yg, yw, n, `unary ${UNARY[op]} n=${n}`, { rtol: 3e-5, atol: 3e-6 });
      await compare(dxg, dxw, n, `unary_backward ${UNARY[op]} n=${n}`, { rtol: 1e-4, atol: 1e-5 });
    }
  }
});

test("binary_f32, binary_scalar_f32 (both orders), every op code", async () => {
  for (let op = 0; op <= 12; op++) {
    for (const n of [0, 1, 257, 1000]) {
      box.reset();
      let a = randomF32(n, op + n), b = randomF32(n, op + n + 1);
      if (op === 6) a = a.map((v) => Math.abs(v) + 0.5); // pow: positive bases (negative ones: integer exponents only)
      if (op >= 7) b = b.map((v, i) => (i % 3 === 0 ? a[i] : v)); // comparisons see equal pairs too
      const [aw, ag] = put(a), [bw, bg] = put(b);
      const [yw, yg] = put(new Float32Array(n)), [sw, sg] = put(new Float32Array(n)), [rw, rg] = put(new Float32Array(n));
      box.k.binary_f32(op, aw, bw, yw, n); gpuCall(gpu, "binary_f32", op, ag, bg, yg, n);
      box.k.binary_scalar_f32(op, aw, 0.75, sw, n, 0); gpuCall(gpu, "binary_scalar_f32", op, ag, 0.75, sg, n, 0);
      box.k.binary_scalar_f32(op, aw, 0.75, rw, n, 1); gpuCall(gpu, "binary_scalar_f32", op, ag, 0.75, rg, n, 1);
      await compare(yg, yw, n, `binary op=${op} n=${n}`);
      await compare(sg, sw, n, `binary_scalar op=${op} n=${n}`);
      await compare(rg, rw, n, `binary_scalar reversed op=${op} n=${n}`);
    }
  }
  // pow with negative bases and integer exponents keeps the sign
  box.reset();
  const [aw, ag] = put(Float32Array.from([-2, -2, -1.5, 0, 3])), [bw, bg] = put(Float32Array.from([3, 2, 0, 2, -1]));
  const [yw, yg] = put(new Float32Array(5));
  box.k.binary_f32(6, aw, bw, yw, 5); gpuCall(gpu, "binary_f32", 6, ag, bg, yg, 5);
  await compare(yg, yw, 5, "pow with negative bases");
});

test("binary_strided_f32: broadcast on first, middle and last axes, transposed and negative strides", async () => {
  const cases: [number[], number[], number[]][] = [
    [[], [], []],
    [[7], [1], [0]],
    [[2, 3, 4], [12, 4, 1], [0, 1, 0]],
    [[3, 1, 5], [0, 0, 1], [5, 5, 1]],
    [[4, 3], [1, 4], [3, 1]],
    [[2, 2, 65], [130, 65, 1], [0, 0, 1]],
    [[3, 4], [-4, 1], [0, -1]],
  ];
  for (const [shape, sa, sb] of cases) {
    box.reset();
    const total = shape.reduce((s, d) => s * d, 1);
    const span = (st: number[]) => 1 + shape.reduce((s, d, i) => s + (d - 1) * Math.abs(st[i]), 0);
    const la = span(sa), lb = span(sb);
    // negative strides start at the far end
    const startA = shape.reduce((s, d, i) => s + (sa[i] < 0 ? (d - 1) * -sa[i] : 0), 0);
    const startB = shape.reduce((s, d, i) => s + (sb[i] < 0 ? (d - 1) * -sb[i] : 0), 0);
    const [aw, ag] = put(randomF32(la, la)), [bw, bg] = put(randomF32(lb, lb + 1));
    const [yw, yg] = put(new Float32Array(total));
    const desc = Int32Array.from([...shape, ...sa, ...sb]);
    const [dw, dg] = put(desc);
    for (const op of [0, 3, 4, 11]) {
      box.k.binary_strided_f32(op, aw + startA * 4, bw + startB * 4, yw, shape.length, dw);
      gpuCall(gpu, "binary_strided_f32", op, ag + startA * 4, bg + startB * 4, yg, shape.length, dg);
      await compare(yg, yw, total, `binary_strided op=${op} shape=[${shape}] sa=[${sa}] sb=[${sb}]`);
    }
  }
});

test("axpy, scale, fill, transpose, casts, where, clamp and its backward", async () => {
  for (const n of NS) {
    box.reset();
    const x = randomF32(n, n + 1).map((v) => v * 5);
    const [xw, xg] = put(x);
    const [yw, yg] = put(randomF32(n, n + 2));
    box.k.axpy_f32(xw, yw, n, -0.3); gpuCall(gpu, "axpy_f32", xg, yg, n, -0.3);
    await compare(yg, yw, n, `axpy n=${n}`);
    box.k.scale_f32(xw, yw, n, 1.7); gpuCall(gpu, "scale_f32", xg, yg, n, 1.7);
    await compare(yg, yw, n, `scale n=${n}`);
    box.k.clamp_f32(xw, yw, n, -1, 2); gpuCall(gpu, "clamp_f32", xg, yg, n, -1, 2);
    await compare(yg, yw, n, `clamp n=${n}`);
    const [dyw, dyg] = put(randomF32(n, 3));
    box.k.clamp_backward_f32(xw, dyw, yw, n, -1, 2); gpuCall(gpu, "clamp_backward_f32", xg, dyg, yg, n, -1, 2);
    await compare(yg, yw, n, `clamp_backward n=${n}`);
    const [iw, ig] = put(new Int32Array(n));
    box.k.cast_f32_i32(xw, iw, n); gpuCall(gpu, "cast_f32_i32", xg, ig, n);
    assert.equal(Array.from(new Int32Array(await gpu.read(ig, n * 4))), Array.from(box.i32(iw, n)), `cast_f32_i32 n=${n}`);
    box.k.cast_i32_f32(iw, yw, n); gpuCall(gpu, "cast_i32_f32", ig, yg, n);
    await compare(yg, yw, n, `cast_i32_f32 n=${n}`);
    const [cw, cg] = put(randomF32(n, 9).map((v) => (v > 0 ? 1 : 0)));
    const [zw, zg] = put(new Float32Array(n));
    box.k.where_f32(cw, xw, yw, zw, n); gpuCall(gpu, "where_f32", cg, xg, yg, zg, n);
    await compare(zg, zw, n, `where n=${n}`);
    box.k.fill_f32(zw, n, 2.5); gpuCall(gpu, "fill_f32", zg, n, 2.5);
    await compare(zg, zw, n, `fill n=${n}`);
  }
  for (const [outer, a, b, inner] of [[1, 3, 5, 1], [2, 33, 17, 1], [3, 4, 5, 6], [1, 1, 7, 2]]) {
    box.reset();
    const n = outer * a * b * inner;
    const [xw, xg] = put(randomF32(n, n)), [yw, yg] = put(new Float32Array(n));
    box.k.transpose_f32(xw, yw, outer, a, b, inner); gpuCall(gpu, "transpose_f32", xg, yg, outer, a, b, inner);
    await compare(yg, yw, n, `transpose [${outer},${a},${b},${inner}]`, { rtol: 0, atol: 0 });
  }
});

test("scan_f32 (sum, prod, reverse) and cumprod_backward_f32: one invocation per column, the wasm twin's bits", async () => {
  // inner 1 (rows), 5 and 300 (columns across more than one workgroup)
  for (const [outer, len, inner] of [[3, 17, 1], [2, 6, 5], [1, 4, 300], [260, 3, 1]]) {
    const n = outer * len * inner;
    for (const op of [0, 1]) for (const reverse of [0, 1]) {
      box.reset();
      const [xw, xg] = put(randomF32(n, n + op).map((u) => 1 + u * 0.3)), [yw, yg] = put(new Float32Array(n));
      box.k.scan_f32(op, xw, yw, outer, len, inner, reverse); gpuCall(gpu, "scan_f32", op, xg, yg, outer, len, inner, reverse);
      await compare(yg, yw, n, `scan op ${op} reverse ${reverse} [${outer},${len},${inner}]`, { rtol: 0, atol: 0 });
    }
    box.reset();
    const [xw, xg] = put(randomF32(n, n + 3).map((u, i) => (i % 5 === 2 ? 0 : 1 + u * 0.3)));
    const [dyw, dyg] = put(randomF32(n, n + 4)), [dxw, dxg] = put(new Float32Array(n));
    box.k.cumprod_backward_f32(xw, dyw, dxw, outer, len, inner); gpuCall(gpu, "cumprod_backward_f32", xg, dyg, dxg, outer, len, inner);
    await compare(dxg, dxw, n, `cumprod_backward [${outer},${len},${inner}]`, { rtol: 1e-5, atol: 1e-6 });
  }
});

test("a launch past 65535 workgroups (2-D grid) and heap growth keep every element", async () => {
  const n = 256 * 65535 + 300; // 64 MiB: the heap grows from 16 MiB, the copy of what was there is ordered
  const before = gpu.heapSize;
  const keep = gpu.mm.pool.alloc(4096);
  gpu.write(keep, Float32Array.from({ length: 1024 }, (_, i) => i));
  const y = gpu.mm.pool.alloc(n * 4);
  gpuCall(gpu, "fill_f32", y, n, 3.25);
  assert.ok(gpu.heapSize > before, `heap grew (${before} → ${gpu.heapSize})`);
  const got = await readF32(y, n);
  assert.equal(got[0], 3.25);
  assert.equal(got[n - 1], 3.25);
  assert.equal(got[256 * 65535 + 1], 3.25);
  assert.ok(got.every((v) => v === 3.25), "every element filled");
  const kept = await readF32(keep, 1024);
  assert.equal(kept[1023], 1023, "data written before the heap grew survived the growth");
  gpu.mm.pool.free(y);
  gpu.mm.pool.free(keep);
});

// ---------------------------------------------------------------------------
// issue 17: RMS norm, rope, swiglu

test("rmsnorm_f32 / _backward / _param_grad (short rows per invocation, wide rows per workgroup), rope_f32 (both signs, in place) and swiglu forward and backward match wasm", async () => {
  for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 127, 576]) for (const weighted of [true, false]) {
    box.reset();
    const rows = 3, n = rows * cols, what = `${rows}×${cols} weight ${weighted}`;
    const [xw, xg] = put(randomF32(n, cols).map((v, i) => 2 * v + (i % 3))), [dyw, dyg] = put(randomF32(n, cols + 1));
    const [ww, wg_] = weighted ? put(randomF32(cols, cols + 2).map((v) => 1 + v / 2)) : [0, 0];
    const [yw, yg] = put(new Float32Array(n)), [rw, rg] = put(new Float32Array(rows)), [dxw, dxg] = put(new Float32Array(n));
    box.k.rmsnorm_f32(xw, ww, yw, rw, rows, cols, 1e-6); gpuCall(gpu, "rmsnorm_f32", xg, wg_, yg, rg, rows, cols, 1e-6);
    await compareTwins(box, gpu, yg, yw, n, `rmsnorm ${what}`, { rtol: 1e-5, atol: 1e-6 });
    await compareTwins(box, gpu, rg, rw, rows, `rmsnorm rstd ${what}`, { rtol: 1e-5, atol: 0 });
    box.k.rmsnorm_backward_f32(xw, dyw, ww, rw, dxw, rows, cols); gpuCall(gpu, "rmsnorm_backward_f32", xg, dyg, wg_, rg, dxg, rows, cols);
    await compareTwins(box, gpu, dxg, dxw, n, `rmsnorm_backward ${what}`, { rtol: 1e-4, atol: 1e-5 });
    const w0 = randomF32(cols, 5), [dww, dwg] = put(w0);
    box.k.rmsnorm_param_grad_f32(xw, dyw, rw, dww, rows, cols); gpuCall(gpu, "rmsnorm_param_grad_f32", xg, dyg, rg, dwg, rows, cols);
    await compareTwins(box, gpu, dwg, dww, cols, `rmsnorm_param_grad (accumulated) ${what}`, { rtol: 1e-5, atol: 1e-5 });
  }
  for (const D of [2, 4, 6, 8, 64, 128]) for (const S of [1, 5]) {
    box.reset();
    const rows = 3, h = D / 2, n = rows * S * D, what = `rope ${rows}×${S}×${D}`;
    const angle = Array.from({ length: S * h }, (_, j) => (Math.floor(j / h) + 3) * 10000 ** (-(j % h) / h));
    const [xw, xg] = put(randomF32(n, D + S)), [cw, cg] = put(Float32Array.from(angle, Math.cos)), [sw, sg] = put(Float32Array.from(angle, Math.sin));
    const [yw, yg] = put(new Float32Array(n));
    for (const sign of [1, -1]) {
      box.k.rope_f32(xw, cw, sw, yw, rows, S, D, sign); gpuCall(gpu, "rope_f32", xg, cg, sg, yg, rows, S, D, sign);
      await compareTwins(box, gpu, yg, yw, n, `${what} sign ${sign}`, { rtol: 1e-5, atol: 1e-6 });
    }
    box.k.rope_f32(xw, cw, sw, xw, rows, S, D, 1); gpuCall(gpu, "rope_f32", xg, cg, sg, xg, rows, S, D, 1);
    await compareTwins(box, gpu, xg, xw, n, `${what} in place`, { rtol: 1e-5, atol: 1e-6 });
  }
  for (const n of [1, 3, 4, 5, 255, 256, 257, 1536]) {
    box.reset();
    const g = randomF32(n, n).map((v) => 8 * v);
    if (n > 4) { g[0] = -100; g[1] = 100; g[2] = 0; }
    const [gw, gg] = put(g), [uw, ug] = put(randomF32(n, n + 1)), [dyw, dyg] = put(randomF32(n, n + 2));
    const [yw, yg] = put(new Float32Array(n)), [dgw, dgg] = put(new Float32Array(n)), [duw, dug] = put(new Float32Array(n));
    box.k.swiglu_f32(gw, uw, yw, n); gpuCall(gpu, "swiglu_f32", gg, ug, yg, n);
    await compareTwins(box, gpu, yg, yw, n, `swiglu n=${n}`, { rtol: 1e-5, atol: 1e-6 });
    box.k.swiglu_backward_f32(gw, uw, dyw, dgw, duw, n); gpuCall(gpu, "swiglu_backward_f32", gg, ug, dyg, dgg, dug, n);
    await compareTwins(box, gpu, dgg, dgw, n, `swiglu_backward dg n=${n}`, { rtol: 1e-5, atol: 1e-6 });
    await compareTwins(box, gpu, dug, duw, n, `swiglu_backward du n=${n}`, { rtol: 1e-5, atol: 1e-6 });
  }
});

test("the GPU runs every kernel of the manifests, has no sync views, and refuses a misaligned pointer", () => {
  for (const k of Object.keys(EXPORT_ARGS) as KernelName[]) assert.ok(gpu.supports(k), `${k} has a twin or a plan`);
  assert.equal(gpu.hostMemory, null, "GPU memory is not host-visible: tensors are read with await t.data()");
  assert.throws(() => gpuCall(gpu, "fill_f32", 65538, 1, 0), /fill_f32: y \(byte offset 65538\) is not 4-aligned/);
});

// ---------------------------------------------------------------------------
// optim

test("sgd_f32 (plain, momentum first and later steps, Nesterov, weight decay) and adam_f32 / AdamW match wasm", async () => {
  for (const n of [1, 257, 1000]) {
    for (const [momentum, dampening, wd, nesterov, first] of [[0, 0, 0, 0, 0], [0.9, 0, 0, 0, 1], [0.9, 0.1, 0.01, 0, 0], [0.9, 0, 0.01, 1, 0]]) {
      box.reset();
      const [pw, pg] = put(randomF32(n, n)), [gw, gg] = put(randomF32(n, n + 1)), [bw, bg] = put(randomF32(n, n + 2));
      box.k.sgd_f32(pw, gw, bw, n, 0.05, momentum, dampening, wd, nesterov, first);
      gpuCall(gpu, "sgd_f32", pg, gg, bg, n, 0.05, momentum, dampening, wd, nesterov, first);
      await compare(pg, pw, n, `sgd p n=${n} momentum=${momentum} nesterov=${nesterov}`, { rtol: 1e-6, atol: 1e-7 });
      await compare(bg, bw, n, `sgd buf n=${n} momentum=${momentum}`, { rtol: 1e-6, atol: 1e-7 });
    }
    for (const decoupled of [0, 1]) {
      box.reset();
      const [pw, pg] = put(randomF32(n, n)), [gw, gg] = put(randomF32(n, n + 1));
      const [mw, mg] = put(randomF32(n, n + 2).map((v) => v * 0.1)), [vw, vg] = put(randomF32(n, n + 3).map((v) => v * v * 0.01));
      const t = 3, lr = 1e-3, b1 = 0.9, b2 = 0.999;
      const args = [n, lr, b1, b2, 1 - b1, 1 - b2, 1e-8, 0.01, lr / (1 - b1 ** t), Math.sqrt(1 - b2 ** t), decoupled];
      box.k.adam_f32(pw, gw, mw, vw, ...args);
      gpuCall(gpu, "adam_f32", pg, gg, mg, vg, ...args);
      await compare(pg, pw, n, `adam p n=${n} decoupled=${decoupled}`, { rtol: 1e-6, atol: 1e-7 });
      await compare(mg, mw, n, `adam m n=${n}`, { rtol: 1e-6, atol: 1e-8 });
      await compare(vg, vw, n, `adam v n=${n}`, { rtol: 1e-6, atol: 1e-9 });
    }
  }
});

// ---------------------------------------------------------------------------
// pool and softmax

const outSize = (x: number, k: number, s: number, p: number) => Math.floor((x + 2 * p - k) / s) + 1;

test("maxpool2d / avgpool2d forward and backward (the backward gathered per input element): 2×2 s2, 3×3 s1 padded, 3×2 s2 with odd sizes, stride past the window (inputs no window covers), ceil mode's partial windows, both divisors", async () => {
  // [NC, H, W, KH, KW, SH, SW, PH, PW, ceil]
  const cases = [[3, 8, 8, 2, 2, 2, 2, 0, 0, 0], [2, 7, 9, 3, 3, 1, 1, 1, 1, 0], [5, 11, 6, 3, 2, 2, 2, 1, 0, 0], [300, 4, 4, 2, 2, 2, 2, 0, 0, 0],
    [2, 10, 9, 2, 3, 3, 4, 0, 1, 0], [3, 7, 8, 3, 3, 2, 2, 1, 0, 1], [2, 5, 6, 4, 4, 3, 3, 2, 2, 1]];
  for (const [NC, H, W, KH, KW, SH, SW, PH, PW, ceil] of cases) {
    box.reset();
    // ceil mode (PyTorch's rule: the last window starts inside the input or its left padding)
    const ceilSize = (x: number, k: number, s: number, p: number) => { let o = Math.ceil((x + 2 * p - k) / s) + 1; if ((o - 1) * s >= x + p) o--; return o; };
    const OH = ceil ? ceilSize(H, KH, SH, PH) : outSize(H, KH, SH, PH), OW = ceil ? ceilSize(W, KW, SW, PW) : outSize(W, KW, SW, PW);
    const what = `pool NC=${NC} ${H}×${W} k${KH}×${KW} s${SH}×${SW} p${PH}×${PW}`;
    const x = randomF32(NC * H * W, H * W).map((v, i) => (i % 7 === 0 ? 0.5 : v)); // ties: the first max wins
    const [xw, xg] = put(x);
    const [yw, yg] = put(new Float32Array(NC * OH * OW)), [iw, ig] = put(new Int32Array(NC * OH * OW));
    box.k.maxpool2d_f32(xw, yw, iw, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW);
    gpuCall(gpu, "maxpool2d_f32", xg, yg, ig, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW);
    await compare(yg, yw, NC * OH * OW, `max ${what}`, { rtol: 0, atol: 0 });
    assert.equal(Array.from(new Int32Array(await gpu.read(ig, NC * OH * OW * 4))), Array.from(box.i32(iw, NC * OH * OW)), `argmax ${what}`);
    const [dyw, dyg] = put(randomF32(NC * OH * OW, 3));
    const [dxw, dxg] = put(randomF32(NC * H * W, 4)); // written entirely
    box.k.maxpool2d_backward_f32(dyw, iw, dxw, NC, H, W, OH, OW, KH, KW, SH, SW, PH, PW);
    gpuCall(gpu, "maxpool2d_backward_f32", dyg, ig, dxg, NC, H, W, OH, OW, KH, KW, SH, SW, PH, PW);
    await compare(dxg, dxw, NC * H * W, `max backward ${what}`, { rtol: 0, atol: 0 });
    for (const cip of [0, 1]) {
      box.k.avgpool2d_f32(xw, yw, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, cip);
      gpuCall(gpu, "avgpool2d_f32", xg, yg, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, cip);
      await compare(yg, yw, NC * OH * OW, `avg ${what} countIncludePad=${cip}`, { rtol: 1e-6, atol: 1e-7 });
      box.k.avgpool2d_backward_f32(dyw, dxw, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, cip);
      gpuCall(gpu, "avgpool2d_backward_f32", dyg, dxg, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW, cip);
      // the gather adds each window's share in the scatter's order: the same bits
      await compare(dxg, dxw, NC * H * W, `avg backward ${what} countIncludePad=${cip}`, { rtol: 0, atol: 0 });
    }
  }
});

test("softmax, log-softmax (forward and backward) and fused softmax cross-entropy match wasm", async () => {
  for (const [rows, cols] of [[1, 1], [3, 10], [257, 7], [4, 300]]) {
    box.reset();
    const n = rows * cols, what = `${rows}×${cols}`;
    const [xw, xg] = put(randomF32(n, n).map((v) => v * 8));
    const [yw, yg] = put(new Float32Array(n)), [dyw, dyg] = put(randomF32(n, n + 1)), [dxw, dxg] = put(new Float32Array(n));
    for (const [fwd, bwd] of [["softmax_f32", "softmax_backward_f32"], ["log_softmax_f32", "log_softmax_backward_f32"]] as const) {
      box.k[fwd](xw, yw, rows, cols); gpuCall(gpu, fwd, xg, yg, rows, cols);
      await compare(yg, yw, n, `${fwd} ${what}`, { rtol: 2e-5, atol: 1e-6 });
      box.k[bwd](yw, dyw, dxw, rows, cols); gpuCall(gpu, bwd, yg, dyg, dxg, rows, cols);
      await compare(dxg, dxw, n, `${bwd} ${what}`, { rtol: 1e-4, atol: 1e-5 });
    }
    const labels = Int32Array.from({ length: rows }, (_, r) => (r * 7) % cols);
    const [lw, lg] = put(labels), [lossw, lossg] = put(new Float32Array(rows)), [pw, pg] = put(new Float32Array(n));
    box.k.softmax_xent_f32(xw, lw, lossw, pw, rows, cols); gpuCall(gpu, "softmax_xent_f32", xg, lg, lossg, pg, rows, cols);
    await compare(lossg, lossw, rows, `softmax_xent loss ${what}`, { rtol: 1e-5, atol: 1e-5 });
    await compare(pg, pw, n, `softmax_xent probs ${what}`, { rtol: 2e-5, atol: 1e-6 });
    const [gw, gg] = put(Float32Array.from([0.5]));
    box.k.softmax_xent_backward_f32(pw, lw, gw, 0, dxw, rows, cols, 1 / rows);
    gpuCall(gpu, "softmax_xent_backward_f32", pg, lg, gg, 0, dxg, rows, cols, 1 / rows);
    await compare(dxg, dxw, n, `softmax_xent backward ${what}`, { rtol: 2e-5, atol: 1e-7 });
  }
});

test("reduce_f32 (sum, mean, max, min), argmax/argmin with ties, reduce_max_backward: inner 1, 3 and 5, long columns", async () => {
  for (const [outer, len, inner] of [[1, 1, 1], [3, 7, 1], [2, 300, 3], [4, 5, 5], [1, 1000, 1], [70, 4, 1]]) {
    box.reset();
    const n = outer * len * inner, m = outer * inner, what = `[${outer},${len},${inner}]`;
    const [xw, xg] = put(randomF32(n, n).map((v, i) => (i % 5 === 2 ? 0.25 : v))); // repeated values: ties
    const [yw, yg] = put(new Float32Array(m));
    for (let op = 0; op < 4; op++) {
      box.k.reduce_f32(op, xw, yw, outer, len, inner); gpuCall(gpu, "reduce_f32", op, xg, yg, outer, len, inner);
      await compare(yg, yw, m, `reduce op=${op} ${what}`, { rtol: 1e-5, atol: 1e-5 });
    }
    const [iw, ig] = put(new Int32Array(m));
    for (const k of ["argmax_f32", "argmin_f32"] as const) {
      box.k[k](xw, iw, outer, len, inner); gpuCall(gpu, k, xg, ig, outer, len, inner);
      assert.equal(Array.from(new Int32Array(await gpu.read(ig, m * 4))), Array.from(box.i32(iw, m)), `${k} ${what}`);
    }
    box.k.reduce_f32(2, xw, yw, outer, len, inner); gpuCall(gpu, "reduce_f32", 2, xg, yg, outer, len, inner);
    const [dyw, dyg] = put(randomF32(m, 4)), [dxw, dxg] = put(new Float32Array(n));
    box.k.reduce_max_backward_f32(xw, yw, dyw, dxw, outer, len, inner);
    gpuCall(gpu, "reduce_max_backward_f32", xg, yg, dyg, dxg, outer, len, inner);
    await compare(dxg, dxw, n, `reduce_max_backward ${what}`, { rtol: 0, atol: 0 });
  }
});

// ---------------------------------------------------------------------------
// engine path

// (the engine path's ops against a float64 reference run on every backend in ops.test.ts)
test("init({ backend: 'webgpu' }) runs webgpu: sync reads refuse with the async way, int32 reads back, auto picks WebGPU", async () => {
  const info = await wg.init({ backend: "webgpu", verbose: false });
  assert.is(info.backend, "webgpu");
  const t = wg.tensor([1, 2, 3]);
  assert.throws(() => t.dataSync(), /tensor lives on webgpu/);
  assert.equal(Array.from(await wg.tensor([4, 5], { dtype: "int32" }).data()), [4, 5]);
  const auto = await wg.init({ backend: "auto", verbose: false });
  assert.is(auto.backend, "webgpu", `auto picks WebGPU when an adapter exists (${auto.fallback ?? ""})`);
  wg.shutdown();
});

test.run();
