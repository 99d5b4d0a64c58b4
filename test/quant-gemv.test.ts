// Weight-only int8 for decoding (assembly/gemv.ts): quantize_weights_i8_rows against a
// JavaScript quantiser (per channel and groups of 32, 64, 128), gemv_i8 against float64
// products of the dequantised weights; n and k 1..33, 576, 1536; int8Linear's GEMV path
// (QuantizedLinear / quantizeDynamic with decode) against its int8 GEMM path.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, kernels, randomF32, assertClose, variantSupported } from "./harness.js";
import * as wg from "../host/index.js";

/** Round half to even (wasm's nearest). */
const rne = (x: number) => { const r = Math.round(x); return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r; };

/** scale = max|w|/127 per row and group, q = round-half-even(w · 127/max) as f32 arithmetic. */
function quantise(w: Float32Array, n: number, k: number, group: number) {
  const gs = group || Math.max(k, 1), G = Math.ceil(k / gs);
  const q = new Int8Array(n * k), scales = new Float32Array(n * G);
  const f = Math.fround;
  for (let o = 0; o < n; o++) for (let g = 0; g < G; g++) {
    let mx = 0;
    for (let d = g * gs; d < Math.min(k, (g + 1) * gs); d++) mx = Math.max(mx, Math.abs(w[o * k + d]));
    scales[o * G + g] = f(mx / 127);
    const inv = mx > 0 ? f(127 / mx) : 0;
    for (let d = g * gs; d < Math.min(k, (g + 1) * gs); d++) q[o * k + d] = Math.max(-127, Math.min(127, rne(f(w[o * k + d] * inv))));
  }
  return { q, scales, G };
}

const SIZES = [1, 3, 4, 5, 8, 15, 16, 17, 31, 33];

for (const variant of KERNEL_VARIANTS) {
  test(`${variant}: quantize_weights_i8_rows and gemv_i8 (per channel, groups 32/64/128) match the float64 reference`, () => {
    if (!variantSupported(variant)) return;
    const box = kernels(variant);
    const shapes: number[][] = [];
    for (const n of SIZES) for (const k of SIZES) shapes.push([1 + ((n + k) % 4), n, k, 0]);
    for (const group of [0, 32, 64, 128]) shapes.push([1, 576, 576, group], [2, 33, 1536, group], [1, 1536, 576, group], [1, 5, 100, group]);
    for (const [m, n, k, group] of shapes) {
      box.reset();
      const what = `${variant} m${m} n${n} k${k} group ${group}`;
      const wd = randomF32(n * k, 1).map((v, i) => (i % 7 === 3 ? 0 : v * (1 + (i % 5)))); // uneven rows, exact zeros
      const ref = quantise(wd, n, k, group);
      const w = box.putF32(wd), q = box.alloc(n * k + 16), s = box.alloc(ref.scales.length * 4);
      box.k.quantize_weights_i8_rows(w, q, s, n, k, group);
      assert.equal(Array.from(new Int8Array(box.memory.buffer, q, n * k)), Array.from(ref.q), `${what}: int8 rows`);
      assert.equal(Array.from(box.f32(s, ref.scales.length)), Array.from(ref.scales), `${what}: scales`);
      const xd = randomF32(m * k, 2), bd = randomF32(n, 3);
      const x = box.putF32(xd), b = box.putF32(bd), ldy = n + 2, y = box.putF32(new Float32Array(m * ldy).fill(-9));
      const sc = box.alloc(box.k.gemv_i8_scratch_bytes(k));
      box.k.gemv_i8(x, q, s, b, y, m, n, k, group, ldy, sc);
      const gs = group || k;
      // two references: exact f32 x (the float64 product of the dequantised weights, within x's 15-bit rounding),
      // and x rounded to 15 bits as the kernel does (then only the f32 epilogue's rounding is left)
      const want = new Float64Array(m * n), wantQ = new Float64Array(m * n), mag = new Float64Array(m * n), xErr = new Float64Array(m * n);
      const f = Math.fround;
      for (let i = 0; i < m; i++) {
        let amax = 0;
        for (let d = 0; d < k; d++) amax = Math.max(amax, Math.abs(xd[i * k + d]));
        const sx = f(amax / 16383), inv = amax > 0 ? f(16383 / amax) : 0;
        const xq = Array.from({ length: k }, (_, d) => Math.max(-16383, Math.min(16383, rne(f(xd[i * k + d] * inv)))));
        for (let o = 0; o < n; o++) {
          let t = bd[o], tq = bd[o], a = Math.abs(bd[o]), wabs = 0;
          for (let d = 0; d < k; d++) {
            const wdq = ref.q[o * k + d] * ref.scales[o * ref.G + Math.floor(d / gs)];
            t += xd[i * k + d] * wdq;
            tq += xq[d] * sx * wdq;
            a += Math.abs(xq[d] * sx * wdq);
            wabs += Math.abs(wdq);
          }
          // rounding x to 15 bits moves each term by at most half a step, sx/2
          want[i * n + o] = t; wantQ[i * n + o] = tq; mag[i * n + o] = a; xErr[i * n + o] = 0.5 * sx * wabs * 1.001;
        }
      }
      const got = box.f32(y, m * ldy);
      for (let i = 0; i < m; i++) {
        const row = got.subarray(i * ldy, i * ldy + n);
        for (let o = 0; o < n; o++) {
          const j = i * n + o;
          assert.ok(Math.abs(row[o] - wantQ[j]) <= 1e-5 * mag[j] + 1e-6, `${what}: y[${i}, ${o}] = ${row[o]}, x rounded to 15 bits gives ${wantQ[j]}`);
          assert.ok(Math.abs(row[o] - want[j]) <= xErr[j] + 1e-5 * mag[j] + 1e-6, `${what}: y[${i}, ${o}] = ${row[o]}, float64 gives ${want[j]}`);
        }
        assert.is(got[i * ldy + n], -9, `${what}: row padding untouched`);
      }
    }
  });
}

test("int8Linear with decode rows: 1–4 rows take gemv_i8 (weight-only, closer to float), more rows the int8 GEMM; QuantizedLinear and quantizeDynamic pass decode on", async () => {
  for (const threads of [1, 2]) {
    await wg.init({ threads, verbose: false });
    wg.noGrad(() => wg.scope(() => {
      const n = 300, k = 576;
      const w = wg.tensor(randomF32(n * k, 4), { shape: [n, k] }), b = wg.tensor(randomF32(n, 5));
      const plain = wg.quantizeWeightInt8(w), dec = wg.quantizeWeightInt8(w, { decode: true, group: 64 });
      assert.ok(dec.rows && !plain.rows);
      for (const m of [1, 4, 5]) {
        const x = wg.tensor(randomF32(m * k, 6 + m), { shape: [m, k] });
        const exact = wg.linear(x, w, b).dataSync();
        const a = wg.int8Linear(x, dec, b).dataSync(), c = wg.int8Linear(x, plain, b).dataSync();
        // root-mean-square error against float: int8 steps of max|w|/127 over 576 inputs of ±1 give about 0.03
        const err = (y: ArrayLike<number>) => Math.sqrt(Array.from(y, (v, i) => (v - exact[i]) ** 2).reduce((s, t) => s + t, 0) / y.length);
        if (m <= 4) assert.ok(err(a) < 0.05, `m ${m}: decode path within 0.05 rms of float (${err(a)})`);
        if (m <= 4) assert.ok(err(a) < err(c), `m ${m}: weight-only int8 (${err(a)}) beats dynamic activations (${err(c)})`);
        else assert.equal(Array.from(a), Array.from(c), "5 rows: the int8 GEMM, same bits as without rows");
      }
      wg.disposeInt8(plain); wg.disposeInt8(dec);
      const net = new wg.nn.Sequential(new wg.nn.Linear(k, 64), new wg.nn.ReLU(), new wg.nn.Linear(64, 10));
      const x = wg.randn([1, k], { seed: 3 });
      const before = net.forward(x).dataSync();
      wg.quantizeDynamic(net, { decode: true });
      const after = net.forward(x).dataSync();
      assertClose(after, before, { rtol: 0, atol: 0.05, what: "quantizeDynamic decode" });
      assert.ok(String(net.layers[0]).startsWith("QuantizedLinear("));
      net.dispose();
    }));
  }
});

test.run();
