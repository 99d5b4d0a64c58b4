// gemm.ts kernels against a float64 reference: every transpose combination,
// = and +=, m, n, k below / equal / above the 4×8 tile and across KC (256) and
// MC (128) block boundaries, strided and unaligned operands, C padding left
// untouched, and bit-identical results when the host splits the rows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";

import { TRANS_A, TRANS_B, ACCUMULATE, flagName, place, reference, type Placed } from "./gemm-reference.js";
const KC = 256; // must match assembly/gemm.ts (the packed layout test spells it out)

const M_SWEEP = [1, 2, 3, 4, 5, 7, 8, 13, 67];
const N_SWEEP = [1, 7, 8, 9, 15, 16, 17, 33];
const K_SWEEP = [1, 2, 3, 7, 8, 255, 256, 257, 300];





/** Operands for one case; the pads and shifts vary with the seed so strides and misalignment vary too. */
function operands(box: KernelBox, m: number, n: number, k: number, flags: number, seed: number) {
  const A = flags & TRANS_A ? place(box, k, m, seed, seed % 3, 1 + (seed % 3)) : place(box, m, k, seed, seed % 3, 1 + (seed % 3));
  const B = flags & TRANS_B
    ? place(box, n, k, seed + 1, (seed + 1) % 4, (seed + 2) % 4)
    : place(box, k, n, seed + 1, (seed + 1) % 4, (seed + 2) % 4);
  const C = place(box, m, n, seed + 2, 1 + (seed % 5), 3);
  return { A, B, C };
}

/** Checks C's m×n window against the reference and that its padding columns kept their values. */
function checkC(box: KernelBox, C: Placed, expected: Float64Array, m: number, n: number, k: number, what: string): void {
  const got = box.f32(C.ptr, m * C.ld);
  const window = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    window.set(got.subarray(i * C.ld, i * C.ld + n), i * n);
    for (let j = n; j < C.ld && i * C.ld + j < got.length; j++) {
      if (!Object.is(got[i * C.ld + j], C.data[i * C.ld + j])) throw new Error(`${what}: wrote C padding at row ${i}, column ${j}`);
    }
  }
  // Inputs in [-1, 1): the f32 chain's error grows about linearly in k at worst.
  assertClose(window, expected, { rtol: 1e-5, atol: 1e-6 + 1e-7 * k, what });
}

function runCase(box: KernelBox, m: number, n: number, k: number, flags: number, seed: number): void {
  box.reset();
  const { A, B, C } = operands(box, m, n, k, flags, seed);
  const scratch = box.alloc(box.k.gemm_packed_b_bytes(k, n) + 16) + 4;
  box.k.gemm_f32(A.ptr, B.ptr, C.ptr, m, n, k, A.ld, B.ld, C.ld, flags, scratch);
  checkC(box, C, reference(A, B, C, m, n, k, flags), m, n, k, `${box.variant} ${flagName(flags)} m=${m} n=${n} k=${k}`);
}

for (const v of KERNEL_VARIANTS) {
  for (const trans of [0, TRANS_A, TRANS_B, TRANS_A | TRANS_B]) {
    test(`${v}: gemm_f32 ${flagName(trans).slice(0, 2)} matches float64, = and +=, m/n/k remainders`, () => {
      const box = kernels(v);
      let seed = 1;
      for (const acc of [0, ACCUMULATE]) {
        for (const m of M_SWEEP) for (const n of N_SWEEP) for (const k of K_SWEEP) runCase(box, m, n, k, trans | acc, seed++);
      }
      // Past MC (128 rows) and across KC boundaries.
      for (const acc of [0, ACCUMULATE]) {
        runCase(box, 131, 17, 300, trans | acc, seed++);
        runCase(box, 5, 33, 2 * KC + 1, trans | acc, seed++);
        runCase(box, 130, 24, 2 * KC + 7, trans | acc, seed++);
        // the kernel runs KC blocks in pairs: a full second pair, then a half one
        runCase(box, 6, 19, 4 * KC + 3, trans | acc, seed++);
      }
    });
  }

  test(`${v}: a row split on one packed B gives the same bits as one call`, () => {
    const box = kernels(v);
    let seed = 100;
    for (const flags of [0, TRANS_A, TRANS_B, TRANS_A | TRANS_B, ACCUMULATE, TRANS_A | TRANS_B | ACCUMULATE]) {
      for (const [m, n, k] of [[67, 33, 300], [133, 17, 40]]) {
        box.reset();
        const { A, B, C } = operands(box, m, n, k, flags, seed++);
        const packed = box.alloc(box.k.gemm_packed_b_bytes(k, n));
        box.k.gemm_pack_b_f32(B.ptr, B.ld, k, n, flags, packed);
        const whole = box.alloc(m * C.ld * 4);
        box.f32(whole, m * C.ld).set(C.data);
        box.k.gemm_packed_f32(A.ptr, A.ld, packed, whole, C.ld, m, n, k, flags);
        const wholeBits = new Uint32Array(box.memory.buffer, whole, m * C.ld).slice();
        // The row offset of A is a row step when A is row-major, a column step when TRANS_A.
        const aRow = (r: number) => A.ptr + (flags & TRANS_A ? r : r * A.ld) * 4;
        for (const cuts of [[1], [2], [3], [4], [5], [6], [13], [m - 1], [1, 6, 31], [3, 4, 129 % m]]) {
          const bounds = [0, ...cuts.filter((r) => r > 0 && r < m).sort((x, y) => x - y), m];
          box.f32(C.ptr, m * C.ld).set(C.data);
          for (let s = 0; s + 1 < bounds.length; s++) {
            const r0 = bounds[s], r1 = bounds[s + 1];
            if (r1 > r0) box.k.gemm_packed_f32(aRow(r0), A.ld, packed, C.ptr + r0 * C.ld * 4, C.ld, r1 - r0, n, k, flags);
          }
          const bits = new Uint32Array(box.memory.buffer, C.ptr, m * C.ld);
          for (let i = 0; i < bits.length; i++) {
            if (bits[i] !== wholeBits[i]) {
              assert.unreachable(`${flagName(flags)} m=${m} split ${bounds.join("|")}: element ${i} differs from the one-call result`);
            }
          }
        }
        checkC(box, { ...C, ptr: whole }, reference(A, B, C, m, n, k, flags), m, n, k, `${v} ${flagName(flags)} whole`);
      }
    }
  });

  test(`${v}: gemm_pack_b_f32 layout, zero padding, TRANS_B, and packed size`, () => {
    const box = kernels(v);
    for (const [k, n] of [[1, 1], [3, 9], [7, 16], [257, 13], [300, 33], [2 * KC + 5, 8]]) {
      box.reset();
      const np = Math.ceil(n / 8), bytes = box.k.gemm_packed_b_bytes(k, n);
      assert.is(bytes, k * np * 8 * 4, `gemm_packed_b_bytes(${k}, ${n})`);
      const B = place(box, k, n, k + n, 3, 1); // op(B) as stored k×n
      const BT = new Float32Array(n * (k + 2)); // the same op(B) stored n×k, ld = k + 2
      for (let kk = 0; kk < k; kk++) for (let j = 0; j < n; j++) BT[j * (k + 2) + kk] = B.data[kk * B.ld + j];
      const btPtr = box.putF32(BT);
      const p1 = box.alloc(bytes + 64), p2 = box.alloc(bytes + 64);
      box.f32(p1, bytes / 4 + 16).fill(7); // sentinel past the end must survive
      box.f32(p2, bytes / 4 + 16).fill(7);
      box.k.gemm_pack_b_f32(B.ptr, B.ld, k, n, 0, p1);
      box.k.gemm_pack_b_f32(btPtr, k + 2, k, n, TRANS_B, p2);
      const a = box.f32(p1, bytes / 4 + 16), b = box.f32(p2, bytes / 4 + 16);
      for (let i = bytes / 4; i < bytes / 4 + 16; i++) assert.ok(a[i] === 7 && b[i] === 7, `packing wrote past ${bytes} bytes`);
      // what threads do: disjoint panel ranges packed separately give the same bytes
      for (const flags of [0, TRANS_B]) {
        const p3 = box.alloc(bytes + 64), half = np >> 1;
        box.f32(p3, bytes / 4 + 16).fill(7);
        const [src, ld] = flags ? [btPtr, k + 2] : [B.ptr, B.ld];
        box.k.gemm_pack_b_panels_f32(src, ld, k, n, flags, p3, half, np + 3); // p1 past the end is clamped
        box.k.gemm_pack_b_panels_f32(src, ld, k, n, flags, p3, 0, half);
        assert.equal(Array.from(box.f32(p3, bytes / 4 + 16)), Array.from(flags ? b : a), `k=${k} n=${n} flags ${flags}: panel ranges`);
      }
      // The documented layout: KC-row blocks, then 8-column panels of kc rows, zero past n.
      const npad = np * 8;
      for (let k0 = 0; k0 < k; k0 += KC) {
        const kc = Math.min(KC, k - k0);
        for (let p = 0; p < np; p++) {
          for (let kk = 0; kk < kc; kk++) {
            for (let jj = 0; jj < 8; jj++) {
              const idx = k0 * npad + p * kc * 8 + kk * 8 + jj;
              const j = p * 8 + jj;
              const want = j < n ? B.data[(k0 + kk) * B.ld + j] : 0;
              if (a[idx] !== want) assert.unreachable(`k=${k} n=${n}: packed[${idx}] = ${a[idx]}, want ${want}`);
              if (b[idx] !== want) assert.unreachable(`TRANS_B k=${k} n=${n}: packed[${idx}] = ${b[idx]}, want ${want}`);
            }
          }
        }
      }
    }
  });

  test(`${v}: empty sizes: m or n = 0 touch nothing, k = 0 gives C = 0 (or leaves C with +=)`, () => {
    const box = kernels(v);
    const C = place(box, 5, 9, 3, 2, 0);
    const A = place(box, 5, 4, 4, 0, 0), B = place(box, 4, 9, 5, 0, 0);
    const scratch = box.alloc(4096);
    const c = () => box.f32(C.ptr, 5 * C.ld);
    assert.is(box.k.gemm_packed_b_bytes(0, 9), 0);
    assert.is(box.k.gemm_packed_b_bytes(4, 0), 0);
    for (const flags of [0, ACCUMULATE, TRANS_A | TRANS_B]) {
      box.k.gemm_f32(A.ptr, B.ptr, C.ptr, 0, 9, 4, 4, 9, C.ld, flags, scratch);
      box.k.gemm_f32(A.ptr, B.ptr, C.ptr, 5, 0, 4, 4, 9, C.ld, flags, scratch);
      assert.equal(Array.from(c()), Array.from(C.data), `${flagName(flags)}: m = 0 or n = 0 changed C`);
    }
    box.k.gemm_f32(A.ptr, B.ptr, C.ptr, 5, 9, 0, 4, 9, C.ld, ACCUMULATE, scratch);
    assert.equal(Array.from(c()), Array.from(C.data), "k = 0 with += changed C");
    box.k.gemm_f32(A.ptr, B.ptr, C.ptr, 5, 9, 0, 4, 9, C.ld, 0, scratch);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < C.ld; j++) {
        assert.is(c()[i * C.ld + j], j < 9 ? 0 : C.data[i * C.ld + j], `k = 0: C[${i}, ${j}]`);
      }
    }
  });
}

test.run();
