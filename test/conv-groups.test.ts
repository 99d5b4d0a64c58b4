// Issue 15: conv2d groups (depthwise through its own kernels, grouped as one
// GEMM per group) and pooling ceilMode, against float64 references on every
// backend; the depthwise wasm kernels against a plain reference over widths
// that hit every remainder of the 4-wide body, in both SIMD binaries.
import * as assert from "uvu/assert";
import { test } from "uvu";
import * as wg from "../host/index.js";
import { forEachBackend } from "./backends.js";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";

type Opts = { stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number };
const outSize = (n: number, k: number, s: number, p: number, d: number) => Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;

/** PyTorch's grouped conv2d in float64: x [N, C, H, W], w [Cout, C/G, KH, KW]. */
function convRef(x: ArrayLike<number>, [N, C, H, W]: number[], w: ArrayLike<number>, [Cout, Cg, KH, KW]: number[], b: ArrayLike<number> | null, o: Opts): { y: Float64Array; shape: number[] } {
  const [SH, SW] = o.stride, [PH, PW] = o.padding, [DH, DW] = o.dilation, G = o.groups, Og = Cout / G;
  const OH = outSize(H, KH, SH, PH, DH), OW = outSize(W, KW, SW, PW, DW);
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++) for (let co = 0; co < Cout; co++) {
    const g = Math.floor(co / Og);
    for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      let s = b ? b[co] : 0;
      for (let ci = 0; ci < Cg; ci++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
        const ih = oh * SH - PH + kh * DH, iw = ow * SW - PW + kw * DW;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        s += x[((n * C + g * Cg + ci) * H + ih) * W + iw] * w[((co * Cg + ci) * KH + kh) * KW + kw];
      }
      y[((n * Cout + co) * OH + oh) * OW + ow] = s;
    }
  }
  return { y, shape: [N, Cout, OH, OW] };
}

/** PyTorch's pooling output size with ceil_mode. */
function poolOut(n: number, k: number, s: number, p: number, ceil: boolean): number {
  let o = (ceil ? Math.ceil((n + 2 * p - k) / s) : Math.floor((n + 2 * p - k) / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o--;
  return o;
}

/** max / avg pooling over planes in float64, PyTorch's windows and divisors. */
function poolRef(x: ArrayLike<number>, [N, C, H, W]: number[], k: number, s: number, p: number, ceil: boolean, mode: "max" | "avg", cip = true): { y: Float64Array; shape: number[] } {
  const OH = poolOut(H, k, s, p, ceil), OW = poolOut(W, k, s, p, ceil);
  const y = new Float64Array(N * C * OH * OW);
  for (let pl = 0; pl < N * C; pl++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let hs = oh * s - p, ws = ow * s - p, he = Math.min(hs + k, H + p), we = Math.min(ws + k, W + p);
    const pool = (he - hs) * (we - ws);
    hs = Math.max(hs, 0); ws = Math.max(ws, 0); he = Math.min(he, H); we = Math.min(we, W);
    let m = -Infinity, sum = 0;
    for (let h = hs; h < he; h++) for (let w = ws; w < we; w++) { const v = x[pl * H * W + h * W + w]; m = Math.max(m, v); sum += v; }
    y[(pl * OH + oh) * OW + ow] = mode === "max" ? m : sum / (cip ? pool : (he - hs) * (we - ws));
  }
  return { y, shape: [N, C, OH, OW] };
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) if (!(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]))) assert.unreachable(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
};

for (const v of KERNEL_VARIANTS) {
  test(`depthwise kernels (${v}): forward, dx and dw against a plain reference, OW 1–9, strides 1–2, padding, dilation`, () => {
    const box = kernels(v);
    for (const OWt of [1, 2, 3, 4, 5, 6, 7, 8, 9]) for (const [K, S, P, D] of [[3, 1, 1, 1], [3, 2, 1, 1], [2, 1, 0, 2], [1, 1, 0, 1]]) {
      box.reset();
      const N = 2, C = 3, H = 5, W = (OWt - 1) * S + D * (K - 1) + 1 - 2 * P > 0 ? (OWt - 1) * S + D * (K - 1) + 1 - 2 * P : 1;
      const OH = outSize(H, K, S, P, D), OW = outSize(W, K, S, P, D);
      if (OH < 1 || OW < 1) continue;
      const x = randomF32(N * C * H * W, W), w = randomF32(C * K * K, 7), dy = randomF32(N * C * OH * OW, 9);
      const geo = [N, C, H, W, K, K, S, S, P, P, D, D, OH, OW];
      const xp = box.alloc(x.length * 4), wp = box.alloc(w.length * 4), yp = box.alloc(N * C * OH * OW * 4 + 4);
      const dyp = box.alloc(dy.length * 4), dxp = box.alloc(x.length * 4 + 4), dwp = box.alloc(w.length * 4 + 4);
      box.f32(xp, x.length).set(x); box.f32(wp, w.length).set(w); box.f32(dyp, dy.length).set(dy);
      box.f32(yp, N * C * OH * OW + 1)[N * C * OH * OW] = 777;
      box.k.depthwise_conv2d_f32(xp, wp, yp, ...geo);
      const what = `OW ${OW} k${K} s${S} p${P} d${D}`;
      const ref = convRef(x, [N, C, H, W], w, [C, 1, K, K], null, { stride: [S, S], padding: [P, P], dilation: [D, D], groups: C });
      assertClose(box.f32(yp, ref.y.length), ref.y, { what: `depthwise forward ${what}`, rtol: 1e-5, atol: 1e-6 });
      assert.is(box.f32(yp, N * C * OH * OW + 1)[N * C * OH * OW], 777, `forward wrote past the end (${what})`);
      // dx = Σ dy·w over the taps reading each input; dw = Σ dy·x
      const dx = new Float64Array(x.length), dw = new Float64Array(w.length);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) {
        const ih = oh * S - P + kh * D, iw = ow * S - P + kw * D;
        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
        const g = dy[((n * C + c) * OH + oh) * OW + ow];
        dx[((n * C + c) * H + ih) * W + iw] += g * w[(c * K + kh) * K + kw];
        dw[(c * K + kh) * K + kw] += g * x[((n * C + c) * H + ih) * W + iw];
      }
      box.f32(dxp, x.length).fill(NaN); // written, not accumulated
      box.k.depthwise_conv2d_backward_input_f32(dyp, wp, dxp, ...geo);
      assertClose(box.f32(dxp, x.length), dx, { what: `depthwise dx ${what}`, rtol: 1e-5, atol: 1e-6 });
      box.f32(dwp, w.length).fill(NaN);
      box.k.depthwise_conv2d_backward_weight_f32(xp, dyp, dwp, N, C, C, H, W, K, K, S, S, P, P, D, D, OH, OW);
      assertClose(box.f32(dwp, w.length), dw, { what: `depthwise dw ${what}`, rtol: 1e-5, atol: 1e-5 });
    }
  });
}
test.run();

forEachBackend("conv-groups", (backend, test) => {
  const cases: [string, number[], number[], Partial<Opts>][] = [
    ["depthwise 3×3 pad 1", [2, 4, 6, 9], [4, 1, 3, 3], { padding: [1, 1], groups: 4 }],
    ["depthwise stride 2, dilation, rectangular", [1, 3, 7, 8], [3, 1, 3, 2], { stride: [2, 1], padding: [1, 0], dilation: [1, 2], groups: 3 }],
    ["grouped 2 groups", [2, 4, 5, 6], [6, 2, 3, 3], { padding: [1, 1], groups: 2 }],
    ["grouped, channel multiplier (groups = C, Cout = 2C)", [1, 3, 5, 5], [6, 1, 3, 3], { stride: [2, 2], groups: 3 }],
    ["grouped 4 groups, 1×1", [2, 8, 3, 4], [4, 2, 1, 1], { groups: 4 }],
  ];
  for (const [name, xs, ws, o] of cases) {
    test(`conv2d groups: ${name} matches the float64 reference, with and without bias`, async () => {
      const opts: Opts = { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1, ...o };
      const x = randomF32(xs.reduce((a, b) => a * b), 3), w = randomF32(ws.reduce((a, b) => a * b), 4), b = randomF32(ws[0], 5);
      const ref = convRef(x, xs, w, ws, b, opts), refNb = convRef(x, xs, w, ws, null, opts);
      const [y, y2] = wg.scope(() => {
        const xt = wg.tensor(x, { shape: xs }), wt = wg.tensor(w, { shape: ws });
        return [wg.conv2d(xt, wt, wg.tensor(b), opts), wg.conv2d(xt, wt, null, opts)];
      });
      assert.equal(y.shape, ref.shape);
      close(await y.data(), ref.y, `${name} (bias)`);
      close(await y2.data(), refNb.y, `${name} (no bias)`);
      y.dispose(); y2.dispose();
    });
  }

  test("nn.Conv2d groups: weight [out, in/groups, kh, kw], PyTorch's repr, the functional result", async () => {
    wg.manualSeed(3);
    const c = new wg.nn.Conv2d(6, 6, 3, 1, 1, { groups: 6, bias: false });
    assert.equal(c.weight.shape, [6, 1, 3, 3]);
    assert.ok(String(c).includes("Conv2d(6, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=6, bias=False)"), String(c));
    const g = new wg.nn.Conv2d(4, 6, 1, 1, 0, { groups: 2 });
    assert.equal(g.weight.shape, [6, 2, 1, 1]);
    const x = wg.rand([2, 6, 5, 5], { seed: 4 });
    const y = c.forward(x);
    const r = convRef(await x.data(), [2, 6, 5, 5], await c.weight.data(), [6, 1, 3, 3], null, { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 6 });
    close(await y.data(), r.y, "Conv2d depthwise");
  });

  test("conv2d groups errors name the option and the shapes", () => {
    const x = wg.zeros([1, 4, 5, 5]);
    assert.throws(() => wg.conv2d(x, wg.zeros([4, 1, 3, 3]), null, { groups: 3 }), /conv2d: groups 3 must divide the input channels \(4\) and the output channels \(4\)/);
    assert.throws(() => wg.conv2d(x, wg.zeros([4, 4, 3, 3]), null, { groups: 2 }), /conv2d: input \[1,4,5,5\] has 4 channels \(2 groups of 2\), weight \[4,4,3,3\] expects 4 per group/);
    assert.throws(() => wg.conv2d(x, wg.zeros([4, 1, 3, 3]), null, { groups: 0 }), /conv2d: groups must be a positive integer/);
    assert.throws(() => wg.conv2d(x, wg.zeros([4, 4, 3, 3]), null, { paddingMode: "reflect" } as never), /conv2d.*paddingMode/);
    assert.throws(() => new wg.nn.Conv2d(4, 6, 3, 1, 0, { groups: 4 }), /Conv2d: groups 4 must divide inChannels 4 and outChannels 6/);
    assert.throws(() => new wg.nn.Conv2d(4, 4, 3, 1, 0, { paddingMode: "zeros" } as never), /Conv2d.*paddingMode/);
  });

  const pools: [number[], number, number, number][] = [[[1, 2, 5, 5], 2, 2, 0], [[2, 1, 7, 6], 3, 2, 1], [[1, 1, 5, 5], 2, 2, 1], [[1, 2, 6, 9], 3, 3, 0], [[1, 1, 4, 4], 2, 2, 0]];
  for (const [xs, k, s, p] of pools) {
    test(`pooling ceilMode: ${xs} k${k} s${s} p${p}: PyTorch's output size and values (max, avg, countIncludePad false)`, async () => {
      const x = randomF32(xs.reduce((a, b) => a * b), 11);
      for (const ceil of [false, true]) {
        const xt = wg.tensor(x, { shape: xs });
        const mx = wg.maxPool2d(xt, k, { stride: s, padding: p, ceilMode: ceil });
        const av = wg.avgPool2d(xt, k, { stride: s, padding: p, ceilMode: ceil });
        const av0 = wg.avgPool2d(xt, k, { stride: s, padding: p, ceilMode: ceil, countIncludePad: false });
        const rm = poolRef(x, xs, k, s, p, ceil, "max"), ra = poolRef(x, xs, k, s, p, ceil, "avg"), ra0 = poolRef(x, xs, k, s, p, ceil, "avg", false);
        assert.equal(mx.shape, rm.shape, `ceil ${ceil}`);
        close(await mx.data(), rm.y, `max ceil ${ceil}`);
        close(await av.data(), ra.y, `avg ceil ${ceil}`);
        close(await av0.data(), ra0.y, `avg countIncludePad false ceil ${ceil}`);
        [xt, mx, av, av0].forEach((t) => t.dispose());
      }
    });
  }

  test("ceilMode: the window that would start in the right padding is dropped; the layers take it; 2×2 pools of odd sizes through relu", async () => {
    // H 5, k 2, s 2, p 1: ceil((5 + 2 − 2) / 2) + 1 = 4, but window 3 would start at 6 − 1 = 5 ≥ H: 3 outputs
    assert.equal(wg.maxPool2d(wg.zeros([1, 1, 5, 5]), 2, { padding: 1, ceilMode: true }).shape, [1, 1, 3, 3]);
    assert.equal(new wg.nn.MaxPool2d(2, 2, 0, { ceilMode: true }).forward(wg.zeros([1, 1, 7, 7])).shape, [1, 1, 4, 4]);
    assert.equal(new wg.nn.AvgPool2d(3, 2, 0, { ceilMode: true, countIncludePad: false }).forward(wg.zeros([1, 1, 6, 6])).shape, [1, 1, 3, 3]);
    assert.ok(String(new wg.nn.MaxPool2d(2, 2, 0, { ceilMode: true })).includes("ceil_mode=True"));
    assert.throws(() => wg.maxPool2d(wg.zeros([1, 1, 4, 4]), 2, { dilation: 2 } as never), /maxPool2d.*dilation/);
    assert.throws(() => wg.maxPool2d(wg.zeros([1, 1, 4, 4]), 2, { ceilMode: 1 } as never), /maxPool2d: ceilMode must be true or false/);
    assert.throws(() => new wg.nn.MaxPool2d(2, 2, 0, { returnIndices: true } as never), /MaxPool2d.*returnIndices/);
    // maxPool2d(relu(z)) with the last window hanging over (the fused backward must not take the tiled path)
    const z = wg.tensor(randomF32(2 * 5 * 7, 13), { shape: [1, 2, 5, 7], requiresGrad: true });
    const y = wg.maxPool2d(z.relu(), 2, { ceilMode: true });
    assert.equal(y.shape, [1, 2, 3, 4]);
    y.sum().backward();
    const zd = await z.data(), gd = await z.grad!.data();
    const r = poolRef(Float64Array.from(zd, (v) => Math.max(v, 0)), [1, 2, 5, 7], 2, 2, 0, true, "max");
    close(await y.data(), r.y, "maxPool2d(relu) ceil");
    let total = 0;
    for (const g of gd) total += g;
    assert.is(total, r.y.filter((v) => v > 0).length, "one unit of gradient per positive window");
  });
});
