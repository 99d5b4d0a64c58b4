// WebGPU twins of the decoding kernels against their wasm twins on the same inputs:
// attention_f32 / attention_backward_f32 with group 1..4 and kvStride (tiled and per-row
// forms), kv_append_f32, gemv_f32, quantize_weights_i8_rows and gemv_i8; then the ops
// (GQA attention, StaticKVCache, linear at M = 1, int8 decode rows) on init({ backend: "webgpu" }).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, randomF32, assertClose } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { GPU_TILING } from "../host/backends/webgpu/plans.js";
import * as wg from "../host/index.js";
import { putBoth, compareTwins, gpuCall } from "./webgpu-twins.js";

let box: KernelBox;
let gpu: WebGpuBackend;

test.before(async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
});
test.after(() => gpu?.shutdown());

const put = (data: Float32Array | Int32Array, shift = 0) => putBoth(box, gpu, data, shift);

test("attention with group 1..4 and kvStride (forward), group sums of dk/dv (backward): tiled and per-row twins match wasm", async () => {
  // [BHkv, group, Sq, Sk, kvStride, D, causal]
  const cases = [[2, 2, 1, 9, 16, 8, 1], [1, 3, 5, 70, 70, 16, 1], [2, 4, 65, 37, 37, 32, 0], [1, 1, 3, 5, 5, 12, 1], [1, 3, 2, 7, 7, 130, 1], [3, 2, 1, 1, 4, 64, 0]];
  try {
    for (const untiled of [0, 1]) for (const [BHkv, G, Sq, Sk, KS, D, causal] of cases) {
      GPU_TILING.attention = !untiled;
      box.reset();
      const BH = BHkv * G, scale = 1 / Math.sqrt(D);
      const what = `BHkv${BHkv} G${G} Sq${Sq} Sk${Sk} KS${KS} D${D}${causal ? " causal" : ""}${untiled ? " untiled" : ""}`;
      const [qw, qg] = put(randomF32(BH * Sq * D, 1)), [kw, kg] = put(randomF32(BHkv * KS * D, 2)), [vw, vg] = put(randomF32(BHkv * KS * D, 3));
      const [ow, og] = put(new Float32Array(BH * Sq * D)), [lw, lg] = put(new Float32Array(BH * Sq));
      const sc = box.alloc(box.k.attention_backward_scratch_bytes(Sq, Sk, D) + box.k.attention_scratch_bytes(Sq, Sk, D) + 64);
      box.k.attention_f32(qw, kw, vw, ow, lw, BH, Sq, Sk, D, scale, causal, sc, G, KS);
      gpuCall(gpu, "attention_f32", qg, kg, vg, og, lg, BH, Sq, Sk, D, scale, causal, 0, G, KS);
      await compareTwins(box, gpu, og, ow, BH * Sq * D, `${what} o`, { rtol: 1e-4, atol: 1e-5 });
      if (KS !== Sk) continue;
      const [dow, dog] = put(randomF32(BH * Sq * D, 4));
      const [dqw, dqg] = put(new Float32Array(BH * Sq * D)), [dkw, dkg] = put(new Float32Array(BHkv * Sk * D)), [dvw, dvg] = put(new Float32Array(BHkv * Sk * D));
      box.k.attention_backward_f32(qw, kw, vw, ow, lw, dow, dqw, dkw, dvw, BH, Sq, Sk, D, scale, causal, sc, G);
      gpuCall(gpu, "attention_backward_f32", qg, kg, vg, og, lg, dog, dqg, dkg, dvg, BH, Sq, Sk, D, scale, causal, 0, G);
      await compareTwins(box, gpu, dqg, dqw, BH * Sq * D, `${what} dq`, { rtol: 1e-3, atol: 1e-5 });
      await compareTwins(box, gpu, dkg, dkw, BHkv * Sk * D, `${what} dk`, { rtol: 1e-3, atol: 1e-5 });
      await compareTwins(box, gpu, dvg, dvw, BHkv * Sk * D, `${what} dv`, { rtol: 1e-3, atol: 1e-5 });
    }
  } finally {
    GPU_TILING.attention = true;
  }
});

test("kv_append_f32, gemv_f32 (bias, accumulate, strides) match wasm", async () => {
  box.reset();
  const [xw, xg] = put(randomF32(3 * 2 * 5, 1)), [cw, cg] = put(new Float32Array(3 * 7 * 5).fill(-1));
  box.k.kv_append_f32(xw, cw, 3, 2, 5, 7, 4); gpuCall(gpu, "kv_append_f32", xg, cg, 3, 2, 5, 7, 4);
  await compareTwins(box, gpu, cg, cw, 3 * 7 * 5, "kv_append_f32", { rtol: 0, atol: 0 });
  for (const [m, n, k, acc, pad] of [[1, 1, 1, 0, 0], [1, 37, 33, 0, 0], [3, 9, 17, 1, 2], [4, 576, 64, 1, 1], [2, 5, 1536, 0, 3]]) {
    box.reset();
    const ldx = k + pad, ldw = k + pad, ldy = n + pad;
    const [aw, ag] = put(randomF32(m * ldx, 2)), [ww, wgp] = put(randomF32(n * ldw, 3)), [bw, bg] = put(randomF32(n, 4)), [yw, yg] = put(randomF32(m * ldy, 5));
    box.k.gemv_f32(aw, ww, bw, yw, m, n, k, ldx, ldw, ldy, acc);
    gpuCall(gpu, "gemv_f32", ag, wgp, bg, yg, m, n, k, ldx, ldw, ldy, acc);
    await compareTwins(box, gpu, yg, yw, m * ldy, `gemv_f32 m${m} n${n} k${k}`, { rtol: 1e-4, atol: 1e-4 });
  }
});

test("quantize_weights_i8_rows and gemv_i8 (per channel and groups) match wasm", async () => {
  for (const [m, n, k, group] of [[1, 1, 1, 0], [1, 7, 33, 0], [2, 13, 70, 32], [1, 33, 576, 64], [3, 5, 130, 128], [4, 6, 3, 0]]) {
    box.reset();
    const G = group ? Math.ceil(k / group) : 1;
    const [ww, wgp] = put(randomF32(n * k, 6));
    const qBytes = Math.ceil((n * k) / 4) * 4;
    const [qw, qg] = put(new Int32Array(qBytes / 4)), [sw, sg] = put(new Float32Array(n * G));
    box.k.quantize_weights_i8_rows(ww, qw, sw, n, k, group);
    gpuCall(gpu, "quantize_weights_i8_rows", wgp, qg, sg, n, k, group);
    const what = `m${m} n${n} k${k} group ${group}`;
    await compareTwins(box, gpu, sg, sw, n * G, `${what} scales`, { rtol: 1e-6, atol: 0 });
    // a weight exactly halfway between two steps may round either way (the GPU's division is not exact): at most 1 apart
    const qGpu = new Int8Array(await gpu.read(qg, qBytes)), qWasm = new Int8Array(box.memory.buffer, qw, qBytes);
    for (let i = 0; i < n * k; i++) assert.ok(Math.abs(qGpu[i] - qWasm[i]) <= 1, `${what}: weight ${i}: ${qGpu[i]} vs ${qWasm[i]}`);
    gpu.write(qg, new Int32Array(box.memory.buffer.slice(qw, qw + qBytes))); // the same int8 rows into both products
    const [xw, xg] = put(randomF32(m * k, 7)), [bw, bg] = put(randomF32(n, 8)), [yw, yg] = put(new Float32Array(m * (n + 1)));
    box.k.gemv_i8(xw, qw, sw, bw, yw, m, n, k, group, n + 1, box.alloc(box.k.gemv_i8_scratch_bytes(k)));
    gpuCall(gpu, "gemv_i8", xg, qg, sg, bg, yg, m, n, k, group, n + 1);
    await compareTwins(box, gpu, yg, yw, m * (n + 1), `${what} gemv_i8`, { rtol: 1e-4, atol: 1e-4 });
  }
});

test("ops on webgpu: GQA attention, StaticKVCache decode steps, linear at M = 1, int8 decode rows", async () => {
  await wg.init({ backend: "webgpu", verbose: false });
  try {
    const q = wg.tensor(randomF32(1 * 6 * 3 * 16, 1), { shape: [1, 6, 3, 16] });
    const k = wg.tensor(randomF32(1 * 2 * 5 * 16, 2), { shape: [1, 2, 5, 16] }), v = wg.tensor(randomF32(1 * 2 * 5 * 16, 3), { shape: [1, 2, 5, 16] });
    const o = await wg.scaledDotProductAttention(q, k, v, { causal: true, enableGqa: true }).data();
    const cache = new wg.models.StaticKVCache(1, 1, 2, 8, 16);
    cache.append(0, k, v);
    const oc = await wg.noGrad(() => cache.attend(0, q, { causal: true })).data();
    assertClose(oc, o, { rtol: 1e-6, atol: 1e-6, what: "cache vs sdpa on webgpu" });
    cache.dispose();
    const x = wg.tensor(randomF32(576, 4), { shape: [1, 576] }), w = wg.tensor(randomF32(100 * 576, 5), { shape: [100, 576] });
    const y = await wg.linear(x, w).data();
    const iq = wg.quantizeWeightInt8(w, { decode: true, group: 32 });
    const yq = await wg.noGrad(() => wg.int8Linear(x, iq)).data();
    assertClose(yq, y, { rtol: 0, atol: 0.2, what: "int8 decode rows vs float on webgpu (steps of max|w|/127 over 576 inputs)" });
    // the same on wasm
    await wg.init({ backend: "wasm", verbose: false });
    const ow = wg.scaledDotProductAttention(wg.tensor(randomF32(1 * 6 * 3 * 16, 1), { shape: [1, 6, 3, 16] }), wg.tensor(randomF32(1 * 2 * 5 * 16, 2), { shape: [1, 2, 5, 16] }),
      wg.tensor(randomF32(1 * 2 * 5 * 16, 3), { shape: [1, 2, 5, 16] }), { causal: true, enableGqa: true }).dataSync();
    assertClose(o, ow, { rtol: 1e-4, atol: 1e-5, what: "GQA attention webgpu vs wasm" });
  } finally {
    await wg.init({ backend: "wasm", verbose: false });
  }
});

test.run();
