// rope.ts kernel against a float64 reference, in the plain-SIMD and
// relaxed-SIMD binaries: rope_f32 over head sizes D = 2, 4, 6, 8, 10, 64, 128
// (half-widths hitting every remainder of the 4-wide body), S and rows around
// 1; sign −1 undoes sign +1 (the backward is the rotation back); in place
// (y = x, as a KV cache rotates its keys) gives the bits of a separate output;
// splitting rows (a thread's share) gives the same bits; nothing is written
// past the output.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";

const DS = [2, 4, 6, 8, 10, 64, 128];
const SENTINEL = 777;

/** Llama's table: angle(s, i) = s·θ^(−i/h) with θ = 10000, positions from pos0. */
function table(S: number, h: number, pos0 = 0): { cos: Float32Array; sin: Float32Array } {
  const cos = new Float32Array(S * h), sin = new Float32Array(S * h);
  for (let s = 0; s < S; s++) for (let i = 0; i < h; i++) {
    const a = (pos0 + s) * 10000 ** (-i / h);
    cos[s * h + i] = Math.cos(a); sin[s * h + i] = Math.sin(a);
  }
  return { cos, sin };
}

function ropeRef(x: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, rows: number, S: number, D: number, sign: number): Float64Array {
  const h = D / 2, y = new Float64Array(rows * S * D);
  for (let r = 0; r < rows; r++) for (let s = 0; s < S; s++) for (let i = 0; i < h; i++) {
    const o = (r * S + s) * D + i, c = cos[s * h + i], sn = sign * sin[s * h + i];
    y[o] = x[o] * c - x[o + h] * sn;
    y[o + h] = x[o + h] * c + x[o] * sn;
  }
  return y;
}

for (const v of KERNEL_VARIANTS) {
  test(`${v}: rope_f32 against float64, D = ${DS.join(", ")}, both signs; sign −1 undoes sign +1`, () => {
    const box = kernels(v);
    for (const D of DS) for (const S of [1, 3, 5]) for (const rows of [1, 2, 3]) {
      box.reset();
      const n = rows * S * D, h = D / 2, what = `${v} rope rows ${rows} S ${S} D ${D}`;
      const x = randomF32(n, n + D), { cos, sin } = table(S, h, 7);
      const px = box.putF32(x), pc = box.putF32(cos), ps = box.putF32(sin);
      for (const sign of [1, -1]) {
        const py = box.alloc(n * 4 + 16);
        box.f32(py, n + 1)[n] = SENTINEL;
        box.k.rope_f32(px, pc, ps, py, rows, S, D, sign);
        assert.is(box.f32(py, n + 1)[n], SENTINEL, `${what} sign ${sign}: wrote past the end`);
        assertClose(box.f32(py, n), ropeRef(x, cos, sin, rows, S, D, sign), { rtol: 1e-6, atol: 2e-7, what: `${what} sign ${sign}` });
        if (sign === 1) {
          const pz = box.alloc(n * 4);
          box.k.rope_f32(py, pc, ps, pz, rows, S, D, -1);
          assertClose(box.f32(pz, n), x, { rtol: 1e-5, atol: 1e-6, what: `${what}: rotated back` });
        }
      }
    }
  });

  test(`${v}: rope_f32 in place (y = x) and over split rows gives the bits of one call`, () => {
    const box = kernels(v);
    for (const D of DS) for (const S of [1, 4]) {
      box.reset();
      const rows = 5, n = rows * S * D, h = D / 2, split = 2, so = split * S * D * 4;
      const x = randomF32(n, D + S), { cos, sin } = table(S, h);
      const px = box.putF32(x), pc = box.putF32(cos), ps = box.putF32(sin);
      const whole = box.alloc(n * 4 + 16), parts = box.alloc(n * 4 + 16);
      box.k.rope_f32(px, pc, ps, whole, rows, S, D, 1);
      box.k.rope_f32(px, pc, ps, parts, split, S, D, 1);
      box.k.rope_f32(px + so, pc, ps, parts + so, rows - split, S, D, 1);
      assert.equal(Array.from(box.f32(parts, n)), Array.from(box.f32(whole, n)), `${v} D ${D} S ${S}: split rows`);
      box.k.rope_f32(px, pc, ps, px, rows, S, D, 1);
      assert.equal(Array.from(box.f32(px, n)), Array.from(box.f32(whole, n)), `${v} D ${D} S ${S}: in place`);
    }
  });
}

test.run();
