// maxpool2d_relu_backward_f32 (the gradient of maxpool(relu(z)) w.r.t. z in one pass)
// against a float64 scatter reference: the 2×2 stride-2 tiled path over odd and even
// H/W and every OW % 4, the general path (tiled = 0) over overlapping and padded
// windows, ties among ReLU's zeros, NaN, garbage in dx before the call, both binaries,
// and a plane split giving the same bits. Then the host: maxPool2d(relu(z)) takes the
// fused path, gives the unfused composition's gradient, and passes a finite-difference check.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels, putAt } from "./harness.js";

interface Geo { NC: number; H: number; W: number; K: number; S: number; P: number; OH: number; OW: number }

function geo(NC: number, H: number, W: number, K: number, S: number, P: number): Geo {
  return { NC, H, W, K, S, P, OH: Math.floor((H + 2 * P - K) / S) + 1, OW: Math.floor((W + 2 * P - K) / S) + 1 };
}
const name = (g: Geo) => `NC${g.NC} ${g.H}x${g.W} k${g.K} s${g.S} p${g.P} -> ${g.OH}x${g.OW}`;

/** relu(z) with many exact zeros (ties) and a NaN or two. */
function reluInput(n: number, seed: number): Float32Array {
  const z = randomF32(n, seed).map((v) => Math.round(v * 4) / 4);
  if (n > 7) z[7] = NaN;
  return z.map((v) => (Number.isNaN(v) ? NaN : Math.max(v, 0)));
}

const TILED: Geo[] = [];
for (const H of [2, 3, 4, 5, 26, 27]) for (const W of [2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 26, 27]) TILED.push(geo(2, H, W, 2, 2, 0));
const GENERAL: Geo[] = [geo(3, 7, 9, 3, 2, 1), geo(2, 6, 10, 2, 1, 0), geo(1, 5, 5, 3, 3, 1), ...TILED.slice(0, 12)];

for (const v of KERNEL_VARIANTS) {
  test(`${v}: maxpool2d_relu_backward_f32 matches the masked scatter reference (tiled and general)`, () => {
    const box = kernels(v);
    let seed = 500;
    for (const [tiled, cases] of [[1, TILED], [0, GENERAL]] as const) {
      for (const g of cases) {
        box.reset();
        const len = g.NC * g.H * g.W, n = g.NC * g.OH * g.OW;
        const x = reluInput(len, seed);
        const dy = randomF32(n, seed + 1);
        const px = putAt(box, x, 0), py = putAt(box, new Float32Array(n), 1), pi = putAt(box, new Float32Array(n), 2);
        const pdy = putAt(box, dy, 3), pdx = putAt(box, randomF32(len, seed + 2), seed % 4); // garbage: every element must be written
        box.k.maxpool2d_f32(px, py, pi, g.NC, g.H, g.W, g.K, g.K, g.S, g.S, g.P, g.P, g.OH, g.OW);
        const y = box.f32(py, n).slice(), idx = box.i32(pi, n).slice();
        box.k.maxpool2d_relu_backward_f32(pdy, pi, py, pdx, g.NC, g.H, g.W, g.OH, g.OW, tiled);
        const e = new Float64Array(len);
        for (let p = 0; p < g.NC; p++) for (let o = 0; o < g.OH * g.OW; o++) {
          const at = p * g.OH * g.OW + o;
          if (y[at] > 0) e[p * g.H * g.W + idx[at]] += dy[at];
        }
        // Overlapping windows add in f32 (tiled windows are disjoint: exact).
        assertClose(box.f32(pdx, len), e, { rtol: tiled ? 0 : 1e-6, atol: 0, what: `${v} tiled ${tiled} ${name(g)}` });
        seed += 3;
      }
    }
  });

  test(`${v}: maxpool2d_relu_backward_f32 gives the same bits tiled and general, and split over planes`, () => {
    const box = kernels(v);
    const g = geo(6, 26, 27, 2, 2, 0);
    const len = g.NC * g.H * g.W, n = g.NC * g.OH * g.OW, hw = g.H * g.W, ohw = g.OH * g.OW;
    const px = putAt(box, reluInput(len, 900), 0), py = putAt(box, new Float32Array(n), 0), pi = putAt(box, new Float32Array(n), 0);
    const pdy = putAt(box, randomF32(n, 901), 0);
    box.k.maxpool2d_f32(px, py, pi, g.NC, g.H, g.W, 2, 2, 2, 2, 0, 0, g.OH, g.OW);
    const run = (tiled: number, parts: number[]) => {
      const pdx = putAt(box, randomF32(len, 902), 0);
      let p0 = 0;
      for (const k of parts) {
        box.k.maxpool2d_relu_backward_f32(pdy + p0 * ohw * 4, pi + p0 * ohw * 4, py + p0 * ohw * 4, pdx + p0 * hw * 4, k, g.H, g.W, g.OH, g.OW, tiled);
        p0 += k;
      }
      return new Uint32Array(box.f32(pdx, len).slice().buffer);
    };
    const whole = run(0, [6]);
    assert.equal(run(1, [6]), whole, "tiled vs general");
    assert.equal(run(1, [1, 3, 2]), whole, "tiled split 1+3+2");
  });
}

await wg.init({ threads: 1, verbose: false });

test("maxPool2d(relu(z)) sends its gradient to z through the fused kernel, equal to the unfused composition", () => {
  const cases: [number[], number, { stride?: number; padding?: number }][] = [[[2, 3, 26, 27], 2, {}], [[1, 2, 7, 9], 3, { stride: 2, padding: 1 }]];
  for (const [shape, k, opts] of cases) {
    wg.scope(() => {
      const n = shape.reduce((a, b) => a * b, 1);
      const z = wg.tensor(randomF32(n, 77).map((v) => Math.round(v * 8) / 8), { shape: [...shape], requiresGrad: true });
      const fused = wg.maxPool2d(z.relu(), k, opts);
      assert.is((fused as any)._node.name, "maxPool2d(relu)");
      const unfused = wg.maxPool2d(z.relu().mul(1), k, opts);
      assert.is((unfused as any)._node.name, "maxPool2d");
      assert.equal(fused.dataSync(), unfused.dataSync());
      const r = wg.tensor(randomF32(fused.size, 78), { shape: [...fused.shape] });
      const gz = (y: wg.Tensor) => wg.grad(() => y.mul(r).sum(), [z]).grads[0]!.dataSync();
      assertClose(gz(wg.maxPool2d(z.relu(), k, opts)), gz(wg.maxPool2d(z.relu().mul(1), k, opts)),
        { rtol: 0, atol: 0, what: `fused vs unfused ${shape}` });
    });
  }
});

test("gradcheck maxPool2d(relu(z))", () => {
  wg.scope(() => {
    // Distinct values 0.05 apart around 0, so neither the max nor the ReLU flips within ±eps.
    const shape = [1, 2, 5, 6], n = 60, eps = 1e-2;
    const u = randomF32(n, 31);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => u[a] - u[b]);
    const base = new Float32Array(n);
    order.forEach((j, rank) => (base[j] = (rank - n / 2 + 0.5) * 0.05));
    const r = wg.tensor(randomF32(12, 32), { shape: [1, 2, 2, 3] });
    const loss = (z: wg.Tensor) => wg.maxPool2d(z.relu(), 2).mul(r).sum();
    const z = wg.tensor(base, { shape, requiresGrad: true });
    loss(z).backward();
    const analytic = z.grad!.dataSync();
    for (let i = 0; i < n; i++) {
      const at = (v: number) => wg.noGrad(() => {
        const d = Float32Array.from(base);
        d[i] = v;
        return loss(wg.tensor(d, { shape })).item();
      });
      const numeric = (at(base[i] + eps) - at(base[i] - eps)) / (2 * eps);
      if (!(Math.abs(analytic[i] - numeric) <= 2e-3 + 3e-2 * Math.abs(numeric))) {
        assert.unreachable(`element ${i}: analytic ${analytic[i]}, numeric ${numeric}`);
      }
    }
  });
});

test.run();
