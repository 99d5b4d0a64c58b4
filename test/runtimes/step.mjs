// One real training step of the BUILT package (dist/host/index.js), the same
// script in every runtime: Node, Deno and Bun run it as a program and read the
// line `WEBGRAD_RESULT {json}` from stdout; page.html loads it as a module
// script and the test reads `window.__webgradResult`.
// Used by test/e2e/runtimes.test.ts; plain JS on purpose (it is not compiled).

const g = globalThis;
const isPage = typeof g.window !== "undefined" && typeof g.document !== "undefined";

function runtimeName() {
  if (g.Deno?.version) return `deno ${g.Deno.version.deno}`;
  if (g.Bun?.version) return `bun ${g.Bun.version}`;
  if (g.process?.versions?.node) return `node ${g.process.versions.node}`;
  if (isPage) return `browser ${g.navigator.userAgent}`;
  return "unknown";
}

/** Deterministic inputs in [-1, 1) (mulberry32). */
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
  const wg = await import(new URL("../../dist/host/index.js", import.meta.url).href);
  const t0 = performance.now();
  const info = await wg.init({ threads: 2 });

  // the training step: tiny MLP, fixed data, plain SGD
  wg.manualSeed(0);
  const net = new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 3));
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.1 });
  const N = 16;
  const xs = new Float32Array(N * 4), ys = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < 4; j++) xs[i * 4 + j] = Math.sin(i * 4 + j + 1);
    ys[i] = i % 3;
  }
  const losses = [];
  for (let step = 0; step < 10; step++) {
    const l = wg.scope(() => {
      const x = wg.tensor(xs, { shape: [N, 4] });
      const y = wg.tensor(ys, { dtype: "int32" });
      opt.zeroGrad();
      const loss = wg.nn.crossEntropy(net.forward(x), y);
      loss.backward();
      opt.step();
      return loss.item();
    });
    losses.push(l);
  }

  // a matmul big enough to be split over the threads, against a plain JS
  // reference: shows the workers really computed their share in this runtime
  const M = 96, K = 128, Nc = 96;
  const a = fill(M * K, 1), b = fill(K * Nc, 2);
  const c = wg.scope(() => wg.tensor(a, { shape: [M, K] }).matmul(wg.tensor(b, { shape: [K, Nc] })).dataSync().slice());
  let matmulMaxErr = 0, matmulSum = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < Nc; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[i * K + k] * b[k * Nc + j];
      matmulMaxErr = Math.max(matmulMaxErr, Math.abs(c[i * Nc + j] - s));
      matmulSum += c[i * Nc + j];
    }
  }
  if (!(c.length === M * Nc)) matmulMaxErr = Infinity;

  // browsers keep checkpoints in the origin private file system or IndexedDB:
  // save the trained net with its optimizer, load into a fresh one, compare
  let checkpoints = null;
  if (isPage) {
    checkpoints = {};
    for (const store of ["opfs", "indexeddb"]) {
      const path = "runs/step.safetensors";
      await wg.io.saveCheckpoint(path, { model: net, optimizer: opt, step: 10, store });
      wg.manualSeed(1);
      const fresh = new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 3));
      const freshOpt = new wg.optim.SGD(fresh.parameters(), { lr: 0.1 });
      const { step } = await wg.io.loadCheckpoint(path, { model: fresh, optimizer: freshOpt, store });
      let maxDiff = 0;
      net.parameters().forEach((p, i) => {
        const a = p.dataSync(), b = fresh.parameters()[i].dataSync();
        for (let j = 0; j < a.length; j++) maxDiff = Math.max(maxDiff, Math.abs(a[j] - b[j]));
      });
      await wg.io.removeFile(path, store);
      let gone = false;
      try { await wg.io.readFileBytes(path, store); } catch (e) { gone = /no such file/.test(String(e.message)); }
      checkpoints[store] = { step, maxDiff, gone };
    }
  }

  // the same training, bit for bit, in every runtime: init({ deterministic: true })
  const det = await wg.init({ threads: 2, deterministic: true, verbose: false });
  wg.manualSeed(7);
  const dnet = new wg.nn.Sequential(
    new wg.nn.Conv2d(1, 4, 3, 1), new wg.nn.ReLU(), new wg.nn.MaxPool2d(2), new wg.nn.Flatten(), new wg.nn.Dropout(0.25),
    new wg.nn.Linear(36, 8), new wg.nn.GELU(), new wg.nn.LayerNorm(8), new wg.nn.Linear(8, 3),
  );
  const dopt = new wg.optim.Adam(dnet.parameters(), { lr: 0.01 });
  const dxs = fill(16 * 64, 3), dys = Int32Array.from({ length: 16 }, (_, i) => i % 3);
  for (let step = 0; step < 10; step++) {
    wg.scope(() => {
      dopt.zeroGrad();
      const loss = wg.nn.crossEntropy(dnet.forward(wg.tensor(dxs, { shape: [16, 1, 8, 8] })), wg.tensor(dys, { dtype: "int32" }));
      loss.backward();
      dopt.step();
    });
  }
  let hash = 0x811c9dc5; // FNV-1a over every parameter's bytes
  for (const p of dnet.parameters()) {
    const bytes = new Uint8Array(p.dataSync().buffer);
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0;
  }
  const deterministic = { kernels: det.kernels, threads: det.threads, hash: hash.toString(16), first: dnet.parameters()[0].dataSync()[0] };

  wg.shutdown();
  return {
    deterministic,
    checkpoints,
    runtime: runtimeName(),
    engineRuntime: info.runtime,
    kernels: info.kernels,
    threads: info.threads,
    summary: info.summary,
    crossOriginIsolated: g.crossOriginIsolated ?? null,
    lossFirst: losses[0],
    lossLast: losses[losses.length - 1],
    losses,
    matmulMaxErr,
    matmulSum,
    ms: Math.round(performance.now() - t0),
  };
}

function exitCode(code) {
  if (g.Deno?.exit) g.Deno.exit(code);
  else g.process?.exit(code);
}

let result;
try {
  result = await main();
} catch (e) {
  result = { error: String(e?.stack ?? e) };
}
if (isPage) {
  g.__webgradResult = result;
} else {
  console.log(`WEBGRAD_RESULT ${JSON.stringify(result)}`);
  if (result.error) exitCode(1);
  // After shutdown() the workers are gone and the process should end by itself;
  // if something still holds it open, end it anyway but say so (exit code 3).
  const guard = setTimeout(() => {
    console.error("WEBGRAD_HANG: the process was still alive 5 s after wg.shutdown()");
    exitCode(3);
  }, 5000);
  if (g.Deno?.unrefTimer) g.Deno.unrefTimer(guard);
  else guard?.unref?.();
}
