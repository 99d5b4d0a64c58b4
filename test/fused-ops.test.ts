// Issue 17's fused ops against the composite formulas they replaced (the
// formulas of commit b3931e6, built from existing ops), on every backend:
// wg.rmsNorm, wg.rope and wg.swiglu equal them within 1e-6 relative, forward
// and gradient (wasm gives the same bits for rope and swiglu), over shapes that
// hit the SIMD remainders and Llama-like widths. Their gradients are checked by
// finite differences in gradcheck.test.ts.
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { assertClose, randomF32 } from "./harness.js";
import { forEachBackend } from "./backends.js";

const rnd = (shape: number[], seed: number, scale = 1) => wg.tensor(randomF32(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale), { shape });

function rmsNormComposite(x: wg.Tensor, normalizedShape: number[], weight: wg.Tensor | null, eps: number): wg.Tensor {
  const dims = normalizedShape.map((_, i) => x.rank - normalizedShape.length + i);
  const y = wg.mul(x, wg.rsqrt(wg.add(wg.mean(wg.square(x), dims, true), eps)));
  return weight ? wg.mul(y, weight) : y;
}

function ropeComposite(x: wg.Tensor, cos: wg.Tensor, sin: wg.Tensor): wg.Tensor {
  const last = x.rank - 1, D = x.shape[last];
  const x1 = wg.slice(x, last, 0, D / 2), x2 = wg.slice(x, last, D / 2);
  const c = wg.cat([cos, cos], 1), s = wg.cat([sin, sin], 1);
  return wg.add(wg.mul(x, c), wg.mul(wg.cat([wg.neg(x2), x1], last), s));
}

/** The value and the gradients of Σ f(inputs)·r for a fixed r. */
async function valueAndGrads(f: (...xs: wg.Tensor[]) => wg.Tensor, inputs: wg.Tensor[]): Promise<Float32Array[]> {
  const xs = inputs.map((t) => { const c = t.detach(); c.requiresGrad = true; return c; });
  const y = f(...xs);
  const r = rnd([...y.shape], 99);
  y.mul(r).sum().backward();
  const out = [await y.data() as Float32Array];
  for (const t of xs) out.push(await t.grad!.data() as Float32Array);
  return out;
}

async function assertSame(what: string, fused: (...xs: wg.Tensor[]) => wg.Tensor, composite: (...xs: wg.Tensor[]) => wg.Tensor, inputs: wg.Tensor[], tol = { rtol: 1e-6, atol: 1e-7 }) {
  const a = await valueAndGrads(fused, inputs), b = await valueAndGrads(composite, inputs);
  a.forEach((v, i) => assertClose(v, b[i], { ...tol, what: `${what} ${i ? `gradient ${i}` : "value"}` }));
}

forEachBackend("fused ops equal their composite formulas", (backend, test) => {
  test("rmsNorm: with and without weight, one and two normalised dims, cols 1–17, 33, 127, 576", async () => {
    for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 33, 127, 576]) {
      const x = rnd([3, cols], cols, 2), w = rnd([cols], cols + 1);
      await assertSame(`rmsNorm [3, ${cols}] weight`, (a, b) => wg.rmsNorm(a, [cols], b, 1e-6), (a, b) => rmsNormComposite(a, [cols], b, 1e-6), [x, w], { rtol: 1e-6, atol: 1e-6 });
      await assertSame(`rmsNorm [3, ${cols}]`, (a) => wg.rmsNorm(a, [cols]), (a) => rmsNormComposite(a, [cols], null, 1.1920928955078125e-7), [x], { rtol: 1e-6, atol: 1e-6 });
    }
    const x = rnd([2, 3, 4], 5);
    await assertSame("rmsNorm over [3, 4]", (a) => wg.rmsNorm(a, [3, 4], null, 1e-5), (a) => rmsNormComposite(a, [3, 4], null, 1e-5), [x], { rtol: 1e-6, atol: 1e-6 });
  });

  test("rope: [B, H, S, D] for D = 2, 4, 6, 8, 64, 128, and a [S, D] input", async () => {
    for (const D of [2, 4, 6, 8, 64, 128]) {
      const S = 3, h = D / 2;
      const angle = Array.from({ length: S * h }, (_, j) => (Math.floor(j / h) + 5) * 10000 ** (-(j % h) / h));
      const cos = wg.tensor(angle.map(Math.cos), { shape: [S, h] }), sin = wg.tensor(angle.map(Math.sin), { shape: [S, h] });
      await assertSame(`rope D ${D}`, (x) => wg.rope(x, cos, sin), (x) => ropeComposite(x, cos, sin), [rnd([2, 2, S, D], D)]);
      if (D === 8) await assertSame("rope [S, D]", (x) => wg.rope(x, cos, sin), (x) => ropeComposite(x, cos, sin), [rnd([S, D], 1)]);
    }
    // a gradient for cos and sin too: the fallback gives the composite's
    const cos = rnd([2, 3], 7), sin = rnd([2, 3], 8);
    await assertSame("rope (x, cos, sin)", (x, c, s) => wg.rope(x, c, s), ropeComposite, [rnd([4, 2, 6], 9), cos, sin]);
  });

  test("swiglu: lengths 1–17, 33, 127, 1536, one shape of rank 3", async () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 33, 127, 1536]) {
      await assertSame(`swiglu [${n}]`, (g, u) => wg.swiglu(g, u), (g, u) => wg.mul(wg.silu(g), u), [rnd([n], n, 4), rnd([n], n + 1)]);
    }
    await assertSame("swiglu [2, 3, 5]", (g, u) => wg.swiglu(g, u), (g, u) => wg.mul(wg.silu(g), u), [rnd([2, 3, 5], 3, 4), rnd([2, 3, 5], 4)]);
  });

  test("errors say what was wrong", () => {
    assert.throws(() => wg.swiglu(wg.zeros([2, 3]), wg.zeros([3, 2])), /swiglu: gate \[2,3\] and up \[3,2\] must have one shape/);
    assert.throws(() => wg.rope(wg.zeros([2, 5]), wg.zeros([2, 2]), wg.zeros([2, 2])), /rope: the head size D = 5 must be even/);
    assert.throws(() => wg.rope(wg.zeros([2, 4]), wg.zeros([3, 2]), wg.zeros([2, 2])), /rope: cos must be \[S, D\/2\] = \[2, 2\], got \[3,2\]/);
    assert.throws(() => wg.rmsNorm(wg.zeros([2, 4]), [4], wg.zeros([3])), /rmsNorm: weight \[3\] must have 4 elements/);
  });
});
