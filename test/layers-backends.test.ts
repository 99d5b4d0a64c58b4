// Layers on every backend this machine can test (test/backends.ts: wasm always,
// WebGPU where its test environment is; an expected backend that does not start
// FAILS its group), every value read with await t.data(). Issue 15: layers that
// read GPU memory synchronously on the host (BatchNorm2d's num_batches_tracked,
// the attention masks) threw "tensor lives on webgpu"; MultiheadAttention's
// needWeights returned weights without a gradient. The wasm-only layer tests
// (float64 references, state dicts) are in layers.test.ts.
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { assertClose, randomF32 } from "./harness.js";
import { forEachBackend, gradcheckAsync } from "./backends.js";

const nn = wg.nn;
const rt = (shape: number[], seed: number, scale = 1) => wg.tensor(randomF32(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale), { shape });
const i32 = (rows: number[][]) => wg.tensor(rows, { dtype: "int32" });

forEachBackend("layers", (backend, test) => {
  test("BatchNorm2d in training: running statistics and num_batches_tracked stay on the device (momentum 0.1 and null)", async () => {
    const bn = new nn.BatchNorm2d(2);
    // channel 0 holds 1..4, channel 1 holds 10, 10, 20, 20 (N = 2, H = 1, W = 2)
    const x = wg.tensor([[[[1, 2]], [[10, 10]]], [[[3, 4]], [[20, 20]]]]).keep();
    const y = await bn.forward(x).data();
    const s0 = Math.sqrt(1.25 + 1e-5);
    assertClose([y[0], y[1], y[4], y[5]], [-1.5 / s0, -0.5 / s0, 0.5 / s0, 1.5 / s0], { rtol: 1e-4, what: `normalised channel 0 on ${backend}` });
    assertClose(await bn.running_mean!.data(), [0.1 * 2.5, 0.1 * 15], { rtol: 1e-5, what: "running_mean" });
    assertClose(await bn.running_var!.data(), [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * (100 / 3)], { rtol: 1e-5, what: "running_var (unbiased)" });
    assert.equal(Array.from(await bn.num_batches_tracked!.data()), [1]);
    bn.forward(x);
    assert.equal(Array.from(await bn.num_batches_tracked!.data()), [2]);
    // momentum null: the cumulative average, momentum 1/num_batches_tracked (PyTorch's)
    const cum = new nn.BatchNorm2d(2, { momentum: null });
    cum.forward(x);
    cum.forward(x.mul(3));
    cum.forward(x.mul(2));
    assertClose(await cum.running_mean!.data(), [(2.5 + 7.5 + 5) / 3, (15 + 45 + 30) / 3], { rtol: 1e-5, what: "momentum null: cumulative mean" });
    assertClose(await cum.running_var!.data(), [(5 / 3) * (1 + 9 + 4) / 3, (100 / 3) * (1 + 9 + 4) / 3], { rtol: 1e-5, what: "momentum null: cumulative variance" });
    assert.equal(Array.from(await cum.num_batches_tracked!.data()), [3]);
    // a loaded count is where the cumulative average continues from
    cum.loadStateDict({ num_batches_tracked: { shape: [], data: Int32Array.of(9) }, running_mean: { shape: [2], data: Float32Array.of(1, 1) } }, { strict: false });
    cum.forward(x);
    assert.equal(Array.from(await cum.num_batches_tracked!.data()), [10]);
    assertClose(await cum.running_mean!.data(), [0.9 * 1 + 0.1 * 2.5, 0.9 * 1 + 0.1 * 15], { rtol: 1e-5, what: "continues from a loaded num_batches_tracked" });
    x.dispose();
    for (const m of [bn, cum]) m.dispose();
  });

  // A masked key must be ignored: the output equals attention over the keys that are left
  // (PyTorch's semantics for boolean masks, True = masked, and for −Infinity in float masks)
  test("MultiheadAttention masks built on the device: int32 (boolean) and float, attnMask 2-D and per head, keyPaddingMask", async () => {
    wg.manualSeed(3);
    const B = 2, Sq = 3, Sk = 5, E = 4, h = 2;
    const mha = new nn.MultiheadAttention(E, h, { batchFirst: true });
    mha.in_proj_bias!.copy_(rt([3 * E], 40, 0.5));
    const q = rt([B, Sq, E], 41).keep(), kv = rt([B, Sk, E], 42).keep();
    const run = (o: object, k = kv) => mha.forward(q, k, k, o)[0];
    // keys 3 and 4 of batch 0 and key 4 of batch 1 padded: compare with each batch entry cut to its keys
    const pad = i32([[0, 0, 0, 1, 1], [0, 0, 0, 0, 1]]);
    const padF = wg.tensor([[0, 0, 0, -Infinity, -Infinity], [0, 0, 0, 0, -Infinity]]);
    const cut = async (b: number, keys: number) => mha.forward(q.slice(0, b, b + 1), kv.slice(0, b, b + 1).slice(1, 0, keys), kv.slice(0, b, b + 1).slice(1, 0, keys))[0].data();
    const want = Float32Array.from([...(await cut(0, 3)), ...(await cut(1, 4))]);
    assertClose(await run({ keyPaddingMask: pad }).data(), want, { rtol: 1e-5, atol: 1e-6, what: `int32 keyPaddingMask on ${backend}` });
    assertClose(await run({ keyPaddingMask: padF }).data(), want, { rtol: 1e-5, atol: 1e-6, what: "float keyPaddingMask" });
    // the same through attnMask: 2-D (every batch entry the same), then per head [B·h, Sq, Sk]
    const cols = i32(Array.from({ length: Sq }, () => [0, 0, 0, 1, 1]));
    assertClose((await run({ attnMask: cols }).data()).subarray(0, Sq * E), await cut(0, 3), { rtol: 1e-5, atol: 1e-6, what: "int32 attnMask [Sq, Sk]" });
    const perHead = i32(Array.from({ length: B * h }, (_, p) => Array.from({ length: Sq }, () => [0, 0, 0, p >= h ? 0 : 1, 1])).flat());
    assertClose(await run({ attnMask: perHead.reshape(B * h, Sq, Sk) }).data(), want, { rtol: 1e-5, atol: 1e-6, what: "int32 attnMask per head" });
    // a float mask that is not −Infinity is added to the scores: a constant per row changes nothing,
    // and an int32 causal mask, the float one and isCausal agree (bottom-right aligned for Sq < Sk)
    assertClose(await run({ attnMask: wg.full([Sq, Sk], 2.5) }).data(), await run({}).data(), { rtol: 1e-5, atol: 1e-6, what: "constant float attnMask" });
    const causalI = i32(Array.from({ length: Sq }, (_, i) => Array.from({ length: Sk }, (_, j) => (j > i + Sk - Sq ? 1 : 0))));
    const causalF = wg.where(causalI.float(), wg.full([Sq, Sk], -Infinity), wg.zeros([Sq, Sk]));
    const isCausal = await run({ isCausal: true }).data();
    assertClose(await run({ attnMask: causalI }).data(), isCausal, { rtol: 1e-5, atol: 1e-6, what: "int32 causal attnMask = isCausal" });
    assertClose(await run({ attnMask: causalF }).data(), isCausal, { rtol: 1e-5, atol: 1e-6, what: "float causal attnMask = isCausal" });
    // masks and padding together, and a gradient through the composed path
    const both = mha.forward(q, kv, kv, { attnMask: causalF, keyPaddingMask: pad, needWeights: true })[1]!;
    const w = await both.data();
    for (let b = 0; b < B; b++) for (let i = 0; i < Sq; i++) for (let j = 0; j < Sk; j++) {
      if (j > i + Sk - Sq || (b === 0 ? j >= 3 : j >= 4)) assert.ok(w[(b * Sq + i) * Sk + j] < 1e-30, `weight [${b},${i},${j}] is masked`);
    }
    q.dispose();
    kv.dispose();
    mha.dispose();
  });

  test("Transformer layers take srcMask, srcKeyPaddingMask, tgtMask and memoryKeyPaddingMask on the device", async () => {
    wg.manualSeed(4);
    const small = { dimFeedforward: 6, dropout: 0, batchFirst: true };
    const enc = new nn.TransformerEncoderLayer(4, 2, small), dec = new nn.TransformerDecoderLayer(4, 2, small);
    const src = rt([2, 5, 4], 50).keep(), tgt = rt([2, 3, 4], 51).keep();
    const pad = i32([[0, 0, 0, 0, 1], [0, 0, 0, 0, 1]]);
    // padding the last key = running on the first four positions (the padded position's own output aside)
    const full = await enc.forward(src, { srcKeyPaddingMask: pad, srcMask: nn.Transformer.generateSquareSubsequentMask(5) }).data();
    const four = await enc.forward(src.slice(1, 0, 4), { isCausal: true }).data();
    for (let b = 0; b < 2; b++) assertClose(full.subarray(b * 20, b * 20 + 16), four.subarray(b * 16, b * 16 + 16), { rtol: 1e-4, atol: 1e-5, what: `encoder layer, batch ${b}, on ${backend}` });
    const mem = src.slice(1, 0, 4);
    const withPad = await dec.forward(tgt, src, { tgtMask: i32([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), memoryKeyPaddingMask: pad }).data();
    assertClose(withPad, await dec.forward(tgt, mem, { tgtIsCausal: true }).data(), { rtol: 1e-4, atol: 1e-5, what: "decoder layer" });
    src.dispose();
    tgt.dispose();
    enc.dispose();
    dec.dispose();
  });

  // needWeights: PyTorch's weights are part of the graph (averaged over heads, or per head)
  test("MultiheadAttention needWeights: weights carry the gradient to query and key, with the output to value (finite differences)", async () => {
    wg.manualSeed(5);
    const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });
    mha.in_proj_bias!.copy_(rt([12], 60, 0.5));
    const pad = i32([[0, 0, 0, 1], [0, 0, 0, 0]]).keep();
    const input = (shape: number[], seed: number) => ({ data: randomF32(shape.reduce((a, b) => a * b, 1), seed), shape });
    // the weights do not depend on the value (PyTorch gives it no gradient from them)
    const value = rt([2, 4, 4], 63).keep();
    await gradcheckAsync((q, k) => mha.forward(q, k, value, { needWeights: true, keyPaddingMask: pad })[1]!,
      [input([2, 3, 4], 61), input([2, 4, 4], 62)], { what: `averaged weights (q, k) on ${backend}` });
    // through the output, the value gets its gradient too when the weights are asked for
    await gradcheckAsync((q, k, v) => { const [y, w] = mha.forward(q, k, v, { needWeights: true }); return y.sum(-1).unsqueeze(-1).mul(w!); },
      [input([2, 3, 4], 66), input([2, 4, 4], 67), input([2, 4, 4], 68)], { what: "output times weights (q, k, v)" });
    value.dispose();
    await gradcheckAsync((x) => mha.forward(x, x, x, { needWeights: true, averageAttnWeights: false, isCausal: true })[1]!,
      [input([2, 3, 4], 64)], { what: "per-head weights, self-attention" });
    // averageAttnWeights: false gives [B, heads, Sq, Sk], whose mean over heads is the default; unbatched drops B
    const x = rt([2, 3, 4], 65).keep();
    const [, per] = mha.forward(x, x, x, { needWeights: true, averageAttnWeights: false });
    const [, avg] = mha.forward(x, x, x, { needWeights: true });
    assert.equal([...per!.shape], [2, 2, 3, 3]);
    assertClose(await per!.mean(1).data(), await avg!.data(), { rtol: 1e-6, atol: 1e-7, what: "mean of per-head weights" });
    const [, un] = mha.forward(x.slice(0, 0, 1).reshape(3, 4), x.slice(0, 0, 1).reshape(3, 4), x.slice(0, 0, 1).reshape(3, 4), { needWeights: true, averageAttnWeights: false });
    assert.equal([...un!.shape], [2, 3, 3]);
    assert.throws(() => mha.forward(x, x, x, { averageAttnWeights: 1 as any }), /averageAttnWeights must be true or false/);
    x.dispose();
    pad.dispose();
    mha.dispose();
  });

  test("MultiheadAttention needWeights: the weights' gradient reaches in_proj and not out_proj (finite differences)", async () => {
    wg.manualSeed(6);
    const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });
    mha.in_proj_bias!.copy_(rt([12], 70, 0.5));
    const x = rt([2, 3, 4], 71).keep(), mem = rt([2, 4, 4], 72).keep();
    const r = rt([2, 3, 4], 73).keep();
    const loss = () => mha.forward(x, mem, mem, { needWeights: true })[1]!.mul(r).sum();
    mha.zeroGrad();
    loss().backward();
    const eps = 1e-2;
    for (const [name, p] of mha.namedParameters()) {
      if (name.startsWith("out_proj")) {
        assert.ok(!p.grad || (await p.grad.data()).every((v) => v === 0), `${name}: the weights do not depend on it`);
        continue;
      }
      const g = await p.grad!.data(), base = Float32Array.from(await p.data());
      for (let i = 0; i < p.size; i += 5) {
        const at = async (v: number) => {
          const d = Float32Array.from(base);
          d[i] = v;
          mha.loadStateDict({ [name]: { shape: [...p.shape], data: d } }, { strict: false });
          return [await wg.noGrad(loss).itemAsync(), d[i]];
        };
        const [lp, hp] = await at(base[i] + eps), [lm, hm] = await at(base[i] - eps);
        const num = (lp - lm) / (hp - hm);
        assert.ok(Math.abs(g[i] - num) <= 2e-3 + 3e-2 * Math.abs(num), `${name}[${i}]: analytic ${g[i]}, numeric ${num} on ${backend}`);
      }
      mha.loadStateDict({ [name]: { shape: [...p.shape], data: base } }, { strict: false });
    }
    for (const t of [x, mem, r]) t.dispose();
    mha.dispose();
  });
});
