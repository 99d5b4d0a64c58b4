// A small WebGPU check with the built package, the same file in Node, Deno and
// headless Chromium (test/e2e/webgpu-runtimes.test.ts): init({ backend: "webgpu" }),
// a linear layer with broadcast bias, relu, sigmoid and a fused Adam step's
// kernel path, read back with await data() and compared with plain JS; then
// an S1-shaped network (conv2d 3×3 pad 1 → relu → maxpool 2 → linear →
// cross-entropy) whose conv output is compared with plain JS and which takes
// three SGD-momentum steps on one batch (the loss must fall).
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

  const N = 2, H = 8, W = 8, O = 3;
  const xv = Array.from({ length: N * H * W }, (_, i) => Math.sin(i * 0.7));
  const wv = Array.from({ length: O * 9 }, (_, i) => Math.cos(i) * 0.3);
  const p = (data, shape) => wg.tensor(data, { shape, requiresGrad: true }).keep();
  const cw = p(wv, [O, 1, 3, 3]), cb = p([0.05, -0.05, 0.1], [O]);
  const fw = p(Array.from({ length: 4 * O * 16 }, (_, i) => Math.sin(i * 1.3) * 0.1), [4, O * 16]), fb = p([0, 0, 0, 0], [4]);
  const x = wg.tensor(xv, { shape: [N, 1, H, W] }).keep();
  const labels = wg.tensor(Int32Array.of(1, 3), { dtype: "int32" }).keep();
  const conv = Array.from(await wg.conv2d(x, cw, cb, { padding: 1 }).data());
  let convErr = 0;
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    let s = [0.05, -0.05, 0.1][o];
    for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) {
      const ih = h + kh - 1, iw = w + kw - 1;
      if (ih >= 0 && ih < H && iw >= 0 && iw < W) s += xv[n * H * W + ih * W + iw] * wv[o * 9 + kh * 3 + kw];
    }
    convErr = Math.max(convErr, Math.abs(conv[((n * O + o) * H + h) * W + w] - s));
  }
  const opt = new wg.optim.SGD([cw, cb, fw, fb], { lr: 0.1, momentum: 0.9 });
  const losses = [];
  for (let step = 0; step < 3; step++) {
    opt.zeroGrad();
    const h = wg.maxPool2d(wg.conv2d(x, cw, cb, { padding: 1 }).relu(), 2);
    const loss = wg.nn.functional.crossEntropy(wg.linear(h.flatten(1), fw, fb), labels);
    loss.backward();
    opt.step();
    losses.push(await loss.itemAsync());
  }
  wg.shutdown();
  return { backend: info.backend, summary: info.summary, maxErr, n: got.length, convErr, losses };
}

const out = run().catch((e) => ({ error: String(e?.stack ?? e) }));
if (typeof window !== "undefined") out.then((r) => (window.__webgradResult = r));
else out.then((r) => console.log("WEBGPU_RESULT " + JSON.stringify(r)));
