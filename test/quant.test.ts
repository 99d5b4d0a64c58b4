// int8 kernels (kernels/quant.mjs) on both binaries against plain references:
// the 7-bit row quantiser (rows and transposed rows), the per-channel weight
// quantiser and its packed panels, and gemm_i8's exact integer sums with the
// f32 epilogue, over m, n, k hitting every remainder of the 4-row groups, the
// 8-channel panels and the 4-k groups; split calls (rows, panels) give the same
// bits, and both binaries the same bits. Then the layers: QuantizedLinear,
// QuantizedConv2d and quantizeDynamic within the quantisation error of the
// float layers, and their errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, kernels, randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { quantizeRowsRef, quantizeWeightsRef, gemmI8Ref, wIndex } from "./quant-reference.js";
import * as wg from "../host/index.js";

const M_SWEEP = [1, 2, 3, 4, 5, 7, 8, 9, 13];
const N_SWEEP = [1, 3, 7, 8, 9, 16, 17, 33];
const K_SWEEP = [1, 2, 3, 4, 5, 8, 9, 31, 64, 67];

interface Case { m: number; n: number; k: number; y: Float32Array }

/** Quantises x and w on the binary, checks both against the references, runs gemm_i8 and checks it; returns y. */
function runCase(box: KernelBox, m: number, n: number, k: number, seed: number, relu: boolean, withBias: boolean): Float32Array {
  box.reset();
  const E = box.k;
  const x = randomF32(m * k, seed).map((v) => 2 * v + 0.5), w = randomF32(n * k, seed + 1), b = randomF32(n, seed + 2);
  const what = `${box.variant} m=${m} n=${n} k=${k}`;
  const px = box.putF32(x), pw = box.putF32(w), pb = box.putF32(b);
  const xt = new Float32Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) xt[j * m + i] = x[i * k + j];
  const pxt = box.putF32(xt);
  const qBytes = E.quant_rows_bytes(m, k);
  const pq = box.alloc(qBytes), psa = box.alloc(4 * m), pza = box.alloc(4 * m);
  const pqt = box.alloc(qBytes), psat = box.alloc(4 * m), pzat = box.alloc(4 * m);
  const wBytes = E.quant_packed_w_bytes(n, k), pk = box.alloc(wBytes), psw = box.alloc(4 * n), pws = box.alloc(4 * n), py = box.alloc(4 * m * n);
  E.quantize_rows_u7(px, pq, psa, pza, m, k, k, 0);
  E.quantize_rows_u7(pxt, pqt, psat, pzat, m, k, m, 1);
  E.quantize_weights_i8(pw, pk, psw, pws, n, k);

  const ra = quantizeRowsRef(x, m, k);
  const bytes = (p: number) => new Uint8Array(box.memory.buffer, p, qBytes);
  assert.equal([...bytes(pq)], [...ra.q], `${what}: quantised rows`);
  assert.equal([...bytes(pqt)], [...ra.q], `${what}: quantised transposed rows`);
  assert.equal([...box.f32(psa, m)], [...ra.scale], `${what}: row scales`);
  assert.equal([...box.f32(psat, m)], [...ra.scale], `${what}: transposed row scales`);
  assert.equal([...box.i32(pza, m)], [...ra.zero], `${what}: zero points`);
  assert.equal([...box.i32(pzat, m)], [...ra.zero], `${what}: transposed zero points`);

  const rw = quantizeWeightsRef(w, n, k);
  const perWeight = wBytes / (Math.ceil(n / 8) * 8 * Math.ceil(k / 4) * 4);
  const packed = perWeight === 1 ? new Int8Array(box.memory.buffer, pk, wBytes) : new Int16Array(box.memory.buffer, pk, wBytes / 2);
  for (let o = 0; o < Math.ceil(n / 8) * 8; o++) for (let j = 0; j < Math.ceil(k / 4) * 4; j++) {
    const want = o < n && j < k ? rw.wq[o * k + j] : 0;
    if (packed[wIndex(o, j, k)] !== want) assert.unreachable(`${what}: packed weight [${o}, ${j}] is ${packed[wIndex(o, j, k)]}, expected ${want}`);
  }
  assert.equal([...box.f32(psw, n)], [...rw.scales], `${what}: weight scales`);
  assert.equal([...box.i32(pws, n)], [...rw.wsum], `${what}: weight sums`);

  E.gemm_i8(pq, psa, pza, pk, psw, pws, withBias ? pb : 0, py, m, n, k, n, relu ? 1 : 0);
  const want = gemmI8Ref(ra, rw, withBias ? b : null, m, n, k, relu);
  const got = box.f32(py, m * n);
  for (let i = 0; i < m * n; i++) {
    if (got[i] !== want[i]) assert.unreachable(`${what} relu=${relu} bias=${withBias}: y[${Math.floor(i / n)}, ${i % n}] = ${got[i]}, expected ${want[i]}`);
  }

  // a thread's share: rows from a group of 4 on, and panels from channel 8 on, give the same bits
  if (m > 4) {
    const py2 = box.alloc(4 * m * n);
    const lda = Math.ceil(k / 4) * 4;
    E.gemm_i8(pq, psa, pza, pk, psw, pws, withBias ? pb : 0, py2, 4, n, k, n, relu ? 1 : 0);
    E.gemm_i8(pq + 4 * lda, psa + 16, pza + 16, pk, psw, pws, withBias ? pb : 0, py2 + 16 * n, m - 4, n, k, n, relu ? 1 : 0);
    assert.equal([...box.f32(py2, m * n)], [...got], `${what}: rows split at 4`);
  }
  if (n > 8) {
    const py3 = box.alloc(4 * m * n);
    const K4 = Math.ceil(k / 4);
    E.gemm_i8(pq, psa, pza, pk, psw, pws, withBias ? pb : 0, py3, m, 8, k, n, relu ? 1 : 0);
    E.gemm_i8(pq, psa, pza, pk + K4 * 32 * perWeight, psw + 32, pws + 32, withBias ? pb + 32 : 0, py3 + 32, m, n - 8, k, n, relu ? 1 : 0);
    assert.equal([...box.f32(py3, m * n)], [...got], `${what}: panels split at 8`);
  }
  return Float32Array.from(got);
}

const results: Record<string, Case[]> = {};
for (const v of KERNEL_VARIANTS) {
  test(`${v}: quantize_rows_u7, quantize_weights_i8 and gemm_i8 match the integer reference over every remainder`, () => {
    const box = kernels(v);
    const out: Case[] = (results[v] = []);
    let seed = 1;
    for (const m of M_SWEEP) for (const n of N_SWEEP) for (const k of K_SWEEP) {
      const relu = seed % 2 === 0, withBias = seed % 3 !== 0;
      out.push({ m, n, k, y: runCase(box, m, n, k, seed++, relu, withBias) });
    }
  });

  test(`${v}: gemm_i8 over a 4-row-group block boundary (128 KB of A) and a long k`, () => {
    const box = kernels(v);
    runCase(box, 133, 19, 1030, 99, true, true);
  });
}

test("both binaries give gemm_i8 the same bits (one quantisation scheme, exact sums)", () => {
  const [a, b] = KERNEL_VARIANTS.map((v) => results[v]);
  if (!a || !b) assert.unreachable("a binary's sweep did not run");
  a.forEach((c, i) => assert.equal([...c.y], [...b[i].y], `m=${c.m} n=${c.n} k=${c.k}`));
});

test("gemm_i8 with zero rows and with a row of zeros (scale 0) gives the bias", () => {
  const box = kernels("simd");
  const E = box.k;
  const m = 3, n = 5, k = 6;
  const x = new Float32Array(m * k); x.set([1, -2, 3, 0, 0, 0], 6); // rows 0 and 2 are zeros
  const w = randomF32(n * k, 5), b = randomF32(n, 6);
  const px = box.putF32(x), pw = box.putF32(w), pb = box.putF32(b);
  const pq = box.alloc(E.quant_rows_bytes(m, k)), psa = box.alloc(12), pza = box.alloc(12);
  const pk = box.alloc(E.quant_packed_w_bytes(n, k)), psw = box.alloc(4 * n), pws = box.alloc(4 * n), py = box.alloc(4 * m * n);
  E.quantize_rows_u7(px, pq, psa, pza, m, k, k, 0);
  E.quantize_weights_i8(pw, pk, psw, pws, n, k);
  E.gemm_i8(pq, psa, pza, pk, psw, pws, pb, py, m, n, k, n, 0);
  const y = box.f32(py, m * n);
  assert.equal([...y.subarray(0, n)], [...b]);
  assert.equal([...y.subarray(2 * n)], [...b]);
});

// ---------------------------------------------------------------------------
// the layers (2 threads: the wasm schedules split rows and panels)

test.before(async () => { await wg.init({ threads: 2, verbose: false }); });

/** Largest |a − b| over two tensors' values. */
const maxDiff = (a: wg.Tensor, b: wg.Tensor) => wg.scope(() => a.sub(b).abs().max().item());

test("QuantizedLinear: within the quantisation error of the float Linear; a ReLU fused", () => {
  wg.manualSeed(3);
  const fc = new wg.nn.Linear(300, 37);
  const q = wg.nn.QuantizedLinear.from(fc);
  const x = wg.randn([70, 300]);
  const yf = fc.forward(x).detach(), yq = q.forward(x);
  assert.equal(yq.shape, [70, 37]);
  // per-channel int8 weights (error ≤ scale/2 each) and 7-bit rows: a few tenths of a percent of the output's size
  const rel = maxDiff(yf, yq) / wg.scope(() => yf.abs().max().item());
  assert.ok(rel < 0.03, `relative error ${rel}`);
  assert.ok(rel > 0, "the int8 path ran (its result is not the float one)");
  q.relu = true;
  const yr = q.forward(x);
  assert.ok(maxDiff(yr, yq.relu()) === 0, "fused ReLU = ReLU of the output");
  // batch dims fold into rows
  assert.equal(q.forward(wg.randn([2, 3, 300])).shape, [2, 3, 37]);
});

test("int8Linear on 2 threads equals the integer reference bit for bit (rows split, and short wide products split by panels)", () => {
  for (const [m, n, k] of [[70, 37, 300], [6, 400, 300], [3, 1030, 517]]) {
    const x = randomF32(m * k, m + n).map((v) => 3 * v - 0.5), w = randomF32(n * k, k), b = randomF32(n, 9);
    const y = wg.int8Linear(wg.tensor(x, { shape: [m, k] }), wg.quantizeWeightInt8(wg.tensor(w, { shape: [n, k] })), wg.tensor(b)).dataSync();
    const want = gemmI8Ref(quantizeRowsRef(x, m, k), quantizeWeightsRef(w, n, k), b, m, n, k, false);
    for (let i = 0; i < m * n; i++) if (y[i] !== want[i]) assert.unreachable(`m=${m} n=${n} k=${k}: y[${i}] = ${y[i]}, expected ${want[i]}`);
  }
});

test("QuantizedConv2d: within the quantisation error of the float Conv2d (stride, padding, dilation)", () => {
  wg.manualSeed(4);
  for (const [opts, C, Cout] of [[{}, 3, 8], [{ stride: 2, padding: 1 }, 5, 13], [{ padding: 2, dilation: 2 }, 2, 9]] as const) {
    const conv = new wg.nn.Conv2d(C, Cout, 3, opts.stride ?? 1, opts.padding ?? 0, { dilation: (opts as { dilation?: number }).dilation ?? 1 });
    const q = wg.nn.QuantizedConv2d.from(conv);
    const x = wg.randn([3, C, 11, 9]);
    const yf = conv.forward(x).detach(), yq = q.forward(x);
    assert.equal(yq.shape, yf.shape);
    const rel = maxDiff(yf, yq) / wg.scope(() => yf.abs().max().item());
    assert.ok(rel < 0.03 && rel > 0, `${JSON.stringify(opts)}: relative error ${rel}`);
  }
});

test("quantizeDynamic swaps Linear and Conv2d in place (nested, in arrays), keeps accuracy, and refuses training", () => {
  wg.manualSeed(5);
  class Net extends wg.nn.Module {
    conv = new wg.nn.Conv2d(1, 4, 3);
    heads = [new wg.nn.Linear(4 * 6 * 6, 8), new wg.nn.Linear(8, 3)];
    forward(x: wg.Tensor) { return this.heads[1].forward(this.heads[0].forward(this.conv.forward(x).relu().flatten(1)).relu()); }
  }
  const net = new Net();
  const x = wg.randn([5, 1, 8, 8]);
  const yf = net.forward(x).detach().keep();
  const same = wg.quantizeDynamic(net, { layers: ["Linear", "Conv2d"] });
  assert.ok(same === net);
  assert.ok(net.conv instanceof wg.nn.QuantizedConv2d);
  assert.ok(net.heads[0] instanceof wg.nn.QuantizedLinear && net.heads[1] instanceof wg.nn.QuantizedLinear);
  assert.equal(net.parameters().length, 0, "no trainable parameters left");
  assert.ok(!net.training, "returned in eval mode");
  const yq = net.forward(x);
  assert.ok(maxDiff(yf, yq) < 0.05 * wg.scope(() => yf.abs().max().item()) + 1e-3, `error ${maxDiff(yf, yq)}`);
  net.train();
  assert.throws(() => net.forward(x), /QuantizedConv2d: a quantised layer is inference only/);
  net.eval();
  const xg = wg.randn([1, 1, 8, 8]); xg.requiresGrad = true;
  assert.throws(() => net.forward(xg), /inference only/);
  assert.ok(wg.noGrad(() => net.forward(xg)).shape[1] === 3, "under noGrad it runs");
  // only Linear: the default, as PyTorch's
  const net2 = new Net();
  wg.quantizeDynamic(net2);
  assert.ok(net2.conv instanceof wg.nn.Conv2d && net2.heads[0] instanceof wg.nn.QuantizedLinear);
  assert.throws(() => wg.quantizeDynamic(new wg.nn.Sequential(new wg.nn.ReLU())), /no Linear layer to quantise \(Conv2d layers are swapped with/);
  assert.throws(() => wg.quantizeDynamic(new Net(), { layers: ["LSTM" as "Linear"] }), /layers may name/);
});

test("quantizeDynamic on a GPT: its Conv1D projections and its tied output head run int8, the logits stay close", () => {
  wg.manualSeed(7);
  const gpt = new wg.models.GPT({ vocabSize: 50, nPositions: 16, nEmbd: 32, nLayer: 2, nHead: 4 }).eval();
  const ids = wg.tensor(Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % 50), { dtype: "int32", shape: [2, 16] });
  const yf = wg.noGrad(() => gpt.forward(ids)).keep();
  wg.quantizeDynamic(gpt);
  assert.ok(gpt.h[0].attn.c_attn instanceof wg.nn.QuantizedLinear, "Conv1D swapped");
  assert.ok(gpt.lmHead instanceof wg.nn.QuantizedLinear, "int8 output head");
  const yq = wg.noGrad(() => gpt.forward(ids));
  assert.equal(yq.shape, [2, 16, 50]);
  const rel = maxDiff(yf, yq) / wg.scope(() => yf.abs().max().item());
  assert.ok(rel < 0.05 && rel > 0, `relative error ${rel}`);
});

test("quantizeModelInt8 still stores int8 and dequantises in place", () => {
  wg.manualSeed(6);
  const fc = new wg.nn.Linear(4, 2);
  const { int8Bytes, f32Bytes, weights } = wg.quantizeModelInt8(new wg.nn.Sequential(fc));
  assert.equal([int8Bytes, f32Bytes], [16, 32]);
  assert.ok(weights["0.weight"].q instanceof Int8Array);
});

test.run();
