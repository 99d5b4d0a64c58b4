// The kernels a GPT needs on WebGPU (shaders/norm.wgsl, embed.wgsl,
// attention.wgsl) against their wasm twins on the same inputs, then a small
// GPT (host/models/gpt.ts, dropout on) trained a few AdamW steps with the same
// code, seed and batches on wasm and on webgpu: the losses agree.
// Shapes are small (SwiftShader in CI) but hit D and cols not multiples of 4,
// causal with Sq < Sk (a KV cache) and Sq > Sk (rows that see no key), D at and
// past the 128 floats attention keeps in registers (the global-memory path), rows
// without gamma/beta, and repeated embedding indices. No adapter FAILS this file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, assertClose, randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import * as wg from "../host/index.js";
import { GPT } from "../host/models/gpt.js";
import { trainGptChar, loadFortuneCorpus } from "../host/zoo/gpt.js";
import { putBoth, compareTwins, gpuCall } from "./webgpu-twins.js";
import { GPU_TILING } from "../host/backends/webgpu/plans.js";

let box: KernelBox;
let gpu: WebGpuBackend;

const put = (data: Float32Array | Int32Array, shift = 0) => putBoth(box, gpu, data, shift);

const compare = (g: number, w: number, n: number, what: string, tol: { rtol: number; atol: number }) => compareTwins(box, gpu, g, w, n, what, tol);

test("kernels: layernorm forward, input and parameter gradients; embedding and its scatter-add; attention forward and backward", async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
  try {
    for (const [rows, cols, affine] of [[5, 7, 1], [3, 32, 0], [1, 1, 1]]) {
      box.reset();
      const what = `layernorm ${rows}×${cols}${affine ? "" : " no affine"}`;
      const x = randomF32(rows * cols, cols).map((v, i) => v + (i % 3)); // an offset: the two-pass variance matters
      const [xw, xg] = put(x), [gw, gg] = put(randomF32(cols, 2)), [bw, bg] = put(randomF32(cols, 3));
      const [yw, yg] = put(new Float32Array(rows * cols)), [mw, mg] = put(new Float32Array(rows)), [rw, rg] = put(new Float32Array(rows));
      box.k.layernorm_f32(xw, affine ? gw : 0, affine ? bw : 0, yw, mw, rw, rows, cols, 1e-5);
      gpuCall(gpu, "layernorm_f32", xg, affine ? gg : 0, affine ? bg : 0, yg, mg, rg, rows, cols, 1e-5);
      await compare(yg, yw, rows * cols, `${what} y`, { rtol: 1e-5, atol: 1e-5 });
      await compare(rg, rw, rows, `${what} rstd`, { rtol: 1e-5, atol: 1e-6 });
      const [dyw, dyg] = put(randomF32(rows * cols, 4)), [dxw, dxg] = put(new Float32Array(rows * cols));
      box.k.layernorm_backward_f32(xw, dyw, affine ? gw : 0, mw, rw, dxw, rows, cols);
      gpuCall(gpu, "layernorm_backward_f32", xg, dyg, affine ? gg : 0, mg, rg, dxg, rows, cols);
      await compare(dxg, dxw, rows * cols, `${what} dx`, { rtol: 1e-4, atol: 1e-5 });
      const [dgw, dgg] = put(randomF32(cols, 5)), [dbw, dbg] = put(randomF32(cols, 6)); // accumulates
      box.k.layernorm_param_grad_f32(xw, dyw, mw, rw, dgw, dbw, rows, cols);
      gpuCall(gpu, "layernorm_param_grad_f32", xg, dyg, mg, rg, dgg, dbg, rows, cols);
      await compare(dgg, dgw, cols, `${what} dgamma`, { rtol: 1e-4, atol: 1e-5 });
      await compare(dbg, dbw, cols, `${what} dbeta`, { rtol: 1e-5, atol: 1e-6 });
    }
    for (const [num, dim, n] of [[7, 5, 12], [3, 16, 300], [6, 4, 9]]) {
      box.reset();
      // repeats: the backward adds; the last case has indices outside [0, num) (NaN rows, no gradient), as wasm
      const idx = n === 9 ? Int32Array.from([2, -1, 5, 6, 0, 1 << 30, 3, 3, -7]) : Int32Array.from({ length: n }, (_, i) => (i * 5 + 2) % num);
      const [tw, tg] = put(randomF32(num * dim, 7)), [iw, ig] = put(idx), [yw, yg] = put(new Float32Array(n * dim));
      box.k.embedding_f32(tw, iw, yw, n, dim, num);
      gpuCall(gpu, "embedding_f32", tg, ig, yg, n, dim, num);
      await compare(yg, yw, n * dim, `embedding ${num}×${dim} n=${n}`, { rtol: 0, atol: 0 });
      const [dyw, dyg] = put(randomF32(n * dim, 8)), [dtw, dtg] = put(randomF32(num * dim, 9));
      box.k.embedding_backward_f32(dyw, iw, dtw, n, dim, num);
      gpuCall(gpu, "embedding_backward_f32", dyg, ig, dtg, n, dim, num);
      await compare(dtg, dtw, num * dim, `embedding backward ${num}×${dim} n=${n}`, { rtol: 0, atol: 0 });
    }
    // [BH, Sq, Sk, D, causal]
    // the tiled kernels (D ≤ 128): 64-row blocks of queries and keys, K/V tiles of min(64, 1024/D) rows;
    // Sq and Sk 64, 65, 130 (full and partial blocks), tiles of 64 (D 1..16), 32 (D 32), 16 (D 64), 8 (D 128)
    // rows with partial last tiles, causal with Sk > Sq by more than a tile, rows that see no key (Sq > Sk);
    // D 130: the per-row kernels
    const cases = [[2, 5, 5, 8, 1], [3, 4, 9, 7, 1], [1, 6, 3, 4, 1], [2, 17, 70, 5, 0], [1, 70, 70, 16, 1], [1, 3, 4, 130, 1], [1, 2, 3, 128, 0],
      [1, 64, 64, 64, 1], [2, 65, 37, 32, 0], [1, 130, 200, 16, 1], [1, 70, 5, 1, 1], [1, 66, 67, 128, 1], [2, 9, 130, 24, 0]];
    // a case twice more with GPU_TILING.attention off (the bench's A/B baseline: the per-row kernels)
    for (const [BH, Sq, Sk, D, causal, untiled] of [...cases, [2, 65, 37, 32, 1, 1], [1, 9, 70, 8, 0, 1]]) {
      GPU_TILING.attention = !untiled;
      box.reset();
      const what = `attention BH${BH} Sq${Sq} Sk${Sk} D${D}${causal ? " causal" : ""}${untiled ? " untiled" : ""}`;
      const scale = 1 / Math.sqrt(D);
      const [qw, qg] = put(randomF32(BH * Sq * D, 1)), [kw, kg] = put(randomF32(BH * Sk * D, 2)), [vw, vg] = put(randomF32(BH * Sk * D, 3));
      const [ow, og] = put(new Float32Array(BH * Sq * D)), [lw, lg] = put(new Float32Array(BH * Sq));
      const sc = box.alloc(box.k.attention_backward_scratch_bytes(Sq, Sk, D) + box.k.attention_scratch_bytes(Sq, Sk, D) + 64);
      box.k.attention_f32(qw, kw, vw, ow, lw, BH, Sq, Sk, D, scale, causal, sc);
      gpuCall(gpu, "attention_f32", qg, kg, vg, og, lg, BH, Sq, Sk, D, scale, causal, 0, 1, Sk);
      await compare(og, ow, BH * Sq * D, `${what} o`, { rtol: 1e-4, atol: 1e-5 });
      // rows that see no key: lse −∞ on both (compared as equal), the rest within rounding
      const lseG = new Float32Array(await gpu.read(lg, BH * Sq * 4)), lseW = box.f32(lw, BH * Sq).slice();
      assert.equal(Array.from(lseG, (v) => v === -Infinity), Array.from(lseW, (v) => v === -Infinity), `${what} lse: rows that see no key`);
      const finite = (a: Float32Array) => a.map((v) => (v === -Infinity ? 0 : v));
      assertClose(finite(lseG), finite(lseW), { rtol: 1e-5, atol: 1e-5, what: `${what} lse` });
      const [dow, dog] = put(randomF32(BH * Sq * D, 4));
      const [dqw, dqg] = put(new Float32Array(BH * Sq * D)), [dkw, dkg] = put(new Float32Array(BH * Sk * D)), [dvw, dvg] = put(new Float32Array(BH * Sk * D));
      box.k.attention_backward_f32(qw, kw, vw, ow, lw, dow, dqw, dkw, dvw, BH, Sq, Sk, D, scale, causal, sc);
      gpuCall(gpu, "attention_backward_f32", qg, kg, vg, og, lg, dog, dqg, dkg, dvg, BH, Sq, Sk, D, scale, causal, 0, 1);
      await compare(dqg, dqw, BH * Sq * D, `${what} dq`, { rtol: 1e-3, atol: 1e-5 });
      await compare(dkg, dkw, BH * Sk * D, `${what} dk`, { rtol: 1e-3, atol: 1e-5 });
      await compare(dvg, dvw, BH * Sk * D, `${what} dv`, { rtol: 1e-3, atol: 1e-5 });
    }
    GPU_TILING.attention = true;
    const ran = gpu.compiledEntries();
    for (const e of ["attention_f32", "attention_backward_f32", "attention_f32_rows", "attention_backward_f32_rows"]) assert.ok(ran.includes(e), `${e} ran`);
  } finally {
    gpu.shutdown();
  }
});

async function trainGpt(backend: "wasm" | "webgpu"): Promise<number[]> {
  await wg.init({ backend, threads: 1, verbose: false });
  wg.manualSeed(7);
  const model = new GPT({ vocabSize: 23, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, dropout: 0.1 });
  const opt = new wg.optim.AdamW(model.parameters(), { lr: 3e-3, weightDecay: 0.01 });
  const B = 3, T = 12;
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    // one fixed batch of a repeating sequence, so the loss must fall
    const seq = Int32Array.from({ length: B * (T + 1) }, (_, i) => (i * 5 + Math.floor(i / 7)) % 23);
    const ids = new Int32Array(B * T), tg = new Int32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) { ids[b * T + t] = seq[b * (T + 1) + t]; tg[b * T + t] = seq[b * (T + 1) + t + 1]; }
    const loss = wg.scope(() => {
      opt.zeroGrad();
      const l = model.loss(wg.tensor(ids, { dtype: "int32", shape: [B, T] }), wg.tensor(tg, { dtype: "int32", shape: [B, T] }));
      l.backward();
      opt.step();
      return l;
    });
    losses.push(await loss.itemAsync());
    loss.dispose();
  }
  wg.shutdown();
  return losses;
}

test("a small GPT (2 layers, dropout 0.1, AdamW) trains on webgpu with wasm's losses", async () => {
  const cpu = await trainGpt("wasm");
  const gpu = await trainGpt("webgpu");
  assertClose(gpu, cpu, { rtol: 2e-4, atol: 1e-4, what: "GPT losses webgpu vs wasm" });
  assert.ok(cpu[3] < cpu[0], `the loss falls: ${cpu.map((l) => l.toFixed(4)).join(" → ")}`);
});

test("S7 trainGptChar (clipping on the device, AdamW, validation) on webgpu: wasm's losses and validation loss", async () => {
  // a vocabulary of the common characters only, and a short validation text: SwiftShader is slow
  const full = await loadFortuneCorpus({ maxChars: 4000, minCount: 40 });
  const corpus = { ...full, validation: full.validation.subarray(0, 400) };
  const run = async (backend: "wasm" | "webgpu") => {
    await wg.init({ backend, threads: 1, verbose: false });
    const r = await trainGptChar({ corpus, steps: 6, nEmbd: 16, nLayer: 1, nHead: 2, context: 16, batchSize: 4, lr: 1e-2, warmupSteps: 2, clip: 0.5 });
    wg.shutdown();
    return r;
  };
  const cpu = await run("wasm");
  const gpu = await run("webgpu");
  assertClose(gpu.losses, cpu.losses, { rtol: 2e-4, atol: 1e-4, what: "S7 step losses webgpu vs wasm" });
  assertClose([gpu.validationLoss], [cpu.validationLoss], { rtol: 2e-4, atol: 1e-4, what: "S7 validation loss" });
  assert.ok(Number.isFinite(gpu.validationLoss), `validation loss ${gpu.validationLoss}`);
});

test("clipGradNorm clips on the device and returns the norm as a tensor (webgpu), as on wasm", async () => {
  await wg.init({ backend: "webgpu", verbose: false });
  const a = wg.tensor([3, 0], { requiresGrad: true }).keep(), b = wg.tensor([4], { requiresGrad: true }).keep();
  wg.scope(() => a.mul(a).sum().mul(0.5).add(b.mul(b).sum().mul(0.5)).backward()); // grads [3, 0] and [4]: norm 5
  const norm = await wg.clipGradNorm([a, b], 1).itemAsync();
  assert.ok(Math.abs(norm - 5) < 1e-5, `norm ${norm}`);
  assertClose(await a.grad!.data(), [0.6, 0], { rtol: 1e-5, atol: 1e-6, what: "a.grad clipped" });
  assertClose(await b.grad!.data(), [0.8], { rtol: 1e-5, atol: 1e-6, what: "b.grad clipped" });
  assert.ok(Math.abs((await wg.clipGradNormTensor([a, b], 10).itemAsync()) - 1) < 1e-5, "the old name: the same function (the norm is 1 now)");
  assertClose(await b.grad!.data(), [0.8], { rtol: 1e-5, atol: 1e-6, what: "under the limit: unchanged" });
  wg.shutdown();
});

test.run();
