// The GEMM micro-kernels and the direct-conv tiles are generated
// (scripts/gen-kernels.mjs → assembly/*-tiles.generated.ts). This file checks
// two things:
//   - the generated files are what the generator emits now (nobody edited them
//     by hand, and a template change was regenerated);
//   - the kernels give the very bits the hand-written kernels gave before the
//     generator (commit a54e5c4): test/fixtures/tile-bits.json holds SHA-256 (first 128 bits)
//     hashes of their outputs over a sweep that hits every tile remainder —
//     GEMM m, n, k = 1..17 under every transpose flag and accumulate, for both
//     drivers (4×8 tiles, and 5×8 tiles over packed A), plus shapes across the
//     KC, 2·KC, MC and MC5 block edges; direct conv (plain, and 5-channel packed
//     with and without bias) over Cout = 1..11 (every mix of 5-, 4- and 1-channel
//     tiles) and OW = 8..17 (the overlapping last tile), for several kernel sizes.
// Inputs come from a PRNG local to this file, so the hashes never move with
// host/ code. Outputs are hashed with their padding (ldc > n) and guard floats
// past the output, so a kernel that writes out of place fails too.
// WEBGRAD_RECORD_TILE_BITS=1 rewrites the fixture (only ever from a build of
// sources known to be right). The relaxed fixtures assume a fused madd (x64 with
// FMA3, arm64): on a runtime whose relaxed_madd is mul+add they are skipped.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { kernels, variantSupported, type KernelBox, type Variant } from "./harness.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixturePath = root + "test/fixtures/tile-bits.json";
const RECORD = process.env.WEBGRAD_RECORD_TILE_BITS === "1";
const VARIANTS: Variant[] = ["simd", "relaxed", "simd-threads", "relaxed-threads"];
const TRANS_A = 1, TRANS_B = 2, ACCUMULATE = 4;

/** Deterministic floats in [-1, 1) with full 24-bit mantissas (xorshift32), independent of host/. */
function pool(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Whether this binary's relaxed madd is fused (one rounding): 1 + (1+2⁻²³)(1−2⁻²³)·… differs. */
function maddIsFused(box: KernelBox): boolean {
  box.reset();
  const x = box.putF32([1 + 2 ** -23, 0, 0, 0]);
  const y = box.putF32([-1, 0, 0, 0]);
  box.k.axpy_f32(x, y, 4, 1 - 2 ** -23);
  return box.f32(y, 1)[0] !== 0; // fused: −2⁻⁴⁶; mul then add: the product rounds to 1, so 0
}

type Hashes = Record<string, string>;

/** Hashes of every GEMM case, grouped so a failure names driver, flags and m. */
function gemmHashes(box: KernelBox): Hashes {
  const out: Hashes = {};
  const big = 700 * 700;
  box.reset();
  const Apool = box.putF32(pool(big, 11)), Bpool = box.putF32(pool(big, 22));
  const Cinit = pool(big, 33);
  const packed = box.alloc(4 * big + 64);
  const ascratch = box.alloc(box.k.gemm_packed_a_bytes() + 64) + 4; // not 16-aligned, as in gemm-pack-a.test
  const C = box.alloc(4 * big + 64);
  const one = (h: ReturnType<typeof createHash>, driver: string, m: number, n: number, k: number, flags: number) => {
    const lda = (flags & TRANS_A ? m : k) + 3, ldb = (flags & TRANS_B ? k : n) + 1, ldc = n + 2;
    const len = m * ldc + 8; // the padding columns and 8 guard floats past C are hashed too
    box.f32(C, len).set(Cinit.subarray(0, len));
    // A and B start one float past a 64-byte boundary: kernels must not need alignment
    const a = Apool + 4, b = Bpool + 4;
    if (driver === "gemm_f32") {
      box.k.gemm_f32(a, b, C, m, n, k, lda, ldb, ldc, flags, packed);
    } else {
      if (k > 0) box.k.gemm_pack_b_f32(b, ldb, k, n, flags, packed);
      box.k.gemm_packed_pa_f32(a, lda, packed, C, ldc, m, n, k, flags, ascratch);
    }
    h.update(new Uint8Array(box.memory.buffer, C, len * 4));
  };
  for (const driver of ["gemm_f32", "gemm_packed_pa_f32"]) {
    for (let flags = 0; flags < 8; flags++) {
      for (let m = 1; m <= 17; m++) {
        const h = createHash("sha256");
        for (let n = 1; n <= 17; n++) for (let k = 1; k <= 17; k++) one(h, driver, m, n, k, flags);
        out[`${driver} flags=${flags} m=${m} n,k=1..17`] = h.digest("hex").slice(0, 32);
      }
      // across KC = 256 and 2·KC = 512 in k, MC = 128 and MC5 = 130 in m, and n past a panel
      for (const [m, n, k] of [[31, 33, 255], [64, 64, 256], [65, 47, 257], [129, 20, 300], [131, 9, 513], [7, 130, 520], [135, 24, 600], [261, 17, 64]]) {
        const h = createHash("sha256");
        one(h, driver, m, n, k, flags);
        out[`${driver} flags=${flags} m=${m} n=${n} k=${k}`] = h.digest("hex").slice(0, 32);
      }
    }
  }
  return out;
}

/** Hashes of every direct-conv case, grouped by kernel size, C and N. */
function convHashes(box: KernelBox): Hashes {
  const out: Hashes = {};
  box.reset();
  const big = 200000;
  const Xpool = box.putF32(pool(big, 44)), Wpool = box.putF32(pool(big, 55)), Bias = box.putF32(pool(64, 66));
  const Yinit = pool(big, 77);
  const Y = box.alloc(4 * big + 64), W5 = box.alloc(4 * big + 64);
  for (const [KH, KW] of [[1, 1], [3, 3], [5, 5], [3, 1], [2, 3]]) {
    for (const C of [1, 2, 3]) {
      for (const N of [1, 2]) {
        const h = createHash("sha256");
        for (let Cout = 1; Cout <= 11; Cout++) {
          for (let OW = 8; OW <= 17; OW++) {
            for (const OH of N === 1 ? [1, 2, 3] : [2]) {
              const Hp = OH + KH - 1, Wp = OW + KW - 1;
              const len = N * Cout * OH * OW + 8; // 8 guard floats past y
              const xp = Xpool + 4, w = Wpool + 4;
              const run = (what: string, call: () => void) => {
                box.f32(Y, len).set(Yinit.subarray(0, len));
                call();
                h.update(what);
                h.update(new Uint8Array(box.memory.buffer, Y, len * 4));
              };
              run("direct", () => box.k.conv2d_direct_f32(xp, w, Y, N, C, Hp, Wp, KH, KW, Cout));
              const CKK = C * KH * KW;
              for (const groups of [...new Set([0, 1, Math.floor(Cout / 5)])].filter((g) => g * 5 <= Cout)) {
                if (groups > 0) box.k.conv_pack_w5_f32(w, groups, CKK, W5);
                for (const bias of [0, Bias]) {
                  run(`pw groups=${groups} bias=${bias ? 1 : 0}`, () =>
                    box.k.conv2d_direct_pw_f32(xp, w, W5, bias, Y, N, C, Hp, Wp, KH, KW, Cout, groups));
                }
              }
            }
          }
        }
        out[`conv ${KH}x${KW} C=${C} N=${N} Cout=1..11 OW=8..17`] = h.digest("hex").slice(0, 32);
      }
    }
  }
  return out;
}

test("the generated tile files are what scripts/gen-kernels.mjs emits", async () => {
  if (RECORD) return; // recording runs on the sources from before the generator
  const gen = await import(new URL("../../scripts/gen-kernels.mjs", import.meta.url).href);
  for (const [path, text] of Object.entries(gen.generate() as Record<string, string>)) {
    assert.ok(readFileSync(root + path, "utf8") === text, `${path} is stale: run node scripts/gen-kernels.mjs`);
  }
});

const recorded: Record<string, Hashes> = RECORD ? {} : JSON.parse(readFileSync(fixturePath, "utf8"));
for (const v of VARIANTS) {
  test(`${v}: GEMM and direct-conv tiles give the hand-written kernels' bits`, () => {
    if (!variantSupported(v)) {
      if (v.startsWith("relaxed") && !RECORD) return; // relaxed needs --experimental-wasm-relaxed-simd on Node 20 (scripts/test.mjs passes it)
      throw new Error(`${v}: binary missing`);
    }
    const box = kernels(v);
    if (v.startsWith("relaxed") && !maddIsFused(box)) {
      console.log(`  ${v}: relaxed_madd is not fused on this runtime; the recorded bits assume it is, so skipped`);
      return;
    }
    const got = { ...gemmHashes(box), ...convHashes(box) };
    if (RECORD) {
      recorded[v] = got;
      return;
    }
    const want = recorded[v];
    assert.ok(want, `no recorded hashes for ${v}`);
    assert.equal(Object.keys(got).sort(), Object.keys(want).sort(), "the sweep's cases changed: re-record from the old kernels");
    const differ = Object.keys(want).filter((key) => got[key] !== want[key]);
    assert.ok(differ.length === 0, `${v}: bits differ from the hand-written kernels in ${differ.length} groups, first: ${differ.slice(0, 5).join("; ")}`);
  });
}

if (RECORD) {
  test("record the fixture", () => {
    writeFileSync(fixturePath, JSON.stringify(recorded, null, 1) + "\n");
    console.log(`  wrote ${fixturePath}: ${Object.keys(recorded).join(", ")}`);
  });
}

test.run();
