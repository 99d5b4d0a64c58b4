// gemv_f32 (assembly/gemv.ts): y = x·Wᵀ (+ bias, += y) for 1..4 rows of x, W [n, k]
// row-major, against float64; n and k 1..33 (every 4-row block and 4-float tail),
// 576 and 1536 (SmolLM-135M's widths); and linear at M = 1 (the gemm schedule's GEMV path).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, kernels, randomF32, assertClose, variantSupported } from "./harness.js";
import * as wg from "../host/index.js";

function reference(x: Float32Array, w: Float32Array, b: Float32Array | null, y0: Float32Array | null, m: number, n: number, k: number, ldx: number, ldw: number, ldy: number): Float64Array {
  const y = new Float64Array(m * ldy);
  for (let i = 0; i < m; i++) for (let o = 0; o < n; o++) {
    let s = 0;
    for (let d = 0; d < k; d++) s += x[i * ldx + d] * w[o * ldw + d];
    y[i * ldy + o] = s + (b ? b[o] : 0) + (y0 ? y0[i * ldy + o] : 0);
  }
  return y;
}

const SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33];

for (const variant of KERNEL_VARIANTS) {
  test(`${variant}: gemv_f32 over m 1..4, n and k 1..33, 576, 1536, bias and accumulate, strided rows`, () => {
    if (!variantSupported(variant)) return;
    const box = kernels(variant);
    const shapes: number[][] = [];
    for (const n of SIZES) for (const k of SIZES) shapes.push([1 + ((n + k) % 4), n, k]);
    shapes.push([1, 576, 576], [1, 1536, 576], [1, 576, 1536], [3, 37, 1536], [4, 1536, 33]);
    for (const [m, n, k] of shapes) {
      for (const [bias, acc, pad] of [[0, 0, 0], [1, 1, 3]]) {
        box.reset();
        const ldx = k + pad, ldw = k + pad, ldy = n + pad;
        const xd = randomF32(m * ldx, 1), wd = randomF32(n * ldw, 2), bd = bias ? randomF32(n, 3) : null, yd = randomF32(m * ldy, 4);
        const x = box.putF32(xd), w = box.putF32(wd), b = bd ? box.putF32(bd) : 0, y = box.putF32(yd);
        box.k.gemv_f32(x, w, b, y, m, n, k, ldx, ldw, ldy, acc);
        const want = reference(xd, wd, bd, acc ? yd : null, m, n, k, ldx, ldw, ldy);
        const got = box.f32(y, m * ldy);
        const what = `${variant} m${m} n${n} k${k}${bias ? " bias" : ""}${acc ? " accumulate" : ""}`;
        for (let i = 0; i < m; i++) {
          assertClose(got.subarray(i * ldy, i * ldy + n), want.subarray(i * ldy, i * ldy + n), { rtol: 1e-5, atol: 2e-5 * Math.sqrt(k), what });
          // the row padding is never written
          for (let o = n; o < ldy; o++) assert.is(got[i * ldy + o], yd[i * ldy + o], `${what}: padding of row ${i}`);
        }
      }
    }
  });
}

test("linear with 1..4 rows (the schedule's GEMV) matches float64, and its gradient still flows", async () => {
  for (const threads of [1, 2]) {
    await wg.init({ threads, verbose: false });
    for (const [m, n, k] of [[1, 1536, 576], [1, 49, 33], [3, 17, 576], [4, 576, 1536]]) {
      wg.scope(() => {
        const xd = randomF32(m * k, 5), wd = randomF32(n * k, 6), bd = randomF32(n, 7);
        const x = wg.tensor(xd, { shape: [m, k], requiresGrad: true }), w = wg.tensor(wd, { shape: [n, k], requiresGrad: true });
        const y = wg.linear(x, w, wg.tensor(bd));
        assertClose(y.dataSync(), reference(xd, wd, bd, null, m, n, k, k, k, n), { rtol: 1e-5, atol: 2e-5 * Math.sqrt(k), what: `linear ${m}×${n}×${k} threads ${threads}` });
        y.sum().backward();
        // dx = 1·W summed over outputs
        const dx = x.grad!.dataSync();
        for (let d = 0; d < k; d += Math.max(1, k >> 3)) {
          let s = 0;
          for (let o = 0; o < n; o++) s += wd[o * k + d];
          assert.ok(Math.abs(dx[d] - s) < 1e-3 * Math.sqrt(n), `dx[${d}]`);
        }
      });
    }
  }
});

test.run();
