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

let box: KernelBox;
let gpu: WebGpuBackend;

test.before(async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
});
test.after(() => gpu?.shutdown());

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
  const cases = [[2, 3, 6, 10, 3, 3, 6], [1, 2, 7, 11, 3, 3, 5], [3, 1, 28, 28, 3, 3, 16], [2, 2, 9, 13, 5, 5, 3], [1, 1, 5, 12, 2, 4, 1]];
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
    if (Cout > 2) {
      // output channels [1, Cout − 1) only, as a host split over channels passes them
      const [sw, sg] = put(new Float32Array(Cout * CKK));
      box.k.conv2d_wgrad_f32(xw, dyw + P * 4, sw + CKK * 4, N, C, Hp, Wp, KH, KW, Cout - 2, Cout);
      gpuCall(gpu, "conv2d_wgrad_f32", xg, dyg + P * 4, sg + CKK * 4, N, C, Hp, Wp, KH, KW, Cout - 2, Cout);
      await compare(sg, sw, Cout * CKK, `conv2d_wgrad channels 1..${Cout - 1} ${what}`, { rtol: 1e-4, atol: 1e-5 * N * P });
    }
  }
});

test("maxpool2d_relu_backward_f32: tiled 2×2 (odd H and W) and general windows, zero and negative pooled values", async () => {
  // [NC, H, W, KH, KW, SH, SW, PH, PW]
  const cases = [[3, 7, 9, 2, 2, 2, 2, 0, 0], [2, 8, 8, 2, 2, 2, 2, 0, 0], [2, 7, 6, 3, 3, 2, 2, 1, 1]];
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
    box.k.maxpool2d_relu_backward_f32(dyw, iw, yw, dxw, NC, H, W, OH, OW, tiled);
    gpuCall(gpu, "maxpool2d_relu_backward_f32", dyg, ig, yg, dxg, NC, H, W, OH, OW, tiled);
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
