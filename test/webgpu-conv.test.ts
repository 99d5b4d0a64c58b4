// WebGPU twins of the conv, random and fused max-pool/ReLU kernels
// (shaders/conv.wgsl, shaders/random.wgsl, shaders/pool.wgsl) against their
// wasm twins on the same inputs. Shapes are small (SwiftShader in CI) but hit
// the cases each kernel branches on: padding on both sides, stride 1, 2 and 3,
// dilation, OW below and above the direct kernel's 8-wide tile, KW = 3 and not
// 3 (the wasm weight gradient's two paths), and odd pooled sizes. (The weight gradient's
// 2-D grid, past 65535 dw elements, is not run here: 17M invocations take minutes on SwiftShader.)
// No adapter FAILS this file (see webgpu.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, assertClose, randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { putBoth, compareTwins, gpuCall } from "./webgpu-twins.js";
import { gpuTwins } from "../host/backends/webgpu/kernels.generated.js";
import { convIgemm } from "../host/backends/webgpu/schedules.js";
import { GPU_TILING, CONV_TILES, convForwardTiled, convWgradTiled } from "../host/backends/webgpu/plans.js";

let box: KernelBox;
let gpu: WebGpuBackend;

// every shape through the tiled conv kernels unless a test says otherwise (the default
// rules send small layers to the per-output ones; "CONV_TILES" below checks the rules)
const CONV_TILES_DEFAULT = { ...CONV_TILES };
test.before(async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
  Object.assign(CONV_TILES, { minRowFill: 0, minK: 0, wgradMinTiles: 0 });
});
test.after(() => { gpu?.shutdown(); Object.assign(CONV_TILES, CONV_TILES_DEFAULT); });

test("CONV_TILES: the default rules send thin layers to the per-output kernels and full ones to the tiles", () => {
  const saved = { ...CONV_TILES };
  Object.assign(CONV_TILES, CONV_TILES_DEFAULT);
  try {
    assert.is(convForwardTiled(16, 9), 0, "S1's 1→16 3×3 layer");
    assert.is(convForwardTiled(32, 27), 0, "conv (b): K = 27 is too short");
    assert.is(convForwardTiled(32, 288), 32, "32 channels, K = 288: 32-row tiles");
    assert.is(convForwardTiled(20, 288), 0, "20 channels fill 62% of a 32-row tile");
    assert.is(convForwardTiled(64, 288), 64, "conv (c)");
    assert.is(convForwardTiled(100, 288), 64, "100 channels fill 78% of two tiles");
    assert.is(convWgradTiled(64, 288), true, "conv (c)'s dw: 5 blocks");
    assert.is(convWgradTiled(32, 27), false, "conv (b)'s dw is one block: the per-element reduction");
    assert.is(convWgradTiled(16, 9), false, "S1's dw");
  } finally {
    Object.assign(CONV_TILES, saved);
  }
});

const put = (data: Float32Array | Int32Array, shift = 0) => putBoth(box, gpu, data, shift);

const compare = (g: number, w: number, n: number, what: string, tol: { rtol: number; atol: number }) => compareTwins(box, gpu, g, w, n, what, tol);

const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

test("im2col_f32 and col2im_f32 (accumulating): padding, strides 1/2/3, dilation, a strided column matrix", async () => {
  // [C, H, W, KH, KW, SH, SW, PH, PW, DH, DW]
  const cases = [[2, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1], [3, 9, 8, 3, 2, 2, 2, 1, 0, 1, 1], [1, 10, 11, 2, 3, 3, 2, 0, 1, 2, 2], [2, 6, 6, 5, 5, 1, 1, 2, 2, 1, 1]];
  for (const [C, H, W, KH, KW, SH, SW, PH, PW, DH, DW] of cases) {
    box.reset();
    const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW), P = OH * OW, CKK = C * KH * KW, ld = P + 3;
    const what = `${C}×${H}×${W} k${KH}×${KW} s${SH},${SW} p${PH},${PW} d${DH},${DW}`;
    const geo = [C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, ld];
    const [xw, xg] = put(randomF32(C * H * W, H));
    const [cw, cg] = put(randomF32(CKK * ld, 2)); // the 3 padding columns per row must keep their values
    box.k.im2col_f32(xw, cw, ...geo);
    gpuCall(gpu, "im2col_f32", xg, cg, ...geo);
    await compare(cg, cw, CKK * ld, `im2col ${what}`, { rtol: 0, atol: 0 });
    const [dxw, dxg] = put(randomF32(C * H * W, 5)); // col2im adds onto what is there
    box.k.col2im_f32(cw, dxw, ...geo);
    gpuCall(gpu, "col2im_f32", cg, dxg, ...geo);
    await compare(dxg, dxw, C * H * W, `col2im ${what}`, { rtol: 0, atol: 0 });
  }
});

test("pad2d_f32 and bias_add_channels_f32", async () => {
  box.reset();
  for (const [NC, H, W, PH, PW] of [[3, 5, 4, 1, 1], [2, 3, 9, 2, 0], [1, 4, 4, 0, 3]]) {
    const Hp = H + 2 * PH, Wp = W + 2 * PW;
    const [xw, xg] = put(randomF32(NC * H * W, 7));
    const [pw, pg] = put(randomF32(NC * Hp * Wp, 8));
    box.k.pad2d_f32(xw, pw, NC, H, W, PH, PW);
    gpuCall(gpu, "pad2d_f32", xg, pg, NC, H, W, PH, PW);
    await compare(pg, pw, NC * Hp * Wp, `pad2d ${NC}×${H}×${W} p${PH},${PW}`, { rtol: 0, atol: 0 });
  }
  const [yw, yg] = put(randomF32(3 * 5 * 13, 9)), [bw, bg] = put(randomF32(5, 10));
  box.k.bias_add_channels_f32(yw, bw, 3, 5, 13);
  gpuCall(gpu, "bias_add_channels_f32", yg, bg, 3, 5, 13);
  await compare(yg, yw, 3 * 5 * 13, "bias_add_channels 3×5×13", { rtol: 0, atol: 0 });
});

test("conv_flip_weights_f32 (the direct input gradient's weights): 3×3 and 1×5 filters", async () => {
  for (const [Cout, C, KK] of [[3, 5, 9], [4, 2, 5]]) {
    box.reset();
    const [ww, wgp] = put(randomF32(Cout * C * KK, KK));
    const [fw, fg] = put(new Float32Array(Cout * C * KK));
    box.k.conv_flip_weights_f32(ww, fw, Cout, C, KK);
    gpuCall(gpu, "conv_flip_weights_f32", wgp, fg, Cout, C, KK);
    await compare(fg, fw, Cout * C * KK, `conv_flip_weights ${Cout}×${C}×${KK}`, { rtol: 0, atol: 0 });
  }
});

test("conv2d_direct_f32 and conv2d_wgrad_f32: OW 8, 9 and 26, Cout with a remainder of the 4-row tile, KW 3 and 5, a channel sub-range", async () => {
  // [N, C, Hp, Wp, KH, KW, Cout]
  // the last three hit the tiled kernels' remainders: Cout 65 and 64 (64-row tiles), N·OH·OW 128 and 65
  // (64-column tiles), C·KH·KW 27 and 16 (16-deep slices), C·KH·KW 80 > 64 (wgrad column blocks)
  const cases = [[2, 3, 6, 10, 3, 3, 6], [1, 2, 7, 11, 3, 3, 5], [3, 1, 28, 28, 3, 3, 16], [2, 2, 9, 13, 5, 5, 3], [1, 1, 5, 12, 2, 4, 1],
    [2, 3, 10, 10, 3, 3, 65], [1, 4, 6, 14, 2, 2, 64], [1, 5, 6, 12, 4, 4, 9]];
  for (const [N, C, Hp, Wp, KH, KW, Cout] of cases) {
    box.reset();
    const OH = Hp - KH + 1, OW = Wp - KW + 1, P = OH * OW, CKK = C * KH * KW;
    const what = `N${N} C${C} ${Hp}×${Wp} k${KH}×${KW} Cout${Cout}`;
    const [xw, xg] = put(randomF32(N * C * Hp * Wp, Hp));
    const [ww, wgp] = put(randomF32(Cout * CKK, Wp));
    const [yw, yg] = put(new Float32Array(N * Cout * P));
    box.k.conv2d_direct_f32(xw, ww, yw, N, C, Hp, Wp, KH, KW, Cout);
    gpuCall(gpu, "conv2d_direct_f32", xg, wgp, yg, N, C, Hp, Wp, KH, KW, Cout);
    await compare(yg, yw, N * Cout * P, `conv2d_direct ${what}`, { rtol: 1e-5, atol: 1e-6 * CKK });
    const [dyw, dyg] = put(randomF32(N * Cout * P, 3));
    const [dww, dwg] = put(new Float32Array(Cout * CKK));
    box.k.conv2d_wgrad_f32(xw, dyw, dww, N, C, Hp, Wp, KH, KW, Cout, Cout);
    gpuCall(gpu, "conv2d_wgrad_f32", xg, dyg, dwg, N, C, Hp, Wp, KH, KW, Cout, Cout);
    await compare(dwg, dww, Cout * CKK, `conv2d_wgrad ${what}`, { rtol: 1e-4, atol: 1e-5 * N * P });
    // the untiled kernels (GPU_TILING.conv off: the bench's A/B baseline) still agree
    GPU_TILING.conv = false;
    try {
      const [ug] = [gpu.mm.pool.alloc(N * Cout * P * 4)], [udg] = [gpu.mm.pool.alloc(Cout * CKK * 4)];
      gpuCall(gpu, "conv2d_direct_f32", xg, wgp, ug, N, C, Hp, Wp, KH, KW, Cout);
      await compare(ug, yw, N * Cout * P, `conv2d_direct untiled ${what}`, { rtol: 1e-5, atol: 1e-6 * CKK });
      gpuCall(gpu, "conv2d_wgrad_f32", xg, dyg, udg, N, C, Hp, Wp, KH, KW, Cout, Cout);
      await compare(udg, dww, Cout * CKK, `conv2d_wgrad untiled ${what}`, { rtol: 1e-4, atol: 1e-5 * N * P });
    } finally {
      GPU_TILING.conv = true;
    }
    if (Cout > 2) {
      // output channels [1, Cout − 1) only, as a host split over channels passes them
      const [sw, sg] = put(new Float32Array(Cout * CKK));
      box.k.conv2d_wgrad_f32(xw, dyw + P * 4, sw + CKK * 4, N, C, Hp, Wp, KH, KW, Cout - 2, Cout);
      gpuCall(gpu, "conv2d_wgrad_f32", xg, dyg + P * 4, sg + CKK * 4, N, C, Hp, Wp, KH, KW, Cout - 2, Cout);
      await compare(sg, sw, Cout * CKK, `conv2d_wgrad channels 1..${Cout - 1} ${what}`, { rtol: 1e-4, atol: 1e-5 * N * P });
    }
  }
});

test("conv2d_direct_f32 with a bias: the plan (one tiled dispatch, bias fused) and the raw per-output twin + bias_add_channels_f32 against wasm", async () => {
  for (const [N, C, Hp, Wp, KH, KW, Cout] of [[2, 3, 10, 10, 3, 3, 65], [3, 2, 7, 12, 3, 3, 16]]) {
    box.reset();
    const OH = Hp - KH + 1, OW = Wp - KW + 1, P = OH * OW, CKK = C * KH * KW;
    const what = `N${N} C${C} ${Hp}×${Wp} k${KH}×${KW} Cout${Cout} bias`;
    const [xw, xg] = put(randomF32(N * C * Hp * Wp, 11)), [ww, wgp] = put(randomF32(Cout * CKK, 12)), [bw, bg] = put(randomF32(Cout, 13));
    const [yw, yg] = put(new Float32Array(N * Cout * P)), [rg] = [gpu.mm.pool.alloc(N * Cout * P * 4)];
    box.k.conv2d_direct_f32(xw, ww, yw, N, C, Hp, Wp, KH, KW, Cout);
    box.k.bias_add_channels_f32(yw, bw, N, Cout, P);
    gpu.kernels.conv2d_direct_f32({ xp: xg, w: wgp, y: yg, N, C, Hp, Wp, KH, KW, Cout, bias: bg });
    await compare(yg, yw, N * Cout * P, `conv2d_direct plan ${what}`, { rtol: 1e-5, atol: 1e-6 * CKK });
    assert.ok(gpu.compiledEntries().some((e) => e.startsWith("conv2d_igemm_f32")), "the plan ran the tiled kernel");
    // the per-output twin (A/B baseline) still agrees: every element the same fma chain, so the same bits as the plan
    const T = gpuTwins(gpu);
    T.conv2d_direct_f32({ xp: xg, w: wgp, y: rg, N, C, Hp, Wp, KH, KW, Cout });
    T.bias_add_channels_f32({ y: rg, bias: bg, n: N, c: Cout, inner: P });
    assert.equal(new Float32Array(await gpu.read(rg, N * Cout * P * 4)), new Float32Array(await gpu.read(yg, N * Cout * P * 4)), `${what}: tiled and per-output twins, same bits`);
  }
});

test("conv2d_igemm_f32 (tiled implicit GEMM, 64- and 32-row tiles): strides, padding, dilation, bias, ReLU, every tile remainder, against wasm im2col + gemm_f32 + bias", async () => {
  // [N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, Cout, bias, relu]
  const cases = [[2, 3, 9, 8, 3, 3, 2, 2, 1, 1, 1, 1, 5, 1, 1], [1, 2, 11, 10, 3, 2, 3, 2, 0, 1, 2, 2, 70, 1, 0], [3, 5, 6, 6, 1, 1, 1, 1, 0, 0, 1, 1, 64, 0, 1],
    [1, 4, 12, 13, 5, 3, 1, 2, 2, 1, 1, 2, 17, 1, 1], [2, 1, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0]];
  for (const [N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, Cout, bias, relu] of cases) {
    box.reset();
    const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW), P = OH * OW, NP = N * P, CKK = C * KH * KW;
    const what = `N${N} C${C} ${H}×${W} k${KH}×${KW} s${SH},${SW} p${PH},${PW} d${DH},${DW} Cout${Cout}${bias ? " bias" : ""}${relu ? " relu" : ""} (NP ${NP}, CKK ${CKK})`;
    const [xw, xg] = put(randomF32(N * C * H * W, 21)), [ww, wgp] = put(randomF32(Cout * CKK, 22)), [bw, bg] = put(randomF32(Cout, 23));
    const [yw, yg] = put(new Float32Array(N * Cout * P));
    const col = box.alloc(CKK * NP * 4), sc = box.alloc(box.k.gemm_packed_b_bytes(CKK, P) + 64);
    for (let n = 0; n < N; n++) {
      box.k.im2col_f32(xw + n * C * H * W * 4, col + n * P * 4, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, NP);
      box.k.gemm_f32(ww, col + n * P * 4, yw + n * Cout * P * 4, Cout, P, CKK, CKK, NP, P, 0, sc);
    }
    if (bias) box.k.bias_add_channels_f32(yw, bw, N, Cout, P);
    const yv = box.f32(yw, N * Cout * P);
    if (relu) for (let i = 0; i < yv.length; i++) if (yv[i] < 0) yv[i] = 0;
    for (const rows of [64, 32] as const) {
      const [yr] = [gpu.mm.pool.alloc(N * Cout * P * 4)];
      convIgemm(gpu, { x: xg, w: wgp, bias: bias ? bg : 0, y: yr, N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW, Cout, relu: !!relu, rows });
      await compare(yr, yw, N * Cout * P, `conv2d_igemm ${rows}-row tiles ${what}`, { rtol: 1e-5, atol: 1e-6 * CKK });
    }
    void yg;
    if (relu) assert.ok(yv.some((v) => v === 0) && yv.some((v) => v > 0), `${what}: ReLU clipped some outputs and passed others`);
  }
});

test("maxpool2d_relu_backward_f32: tiled 2×2 (odd H and W) and general windows, zero and negative pooled values", async () => {
  // [NC, H, W, KH, KW, SH, SW, PH, PW]
  const cases = [[3, 7, 9, 2, 2, 2, 2, 0, 0], [2, 8, 8, 2, 2, 2, 2, 0, 0], [2, 7, 6, 3, 3, 2, 2, 1, 1], [2, 9, 8, 3, 2, 1, 3, 1, 0]];
  for (const [NC, H, W, KH, KW, SH, SW, PH, PW] of cases) {
    box.reset();
    const OH = outSize(H, KH, SH, PH, 1), OW = outSize(W, KW, SW, PW, 1);
    const tiled = KH === 2 && SH === 2 && PH === 0 ? 1 : 0;
    const what = `NC${NC} ${H}×${W} k${KH} s${SH} p${PH} tiled=${tiled}`;
    // relu outputs: a third exactly 0, so some windows pool to 0 and pass no gradient
    const z = randomF32(NC * H * W, 4).map((v, i) => (i % 3 === 0 ? 0 : Math.max(v, 0)));
    const [xw, xg] = put(z);
    const [yw, yg] = put(new Float32Array(NC * OH * OW)), [iw, ig] = put(new Int32Array(NC * OH * OW));
    box.k.maxpool2d_f32(xw, yw, iw, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW);
    gpuCall(gpu, "maxpool2d_f32", xg, yg, ig, NC, H, W, KH, KW, SH, SW, PH, PW, OH, OW);
    const [dyw, dyg] = put(randomF32(NC * OH * OW, 6));
    const [dxw, dxg] = put(randomF32(NC * H * W, 7)); // overwritten entirely
    box.k.maxpool2d_relu_backward_f32(dyw, iw, yw, dxw, NC, H, W, OH, OW, tiled, KH, KW, SH, SW, PH, PW);
    gpuCall(gpu, "maxpool2d_relu_backward_f32", dyg, ig, yg, dxg, NC, H, W, OH, OW, tiled, KH, KW, SH, SW, PH, PW);
    await compare(dxg, dxw, NC * H * W, `maxpool2d_relu_backward ${what}`, { rtol: 0, atol: 0 });
    const dx = box.f32(dxw, NC * H * W);
    assert.ok(dx.some((v) => v !== 0) && dx.some((v, i) => v === 0 && z[i] > 0), `${what}: the case has passed and blocked gradients`);
  }
});

test("rand_uniform_f32 and dropout_mask_f32 give the wasm twin's bits; rand_normal_f32 its values within a few ulp", async () => {
  box.reset();
  for (const [n, seed, offset] of [[1, 0, 0], [1000, 42, 17], [515, -7, 123456789]]) {
    const [uw, ug] = put(new Float32Array(n)), [nw, ng] = put(new Float32Array(n)), [mw, mg] = put(new Float32Array(n));
    box.k.rand_uniform_f32(uw, n, seed, offset, -0.5, 2);
    gpuCall(gpu, "rand_uniform_f32", ug, n, seed, offset, -0.5, 2);
    await compare(ug, uw, n, `rand_uniform n=${n} seed=${seed}`, { rtol: 0, atol: 0 });
    box.k.dropout_mask_f32(mw, n, seed, offset, 0.3);
    gpuCall(gpu, "dropout_mask_f32", mg, n, seed, offset, 0.3);
    await compare(mg, mw, n, `dropout_mask n=${n} seed=${seed}`, { rtol: 0, atol: 0 });
    box.k.rand_normal_f32(nw, n, seed, offset, 1, 0.5);
    gpuCall(gpu, "rand_normal_f32", ng, n, seed, offset, 1, 0.5);
    await compare(ng, nw, n, `rand_normal n=${n} seed=${seed}`, { rtol: 1e-5, atol: 1e-6 });
  }
});

test.run();

test("depthwise_conv2d_f32 and its input and weight gradients: padding, strides 1/2, dilation, OW across the 4-wide body", async () => {
  // [N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW]
  const cases = [[2, 3, 5, 9, 3, 3, 1, 1, 1, 1, 1, 1], [1, 2, 7, 6, 3, 2, 2, 2, 1, 0, 1, 1], [2, 1, 8, 11, 2, 3, 1, 2, 0, 2, 2, 2]];
  for (const [N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW] of cases) {
    box.reset();
    const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
    const what = `${N}×${C}×${H}×${W} k${KH}×${KW} s${SH},${SW} p${PH},${PW} d${DH},${DW}`;
    const geo = [N, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW];
    const [xw, xg] = put(randomF32(N * C * H * W, H));
    const [ww, wgp] = put(randomF32(C * KH * KW, 3));
    const [yw, yg] = put(new Float32Array(N * C * OH * OW));
    box.k.depthwise_conv2d_f32(xw, ww, yw, ...geo);
    gpuCall(gpu, "depthwise_conv2d_f32", xg, wgp, yg, ...geo);
    await compare(yg, yw, N * C * OH * OW, `depthwise forward ${what}`, { rtol: 1e-5, atol: 1e-6 });
    const [dyw, dyg] = put(randomF32(N * C * OH * OW, 4));
    const [dxw, dxg] = put(randomF32(N * C * H * W, 5)); // written, not accumulated
    box.k.depthwise_conv2d_backward_input_f32(dyw, ww, dxw, ...geo);
    gpuCall(gpu, "depthwise_conv2d_backward_input_f32", dyg, wgp, dxg, ...geo);
    await compare(dxg, dxw, N * C * H * W, `depthwise dx ${what}`, { rtol: 1e-5, atol: 1e-6 });
    const [dww, dwg] = put(randomF32(C * KH * KW, 6));
    const wgeo = [N, C, C, H, W, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW];
    box.k.depthwise_conv2d_backward_weight_f32(xw, dyw, dww, ...wgeo);
    gpuCall(gpu, "depthwise_conv2d_backward_weight_f32", xg, dyg, dwg, ...wgeo);
    await compare(dwg, dww, C * KH * KW, `depthwise dw ${what}`, { rtol: 1e-5, atol: 1e-5 });
  }
});
