// scan.ts kernels against plain references, in the plain-SIMD and relaxed-SIMD
// binaries: scan_f32 (cumulative sum and product, forward and reverse) and
// cumprod_backward_f32 over [outer, len, inner] with inner sweeping every
// remainder of the 4-wide body (inner = 1 is the scalar row loop) and len from 1.
// The kernels combine each column's values in order of len, so a float32
// reference in that order gives the same bits (rtol 0); cumprod_backward is held
// to a float64 reference with zeros in x (where a division would fail). Splitting
// outer (what threads do) gives the same bits; y may equal x.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import { ScanOp } from "../host/backends/abi.generated.js";

const LENS = [1, 2, 3, 5, 17];
const INNERS = [1, 2, 3, 4, 5, 7, 8, 9, 33];
const OUTERS = [1, 3];
const f = Math.fround;

/** Running op along len in float32, in the kernel's order. */
function scanRef(x: Float32Array, outer: number, len: number, inner: number, prod: boolean, reverse: boolean): Float32Array {
  const y = new Float32Array(x.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let acc = 0;
    for (let k = 0; k < len; k++) {
      const l = reverse ? len - 1 - k : k;
      const at = (o * len + l) * inner + i;
      acc = k === 0 ? x[at] : prod ? f(acc * x[at]) : f(acc + x[at]);
      y[at] = acc;
    }
  }
  return y;
}

/** d/dx of Σ dy·cumprod(x), in float64, by the definition: dx[k] = Σ_{l ≥ k} dy[l]·Π_{j ≤ l, j ≠ k} x[j]. */
function cumprodGradRef(x: Float32Array, dy: Float32Array, outer: number, len: number, inner: number): Float64Array {
  const dx = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    const at = (l: number) => (o * len + l) * inner + i;
    for (let k = 0; k < len; k++) {
      let s = 0;
      for (let l = k; l < len; l++) {
        let p = dy[at(l)];
        for (let j = 0; j <= l; j++) if (j !== k) p *= x[at(j)];
        s += p;
      }
      dx[at(k)] = s;
    }
  }
  return dx;
}

const same = (got: Float32Array, want: Float32Array, what: string) => {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) assert.unreachable(`${what}: element ${i} is ${got[i]}, want ${want[i]}`);
  }
};

for (const v of KERNEL_VARIANTS) {
  test(`${v}: scan_f32 sum and prod, forward and reverse, every inner remainder, the same bits as the float32 reference`, () => {
    const box = kernels(v);
    for (const outer of OUTERS) for (const len of LENS) for (const inner of INNERS) {
      const n = outer * len * inner;
      // products near 1 stay finite over 17 steps
      const x = randomF32(n, n + len).map((u, i) => (i % 2 ? u * 3 : 1 + u * 0.3));
      for (const [name, op] of [["sum", ScanOp.sum], ["prod", ScanOp.prod]] as const) for (const reverse of [0, 1]) {
        box.reset();
        const what = `${v} scan ${name}${reverse ? " reverse" : ""} [${outer},${len},${inner}]`;
        const px = box.putF32(x), py = box.alloc(n * 4 + 16);
        box.f32(py, n + 1)[n] = 777;
        box.k.scan_f32(op, px, py, outer, len, inner, reverse);
        const want = scanRef(x, outer, len, inner, name === "prod", !!reverse);
        same(box.f32(py, n), want, what);
        assert.is(box.f32(py, n + 1)[n], 777, `${what}: wrote past the end`);
        // a thread's share: outer split into rows
        if (outer > 1) {
          const pz = box.alloc(n * 4);
          const row = len * inner;
          box.k.scan_f32(op, px, pz, 1, len, inner, reverse);
          box.k.scan_f32(op, px + row * 4, pz + row * 4, outer - 1, len, inner, reverse);
          same(box.f32(pz, n), want, `${what} split over outer`);
        }
        // in place
        box.k.scan_f32(op, px, px, outer, len, inner, reverse);
        same(box.f32(px, n), want, `${what} in place`);
      }
    }
  });

  test(`${v}: cumprod_backward_f32 against the float64 definition, zeros in x included`, () => {
    const box = kernels(v);
    for (const outer of OUTERS) for (const len of LENS) for (const inner of INNERS) {
      box.reset();
      const n = outer * len * inner;
      const x = randomF32(n, 3 * n + len).map((u, i) => (i % 7 === 3 ? 0 : 1 + u * 0.5));
      const dy = randomF32(n, n + 11);
      const px = box.putF32(x), pdy = box.putF32(dy), pdx = box.alloc(n * 4 + 16);
      box.f32(pdx, n + 1)[n] = 777;
      box.k.cumprod_backward_f32(px, pdy, pdx, outer, len, inner);
      const what = `${v} cumprod_backward [${outer},${len},${inner}]`;
      assertClose(box.f32(pdx, n), cumprodGradRef(x, dy, outer, len, inner), { rtol: 1e-5, atol: 1e-5, what });
      assert.is(box.f32(pdx, n + 1)[n], 777, `${what}: wrote past the end`);
      // dx may be dy
      const whole = box.f32(pdx, n).slice();
      box.k.cumprod_backward_f32(px, pdy, pdy, outer, len, inner);
      same(box.f32(pdy, n), whole, `${what}, dx = dy`);
    }
  });
}

test.run();
