// maxpool2d_relu_backward_f32 (the gradient of maxpool(relu(z)) w.r.t. z in one pass)
// against a float64 scatter reference: the 2×2 stride-2 tiled path over odd and even
// H/W and every OW % 4, the general path (tiled = 0) over overlapping and padded
// windows, ties among ReLU's zeros, NaN, garbage in dx before the call, both binaries,
// and a plane split giving the same bits. The host's maxPool2d(relu(z)) (the fused path,
// equal to the unfused composition, and its finite-difference check) is tested on every
// backend in ops.test.ts and gradcheck.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
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

test.run();
