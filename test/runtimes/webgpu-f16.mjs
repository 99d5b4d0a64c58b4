// The f16 GEMM (shaders/gemm.f16.wgsl) on a device that has shader-f16: Deno
// (wgpu) on Mesa's lavapipe, started by test/webgpu-f16.test.ts, which asserts
// on the one WEBGPU_F16_RESULT line this prints. Measures, per GEMM case and
// precision, the worst error against float64 as a fraction of the bound that
// precision promises (≤ 1 passes), how many elements lie outside what an f32
// kernel could give (the f16 path really ran), Inf/NaN propagation, and the
// losses of a few training steps with f16 and with f32 matmul.
import * as wg from "../../dist/host/index.js";

const U16 = 2 ** -11, U32 = 2 ** -24;
const gamma = (n, u) => (n * u) / (1 - n * u);
/** The f16 kernel's bound (shaders/gemm.f16.wgsl), given Σ|a·b| and |C0|. */
const boundF16 = (k, sabs, c0) => 6.02 * U16 * sabs + gamma(Math.ceil(k / 4) + 1, U32) * (c0 + 1.01 * sabs);
/** An f32 kernel's: each term sees at most k + 1 f32 roundings (fma fused or not). */
const boundF32 = (k, sabs, c0) => gamma(k + 1, U32) * (c0 + sabs);

// Every tile remainder of both tilings: m, n mod 64 (and mod 128 when both ≥ 128), k mod 16, 8 and 4.
const SHAPES = [
  [1, 1, 1], [3, 17, 3], [17, 3, 17], [64, 64, 64], [65, 127, 65], [127, 65, 129], [1, 200, 200],
  [200, 3, 127], [129, 64, 130], [64, 129, 128],
  [128, 128, 128], [129, 200, 1], [200, 129, 65], [128, 129, 200], [129, 128, 130], [200, 200, 127],
];

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Magnitudes in [1/16, 2) with full f32 mantissas, random signs: inside f16's normal range, rarely f16-representable. */
function values(n, seed) {
  const r = prng(seed), out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() < 0.5 ? -1 : 1) * 2 ** (r() * 5 - 4);
  return out;
}

function place(be, rows, cols, seed) {
  const ld = cols + 3, shift = 1 + (seed % 3);
  const data = values(rows * ld, seed);
  const bytes = (rows * ld + shift) * 4 + 16;
  const block = be.mm.pool.alloc(bytes);
  const ptr = block + shift * 4;
  be.write(ptr, data);
  return { ptr, ld, data, block, bytes };
}

/** One GEMM case on the running backend against float64: worst error / bound, and elements outside the f32 bound. */
async function gemmCase(be, m, n, k, flags, bound, seed) {
  const tA = flags & 1, tB = flags & 2, accumulate = flags & 4;
  const A = tA ? place(be, k, m, seed) : place(be, m, k, seed);
  const B = tB ? place(be, n, k, seed + 1) : place(be, k, n, seed + 1);
  const C = place(be, m, n, seed + 2);
  be.kernels.gemm_f32({ a: A.ptr, b: B.ptr, c: C.ptr, m, n, k, lda: A.ld, ldb: B.ld, ldc: C.ld, flags });
  const got = new Float32Array(await be.read(C.ptr, (m * C.ld) * 4));
  let worst = 0, outsideF32 = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      const c0 = accumulate ? C.data[i * C.ld + j] : 0;
      let s = c0, sabs = 0;
      for (let kk = 0; kk < k; kk++) {
        const p = (tA ? A.data[kk * A.ld + i] : A.data[i * A.ld + kk]) * (tB ? B.data[j * B.ld + kk] : B.data[kk * B.ld + j]);
        s += p;
        sabs += Math.abs(p);
      }
      const err = Math.abs(got[i * C.ld + j] - s);
      worst = Math.max(worst, Number.isNaN(err) ? Infinity : err / bound(k, sabs, Math.abs(c0)));
      if (err > boundF32(k, sabs, Math.abs(c0))) outsideF32++;
    }
  }
  for (const x of [A, B, C]) be.mm.pool.free(x.block, x.bytes);
  return { worst, outsideF32, elements: m * n };
}

async function gemmAll(be, bound) {
  const cases = [];
  const started = Date.now();
  let seed = 1;
  for (const [m, n, k] of SHAPES) {
    for (let flags = 0; flags < 8; flags++) {
      const r = await gemmCase(be, m, n, k, flags, bound, (seed += 3));
      cases.push({ m, n, k, flags, ...r });
    }
  }
  console.log(`${cases.length} gemm cases: ${(Date.now() - started) / 1000} s`);
  return cases;
}

/** An Inf in row 1 of A and a NaN in row 3 (B all finite, non-zero): rows of ±Inf and NaN, the rest finite. */
async function nonFinite(be) {
  const m = 5, n = 70, k = 20;
  const A = place(be, m, k, 901), B = place(be, k, n, 902), C = place(be, m, n, 903);
  A.data[1 * A.ld + 7] = Infinity;
  A.data[3 * A.ld + 11] = NaN;
  be.write(A.ptr, A.data);
  be.kernels.gemm_f32({ a: A.ptr, b: B.ptr, c: C.ptr, m, n, k, lda: A.ld, ldb: B.ld, ldc: C.ld, flags: 0 });
  const got = new Float32Array(await be.read(C.ptr, m * C.ld * 4));
  const rows = [];
  for (let i = 0; i < m; i++) {
    const row = Array.from(got.subarray(i * C.ld, i * C.ld + n));
    rows.push(row.every((v) => Number.isNaN(v)) ? "nan" : row.every((v) => v === Infinity || v === -Infinity) ? "inf" : row.every(Number.isFinite) ? "finite" : "mixed");
  }
  for (const x of [A, B, C]) be.mm.pool.free(x.block, x.bytes);
  return rows;
}

/** 8 SGD-momentum steps of a 64 → 96 → 10 MLP and 3 of an S1-like conv → relu → maxpool → linear net, one batch each. */
async function training() {
  const p = (n, shape, f) => wg.tensor(Array.from({ length: n }, (_, i) => f(i)), { shape, requiresGrad: true }).keep();
  const w1 = p(96 * 64, [96, 64], (i) => Math.sin(i * 1.7) * 0.15), b1 = p(96, [96], () => 0);
  const w2 = p(10 * 96, [10, 96], (i) => Math.cos(i * 0.9) * 0.12), b2 = p(10, [10], () => 0);
  const x = wg.tensor(values(32 * 64, 77), { shape: [32, 64] }).keep();
  const y = wg.tensor(Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 10), { dtype: "int32" }).keep();
  const opt = new wg.optim.SGD([w1, b1, w2, b2], { lr: 0.05, momentum: 0.9 });
  const mlp = [];
  for (let step = 0; step < 8; step++) {
    opt.zeroGrad();
    const loss = wg.nn.functional.crossEntropy(wg.linear(wg.linear(x, w1, b1).relu(), w2, b2), y);
    loss.backward();
    opt.step();
    mlp.push(await loss.itemAsync());
  }
  const N = 4, H = 12, W = 12, O = 8;
  const cw = p(O * 9, [O, 1, 3, 3], (i) => Math.cos(i) * 0.3), cb = p(O, [O], (i) => 0.05 * Math.sin(i));
  const fw = p(10 * O * 36, [10, O * 36], (i) => Math.sin(i * 1.3) * 0.05), fb = p(10, [10], () => 0);
  const xi = wg.tensor(values(N * H * W, 78), { shape: [N, 1, H, W] }).keep();
  const yi = wg.tensor(Int32Array.of(1, 3, 5, 7), { dtype: "int32" }).keep();
  const opt2 = new wg.optim.SGD([cw, cb, fw, fb], { lr: 0.05, momentum: 0.9 });
  const cnn = [];
  for (let step = 0; step < 3; step++) {
    opt2.zeroGrad();
    const h = wg.maxPool2d(wg.conv2d(xi, cw, cb, { padding: 1 }).relu(), 2);
    const loss = wg.nn.functional.crossEntropy(wg.linear(h.flatten(1), fw, fb), yi);
    loss.backward();
    opt2.step();
    cnn.push(await loss.itemAsync());
  }
  return { mlp, cnn };
}

async function run() {
  const started = Date.now();
  const info16 = await wg.init({ backend: "webgpu", matmulPrecision: "f16", verbose: false });
  const be16 = wg.backend();
  const f16 = {
    backend: info16.backend, summary: info16.summary, gpuFeatures: be16.gpuFeatures, caps: be16.caps,
    gemm: await gemmAll(be16, boundF16), nonFinite: await nonFinite(be16), train: await training(),
  };
  // the GEMM pipelines the backend built: which entry points really ran
  f16.pipelines = [...be16.pipelines.keys()].filter((key) => key.startsWith("gemm"));
  const info32 = await wg.init({ backend: "webgpu", matmulPrecision: "f32", verbose: false });
  const be32 = wg.backend();
  const f32 = {
    backend: info32.backend, summary: info32.summary, caps: be32.caps,
    gemm: await gemmAll(be32, boundF32), nonFinite: await nonFinite(be32), train: await training(),
  };
  f32.pipelines = [...be32.pipelines.keys()].filter((key) => key.startsWith("gemm"));
  // the adapter has shader-f16, but the features option may turn it off: f16 matmul must then refuse
  let featuresOff = "no error";
  try {
    await wg.init({ backend: "webgpu", matmulPrecision: "f16", gpuFeatures: [], verbose: false });
  } catch (e) {
    featuresOff = String(e?.message ?? e);
  }
  wg.shutdown();
  return { f16, f32, featuresOff, seconds: (Date.now() - started) / 1000 };
}

run().catch((e) => ({ error: String(e?.stack ?? e) })).then((r) => console.log("WEBGPU_F16_RESULT " + JSON.stringify(r)));
