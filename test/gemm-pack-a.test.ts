// gemm_packed_pa_f32 (5×8 tiles over A packed per block) against a float64
// reference and, bit for bit, against gemm_packed_f32 (the same madd chain per
// element): every transpose combination, = and +=, m on every residue mod 5
// and across its 130-row blocks, k across pairs of KC blocks, n remainders,
// strided and unaligned operands, C padding untouched, and row splits (what
// threads get) giving the same bits as one call.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { KERNEL_VARIANTS, assertClose, randomF32, kernels } from "./harness.js";
import type { KernelBox } from "./harness.js";

import { TRANS_A, TRANS_B, ACCUMULATE, flagName, place, reference, type Placed } from "./gemm-reference.js";
const KC = 256; // must match assembly/gemm.ts
const MC5 = 130; // must match assembly/gemm.ts





/** Runs both kernels on one case; checks the float64 reference, the C padding and identical bits. */
function runCase(box: KernelBox, m: number, n: number, k: number, flags: number, seed: number): void {
  box.reset();
  const A = flags & TRANS_A ? place(box, k, m, seed, seed % 3, 1 + (seed % 3)) : place(box, m, k, seed, seed % 3, 1 + (seed % 3));
  const B = flags & TRANS_B ? place(box, n, k, seed + 1, (seed + 1) % 4, (seed + 2) % 4) : place(box, k, n, seed + 1, (seed + 1) % 4, (seed + 2) % 4);
  const C = place(box, m, n, seed + 2, 1 + (seed % 5), 3);
  const what = `${box.variant} ${flagName(flags)} m=${m} n=${n} k=${k}`;
  const packed = box.alloc(box.k.gemm_packed_b_bytes(k, n) + 16);
  const ascratch = box.alloc(box.k.gemm_packed_a_bytes() + 16) + 4; // not 16-aligned on purpose
  box.k.gemm_pack_b_f32(B.ptr, B.ld, k, n, flags, packed);
  // the 4×8 kernel's result, bits kept
  const plain = box.alloc(m * C.ld * 4 + 16);
  box.f32(plain, m * C.ld).set(C.data);
  box.k.gemm_packed_f32(A.ptr, A.ld, packed, plain, C.ld, m, n, k, flags);
  const plainBits = new Uint32Array(box.memory.buffer, plain, m * C.ld).slice();
  box.k.gemm_packed_pa_f32(A.ptr, A.ld, packed, C.ptr, C.ld, m, n, k, flags, ascratch);
  const got = box.f32(C.ptr, m * C.ld);
  const window = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    window.set(got.subarray(i * C.ld, i * C.ld + n), i * n);
    for (let j = n; j < C.ld; j++) {
      if (!Object.is(got[i * C.ld + j], C.data[i * C.ld + j])) throw new Error(`${what}: wrote C padding at row ${i}, column ${j}`);
    }
  }
  assertClose(window, reference(A, B, C, m, n, k, flags), { rtol: 1e-5, atol: 1e-6 + 1e-7 * k, what });
  const bits = new Uint32Array(box.memory.buffer, C.ptr, m * C.ld);
  for (let i = 0; i < bits.length; i++) {
    if (bits[i] !== plainBits[i]) assert.unreachable(`${what}: element ${i} differs from gemm_packed_f32's bits`);
  }
}

for (const v of KERNEL_VARIANTS) {
  for (const trans of [0, TRANS_A, TRANS_B, TRANS_A | TRANS_B]) {
    test(`${v}: gemm_packed_pa_f32 ${flagName(trans).slice(0, 2)} matches float64 and gemm_packed_f32's bits`, () => {
      const box = kernels(v);
      let seed = 7;
      for (const acc of [0, ACCUMULATE]) {
        for (const m of [1, 4, 5, 6, 7, 8, 9, 10, 14]) for (const n of [1, 8, 9, 33]) for (const k of [1, 3, 8, 257]) runCase(box, m, n, k, trans | acc, seed++);
        // across MC5 blocks (with each leftover count) and across pairs of KC blocks
        runCase(box, MC5, 17, 40, trans | acc, seed++);
        runCase(box, MC5 + 3, 24, 2 * KC + 9, trans | acc, seed++);
        runCase(box, 2 * MC5 + 4, 9, 4 * KC + 1, trans | acc, seed++);
      }
    });
  }

  test(`${v}: gemm_packed_pa_f32 on row ranges gives the same bits as one call`, () => {
    const box = kernels(v);
    let seed = 300;
    for (const flags of [0, TRANS_A, TRANS_B | ACCUMULATE, TRANS_A | TRANS_B]) {
      const m = 143, n = 33, k = 300;
      box.reset();
      const A = flags & TRANS_A ? place(box, k, m, seed, 1, 1) : place(box, m, k, seed, 1, 1);
      const B = flags & TRANS_B ? place(box, n, k, seed + 1, 2, 3) : place(box, k, n, seed + 1, 2, 3);
      const C = place(box, m, n, seed + 2, 3, 3);
      seed += 3;
      const packed = box.alloc(box.k.gemm_packed_b_bytes(k, n));
      const ascratch = box.alloc(box.k.gemm_packed_a_bytes());
      box.k.gemm_pack_b_f32(B.ptr, B.ld, k, n, flags, packed);
      box.k.gemm_packed_pa_f32(A.ptr, A.ld, packed, C.ptr, C.ld, m, n, k, flags, ascratch);
      const whole = new Uint32Array(box.memory.buffer, C.ptr, m * C.ld).slice();
      const aRow = (r: number) => A.ptr + (flags & TRANS_A ? r : r * A.ld) * 4;
      for (const cuts of [[1], [4], [5], [72], [3, 68, 131]]) {
        const bounds = [0, ...cuts, m];
        box.f32(C.ptr, m * C.ld).set(C.data);
        for (let s = 0; s + 1 < bounds.length; s++) {
          const r0 = bounds[s], r1 = bounds[s + 1];
          box.k.gemm_packed_pa_f32(aRow(r0), A.ld, packed, C.ptr + r0 * C.ld * 4, C.ld, r1 - r0, n, k, flags, ascratch);
        }
        const bits = new Uint32Array(box.memory.buffer, C.ptr, m * C.ld);
        for (let i = 0; i < bits.length; i++) {
          if (bits[i] !== whole[i]) assert.unreachable(`${v} ${flagName(flags)} split ${bounds.join("|")}: element ${i} differs from the one-call result`);
        }
      }
    }
  });
}

test.run();
