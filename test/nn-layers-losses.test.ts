// Issue 15, items 1–2: Conv1d, ConvTranspose2d, BatchNorm1d, GroupNorm, RMSNorm,
// LeakyReLU, ModuleList, ModuleDict, Embedding's paddingIdx, Upsample/interpolate,
// and cross-entropy's options (N-D logits, ignoreIndex, labelSmoothing, class
// weight, probability targets, weighted-mean reduction), BCE-with-logits' posWeight.
// Values against hand-computed (PyTorch-convention) numbers or plain float64
// references, on every backend; every value read with await (so WebGPU runs them
// too). The finite-difference checks are in test/gradcheck.test.ts.

import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32, assertClose } from "./harness.js";
import { forEachBackend } from "./backends.js";

const nn = wg.nn, F = wg.nn.functional;
const i32 = (a: number[], shape?: number[]) => wg.tensor(a, { dtype: "int32", shape: shape ?? [a.length] });
const rt = (shape: number[], seed: number, scale = 1) => wg.tensor(randomF32(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale), { shape });
const flat = async (t: wg.Tensor) => Array.from(await t.data());
const close = async (t: wg.Tensor, expected: number[], what: string, tol = 1e-5) => assertClose(await flat(t), expected, { rtol: tol, atol: tol, what });
const logSumExp = (xs: number[]) => { const m = Math.max(...xs); return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0)); };

forEachBackend("nn layers and losses (issue 15)", (backend, test) => {
  // ---------- Conv1d ----------
  test("conv1d: values, stride/padding/dilation through conv2d, PyTorch's [out, in, k] layout", async () => {
    await close(wg.conv1d(wg.ones([1, 1, 5]), wg.ones([2, 1, 3]), null, { padding: 1 }), [2, 3, 3, 3, 2, 2, 3, 3, 3, 2], "conv1d ones");
    // x = 1..7, w = [1, 0, -1], stride 2, dilation 2: y[o] = x[2o] − x[2o+4]
    const y = wg.conv1d(wg.tensor([[[1, 2, 3, 4, 5, 6, 7]]]), wg.tensor([[[1, 0, -1]]]), wg.tensor([0.5]), { stride: 2, dilation: 2 });
    assert.equal(y.shape, [1, 1, 2]);
    await close(y, [-3.5, -3.5], "conv1d stride 2 dilation 2 bias");
    const c = new nn.Conv1d(3, 4, 5, 2, 1);
    assert.equal(c.weight.shape, [4, 3, 5]);
    assert.equal(Object.keys(c.stateDict()), ["weight", "bias"]);
    assert.equal(c.forward(wg.zeros([2, 3, 11])).shape, [2, 4, 5]);
    assert.is(String(c), "Conv1d(3, 4, kernel_size=(5,), stride=(2,), padding=(1,))");
    assert.throws(() => new nn.Conv1d(3, 4, 3, 1, 0, { groups: 3 } as any), /Conv1d: unknown option "groups"/);
    assert.throws(() => wg.conv1d(wg.zeros([1, 2, 5]), wg.zeros([1, 3, 3])), /conv1d: input \[1,2,5\] has 2 channels, weight \[1,3,3\] expects 3/);
    assert.throws(() => wg.conv1d(wg.zeros([2, 5]), wg.zeros([1, 2, 3])), /conv1d: input must be \[N, C, L\]/);
  });

  // ---------- ConvTranspose2d ----------
  test("convTranspose2d: hand values, bias, output size with stride/padding/outputPadding/dilation", async () => {
    const x = wg.tensor([[[[1, 2], [3, 4]]]]);
    await close(wg.convTranspose2d(x, wg.ones([1, 1, 2, 2]), null, { stride: 2 }), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], "stride 2");
    await close(wg.convTranspose2d(x, wg.tensor([[[[1, 2], [3, 4]]]]), wg.tensor([10])), [11, 14, 14, 16, 30, 26, 19, 34, 26], "full conv + bias");
    // OH = (H − 1)·s − 2p + d·(k − 1) + op + 1
    assert.equal(wg.convTranspose2d(wg.zeros([2, 3, 5, 4]), wg.zeros([3, 6, 3, 2]), null, { stride: [2, 3], padding: 1, outputPadding: [1, 2], dilation: [2, 1] }).shape, [2, 6, 12, 11]);
    assert.throws(() => wg.convTranspose2d(x, wg.ones([1, 1, 2, 2]), null, { outputPadding: 1 }), /outputPadding \(1, 1\) must be smaller than either stride/);
    assert.throws(() => wg.convTranspose2d(x, wg.ones([2, 1, 2, 2])), /convTranspose2d: input \[1,1,2,2\] has 1 channels, weight \[2,1,2,2\] expects 2/);
    const up = new nn.ConvTranspose2d(8, 4, 3, 2, 1, { outputPadding: 1 });
    assert.equal(up.weight.shape, [8, 4, 3, 3]);
    assert.equal(up.forward(wg.zeros([1, 8, 5, 5])).shape, [1, 4, 10, 10]);
    assert.is(String(up), "ConvTranspose2d(8, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))");
    assert.throws(() => new nn.ConvTranspose2d(2, 2, 3, 1, 0, { groups: 2 } as any), /ConvTranspose2d: unknown option "groups"/);
    assert.throws(() => up.forward(wg.zeros([1, 8, 5, 5]), [10, 10]), /forward\(x, outputSize\) is not supported/);
  });

  test("convTranspose2d is conv2d's adjoint: <convT(y, w), x> = <y, conv2d(x, w)> over strides, padding, dilation", async () => {
    const cases: [number[], number[], wg.nn.functional.InterpolateOptions | any][] = [
      [[2, 3, 7, 6], [4, 3, 3, 2], { stride: 2, padding: 1 }],
      [[1, 2, 9, 8], [3, 2, 3, 3], { stride: [2, 3], padding: [2, 0], dilation: [2, 1] }],
      [[2, 2, 5, 5], [2, 2, 1, 1], {}],
      [[1, 3, 12, 10], [2, 3, 3, 3], { padding: 1 }], // conv2d's direct path
    ];
    let seed = 1;
    for (const [xs, ws, o] of cases) {
      const x = rt(xs, seed++), w = rt(ws, seed++);
      const y0 = wg.conv2d(x, w, null, o);
      const y = rt([...y0.shape], seed++);
      const [H, W] = [xs[2], xs[3]];
      const s = typeof o.stride === "number" ? [o.stride, o.stride] : o.stride ?? [1, 1];
      const p = typeof o.padding === "number" ? [o.padding, o.padding] : o.padding ?? [0, 0];
      const d = o.dilation ?? [1, 1];
      // outputPadding makes convT's output exactly x's size
      const OH = (y0.shape[2] - 1) * s[0] - 2 * p[0] + d[0] * (ws[2] - 1) + 1, OW = (y0.shape[3] - 1) * s[1] - 2 * p[1] + d[1] * (ws[3] - 1) + 1;
      const t = wg.convTranspose2d(y, w, null, { ...o, outputPadding: [H - OH, W - OW] });
      assert.equal(t.shape, xs);
      const a = await t.mul(x).sum().itemAsync(), b = await y.mul(y0).sum().itemAsync();
      assertClose([a], [b], { rtol: 1e-4, atol: 1e-4, what: `adjoint ${JSON.stringify(o)}` });
    }
  });

  // ---------- BatchNorm1d ----------
  test("BatchNorm1d: [N, C] and [N, C, L], running stats (momentum and cumulative) kept on the device, eval, state dict", async () => {
    const bn = new nn.BatchNorm1d(2);
    assert.equal(Object.keys(bn.stateDict()), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    const y = bn.forward(wg.tensor([[1, 2], [3, 6]]));
    // channel 0 [1, 3]: mean 2, var 1; channel 1 [2, 6]: mean 4, var 4
    const a = 1 / Math.sqrt(1 + 1e-5), b = 2 / Math.sqrt(4 + 1e-5);
    await close(y, [-a, -b, a, b], "2-D", 1e-5);
    await close(bn.running_mean!, [0.2, 0.4], "running_mean");
    await close(bn.running_var!, [0.9 + 0.1 * 2, 0.9 + 0.1 * 8], "running_var (unbiased)");
    assert.equal(await flat(bn.num_batches_tracked!), [1]);
    // [N, C, L]: statistics over N and L
    const b3 = new nn.BatchNorm1d(2, { momentum: null });
    b3.forward(wg.tensor([[[1, 3], [0, 0]], [[5, 7], [2, 2]]]));
    b3.forward(wg.tensor([[[1, 1], [1, 1]], [[1, 1], [1, 1]]]));
    await close(b3.running_mean!, [2.5, 1], "cumulative mean");
    await close(b3.running_var!, [(20 / 3 + 0) / 2, (4 / 3 + 0) / 2], "cumulative var", 1e-4);
    assert.equal(await flat(b3.num_batches_tracked!), [2]);
    b3.eval();
    await close(b3.forward(wg.tensor([[[2.5, 3.5], [1, 1]]])), [0, 1 / Math.sqrt(10 / 3 + 1e-5), 0, 0], "eval uses running stats", 1e-4);
    assert.throws(() => bn.forward(wg.zeros([2, 3])), /BatchNorm1d: input must be \[N, 2\] or \[N, 2, L\], got \[2,3\]/);
    assert.throws(() => new nn.BatchNorm1d(2, { foo: 1 } as any), /BatchNorm1d: unknown option "foo"/);
    assert.is(String(bn), "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
    // BatchNorm2d's training step no longer reads num_batches_tracked on the host (it threw on WebGPU)
    const b2 = new nn.BatchNorm2d(1);
    b2.forward(wg.ones([2, 1, 2, 2]));
    assert.equal(await flat(b2.num_batches_tracked!), [1]);
  });

  // ---------- GroupNorm, RMSNorm, LeakyReLU ----------
  test("GroupNorm: statistics per group of channels and all positions, weight and bias per channel", async () => {
    const gn = new nn.GroupNorm(2, 4);
    assert.equal(Object.keys(gn.stateDict()), ["weight", "bias"]);
    gn.weight!.copy_(wg.tensor([1, 2, 1, 1]));
    gn.bias!.copy_(wg.tensor([0, 0, 0, 10]));
    // group 0: channels 0, 1 = [1, 3], [5, 7] → mean 4, var 5
    const x = wg.tensor([[[1, 3], [5, 7], [0, 0], [2, 2]]]);
    const s5 = 1 / Math.sqrt(5 + 1e-5), s1 = 1 / Math.sqrt(1 + 1e-5);
    await close(gn.forward(x), [-3 * s5, -1 * s5, 2 * s5, 6 * s5, -s1, -s1, 10 + s1, 10 + s1], "GroupNorm", 1e-4);
    assert.throws(() => new nn.GroupNorm(3, 4), /GroupNorm: numChannels 4 must be divisible by numGroups 3/);
    assert.throws(() => gn.forward(wg.zeros([1, 3, 2])), /GroupNorm: input must be \[N, 4, …\]/);
    assert.is(String(gn), "GroupNorm(2, 4, eps=1e-05, affine=True)");
  });

  test("RMSNorm: x/√(mean x² + eps)·weight, eps defaulting to float32's epsilon", async () => {
    const r = new nn.RMSNorm([2]);
    assert.equal(Object.keys(r.stateDict()), ["weight"]);
    r.weight!.copy_(wg.tensor([1, 2]));
    const rms = Math.sqrt(12.5 + 2 ** -23);
    await close(r.forward(wg.tensor([[3, 4], [0, 0]])), [3 / rms, 8 / rms, 0, 0], "RMSNorm");
    await close(F.rmsNorm(wg.tensor([[1, 1], [1, 1]]), [2, 2], null, 1), [1 / Math.SQRT2, 1 / Math.SQRT2, 1 / Math.SQRT2, 1 / Math.SQRT2], "2-D normalized shape, eps 1");
    assert.is(new nn.RMSNorm(4, null, { elementwiseAffine: false }).weight, null);
    assert.is(String(r), "RMSNorm((2,), eps=None, elementwise_affine=True)");
    assert.throws(() => r.forward(wg.zeros([2, 3])), /rmsNorm: input \[2,3\] does not end with normalizedShape \[2\]/);
  });

  test("LeakyReLU and leakyRelu", async () => {
    await close(new nn.LeakyReLU().forward(wg.tensor([-2, 0, 3])), [-0.02, 0, 3], "default slope");
    await close(F.leakyRelu(wg.tensor([-2, 3]), 0.1), [-0.2, 3], "slope 0.1");
    assert.is(String(new nn.LeakyReLU(0.2)), "LeakyReLU(negative_slope=0.2)");
    assert.throws(() => F.leakyRelu(wg.tensor([1]), NaN), /leakyRelu: negativeSlope must be a finite number/);
  });

  // ---------- ModuleList, ModuleDict ----------
  test("ModuleList and ModuleDict: PyTorch's names, order, loading a PyTorch-style state dict", async () => {
    class Net extends nn.Module {
      layers = new nn.ModuleList([new nn.Linear(2, 3), new nn.Linear(3, 1)]);
      heads = new nn.ModuleDict({ z: new nn.Linear(1, 1), a: new nn.Linear(1, 2, { bias: false }) });
      forward(x: wg.Tensor) {
        for (const l of this.layers) x = l.forward(x);
        return this.heads.get("a")!.forward(this.heads.get("z")!.forward(x));
      }
    }
    const net = new Net();
    const names = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "heads.z.weight", "heads.z.bias", "heads.a.weight"];
    assert.equal(Object.keys(net.stateDict()), names);
    assert.is(net.parameters().length, 7);
    const sd = Object.fromEntries(names.map((n) => {
      const shape = [...net.stateDict()[n].shape];
      return [n, { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) }];
    }));
    net.loadStateDict(sd);
    // x = [1, 1] → 1.5·3 → 0.5·4.5 + 0.5 … : every layer with 0.5 weights and biases
    const h1 = 0.5 * 2 + 0.5, h2 = 0.5 * 3 * h1 + 0.5, h3 = 0.5 * h2 + 0.5;
    await close(net.forward(wg.ones([1, 2])), [0.5 * h3, 0.5 * h3], "forward through the containers");
    const l = net.layers;
    assert.is(l.length, 2);
    assert.is(l.at(-1), l.at(1));
    l.append(new nn.ReLU());
    assert.is(l.length, 3);
    assert.equal(net.heads.keys(), ["z", "a"]);
    net.heads.set("0", new nn.ReLU());
    assert.equal(net.heads.keys(), ["z", "a", "0"]); // insertion order, even for a numeric key
    assert.ok(net.heads.pop("0") instanceof nn.ReLU);
    assert.throws(() => net.heads.set("set", new nn.ReLU()), /ModuleDict: key "set" is already an attribute/);
    assert.throws(() => net.heads.set("a.b", new nn.ReLU()), /ModuleDict: key must be a non-empty string without "."/);
    assert.throws(() => new nn.ModuleList([1 as any]), /ModuleList: expected a Module, got number/);
    assert.throws(() => l.forward(), /ModuleList: has no forward/);
    net.eval();
    assert.is(net.heads.get("a")!.training, false);
    assert.is(l.at(0).training, false);
    assert.match(String(net), /\(layers\): ModuleList\(\n    \(0\): Linear/);
  });

  // ---------- Embedding paddingIdx ----------
  test("Embedding paddingIdx: the row starts at zeros, gets no gradient, keeps a loaded value", async () => {
    const e = new nn.Embedding(4, 3, { paddingIdx: -1 });
    assert.is(e.paddingIdx, 3);
    const w = await flat(e.weight);
    assert.equal(w.slice(9), [0, 0, 0]);
    e.weight.copy_(wg.tensor(Array.from({ length: 12 }, (_, i) => i), { shape: [4, 3] }));
    const y = e.forward(i32([3, 1, 3]));
    await close(y, [9, 10, 11, 3, 4, 5, 9, 10, 11], "lookup of the padding row");
    y.mul(wg.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])).sum().backward();
    await close(e.weight.grad!, [0, 0, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0], "no gradient at the padding row");
    assert.is(String(e), "Embedding(4, 3, padding_idx=3)");
    assert.throws(() => new nn.Embedding(4, 3, { paddingIdx: 4 }), /Embedding: paddingIdx must be an integer in -4\.\.3/);
    assert.throws(() => new nn.Embedding(4, 3, { maxNorm: 1 } as any), /Embedding: unknown option "maxNorm"/);
  });

  // ---------- Upsample / interpolate ----------
  test("interpolate and Upsample: nearest, nearest-exact, linear and bilinear (alignCorners false/true) as PyTorch", async () => {
    const x = wg.tensor([[[[1, 2], [3, 4]]]]);
    await close(F.interpolate(x, { scaleFactor: 2 }), [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], "nearest ×2");
    await close(F.interpolate(x, { scaleFactor: 2, mode: "bilinear" }), [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4], "bilinear ×2");
    await close(F.interpolate(x, { size: [3, 3], mode: "bilinear", alignCorners: true }), [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], "bilinear alignCorners");
    // 1-D, in 5 → out 3: nearest picks floor(o·5/3) = 0, 1, 3; nearest-exact floor((o + 0.5)·5/3) = 0, 2, 4
    const v = wg.tensor([[[10, 11, 12, 13, 14]]]);
    await close(F.interpolate(v, { size: 3 }), [10, 11, 13], "nearest down");
    await close(F.interpolate(v, { size: 3, mode: "nearest-exact" }), [10, 12, 14], "nearest-exact down");
    // linear, in 5 → out 3, align false: src = (o + 0.5)·5/3 − 0.5 = 0.333, 2, 3.667
    await close(F.interpolate(v, { size: 3, mode: "linear" }), [10 + 1 / 3, 12, 13 + 2 / 3], "linear down", 1e-5);
    const up = new nn.Upsample({ scaleFactor: [2, 3], mode: "nearest" });
    assert.equal(up.forward(wg.zeros([2, 3, 4, 5])).shape, [2, 3, 8, 15]);
    assert.throws(() => F.interpolate(x, { scaleFactor: 2, mode: "bicubic" as any }), /interpolate: mode must be "nearest" \| "nearest-exact" \| "linear" \| "bilinear", got "bicubic"/);
    assert.throws(() => F.interpolate(x, { scaleFactor: 2, antialias: true } as any), /interpolate: unknown option "antialias"/);
    assert.throws(() => F.interpolate(x, { scaleFactor: 2, size: 4 }), /give exactly one of size and scaleFactor/);
    assert.throws(() => F.interpolate(x, { scaleFactor: 2, alignCorners: true }), /alignCorners applies to the linear modes only/);
    assert.throws(() => F.interpolate(x, { size: 3, mode: "linear" }), /mode "linear" needs a 3-D input/);
  });

  // ---------- cross-entropy ----------
  test("crossEntropy: ignoreIndex (default −100) leaves the mean, through the fused kernel", async () => {
    const lg = wg.tensor([[2, 0], [0, 2], [1, 1]]);
    const l0 = logSumExp([2, 0]) - 2;
    await close(F.crossEntropy(lg, i32([0, 1, -100])), [l0], "default ignoreIndex");
    await close(F.crossEntropy(lg, i32([0, 1, -100]), { reduction: "sum" }), [2 * l0], "sum");
    await close(F.crossEntropy(lg, i32([0, 1, -100]), { reduction: "none" }), [l0, l0, 0], "none");
    await close(F.crossEntropy(lg, i32([0, 1, 1]), { ignoreIndex: 1 }), [l0], "ignoreIndex a real class");
    assert.ok(Number.isNaN(await F.crossEntropy(lg, i32([-100, -100, -100])).itemAsync()), "all ignored: 0/0 as PyTorch");
  });

  test("crossEntropy: class weight (weighted mean), labelSmoothing, both, with ignored samples", async () => {
    const rows = [[1, 2, 0.5], [0, -1, 3], [2, 2, 2], [0.3, 0.1, -0.2]];
    const labels = [1, 2, -100, 0], w = [0.2, 1, 3], eps = 0.2, C = 3;
    const logp = rows.map((r) => r.map((v) => v - logSumExp(r)));
    let num = 0, den = 0, sNum = 0, sDen = 0, nw = 0;
    const perNone: number[] = [];
    labels.forEach((y, i) => {
      if (y === -100) { perNone.push(0); return; }
      const nll = -w[y] * logp[i][y], smooth = -logp[i].reduce((a, v, c) => a + w[c] * v, 0);
      num += nll; den += w[y];
      const l = (1 - eps) * nll + eps / C * smooth;
      sNum += l; sDen += w[y]; perNone.push(l);
      nw += (1 - eps) * -logp[i][y] + eps / C * -logp[i].reduce((a, v) => a + v, 0);
    });
    const x = wg.tensor(rows), t = i32(labels), wt = wg.tensor(w);
    await close(F.crossEntropy(x, t, { weight: wt }), [num / den], "weight, mean");
    await close(F.crossEntropy(x, t, { weight: wt, labelSmoothing: eps }), [sNum / sDen], "weight + smoothing, mean", 1e-4);
    await close(F.crossEntropy(x, t, { weight: wt, labelSmoothing: eps, reduction: "none" }), perNone, "weight + smoothing, none", 1e-4);
    await close(F.crossEntropy(x, t, { labelSmoothing: eps }), [nw / 3], "smoothing, mean over the 3 kept", 1e-4);
    await close(F.nllLoss(wg.tensor(logp), t, { weight: wt }), [num / den], "nllLoss weight", 1e-4);
  });

  test("crossEntropy: N-D logits [N, C, d1, d2] equal the rows of the permuted 2-D problem; probability targets", async () => {
    const x = rt([2, 3, 2, 2], 5, 2);
    const lab = [0, 2, 1, -100, 2, 2, 0, 1];
    const t = i32(lab, [2, 2, 2]);
    const rows = x.permute([0, 2, 3, 1]).reshape(8, 3);
    for (const reduction of ["mean", "sum", "none"] as const) {
      const a = F.crossEntropy(x, t, { reduction, labelSmoothing: 0.1 }), b = F.crossEntropy(rows, i32(lab), { reduction, labelSmoothing: 0.1 });
      assert.equal(a.shape, reduction === "none" ? [2, 2, 2] : []);
      assertClose(await flat(a), await flat(b), { rtol: 1e-5, atol: 1e-6, what: `N-D ${reduction}` });
    }
    // probabilities: −Σ t·w·log p, mean over samples (not weights), with smoothing mixing in ε/C
    const probs = [[0.2, 0.5, 0.3], [1, 0, 0]], z = [[1, 2, 3], [0, 0, 1]], w = [1, 2, 0.5];
    const expect = (eps: number) => z.map((r, i) => -r.reduce((a, v, c) => a + ((1 - eps) * probs[i][c] + eps / 3) * w[c] * (v - logSumExp(r)), 0));
    await close(F.crossEntropy(wg.tensor(z), wg.tensor(probs), { weight: wg.tensor(w), reduction: "none" }), expect(0), "probabilities none");
    const e2 = expect(0.3);
    await close(F.crossEntropy(wg.tensor(z), wg.tensor(probs), { weight: wg.tensor(w), labelSmoothing: 0.3 }), [(e2[0] + e2[1]) / 2], "probabilities + smoothing, mean");
    // 1-D logits [C] with a scalar label
    await close(F.crossEntropy(wg.tensor([2, 0]), i32([0], [])), [logSumExp([2, 0]) - 2], "unbatched");
  });

  test("crossEntropy: errors name the option or the shapes; bad labels throw (wasm) or give NaN (WebGPU)", async () => {
    const lg = wg.tensor([[2, 0], [0, 2]]);
    assert.throws(() => F.crossEntropy(lg, i32([0, 1]), { reduce: "mean" } as any), /crossEntropy: unknown option "reduce"/);
    assert.throws(() => F.crossEntropy(lg, i32([0, 1]), { labelSmoothing: 1.5 }), /crossEntropy: labelSmoothing must be a finite number in \[0, 1\]/);
    assert.throws(() => F.crossEntropy(lg, i32([0, 1]), { weight: wg.tensor([1, 2, 3]) }), /crossEntropy: weight \[3\] must be \[2\]/);
    assert.throws(() => F.crossEntropy(lg, wg.tensor([0, 1])), /crossEntropy: labels must be int32 class indices \[2\], or float32 class probabilities of the logits' shape \[2,2\]; got float32 \[2\]/);
    assert.throws(() => F.crossEntropy(lg, wg.tensor([[1, 0], [0, 1]]), { ignoreIndex: 0 }), /ignoreIndex applies to class-index \(int32\) targets only/);
    assert.throws(() => F.crossEntropy(wg.zeros([2, 3]), wg.zeros([2, 2]).int()), /crossEntropy: 4 labels \[2,2\] for 2 rows/);
    assert.throws(() => F.crossEntropy(wg.zeros([2, 3, 4]), i32([0, 1])), /crossEntropy: 2 labels \[2\] for 8 rows of logits \[2,3,4\] \(class indices must be \[2,4\]\)/);
    if (backend === "wasm") assert.throws(() => F.crossEntropy(lg, i32([0, 5]), { labelSmoothing: 0.1 }), /crossEntropy: label 5 at position 1 is out of range for 2 classes/);
    else assert.ok(Number.isNaN(await F.crossEntropy(lg, i32([0, 5]), { labelSmoothing: 0.1 }).itemAsync()), "NaN for a label the host did not check");
  });

  test("binaryCrossEntropyWithLogits: posWeight per class and weight, as PyTorch's formula", async () => {
    const x = [[0.5, -1, 2], [-3, 0.2, 0]], t = [[1, 0, 1], [0, 1, 0.5]], pw = [2, 0.5, 3], w = [1, 2, 0.5];
    const sp = (v: number) => Math.log1p(Math.exp(-Math.abs(v))) + Math.max(v, 0);
    const per = x.flatMap((r, i) => r.map((v, c) => w[c] * (pw[c] * t[i][c] * sp(-v) + (1 - t[i][c]) * sp(v))));
    const args = { posWeight: wg.tensor(pw), weight: wg.tensor(w) };
    await close(F.binaryCrossEntropyWithLogits(wg.tensor(x), wg.tensor(t), { ...args, reduction: "none" }), per, "none", 1e-5);
    await close(F.binaryCrossEntropyWithLogits(wg.tensor(x), wg.tensor(t), args), [per.reduce((a, b) => a + b) / 6], "mean", 1e-5);
    await close(F.binaryCrossEntropyWithLogits(wg.tensor([0]), wg.tensor([1]), { posWeight: wg.tensor([2]) }), [2 * Math.LN2], "doc value");
    await close(F.binaryCrossEntropy(wg.tensor([0.5, 0.25]), wg.tensor([1, 0]), { weight: wg.tensor([2, 4]), reduction: "sum" }), [2 * Math.LN2 - 4 * Math.log(0.75)], "bce weight");
    assert.throws(() => F.binaryCrossEntropyWithLogits(wg.tensor([0]), wg.tensor([1]), { pos_weight: wg.tensor([2]) } as any), /binaryCrossEntropyWithLogits: unknown option "pos_weight"/);
    assert.throws(() => F.binaryCrossEntropyWithLogits(wg.zeros([2, 3]), wg.zeros([2, 3]), { posWeight: wg.ones([2]) }), /binaryCrossEntropyWithLogits posWeight/);
  });
});
