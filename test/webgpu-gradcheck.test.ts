// Finite-difference gradient checks on WebGPU: the analytic gradients that
// backward() computes with the WGSL twins must match central differences of
// L = Σ f(inputs)·r (fixed random r), every value read back asynchronously.
// Ops: conv2d (direct path with padding and its input gradient through
// GEMM + col2im; the im2col path with stride 2), matmul, linear, softmax
// cross-entropy, max pooling, max pooling of a ReLU (the fused backward),
// layer norm, causal attention and embedding. Small shapes: SwiftShader.
// No adapter FAILS this file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32 } from "./harness.js";

type Maker = () => { data: Float32Array | Int32Array; shape: number[]; int?: boolean };

await wg.init({ backend: "webgpu", verbose: false });

/** Central-difference check of every float input of fn (at most `maxPerInput` elements each, spread out). */
function gradcheck(name: string, fn: (...xs: wg.Tensor[]) => wg.Tensor, inputs: Maker[], { eps = 1e-2, rtol = 3e-2, atol = 2e-3, maxPerInput = 40 } = {}) {
  test(`webgpu gradcheck ${name}`, async () => {
    const specs = inputs.map((m) => m());
    const xs = specs.map((s) => s.int
      ? wg.tensor(s.data, { shape: s.shape, dtype: "int32" }).keep()
      : wg.tensor(s.data, { shape: s.shape, requiresGrad: true }).keep());
    const y0 = fn(...xs);
    const r = wg.tensor(randomF32(y0.size, 99), { shape: [...y0.shape] }).keep();
    const loss = (...a: wg.Tensor[]) => fn(...a).mul(r).sum();
    loss(...xs).backward();
    for (let xi = 0; xi < xs.length; xi++) {
      if (specs[xi].int) continue;
      const x = xs[xi];
      const analytic = await x.grad!.data();
      const base = specs[xi].data as Float32Array;
      const step = Math.max(1, Math.floor(x.size / maxPerInput));
      const at: number[] = [];
      for (let i = 0; i < x.size; i += step) at.push(i);
      // every perturbed loss is recorded first, then read: one flush of the GPU, not one per value
      const losses = wg.noGrad(() => at.map((i) => [1, -1].map((sgn) => {
        const d = Float32Array.from(base);
        d[i] += sgn * eps;
        return loss(...xs.map((o, j) => (j === xi ? wg.tensor(d, { shape: specs[xi].shape }) : o.detach()))).keep();
      })));
      for (let k = 0; k < at.length; k++) {
        const [lp, lm] = losses[k];
        const numeric = ((await lp.itemAsync()) - (await lm.itemAsync())) / (2 * eps);
        const a = analytic[at[k]];
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          assert.unreachable(`${name}: input ${xi} element ${at[k]}: analytic ${a}, numeric ${numeric}`);
        }
      }
      for (const pair of losses) for (const l of pair) l.dispose();
    }
    for (const x of xs) x.dispose();
    r.dispose();
  });
}

const rnd = (shape: number[], seed: number, scale = 1): Maker => () =>
  ({ data: randomF32(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale), shape });
/** Distinct values at least 0.05 apart (a shuffled grid), so a max never flips within ±eps. */
const distinct = (shape: number[], seed: number, shift = 0): Maker => () => {
  const n = shape.reduce((a, b) => a * b, 1), u = randomF32(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
  const d = new Float32Array(n);
  // shift keeps values away from 0 (a ReLU kink) by at least 0.025
  order.forEach((j, rank) => (d[j] = (rank - n / 2) * 0.05 + shift));
  return { data: d, shape };
};
const labels = (n: number, classes: number): Maker => () => ({ data: Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % classes), shape: [n], int: true });

gradcheck("conv2d direct, padding 1 (x, w, b)", (x, w, b) => wg.conv2d(x, w, b, { padding: 1 }), [rnd([2, 2, 4, 9], 1), rnd([3, 2, 3, 3], 2, 0.5), rnd([3], 3)]);
gradcheck("conv2d im2col, stride 2 (x, w)", (x, w) => wg.conv2d(x, w, null, { stride: 2, padding: [1, 0] }), [rnd([1, 2, 6, 7], 4), rnd([2, 2, 3, 2], 5, 0.5)]);
gradcheck("matmul", (a, b) => wg.matmul(a, b), [rnd([5, 7], 6), rnd([7, 3], 7)]);
gradcheck("linear", (x, w, b) => wg.linear(x, w, b), [rnd([4, 6], 8), rnd([5, 6], 9), rnd([5], 10)]);
gradcheck("softmax cross-entropy (logits)", (z, y) => wg.nn.functional.crossEntropy(z, y), [rnd([6, 5], 11, 2), labels(6, 5)]);
gradcheck("maxPool2d 2×2 and 3×3 stride 2 padded", (x) => wg.maxPool2d(x, 2).sum().add(wg.maxPool2d(x, 3, { stride: 2, padding: 1 }).sum()), [distinct([1, 2, 5, 6], 12)], { atol: 3e-3 });
gradcheck("maxPool2d(relu(x)), the fused backward (2×2 tiled)", (x) => wg.maxPool2d(wg.relu(x), 2), [distinct([2, 2, 4, 6], 13, 0.025)]);
gradcheck("layerNorm with weight and bias (x, w, b)", (x, w, b) => wg.layerNorm(x, [6], w, b), [rnd([3, 6], 14), rnd([6], 15), rnd([6], 16)]);
gradcheck("scaledDotProductAttention causal (q, k, v)", (q, k, v) => wg.scaledDotProductAttention(q, k, v, { causal: true }), [rnd([1, 2, 5, 3], 17), rnd([1, 2, 5, 3], 18), rnd([1, 2, 5, 3], 19)]);
gradcheck("embedding (table)", (i, t) => wg.embedding(i, t), [labels(7, 4), rnd([4, 3], 20)]);

test.run();
