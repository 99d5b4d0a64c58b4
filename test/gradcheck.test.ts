// Finite-difference gradient checks of every differentiable op and layer, on
// every backend this machine can test (test/backends.ts: wasm always, WebGPU
// where its test environment is; there a missing adapter FAILS the WebGPU
// group, it never skips). For each case L = Σ f(inputs)·r with a fixed random
// r; the analytic dL/dx from backward() must match central differences of L,
// every value read with await t.data() (gradcheckAsync), on both backends.
// The cases are the wasm suite's (every op, broadcasting, shapes, reductions,
// layers) and those written for the WGSL twins (the conv direct and im2col
// paths, max pooling of a ReLU — the fused backward —, cross-entropy with the
// labels as an input, attention, embedding); both sets run on both backends.
// Small shapes: WebGPU runs on SwiftShader with no GPU.

import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32 } from "./harness.js";
import { forEachBackend, gradcheckAsync, type BackendName, type GradcheckOptions, type GradInput } from "./backends.js";

type Maker = () => GradInput;

/** A recurrent layer as a one-tensor module: its output, h_n (and c_n) flattened into one vector. */
class Outputs extends wg.nn.Module {
  constructor(readonly rnn: wg.nn.LSTM | wg.nn.GRU) { super(); }
  forward(x: wg.Tensor): wg.Tensor {
    const [y, st] = (this.rnn.forward as (x: wg.Tensor) => [wg.Tensor, wg.Tensor | wg.Tensor[]])(x);
    return wg.cat([y, ...(Array.isArray(st) ? st : [st])].map((t) => t.reshape(-1)));
  }
}

const rnd = (shape: number[], seed: number, scale = 1, shift = 0): Maker => () =>
  ({ data: randomF32(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale + shift), shape });
const pos = (shape: number[], seed: number) => rnd(shape, seed, 0.4, 1); // in (0.6, 1.4)
/** Distinct values at least 0.05 apart (a shuffled grid), so a max never flips within ±eps; shift keeps them off 0 (a ReLU kink). */
const distinct = (shape: number[], seed: number, shift = 0): Maker => () => {
  const n = shape.reduce((a, b) => a * b, 1), u = randomF32(n, seed);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
  const d = new Float32Array(n);
  order.forEach((j, rank) => (d[j] = (rank - n / 2) * 0.05 + shift));
  return { data: d, shape };
};
/** int32 labels as an input of the checked function (not differentiated). */
const labelInput = (n: number, classes: number): Maker => () => ({ data: Int32Array.from({ length: n }, (_, i) => (i * 7 + 3) % classes), shape: [n], int: true });
/** Labels made inside the checked function. */
const labels = () => wg.tensor([2, 0, 1], { dtype: "int32" });

/** Tolerances per backend: the same today on wasm and SwiftShader (both compute in float32). */
const TOLERANCE: Record<BackendName, GradcheckOptions> = {
  wasm: { eps: 1e-2, rtol: 3e-2, atol: 2e-3 },
  webgpu: { eps: 1e-2, rtol: 3e-2, atol: 2e-3 },
};

forEachBackend("gradcheck", (backend, test) => {
  const gradcheck = (name: string, fn: (...xs: wg.Tensor[]) => wg.Tensor, inputs: Maker[], opts: GradcheckOptions = {}) =>
    test(`gradcheck ${name}`, () => gradcheckAsync(fn, inputs.map((m) => m()), { ...TOLERANCE[backend], ...opts, what: name }));

  // element-wise unary
  for (const op of ["neg", "exp", "tanh", "sigmoid", "gelu", "silu", "square", "sin", "cos", "abs"] as const) {
    gradcheck(op, (x) => (x as any)[op](), [rnd([3, 5], 1)]);
  }
  gradcheck("relu", (x) => x.relu(), [rnd([3, 5], 2, 1, 0.05)]);
  // inputs on both sides of the kinks at ±3 (none within the step of them)
  gradcheck("hardswish", (x) => wg.hardswish(x), [() => ({ data: Float32Array.of(-4.2, -2.9, -1.1, -0.3, 0.4, 1.7, 2.8, 3.3, 5.1), shape: [9] })]);
  gradcheck("gelu tanh", (x) => x.gelu("tanh"), [rnd([7], 3)]);
  for (const op of ["log", "sqrt", "rsqrt", "reciprocal"] as const) gradcheck(op, (x) => (x as any)[op](), [pos([2, 3], 4)]);
  gradcheck("clamp", (x) => x.clamp(-0.5, 0.5), [rnd([9], 5)]);

  // binary with broadcasting
  for (const op of ["add", "sub", "mul", "div", "maximum", "minimum"] as const) {
    gradcheck(`${op} same shape`, (a, b) => (a as any)[op](b), [pos([2, 3], 6), rnd([2, 3], 7, 0.3, 1.2)]);
    gradcheck(`${op} broadcast`, (a, b) => (a as any)[op](b), [pos([2, 3, 4], 8), rnd([3, 1], 9, 0.3, 1.5)]);
  }
  gradcheck("pow tensor", (a, b) => a.pow(b), [pos([4], 10), rnd([4], 11, 0.5, 1)]);
  gradcheck("pow scalar", (a) => a.pow(3), [rnd([5], 12)]);
  gradcheck("scalar ops", (a) => wg.sub(2, a).mul(3).div(2).add(1), [rnd([5], 13)]);
  gradcheck("scalar div reversed", (a) => wg.div(2, a), [pos([5], 14)]);

  // shape
  gradcheck("reshape+permute", (x) => x.reshape(2, 3, 4).permute(2, 0, 1), [rnd([6, 4], 15)]);
  gradcheck("transpose", (x) => x.transpose(0, 1), [rnd([3, 5], 16)]);
  gradcheck("slice", (x) => x.slice(1, 1, 4), [rnd([2, 5, 3], 17)]);
  gradcheck("cat", (a, b) => wg.cat([a, b], 1), [rnd([2, 2], 18), rnd([2, 3], 19)]);
  gradcheck("stack", (a, b) => wg.stack([a, b], 0), [rnd([2, 3], 20), rnd([2, 3], 21)]);
  gradcheck("expand", (x) => x.expand([4, 3]), [rnd([1, 3], 22)]);
  gradcheck("where", (a, b) => wg.where(wg.tensor([1, 0, 1, 0]), a, b), [rnd([4], 23), rnd([4], 24)]);
  gradcheck("where broadcast (a [3,1], b [])", (a, b) => wg.where(wg.tensor([[1, 0], [0, 1], [1, 1]]), a, b), [rnd([3, 1], 25), rnd([], 26)]);

  // reductions
  gradcheck("sum all", (x) => x.sum(), [rnd([3, 4], 25)]);
  gradcheck("sum dim keepdim", (x) => x.sum(1, true), [rnd([3, 4, 2], 26)]);
  gradcheck("mean dims", (x) => x.mean([0, 2]), [rnd([3, 4, 2], 27)]);
  gradcheck("max dim", (x) => x.max(1), [rnd([3, 5], 28)]);
  gradcheck("min all", (x) => x.min(), [rnd([7], 29)]);

  // linear algebra
  gradcheck("matmul 2d", (a, b) => a.matmul(b), [rnd([3, 5], 30), rnd([5, 4], 31)]);
  gradcheck("matmul batched", (a, b) => a.matmul(b), [rnd([2, 3, 5], 32), rnd([2, 5, 2], 33)]);
  gradcheck("matmul broadcast B", (a, b) => a.matmul(b), [rnd([2, 3, 5], 34), rnd([5, 2], 35)]);
  gradcheck("matmul vector", (a, b) => a.matmul(b), [rnd([5], 36), rnd([5, 3], 37)]);
  gradcheck("linear", (x, w, b) => wg.linear(x, w, b), [rnd([4, 6], 38), rnd([3, 6], 39), rnd([3], 40)]);
  // issue 15: torch.matmul's batch broadcasting (A reused at stride 0, A broadcast over a batch B,
  // 1-D promotion against a batch, both operands expanded, B with a batch of 1)
  gradcheck("matmul [1,2,3] @ [4,3,5]", (a, b) => a.matmul(b), [rnd([1, 2, 3], 130), rnd([4, 3, 5], 131)]);
  gradcheck("matmul [2,3] @ [4,3,5]", (a, b) => a.matmul(b), [rnd([2, 3], 132), rnd([4, 3, 5], 133)]);
  gradcheck("matmul [3] @ [4,3,5]", (a, b) => a.matmul(b), [rnd([3], 134), rnd([4, 3, 5], 135)]);
  gradcheck("matmul [2,1,2,3] @ [3,3,2]", (a, b) => a.matmul(b), [rnd([2, 1, 2, 3], 136), rnd([3, 3, 2], 137)]);
  gradcheck("matmul [4,2,3] @ [1,3,5]", (a, b) => a.matmul(b), [rnd([4, 2, 3], 138), rnd([1, 3, 5], 139)]);
  gradcheck("matmul [2,4,3] @ [3]", (a, b) => a.matmul(b), [rnd([2, 4, 3], 140), rnd([3], 141)]);
  // issue 15: ties. At a two-way tie the central difference is exactly the even split PyTorch gives
  // (one side moves by ±h, the other by 0), so these check max()/min() and maximum/minimum there
  const tied = (d: number[]): Maker => () => ({ data: Float32Array.from(d), shape: [d.length] });
  gradcheck("max all, a two-way tie", (x) => x.max(), [tied([1, 3, 3, 2])]);
  gradcheck("min all, a two-way tie", (x) => x.min(), [tied([0.5, -1, 2, -1, 0])]);
  gradcheck("maximum at ties", (a, b) => wg.maximum(a, b), [tied([1, 2, 3, -1]), tied([1, 3, 2, -1])]);
  gradcheck("minimum at ties, broadcast", (a, b) => wg.minimum(a, b), [tied([0.5, 1, 2, 0.5]), tied([0.5])]);

  // nn ops
  gradcheck("conv2d", (x, w, b) => wg.conv2d(x, w, b), [rnd([2, 2, 5, 5], 41), rnd([3, 2, 3, 3], 42), rnd([3], 43)]);
  // the direct path (stride 1, no dilation, OW ≥ 8): OW 10 makes the last tile overlap, Cout 5 leaves a 1-channel tile
  gradcheck("conv2d direct pad 1", (x, w, b) => wg.conv2d(x, w, b, { padding: 1 }), [rnd([2, 2, 4, 10], 141), rnd([5, 2, 3, 3], 142), rnd([5], 143)]);
  gradcheck("conv2d direct 2×3 kernel, no pad", (x, w) => wg.conv2d(x, w), [rnd([1, 3, 3, 11], 144), rnd([4, 3, 2, 3], 145)]);
  gradcheck("conv2d stride pad dilation", (x, w) => wg.conv2d(x, w, null, { stride: 2, padding: 1, dilation: [1, 2] }), [rnd([1, 2, 6, 7], 44), rnd([2, 2, 3, 2], 45)]);
  gradcheck("maxPool2d", (x) => wg.maxPool2d(x, 2), [distinct([1, 2, 4, 6], 46)]);
  // groups (issue 15): depthwise (groups = C = Cout, its own kernels) with stride, padding, dilation; grouped (per-group GEMMs)
  gradcheck("conv2d depthwise stride pad dilation", (x, w, b) => wg.conv2d(x, w, b, { groups: 3, stride: [2, 1], padding: [1, 2], dilation: [1, 2] }), [rnd([2, 3, 6, 7], 241), rnd([3, 1, 3, 2], 242), rnd([3], 243)]);
  gradcheck("conv2d depthwise 3×3 pad 1", (x, w) => wg.conv2d(x, w, null, { groups: 4, padding: 1 }), [rnd([1, 4, 5, 9], 244), rnd([4, 1, 3, 3], 245)]);
  gradcheck("conv2d grouped", (x, w, b) => wg.conv2d(x, w, b, { groups: 2, padding: 1, stride: 2 }), [rnd([2, 4, 5, 6], 246), rnd([6, 2, 3, 3], 247), rnd([6], 248)]);
  // ceilMode (issue 15): the last window hangs over the input's end
  gradcheck("maxPool2d ceilMode", (x) => wg.maxPool2d(x, 2, { ceilMode: true }), [distinct([1, 2, 5, 5], 249)]);
  gradcheck("maxPool2d ceilMode stride pad", (x) => wg.maxPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true }), [distinct([1, 1, 6, 6], 250)]);
  gradcheck("avgPool2d ceilMode", (x) => wg.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }).add(wg.avgPool2d(x, 3, { stride: 2, padding: 1, ceilMode: true })), [rnd([1, 2, 6, 6], 251)]);
  gradcheck("maxPool2d stride pad", (x) => wg.maxPool2d(x, 3, { stride: 2, padding: 1 }), [distinct([1, 1, 5, 5], 47)]);
  gradcheck("avgPool2d", (x) => wg.avgPool2d(x, 2, { stride: 1, padding: 1 }), [rnd([1, 2, 4, 4], 48)]);
  gradcheck("softmax", (x) => x.softmax(-1), [rnd([3, 5], 49)]);
  gradcheck("softmax dim 0", (x) => x.softmax(0), [rnd([3, 4], 50)]);
  gradcheck("logSoftmax", (x) => x.logSoftmax(), [rnd([3, 5], 51)]);
  gradcheck("layerNorm", (x, w, b) => wg.layerNorm(x, [6], w, b), [rnd([3, 6], 52, 2), rnd([6], 53), rnd([6], 54)]);
  // issue 17's fused kernels: rmsNorm (x and weight; without weight), rope (x; cos and sin are a
  // constant table made inside, and the composite fallback when they require grad too), swiglu
  gradcheck("rmsNorm (x, w)", (x, w) => wg.rmsNorm(x, [6], w, 1e-5), [rnd([3, 6], 252, 2), rnd([6], 253, 0.5, 1)]);
  gradcheck("rmsNorm no weight, over two dims", (x) => wg.rmsNorm(x, [2, 5], null), [rnd([2, 2, 5], 254, 2)]);
  const ropeTable = (S: number, h: number) => {
    const angle = Array.from({ length: S * h }, (_, j) => Math.floor(j / h) * 10000 ** (-(j % h) / h));
    return [wg.tensor(angle.map(Math.cos), { shape: [S, h] }), wg.tensor(angle.map(Math.sin), { shape: [S, h] })];
  };
  gradcheck("rope (x)", (x) => wg.rope(x, ...(ropeTable(3, 3) as [wg.Tensor, wg.Tensor])), [rnd([2, 2, 3, 6], 255)]);
  gradcheck("rope (x, cos, sin): the composite fallback", (x, c, s) => wg.rope(x, c, s), [rnd([2, 3, 4], 256), rnd([3, 2], 257), rnd([3, 2], 258)]);
  gradcheck("swiglu (gate, up)", (g, u) => wg.swiglu(g, u), [rnd([3, 7], 259, 3), rnd([3, 7], 260)]);
  gradcheck("embedding", (t) => wg.embedding(wg.tensor([[1, 3], [3, 0]], { dtype: "int32" }), t), [rnd([4, 3], 55)]);
  gradcheck("attention", (q, k, v) => wg.scaledDotProductAttention(q, k, v), [rnd([1, 2, 5, 4], 56), rnd([1, 2, 6, 4], 57), rnd([1, 2, 6, 4], 58)]);
  gradcheck("attention causal", (q, k, v) => wg.scaledDotProductAttention(q, k, v, { causal: true }), [rnd([2, 6, 3], 59), rnd([2, 6, 3], 60), rnd([2, 6, 3], 61)]);

  // losses
  gradcheck("crossEntropy", (x) => wg.nn.crossEntropy(x, labels()), [rnd([3, 4], 62, 2)]);
  gradcheck("nllLoss", (x) => wg.nn.nllLoss(x.logSoftmax(), labels()), [rnd([3, 4], 63)]);
  gradcheck("mseLoss", (x, y) => wg.nn.mseLoss(x, y), [rnd([5], 64), rnd([5], 65)]);
  gradcheck("binaryCrossEntropy", (p) => wg.nn.binaryCrossEntropy(p, wg.tensor([1, 0, 1])), [rnd([3], 66, 0.3, 0.5)]);
  gradcheck("binaryCrossEntropyWithLogits", (x) => wg.nn.binaryCrossEntropyWithLogits(x, wg.tensor([1, 0, 1])), [rnd([3], 67, 2)]);

  // written for the WGSL twins: the paths the GPU kernels branch on
  gradcheck("conv2d direct, padding 1 (x, w, b)", (x, w, b) => wg.conv2d(x, w, b, { padding: 1 }), [rnd([2, 2, 4, 9], 1), rnd([3, 2, 3, 3], 2, 0.5), rnd([3], 3)]);
  gradcheck("conv2d im2col, stride 2 (x, w)", (x, w) => wg.conv2d(x, w, null, { stride: 2, padding: [1, 0] }), [rnd([1, 2, 6, 7], 4), rnd([2, 2, 3, 2], 5, 0.5)]);
  gradcheck("matmul", (a, b) => wg.matmul(a, b), [rnd([5, 7], 6), rnd([7, 3], 7)]);
  gradcheck("linear (x, w, b)", (x, w, b) => wg.linear(x, w, b), [rnd([4, 6], 8), rnd([5, 6], 9), rnd([5], 10)]);
  gradcheck("softmax cross-entropy (logits)", (z, y) => wg.nn.functional.crossEntropy(z, y), [rnd([6, 5], 11, 2), labelInput(6, 5)]);
  gradcheck("maxPool2d 2×2 and 3×3 stride 2 padded", (x) => wg.maxPool2d(x, 2).sum().add(wg.maxPool2d(x, 3, { stride: 2, padding: 1 }).sum()), [distinct([1, 2, 5, 6], 12)], { atol: 3e-3 });
  // was pool-relu.test.ts's (wasm only): values 0.05 apart around 0, so neither the max nor the ReLU flips within ±eps
  gradcheck("maxPool2d(relu(z))", (z) => wg.maxPool2d(z.relu(), 2), [distinct([1, 2, 5, 6], 31, 0.025)]);
  gradcheck("maxPool2d(relu(x)), the fused backward (2×2 tiled)", (x) => wg.maxPool2d(wg.relu(x), 2), [distinct([2, 2, 4, 6], 13, 0.025)]);
  gradcheck("layerNorm with weight and bias (x, w, b)", (x, w, b) => wg.layerNorm(x, [6], w, b), [rnd([3, 6], 14), rnd([6], 15), rnd([6], 16)]);
  gradcheck("scaledDotProductAttention causal (q, k, v)", (q, k, v) => wg.scaledDotProductAttention(q, k, v, { causal: true }), [rnd([1, 2, 5, 3], 17), rnd([1, 2, 5, 3], 18), rnd([1, 2, 5, 3], 19)]);
  // issue 17 (hk2): grouped-query attention, k and v with fewer heads (dk, dv summed over each group of 3 and 2)
  gradcheck("scaledDotProductAttention enableGqa causal, 6 query heads over 2 kv heads", (q, k, v) => wg.scaledDotProductAttention(q, k, v, { causal: true, enableGqa: true }), [rnd([1, 6, 4, 3], 21), rnd([1, 2, 5, 3], 22), rnd([1, 2, 5, 3], 23)]);
  gradcheck("scaledDotProductAttention enableGqa, batch 2, 4 query heads over 2 kv heads", (q, k, v) => wg.scaledDotProductAttention(q, k, v, { enableGqa: true }), [rnd([2, 4, 3, 5], 24), rnd([2, 2, 4, 5], 25), rnd([2, 2, 4, 5], 26)]);
  gradcheck("embedding (table)", (i, t) => wg.embedding(i, t), [labelInput(7, 4), rnd([4, 3], 20)]);

  // indexing along a dim (host/ops/indexing.ts): repeated indices, so the scatter-add / index-add sums are checked
  const I32 = (a: number[][] | number[]) => wg.tensor(a, { dtype: "int32" });
  gradcheck("gather dim 1 (repeats)", (x) => wg.gather(x, 1, I32([[0, 0, 2], [3, 1, 1], [2, 2, 2]])), [rnd([3, 4], 70)]);
  gradcheck("gather dim 0, index smaller than input", (x) => x.gather(0, I32([[2, 0], [2, 1]])), [rnd([3, 4], 71)]);
  gradcheck("scatter (x, src), distinct indices per row (a repeat takes PyTorch's gather gradient, not a derivative)", (x, s) => wg.scatter(x, 1, I32([[2, 0], [1, 3], [0, 3]]), s), [rnd([3, 4], 72), rnd([3, 3], 73)]);
  gradcheck("scatterAdd (x, src)", (x, s) => x.scatterAdd(0, I32([[1, 0, 1], [1, 2, 0]]), s), [rnd([3, 3], 74), rnd([2, 3], 75)]);
  gradcheck("indexSelect dim 1 (repeats)", (x) => x.indexSelect(1, I32([3, 0, 3, 1])), [rnd([2, 5, 3], 76)]);
  gradcheck("maskedFill", (x) => x.maskedFill(wg.tensor([[1, 0, 0, 1]]), 0.5), [rnd([3, 4], 77)]);
  gradcheck("tril / triu", (x) => wg.tril(x, 1).add(wg.triu(x, -1).mul(2)), [rnd([2, 3, 4], 78)]);
  gradcheck("sort values dim 0 descending", (x) => wg.sort(x, 0, true).values, [distinct([4, 3], 79)]);
  gradcheck("topk values", (x) => x.topk(2, -1).values, [distinct([3, 5], 80)]);
  gradcheck("topk smallest dim 1", (x) => wg.topk(x, 2, 1, false).values, [distinct([2, 4, 3], 81)]);
  // issue 15 (layers and losses): the new layers' functional forms and the loss options
  gradcheck("conv1d stride dilation padding (x, w, b)", (x, w, b) => wg.conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }), [rnd([2, 3, 9], 70), rnd([2, 3, 3], 71, 0.5), rnd([2], 72)]);
  gradcheck("conv1d direct path (x, w)", (x, w) => wg.conv1d(x, w, null, { padding: 1 }), [rnd([1, 2, 10], 73), rnd([3, 2, 3], 74, 0.5)]);
  gradcheck("convTranspose2d stride 2 pad 1 outputPadding 1 (x, w, b)", (x, w, b) => wg.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }),
    [rnd([2, 3, 3, 2], 75), rnd([3, 2, 3, 3], 76, 0.5), rnd([2], 77)]);
  gradcheck("convTranspose2d dilation, unequal strides (x, w)", (x, w) => wg.convTranspose2d(x, w, null, { stride: [1, 2], dilation: [2, 1] }), [rnd([1, 2, 3, 3], 78), rnd([2, 3, 2, 3], 79, 0.5)]);
  gradcheck("groupNorm (x, w, b)", (x, w, b) => wg.nn.functional.groupNorm(x, 2, w, b), [rnd([2, 4, 3], 80, 2), rnd([4], 81), rnd([4], 82)]);
  gradcheck("rmsNorm (x, w)", (x, w) => wg.nn.functional.rmsNorm(x, [2, 3], w), [rnd([2, 2, 3], 83, 2), rnd([2, 3], 84)]);
  gradcheck("leakyRelu", (x) => wg.nn.functional.leakyRelu(x, 0.2), [rnd([3, 5], 85, 1, 0.05)]);
  gradcheck("BatchNorm1d train [N, C] and [N, C, L]", (a, b) => {
    const bn = new wg.nn.BatchNorm1d(3);
    return bn.forward(a).sum().add(bn.forward(b).mul(b).sum());
  }, [rnd([4, 3], 86, 2), rnd([2, 3, 4], 87, 2)]);
  gradcheck("interpolate nearest ×2 and nearest-exact 5→3", (x, y) => wg.nn.functional.interpolate(x, { scaleFactor: [2, 3] }).sum().add(wg.nn.functional.interpolate(y, { size: 3, mode: "nearest-exact" }).mul(y.slice(2, 0, 3)).sum()),
    [rnd([1, 2, 2, 3], 88), rnd([1, 2, 5], 89)]);
  gradcheck("interpolate bilinear (alignCorners false)", (x) => wg.nn.functional.interpolate(x, { size: [5, 3], mode: "bilinear" }), [rnd([2, 1, 3, 4], 90)]);
  gradcheck("interpolate bilinear alignCorners, linear", (x, y) => wg.nn.functional.interpolate(x, { scaleFactor: 1.5, mode: "bilinear", alignCorners: true }).sum()
    .add(wg.nn.functional.interpolate(y, { size: 7, mode: "linear" }).square().sum()), [rnd([1, 2, 3, 3], 91), rnd([2, 1, 4], 92)]);
  const ce15 = () => wg.tensor([2, -100, 0, 1, 2, 1], { dtype: "int32", shape: [2, 3] });
  gradcheck("crossEntropy N-D logits, ignoreIndex (fused, masked)", (x) => wg.nn.functional.crossEntropy(x, ce15()), [rnd([2, 3, 3], 93, 2)]);
  gradcheck("crossEntropy weight + labelSmoothing + ignoreIndex, N-D", (x, w) => wg.nn.functional.crossEntropy(x, ce15(), { weight: w, labelSmoothing: 0.2 }),
    [rnd([2, 3, 3], 94, 2), rnd([3], 95, 0.3, 1)]);
  gradcheck("crossEntropy reduction none, weight", (x) => wg.nn.functional.crossEntropy(x, wg.tensor([1, 0, 2], { dtype: "int32" }), { weight: wg.tensor([0.5, 2, 1]), reduction: "none" }), [rnd([3, 3], 96, 2)]);
  gradcheck("crossEntropy probability targets + smoothing (x, target)", (x, t) => wg.nn.functional.crossEntropy(x, t, { labelSmoothing: 0.1, weight: wg.tensor([1, 2, 0.5, 1]) }),
    [rnd([3, 4], 97, 2), pos([3, 4], 98)]);
  gradcheck("nllLoss weight, ignoreIndex", (x) => wg.nn.functional.nllLoss(x.logSoftmax(), wg.tensor([1, 3, 0], { dtype: "int32" }), { weight: wg.tensor([1, 2, 3]), ignoreIndex: 3 }), [rnd([3, 3], 99)]);
  gradcheck("binaryCrossEntropyWithLogits posWeight + weight (x, target, posWeight)", (x, t, pw) => wg.nn.functional.binaryCrossEntropyWithLogits(x, t, { posWeight: pw, weight: wg.tensor([1, 0.5, 2]) }),
    [rnd([2, 3], 100, 2), rnd([2, 3], 101, 0.5, 0.5), pos([3], 102)]);

  // issue 15: bidirectional LSTM/GRU and LSTM projSize, through the input and the initial states
  // (the modules are made on first use, on the backend under test, from a fixed seed)
  const lazy = <T,>(seed: number, make: () => T) => { let m: T | undefined; return () => (m ??= (wg.manualSeed(seed), make())); };
  const biLstm = lazy(31, () => new wg.nn.LSTM(2, 3, { numLayers: 2, bidirectional: true }));
  gradcheck("LSTM bidirectional 2 layers (x, h0, c0)", (x, h, c) => {
    const [y, [hn, cn]] = biLstm().forward(x, [h, c]);
    return wg.cat([y.reshape(-1), hn.reshape(-1), cn.reshape(-1)]);
  }, [rnd([3, 2, 2], 110), rnd([4, 2, 3], 111), rnd([4, 2, 3], 112)]);
  const projLstm = lazy(32, () => new wg.nn.LSTM(2, 3, { projSize: 2, bidirectional: true, batchFirst: true }));
  gradcheck("LSTM projSize bidirectional batchFirst (x, h0, c0)", (x, h, c) => {
    const [y, [hn, cn]] = projLstm().forward(x, [h, c]);
    return wg.cat([y.reshape(-1), hn.reshape(-1), cn.reshape(-1)]);
  }, [rnd([2, 3, 2], 113), rnd([2, 2, 2], 114), rnd([2, 2, 3], 115)]);
  const biGru = lazy(33, () => new wg.nn.GRU(2, 3, { numLayers: 2, bidirectional: true, batchFirst: true }));
  gradcheck("GRU bidirectional 2 layers batchFirst (x, h0)", (x, h) => {
    const [y, hn] = biGru().forward(x, h);
    return wg.cat([y.reshape(-1), hn.reshape(-1)]);
  }, [rnd([2, 3, 2], 116), rnd([4, 2, 3], 117)]);

  // layers, through their parameters: each parameter element is stepped with
  // loadStateDict (a write the backend orders before the next forward) and
  // every loss is read before the next step, so the check holds on either backend
  test("gradcheck layers' parameters", async () => {
    wg.manualSeed(7);
    const layers: [string, wg.nn.Module, number[]][] = [
      ["Linear", new wg.nn.Linear(4, 3), [2, 4]],
      ["Conv2d", new wg.nn.Conv2d(2, 2, 3, 1, 1), [1, 2, 4, 4]],
      ["LayerNorm", new wg.nn.LayerNorm(5), [2, 5]],
      ["Sequential MLP", new wg.nn.Sequential(new wg.nn.Linear(3, 4), new wg.nn.Tanh(), new wg.nn.Linear(4, 2), new wg.nn.Sigmoid()), [2, 3]],
      ["GELU+Flatten", new wg.nn.Sequential(new wg.nn.GELU(), new wg.nn.Flatten()), [2, 2, 2]],
      // issue 15
      ["Conv1d", new wg.nn.Conv1d(2, 2, 3, 2, 1), [2, 2, 5]],
      ["ConvTranspose2d", new wg.nn.ConvTranspose2d(2, 2, 3, 2, 1, { outputPadding: 1 }), [1, 2, 2, 2]],
      ["BatchNorm1d", new wg.nn.BatchNorm1d(3), [4, 3]],
      ["GroupNorm", new wg.nn.GroupNorm(2, 4), [2, 4, 2]],
      ["RMSNorm", new wg.nn.RMSNorm(4), [2, 4]],
      ["LeakyReLU in ModuleList order", new wg.nn.Sequential(new wg.nn.Linear(3, 3), new wg.nn.LeakyReLU(0.1)), [2, 3]],
      ["LSTM bidirectional projSize (weight_*_reverse, weight_hr_*)", new Outputs(new wg.nn.LSTM(2, 3, { bidirectional: true, projSize: 2 })), [2, 1, 2]],
      ["GRU bidirectional 2 layers", new Outputs(new wg.nn.GRU(2, 2, { numLayers: 2, bidirectional: true })), [2, 1, 2]],
    ];
    const { eps = 1e-2, rtol = 3e-2, atol = 2e-3 } = TOLERANCE[backend];
    for (const [name, layer, shape] of layers) {
      // x requires grad too, so a layer with no parameters (GELU+Flatten) still has a tape to walk
      const x = wg.tensor(randomF32(shape.reduce((a, b) => a * b, 1), 3), { shape, requiresGrad: true }).keep();
      const out0 = wg.noGrad(() => layer.forward(x));
      const r = wg.tensor(randomF32(out0.size, 4), { shape: [...out0.shape] }).keep();
      const loss = () => layer.forward(x).mul(r).sum();
      layer.zeroGrad();
      loss().backward();
      for (const [pname, p] of layer.namedParameters()) {
        const g = await p.grad!.data();
        const base = Float32Array.from(await p.data());
        const at = async (i: number, v: number) => {
          const d = Float32Array.from(base);
          d[i] = v;
          layer.loadStateDict({ [pname]: { shape: [...p.shape], data: d } }, { strict: false });
          return [await wg.noGrad(loss).itemAsync(), d[i]];
        };
        for (let i = 0; i < p.size; i++) {
          const [lp, hp] = await at(i, base[i] + eps), [lm, hm] = await at(i, base[i] - eps);
          const num = (lp - lm) / (hp - hm);
          assert.ok(Math.abs(g[i] - num) <= atol + rtol * Math.abs(num), `${name}.${pname}[${i}]: analytic ${g[i]}, numeric ${num}`);
        }
        layer.loadStateDict({ [pname]: { shape: [...p.shape], data: base } }, { strict: false });
      }
      x.dispose();
      r.dispose();
      layer.dispose();
    }
  });

  // ---- issue 15 item 2: rounding (gradient 0 away from the steps), scans, statistics, pad/split/repeat, einsum
  // values at least 0.1 from an integer or a half, so the ±eps steps never cross a jump
  const offSteps = (): GradInput => ({ data: Float32Array.of(-2.3, -1.7, -0.2, 0.3, 0.8, 1.3, 2.7, 3.2), shape: [2, 4] });
  for (const op of ["floor", "ceil", "round", "trunc"] as const) gradcheck(op, (x) => (x as any)[op]().add(x.mul(0.5)), [offSteps]);
  gradcheck("round decimals", (x) => wg.round(x, { decimals: 1 }).add(x), [() => ({ data: Float32Array.of(0.12, -0.33, 1.07), shape: [3] })]);
  gradcheck("cumsum dim 1", (x) => wg.cumsum(x, 1), [rnd([3, 5, 2], 60)]);
  gradcheck("cumsum dim -1 (rows)", (x) => x.cumsum(-1), [rnd([2, 7], 61)]);
  gradcheck("cumprod dim 0", (x) => x.cumprod(0), [rnd([4, 5], 62, 0.5, 1)]);
  gradcheck("cumprod with zeros", (x) => x.cumprod(1), [() => ({ data: Float32Array.of(1.2, 0, 0.7, 1.5, 0.9, 0.8, 0, 0, 1.1), shape: [3, 3] })]);
  gradcheck("var dim 1", (x) => x.var(1), [rnd([3, 6], 63)]);
  gradcheck("var all, correction 0", (x) => wg.var(x, null, { correction: 0 }), [rnd([2, 3], 64)]);
  gradcheck("std dims [0, 2] keepdim", (x) => x.std([0, 2], true, true), [rnd([3, 2, 4], 65)]);
  gradcheck("logsumexp dim 1", (x) => x.logsumexp(1), [rnd([3, 5], 66, 3)]);
  gradcheck("logsumexp dims [0, 1] keepdim", (x) => wg.logsumexp(x, [0, 1], true), [rnd([2, 3, 2], 67, 3)]);
  gradcheck("pad constant (2 dims, one cropped)", (x) => wg.pad(x, [1, 2, -1, 1], "constant", 0.5), [rnd([3, 4], 68)]);
  gradcheck("pad constant, last dim", (x) => wg.pad(x, [2, 1]), [rnd([2, 4], 69)]);
  gradcheck("pad reflect mode", (x) => wg.pad(x, [2, 3], "reflect"), [rnd([2, 5], 70)]);
  gradcheck("pad replicate", (x) => wg.pad(x, [1, 2, 2, 0], "replicate"), [rnd([2, 3], 71)]);
  gradcheck("pad circular", (x) => wg.pad(x, [2, 1], "circular"), [rnd([2, 3], 72)]);
  gradcheck("split sections", (x) => wg.cat(x.split([1, 3, 1], 1).map((t, i) => t.mul(i + 1)), 1), [rnd([2, 5], 73)]);
  gradcheck("chunk", (x) => wg.cat(x.chunk(3, 0).map((t, i) => t.mul(i + 2)), 0), [rnd([5, 2], 74)]);
  gradcheck("repeat", (x) => x.repeat(2, 1, 3), [rnd([2, 3], 75)]);
  gradcheck("tile", (x) => x.tile([2]), [rnd([2, 3], 76)]);
  gradcheck("einsum ij,jk->ik", (a, b) => wg.einsum("ij,jk->ik", a, b), [rnd([2, 3], 77), rnd([3, 4], 78)]);
  gradcheck("einsum bij,bkj->bik", (a, b) => wg.einsum("bij,bkj->bik", a, b), [rnd([2, 3, 4], 79), rnd([2, 2, 4], 80)]);
  gradcheck("einsum three operands, a summed-out label", (a, b, c) => wg.einsum("ia,ij,jk->k", a, b, c), [rnd([2, 2], 81), rnd([2, 3], 82), rnd([3, 2], 83)]);
  gradcheck("einsum diagonal iij->ij", (a) => wg.einsum("iij->ij", a), [rnd([3, 3, 2], 84)]);
  gradcheck("einsum transpose and outer", (a, b) => wg.einsum("ij,k->jki", a, b), [rnd([2, 3], 84), rnd([2], 85)]);

  // the embedding has no FD-able gradient w.r.t. indices; the dropout mask is checked here
  test("dropout: gradient is the mask", async () => {
    const x = wg.tensor(randomF32(1000, 5), { shape: [1000], requiresGrad: true }).keep();
    const y = wg.dropout(x, 0.3, true, { seed: 11 }).keep();
    y.sum().backward();
    const g = await x.grad!.data(), yv = await y.data(), xv = await x.data();
    for (let i = 0; i < 1000; i++) {
      const kept = yv[i] !== 0 || xv[i] === 0;
      assert.ok(Math.abs(g[i] - (kept ? 1 / 0.7 : 0)) < 1e-5, `element ${i}`);
    }
    x.dispose();
    y.dispose();
  });
});
