// A tiny app that imports webgrad by its package name, as users do; bundled by
// esbuild and by Vite in test/e2e/bundlers.test.ts, then run in headless Chromium.
// It trains a small MLP for a few steps and checks a matmul big enough to be
// split over the worker threads against a plain JS loop. Plain JS on purpose.
import * as wg from "webgrad";

const threads = Number(new URLSearchParams(location.search).get("threads") ?? "2");

function fill(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

async function main() {
  const info = await wg.init({ threads });
  wg.manualSeed(0);
  const net = new wg.nn.Sequential(new wg.nn.Linear(4, 16), new wg.nn.ReLU(), new wg.nn.Linear(16, 3));
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.1 });
  const N = 32, xs = new Float32Array(N * 4), ys = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 4; j++) xs[i * 4 + j] = Math.sin(i * 4 + j + 1);
    ys[i] = i % 3;
  }
  const losses = [];
  for (let step = 0; step < 8; step++) {
    losses.push(wg.scope(() => {
      opt.zeroGrad();
      const loss = wg.nn.crossEntropy(net.forward(wg.tensor(xs, { shape: [N, 4] })), wg.tensor(ys, { dtype: "int32" }));
      loss.backward();
      opt.step();
      return loss.item();
    }));
  }
  const M = 96, K = 128, Nc = 96, a = fill(M * K, 1), b = fill(K * Nc, 2);
  const c = wg.scope(() => wg.tensor(a, { shape: [M, K] }).matmul(wg.tensor(b, { shape: [K, Nc] })).dataSync().slice());
  let matmulMaxErr = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < Nc; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * Nc + j];
      matmulMaxErr = Math.max(matmulMaxErr, Math.abs(c[i * Nc + j] - s));
    }
  }
  wg.shutdown();
  return { kernels: info.kernels, threads: info.threads, summary: info.summary, crossOriginIsolated: globalThis.crossOriginIsolated, losses, matmulMaxErr };
}

main().then(
  (r) => (window.__webgradResult = r),
  (e) => (window.__webgradResult = { error: String(e?.stack ?? e) }),
);
