// The layers of issue 4: BatchNorm2d, BasicBlock, LSTM, GRU,
// MultiheadAttention, Transformer layers and stacks, positional encodings.
// Each has a finite-difference gradient check (inputs and parameters), a
// check against a plain float64 reference or hand-computed values, shape
// errors, and PyTorch's state-dict names with a safetensors round trip.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32, assertClose } from "./harness.js";

await wg.init({ threads: 1, verbose: false });
const nn = wg.nn;

const rt = (shape: number[], seed: number, scale = 1) => wg.tensor(randomF32(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale), { shape });

/**
 * Central differences of L = Σ fn(inputs)·r against backward(), for every
 * input and parameter of `m`; at most `samples` elements of each tensor.
 */
function gradcheck(name: string, m: wg.nn.Module, inputs: wg.Tensor[], fn: (...xs: wg.Tensor[]) => wg.Tensor,
                   { eps = 1e-2, rtol = 4e-2, atol = 3e-3, samples = 10 } = {}) {
  test(`gradcheck ${name}`, () => {
    wg.scope(() => {
      const xs = inputs.map((t) => wg.tensor(t.dataSync(), { shape: [...t.shape], requiresGrad: true }));
      const y0 = fn(...xs);
      const r = wg.tensor(randomF32(y0.size, 99), { shape: [...y0.shape] });
      const loss = () => fn(...xs).mul(r).sum();
      m.zeroGrad();
      loss().backward();
      const targets: [string, wg.Tensor][] = [...xs.map((x, i) => [`input ${i}`, x] as [string, wg.Tensor]), ...m.namedParameters()];
      for (const [what, t] of targets) {
        assert.ok(t.grad, `${name}: ${what} got a gradient`);
        const analytic = t.grad!.dataSync();
        const step = Math.max(1, Math.floor(t.size / samples));
        for (let i = 0; i < t.size; i += step) {
          const at = (v: number) => wg.noGrad(() => {
            const view = t.view();
            const old = view[i];
            view[i] = v;
            const l = loss().item();
            t.view()[i] = old;
            return l;
          });
          const base = t.view()[i];
          const numeric = (at(base + eps) - at(base - eps)) / (2 * eps);
          if (!(Math.abs(analytic[i] - numeric) <= atol + rtol * Math.abs(numeric))) {
            assert.unreachable(`${name}: ${what} element ${i}: analytic ${analytic[i]}, numeric ${numeric}`);
          }
        }
      }
      m.zeroGrad();
      for (const x of xs) x.grad = null;
    });
  });
}

// ---------- BatchNorm2d ----------
{
  wg.manualSeed(1);
  const bn = new nn.BatchNorm2d(3);
  bn.weight!.copy_(rt([3], 2, 0.5).add(1));
  bn.bias!.copy_(rt([3], 3));
  gradcheck("BatchNorm2d train", bn, [rt([4, 3, 2, 3], 4, 2)], (x) => bn.forward(x));
  const bnEval = new nn.BatchNorm2d(3);
  bnEval.running_mean!.copy_(rt([3], 5));
  bnEval.running_var!.copy_(rt([3], 6, 0.3).add(1));
  bnEval.eval();
  gradcheck("BatchNorm2d eval", bnEval, [rt([2, 3, 2, 2], 7)], (x) => bnEval.forward(x));
}

test("BatchNorm2d: batch statistics in training, running averages with momentum 0.1 and unbiased variance, eval uses them", () => {
  const bn = new nn.BatchNorm2d(2);
  // channel 0 holds 1..4, channel 1 holds 10, 10, 20, 20 (N = 2, H = 1, W = 2)
  const x = wg.tensor([[[[1, 2]], [[10, 10]]], [[[3, 4]], [[20, 20]]]]);
  const y = bn.forward(x).dataSync();
  const s0 = Math.sqrt(1.25 + 1e-5);
  assertClose([y[0], y[1], y[4], y[5]], [-1.5 / s0, -0.5 / s0, 0.5 / s0, 1.5 / s0], { rtol: 1e-4, what: "normalised channel 0" });
  assertClose(bn.running_mean!.dataSync(), [0.1 * 2.5, 0.1 * 15], { rtol: 1e-5, what: "running_mean" });
  // unbiased variances: 5/3 and 100/3
  assertClose(bn.running_var!.dataSync(), [0.9 + 0.1 * (5 / 3), 0.9 + 0.1 * (100 / 3)], { rtol: 1e-5, what: "running_var" });
  assert.is(bn.num_batches_tracked!.item(), 1);
  bn.forward(x);
  assert.is(bn.num_batches_tracked!.item(), 2);
  bn.eval();
  const before = bn.running_mean!.dataSync();
  const ye = bn.forward(x).dataSync();
  assertClose(bn.running_mean!.dataSync(), before, { what: "eval leaves running stats alone" });
  const rm = before[0], rv = bn.running_var!.dataSync()[0];
  assertClose([ye[0]], [(1 - rm) / Math.sqrt(rv + 1e-5)], { rtol: 1e-5, what: "eval normalises with running stats" });
  const cum = new nn.BatchNorm2d(2, { momentum: null });
  cum.forward(x);
  cum.forward(x.mul(3));
  assertClose(cum.running_mean!.dataSync(), [(2.5 + 7.5) / 2, (15 + 45) / 2], { rtol: 1e-5, what: "momentum null: cumulative average" });
  assert.throws(() => bn.forward(wg.zeros([2, 3, 4, 4])), /BatchNorm2d: input must be \[N, 2, H, W\], got \[2,3,4,4\]/);
  assert.throws(() => new nn.BatchNorm2d(2).forward(wg.zeros([1, 2, 1, 1])), /more than 1 value per channel/);
  assert.equal(Object.keys(bn.stateDict()), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
});

// ---------- BasicBlock ----------
{
  wg.manualSeed(2);
  const block = new nn.BasicBlock(2, 3, 2);
  gradcheck("BasicBlock with downsample", block, [rt([2, 2, 4, 4], 8)], (x) => block.forward(x), { samples: 4 });
}

test("BasicBlock: torchvision's names, identity shortcut when shapes agree, clear error otherwise", () => {
  const b = new nn.BasicBlock(4, 8, 2);
  assert.equal(Object.keys(b.stateDict()).filter((k) => !k.includes("running") && !k.includes("num_batches")), [
    "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias", "downsample.0.weight", "downsample.1.weight", "downsample.1.bias"]);
  assert.ok("downsample.1.running_mean" in b.stateDict());
  assert.equal(b.forward(wg.randn([1, 4, 6, 6])).shape, [1, 8, 3, 3]);
  const plain = new nn.BasicBlock(4, 4);
  assert.is(plain.downsample, null);
  assert.equal(plain.forward(wg.randn([2, 4, 5, 5])).shape, [2, 4, 5, 5]);
  const forced = new nn.BasicBlock(4, 8, 1, { downsample: false });
  assert.throws(() => forced.forward(wg.randn([2, 4, 5, 5])), /BasicBlock: shortcut \[2,4,5,5\] does not match the residual \[2,8,5,5\]/);
});

// ---------- LSTM and GRU ----------
const sig = (v: number) => 1 / (1 + Math.exp(-v));

/** Plain float64 LSTM/GRU of one layer, time-major [T, B, I], PyTorch's equations. */
function referenceRnn(kind: "lstm" | "gru", x: Float32Array, T: number, B: number, I: number, H: number, sd: Record<string, wg.Tensor>): number[] {
  const wih = sd.weight_ih_l0.dataSync(), whh = sd.weight_hh_l0.dataSync(), bih = sd.bias_ih_l0.dataSync(), bhh = sd.bias_hh_l0.dataSync();
  const G = kind === "lstm" ? 4 : 3;
  const out: number[] = [];
  const h = new Float64Array(B * H), c = new Float64Array(B * H);
  for (let t = 0; t < T; t++) {
    const hNew = new Float64Array(B * H);
    for (let b = 0; b < B; b++) {
      const gx = new Float64Array(G * H), gh = new Float64Array(G * H);
      for (let r = 0; r < G * H; r++) {
        let sx = bih[r], sh = bhh[r];
        for (let i = 0; i < I; i++) sx += wih[r * I + i] * x[(t * B + b) * I + i];
        for (let j = 0; j < H; j++) sh += whh[r * H + j] * h[b * H + j];
        gx[r] = sx;
        gh[r] = sh;
      }
      for (let j = 0; j < H; j++) {
        if (kind === "lstm") {
          const g = (k: number) => gx[k * H + j] + gh[k * H + j];
          const ig = sig(g(0)), fg = sig(g(1)), gg = Math.tanh(g(2)), og = sig(g(3));
          c[b * H + j] = fg * c[b * H + j] + ig * gg;
          hNew[b * H + j] = og * Math.tanh(c[b * H + j]);
        } else {
          const r = sig(gx[j] + gh[j]), z = sig(gx[H + j] + gh[H + j]);
          const n = Math.tanh(gx[2 * H + j] + r * gh[2 * H + j]);
          hNew[b * H + j] = (1 - z) * n + z * h[b * H + j];
        }
      }
    }
    h.set(hNew);
    out.push(...hNew);
  }
  return out;
}

test("LSTM and GRU match a float64 reference of PyTorch's equations (gate order i, f, g, o and r, z, n)", () => {
  const T = 4, B = 3, I = 5, H = 6;
  wg.manualSeed(3);
  const x = rt([T, B, I], 10);
  for (const kind of ["lstm", "gru"] as const) {
    const m = kind === "lstm" ? new nn.LSTM(I, H) : new nn.GRU(I, H);
    const [y, st] = m.forward(x) as [wg.Tensor, any];
    assert.equal(y.shape, [T, B, H]);
    const ref = referenceRnn(kind, x.dataSync() as Float32Array, T, B, I, H, m.stateDict());
    assertClose(y.dataSync(), ref, { rtol: 1e-4, atol: 1e-5, what: `${kind} output` });
    const hn = kind === "lstm" ? st[0] : st;
    assert.equal(hn.shape, [1, B, H]);
    assertClose(hn.dataSync(), ref.slice((T - 1) * B * H), { rtol: 1e-4, atol: 1e-5, what: `${kind} final state` });
  }
});

test("LSTM: batchFirst, two layers, given states, unbatched input, PyTorch names, shape errors", () => {
  wg.manualSeed(4);
  const tm = new nn.LSTM(3, 4, { numLayers: 2 });
  const bf = new nn.LSTM(3, 4, { numLayers: 2, batchFirst: true });
  bf.loadStateDict(tm.stateDict());
  assert.equal(Object.keys(tm.stateDict()), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"]);
  assert.equal(tm.weight_ih_l0.shape, [16, 3]);
  assert.equal((tm as any).weight_ih_l1.shape, [16, 4]);
  const x = rt([5, 2, 3], 11);
  const h0 = rt([2, 2, 4], 12), c0 = rt([2, 2, 4], 13);
  const [y1, [h1, c1]] = tm.forward(x, [h0, c0]);
  const [y2, [h2, c2]] = bf.forward(x.transpose(0, 1), [h0, c0]);
  assertClose(y2.transpose(0, 1).dataSync(), y1.dataSync(), { what: "batchFirst output" });
  assertClose(h2.dataSync(), h1.dataSync(), { what: "hn" });
  assertClose(c2.dataSync(), c1.dataSync(), { what: "cn" });
  assert.equal(h1.shape, [2, 2, 4]);
  const [yu, [hu]] = tm.forward(x.slice(1, 0, 1).reshape(5, 3));
  assert.equal(yu.shape, [5, 4]);
  assert.equal(hu.shape, [2, 4]);
  assertClose(yu.dataSync(), tm.forward(x.slice(1, 0, 1))[0].dataSync(), { what: "unbatched = batch of one" });
  assert.throws(() => tm.forward(wg.zeros([5, 2, 7])), /LSTM: input must be \[seq, batch, 3\].*got \[5,2,7\]/);
  assert.throws(() => tm.forward(x, [wg.zeros([1, 2, 4]), c0]), /LSTM: h0 must be \[2, 2, 4\], got \[1,2,4\]/);
  const gru = new nn.GRU(3, 4, { bias: false });
  assert.equal(Object.keys(gru.stateDict()), ["weight_ih_l0", "weight_hh_l0"]);
  assert.equal(gru.weight_ih_l0.shape, [12, 3]);
});

test("bidirectional LSTM/GRU and LSTM projSize: PyTorch's names and shapes, the reverse direction is the sequence run backwards, state layouts", () => {
  wg.manualSeed(6);
  const m = new nn.LSTM(3, 5, { numLayers: 2, bidirectional: true, projSize: 2 });
  const sd = m.stateDict();
  assert.equal(Object.keys(sd).slice(0, 10), ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
    "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_hr_l0_reverse"]);
  assert.equal(Object.keys(sd).length, 20);
  assert.equal(sd.weight_hh_l0.shape, [20, 2]);
  assert.equal(sd.weight_hr_l0_reverse.shape, [2, 5]);
  assert.equal(sd.weight_ih_l1.shape, [20, 4]); // the next layer reads both directions' projected h
  const x = rt([4, 2, 3], 21);
  const [y, [h, c]] = m.forward(x);
  assert.equal([y.shape, h.shape, c.shape], [[4, 2, 4], [4, 2, 2], [4, 2, 5]]);
  const [yu, [hu, cu]] = m.forward(x.slice(1, 1, 2).reshape(4, 3));
  assert.equal([yu.shape, hu.shape, cu.shape], [[4, 4], [4, 2], [4, 5]]);
  assertClose(yu.dataSync(), y.slice(1, 1, 2).reshape(4, 4).dataSync(), { what: "unbatched = batch of one" });
  assert.throws(() => m.forward(x, [wg.zeros([2, 2, 2]), wg.zeros([4, 2, 5])]), /LSTM: h0 must be \[4, 2, 2\], got \[2,2,2\]/);
  assert.throws(() => m.forward(x, [wg.zeros([4, 2, 5]), wg.zeros([4, 2, 5])]), /LSTM: h0 must be \[4, 2, 2\], got \[4,2,5\]/);
  // one bidirectional GRU layer = a forward GRU beside a forward GRU over the reversed sequence (re-reversed)
  const bi = new nn.GRU(3, 4, { bidirectional: true });
  const fw = new nn.GRU(3, 4), bw = new nn.GRU(3, 4);
  const bsd = bi.stateDict();
  fw.loadStateDict({ weight_ih_l0: bsd.weight_ih_l0, weight_hh_l0: bsd.weight_hh_l0, bias_ih_l0: bsd.bias_ih_l0, bias_hh_l0: bsd.bias_hh_l0 });
  bw.loadStateDict({ weight_ih_l0: bsd.weight_ih_l0_reverse, weight_hh_l0: bsd.weight_hh_l0_reverse, bias_ih_l0: bsd.bias_ih_l0_reverse, bias_hh_l0: bsd.bias_hh_l0_reverse });
  const rev = (t: wg.Tensor) => wg.cat(Array.from({ length: t.shape[0] }, (_, i) => t.slice(0, t.shape[0] - 1 - i, t.shape[0] - i)), 0);
  const [yb, hb] = bi.forward(x);
  const [yf, hf] = fw.forward(x);
  const [yr, hr] = bw.forward(rev(x));
  assertClose(yb.dataSync(), wg.cat([yf, rev(yr)], 2).dataSync(), { what: "bidirectional output" });
  assertClose(hb.dataSync(), wg.cat([hf, hr], 0).dataSync(), { what: "bidirectional h_n" });
});

{
  wg.manualSeed(5);
  const lstm = new nn.LSTM(3, 4, { numLayers: 2, batchFirst: true });
  gradcheck("LSTM 2 layers", lstm, [rt([2, 3, 3], 14), rt([2, 2, 4], 15), rt([2, 2, 4], 16)], (x, h, c) => {
    const [y, [hn, cn]] = lstm.forward(x, [h, c]);
    return wg.cat([y.reshape(-1), hn.reshape(-1), cn.reshape(-1)]);
  });
  const gru = new nn.GRU(3, 4, { numLayers: 2 });
  gradcheck("GRU 2 layers", gru, [rt([3, 2, 3], 17), rt([2, 2, 4], 18)], (x, h) => {
    const [y, hn] = gru.forward(x, h);
    return wg.cat([y.reshape(-1), hn.reshape(-1)]);
  });
}

// ---------- MultiheadAttention ----------

/** Plain float64 multi-head attention, batch-first, with an additive mask [B, Sq, Sk]. */
function referenceMha(q: Float32Array, k: Float32Array, v: Float32Array, B: number, Sq: number, Sk: number, E: number, h: number,
                      sd: Record<string, wg.Tensor>, mask: (b: number, i: number, j: number) => boolean): number[] {
  const W = sd.in_proj_weight.dataSync(), bi = sd.in_proj_bias.dataSync(), Wo = sd["out_proj.weight"].dataSync(), bo = sd["out_proj.bias"].dataSync();
  const proj = (x: Float32Array, S: number, part: number) => {
    const o = new Float64Array(B * S * E);
    for (let r = 0; r < B * S; r++) for (let e = 0; e < E; e++) {
      let s = bi[part * E + e];
      for (let i = 0; i < E; i++) s += W[(part * E + e) * E + i] * x[r * E + i];
      o[r * E + e] = s;
    }
    return o;
  };
  const Q = proj(q, Sq, 0), K = proj(k, Sk, 1), V = proj(v, Sk, 2);
  const d = E / h, ctx = new Float64Array(B * Sq * E);
  for (let b = 0; b < B; b++) for (let hh = 0; hh < h; hh++) for (let i = 0; i < Sq; i++) {
    const s: number[] = [];
    for (let j = 0; j < Sk; j++) {
      let dot = 0;
      for (let t = 0; t < d; t++) dot += Q[(b * Sq + i) * E + hh * d + t] * K[(b * Sk + j) * E + hh * d + t];
      s.push(mask(b, i, j) ? -Infinity : dot / Math.sqrt(d));
    }
    const mx = Math.max(...s), ex = s.map((x) => Math.exp(x - mx)), tot = ex.reduce((a, c) => a + c, 0);
    for (let t = 0; t < d; t++) {
      let acc = 0;
      for (let j = 0; j < Sk; j++) acc += (ex[j] / tot) * V[(b * Sk + j) * E + hh * d + t];
      ctx[(b * Sq + i) * E + hh * d + t] = acc;
    }
  }
  const out: number[] = [];
  for (let r = 0; r < B * Sq; r++) for (let e = 0; e < E; e++) {
    let s = bo[e];
    for (let i = 0; i < E; i++) s += Wo[e * E + i] * ctx[r * E + i];
    out.push(s);
  }
  return out;
}

test("MultiheadAttention matches a float64 reference: fused (none, causal) and composed (attnMask, keyPaddingMask) paths", () => {
  wg.manualSeed(6);
  const B = 2, S = 5, E = 8, h = 2;
  const mha = new nn.MultiheadAttention(E, h, { batchFirst: true });
  mha.in_proj_bias!.copy_(rt([3 * E], 20, 0.5));
  mha.out_proj.bias!.copy_(rt([E], 21, 0.5));
  const sd = mha.stateDict();
  const x = rt([B, S, E], 22), mem = rt([B, S + 2, E], 23);
  const xd = x.dataSync() as Float32Array, md = mem.dataSync() as Float32Array;
  const none = () => false, causal = (_b: number, i: number, j: number) => j > i;
  assertClose(mha.forward(x, x, x)[0].dataSync(), referenceMha(xd, xd, xd, B, S, S, E, h, sd, none), { rtol: 1e-4, atol: 1e-5, what: "self, no mask" });
  assertClose(mha.forward(x, x, x, { isCausal: true })[0].dataSync(), referenceMha(xd, xd, xd, B, S, S, E, h, sd, causal), { rtol: 1e-4, atol: 1e-5, what: "causal" });
  assertClose(mha.forward(x, mem, mem)[0].dataSync(), referenceMha(xd, md, md, B, S, S + 2, E, h, sd, none), { rtol: 1e-4, atol: 1e-5, what: "cross" });
  const causalMask = nn.Transformer.generateSquareSubsequentMask(S);
  assertClose(mha.forward(x, x, x, { attnMask: causalMask })[0].dataSync(), referenceMha(xd, xd, xd, B, S, S, E, h, sd, causal), { rtol: 1e-4, atol: 1e-5, what: "float attnMask" });
  const pad = wg.tensor([[0, 0, 0, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]], { dtype: "int32" });
  const padRef = (b: number, _i: number, j: number) => (b === 0 ? j >= 5 : j >= 3);
  assertClose(mha.forward(x, mem, mem, { keyPaddingMask: pad })[0].dataSync(), referenceMha(xd, md, md, B, S, S + 2, E, h, sd, padRef), { rtol: 1e-4, atol: 1e-5, what: "keyPaddingMask" });
  const [yw, w] = mha.forward(x, x, x, { needWeights: true, isCausal: true });
  assert.equal(w!.shape, [B, S, S]);
  assertClose(w!.sum(-1).dataSync(), new Array(B * S).fill(1), { rtol: 1e-5, what: "weights are distributions" });
  assert.ok(w!.dataSync()[1] < 1e-30, "causal weights above the diagonal are 0");
  assertClose(yw.dataSync(), mha.forward(x, x, x, { isCausal: true })[0].dataSync(), { rtol: 1e-4, atol: 1e-5, what: "composed = fused" });
  // sequence-first layout gives the same numbers
  const sf = new nn.MultiheadAttention(E, h);
  sf.loadStateDict(sd);
  assertClose(sf.forward(x.transpose(0, 1), mem.transpose(0, 1), mem.transpose(0, 1))[0].transpose(0, 1).dataSync(), mha.forward(x, mem, mem)[0].dataSync(), { rtol: 1e-5, atol: 1e-6, what: "seq-first" });
  assert.equal(Object.keys(sd), ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]);
  assert.throws(() => new nn.MultiheadAttention(10, 3), /embedDim 10 must be divisible by numHeads 3/);
  assert.throws(() => mha.forward(x, x, wg.zeros([B, S, 4])), /value must be \[batch, seq, 8\]/);
  assert.throws(() => mha.forward(x, x, x, { attnMask: wg.zeros([3, 3]) }), /attnMask \[3,3\] must be \[5, 5\] or \[4, 5, 5\]/);
  assert.throws(() => mha.forward(x, x, x, { keyPaddingMask: wg.zeros([2, 3]) }), /keyPaddingMask \[2,3\] must be \[2, 5\]/);
});

{
  wg.manualSeed(7);
  const mha = new nn.MultiheadAttention(4, 2, { batchFirst: true });
  gradcheck("MultiheadAttention self causal (fused)", mha, [rt([2, 3, 4], 30)], (x) => mha.forward(x, x, x, { isCausal: true })[0]);
  gradcheck("MultiheadAttention cross with key padding (composed)", mha, [rt([2, 3, 4], 31), rt([2, 4, 4], 32)],
    (q, kv) => mha.forward(q, kv, kv, { keyPaddingMask: wg.tensor([[0, 0, 0, 1], [0, 0, 0, 0]], { dtype: "int32" }) })[0]);
}

// ---------- Transformer layers ----------
const small = { dimFeedforward: 6, dropout: 0, batchFirst: true };
{
  wg.manualSeed(8);
  for (const normFirst of [false, true]) {
    const enc = new nn.TransformerEncoderLayer(4, 2, { ...small, normFirst, activation: normFirst ? "gelu" : "relu" });
    gradcheck(`TransformerEncoderLayer normFirst=${normFirst}`, enc, [rt([2, 3, 4], 40)], (x) => enc.forward(x), { samples: 5 });
    const dec = new nn.TransformerDecoderLayer(4, 2, { ...small, normFirst });
    gradcheck(`TransformerDecoderLayer normFirst=${normFirst}`, dec, [rt([2, 3, 4], 41), rt([2, 4, 4], 42)], (t, m) => dec.forward(t, m, { tgtIsCausal: true }), { samples: 5 });
  }
  const pos = new nn.LearnedPositionalEmbedding(6, 4);
  gradcheck("LearnedPositionalEmbedding", pos, [rt([2, 3, 4], 43)], (x) => pos.forward(x));
}

test("Transformer: PyTorch's state-dict names, causal = square subsequent mask, stacks, eval is deterministic", () => {
  wg.manualSeed(9);
  const t = new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 2, numDecoderLayers: 1, dimFeedforward: 16, batchFirst: true });
  const keys = Object.keys(t.stateDict());
  for (const k of ["encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.1.self_attn.out_proj.bias", "encoder.layers.1.linear1.weight", "encoder.layers.0.norm2.bias",
    "encoder.norm.weight", "decoder.layers.0.multihead_attn.in_proj_bias", "decoder.layers.0.norm3.weight", "decoder.norm.bias"]) assert.ok(keys.includes(k), k);
  assert.is(keys.length, 2 * 12 + 2 + 1 * 18 + 2);
  assert.equal(Object.keys(new nn.TransformerEncoderLayer(8, 2).stateDict()), [
    "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
    "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]);
  t.eval();
  const src = rt([2, 5, 8], 50), tgt = rt([2, 4, 8], 51);
  const a = t.forward(src, tgt, { tgtIsCausal: true }).dataSync();
  const b = t.forward(src, tgt, { tgtMask: nn.Transformer.generateSquareSubsequentMask(4) }).dataSync();
  assertClose(a, b, { rtol: 1e-4, atol: 1e-5, what: "isCausal = mask" });
  // causality: changing the last target position leaves earlier outputs alone
  const tgt2 = wg.cat([tgt.slice(1, 0, 3), rt([2, 1, 8], 52)], 1);
  const c = t.forward(src, tgt2, { tgtIsCausal: true });
  assertClose(c.slice(1, 0, 3).dataSync(), wg.tensor(a, { shape: [2, 4, 8] }).slice(1, 0, 3).dataSync(), { rtol: 1e-4, atol: 1e-5, what: "causal prefix" });
  // a layer instance given to a stack is copied with its weights, as PyTorch's deepcopy does
  const layer = new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16 });
  const stack = new nn.TransformerEncoder(layer, 3);
  assertClose(stack.layers[2].linear1.weight.dataSync(), layer.linear1.weight.dataSync(), { what: "cloned layer" });
  assert.ok(stack.layers[2].linear1.weight !== layer.linear1.weight, "clones own their parameters");
  assert.throws(() => t.forward(src, rt([2, 4, 6], 53)), /MultiheadAttention: query must be \[batch, seq, 8\]/);
});

test("PositionalEncoding: sin/cos table as the PyTorch tutorial's, buffer pe [maxLen, 1, d], both layouts", () => {
  const pe = new nn.PositionalEncoding(6, { dropout: 0, maxLen: 10 });
  assert.equal(pe.pe.shape, [10, 1, 6]);
  assert.equal(Object.keys(pe.stateDict()), ["pe"]);
  const y = pe.forward(wg.zeros([4, 2, 6])).dataSync();
  const p = 3, i = 2;
  assertClose([y[(p * 2 + 1) * 6 + i], y[(p * 2 + 1) * 6 + i + 1]], [Math.sin(p / 10000 ** (i / 6)), Math.cos(p / 10000 ** (i / 6))], { rtol: 1e-5, what: "pe[3, 2:4]" });
  const bf = new nn.PositionalEncoding(6, { dropout: 0, maxLen: 10, batchFirst: true });
  assertClose(bf.forward(wg.zeros([2, 4, 6])).transpose(0, 1).dataSync(), y, { what: "batchFirst" });
  assert.throws(() => pe.forward(wg.zeros([11, 2, 6])), /PositionalEncoding: input must be \[seq, batch, 6\] with seq ≤ 10, got \[11,2,6\]/);
  assert.throws(() => new nn.LearnedPositionalEmbedding(4, 6).forward(wg.zeros([1, 5, 6])), /seq ≤ 4/);
});

test("state dicts round-trip through safetensors with PyTorch names (LSTM, GRU, BatchNorm2d, Transformer)", async () => {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wg-layers-"));
  const make = [
    () => new nn.LSTM(3, 4, { numLayers: 2 }),
    () => new nn.GRU(3, 4),
    () => new nn.BasicBlock(2, 4, 2),
    () => new nn.Transformer({ dModel: 8, nhead: 2, numEncoderLayers: 1, numDecoderLayers: 1, dimFeedforward: 8 }),
  ];
  for (const [i, mk] of make.entries()) {
    wg.manualSeed(100 + i);
    const a = mk();
    if (a instanceof nn.BasicBlock) a.forward(wg.randn([2, 2, 4, 4])); // move the running stats off their initial values
    const file = path.join(dir, `m${i}.safetensors`);
    await wg.io.saveSafetensors(file, a.stateDict());
    wg.manualSeed(200 + i);
    const b = mk();
    const { tensors } = await wg.io.loadSafetensors(file);
    assert.equal(Object.keys(tensors).sort(), Object.keys(a.stateDict()).sort());
    b.loadStateDict(tensors);
    const sa = a.stateDict(), sb = b.stateDict();
    for (const k of Object.keys(sa)) assertClose(sb[k].dataSync(), sa[k].dataSync(), { what: k });
  }
  fs.rmSync(dir, { recursive: true });
});

test.run();
