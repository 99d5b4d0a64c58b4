// WebGPU twins of the indexing kernels (shaders/indexing.wgsl) against their wasm
// twins (assembly/indexing.ts) on the same inputs: gather / scatter over strided
// and last-dim shapes, index select / add over inner remainders and a launch past
// one workgroup, out-of-range indices (NaN gathered, nothing scattered on both),
// and the sort (ranking on the GPU, merge sort on wasm) over ties, ±0, NaN and ±∞,
// both directions, first k. Every result must match bit for bit.
// No adapter FAILS this file (scripts/test.mjs starts it with SwiftShader).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, randomF32 } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { putBoth, gpuCall } from "./webgpu-twins.js";

let box: KernelBox;
let gpu: WebGpuBackend;

test.before(async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
});
test.after(() => gpu?.shutdown());

const put = (data: Float32Array | Int32Array, shift = 0) => putBoth(box, gpu, data, shift);
async function same(g: number, w: number, n: number, what: string): Promise<void> {
  const got = new Uint32Array(await gpu.read(g, n * 4)), want = Uint32Array.from(box.i32(w, n), (v) => v >>> 0);
  assert.equal(Array.from(got), Array.from(want), what);
}
const idxs = (n: number, len: number, seed: number, bad = false) =>
  Int32Array.from(randomF32(n, seed), (a, i) => (bad && i % 5 === 2 ? (i % 2 ? -1 : len) : Math.min(len - 1, Math.floor((a + 1) / 2 * len))));

test("gather_dim_b32 / scatter_dim_f32 match wasm, in-range and out-of-range indices", async () => {
  for (const [outer, lenX, lenI, inner] of [[1, 5, 3, 1], [3, 4, 7, 1], [2, 6, 6, 3], [5, 2, 8, 17], [2, 300, 200, 2]]) {
    for (const bad of [false, true]) {
      box.reset();
      const what = `${[outer, lenX, lenI, inner]} bad=${bad}`;
      const [xw, xg] = put(randomF32(outer * lenX * inner, lenX));
      const idx = idxs(outer * lenI * inner, lenX, lenI, bad);
      const [iw, ig] = put(idx), [yw, yg] = put(new Float32Array(outer * lenI * inner));
      // bad indices: the host refuses them on wasm before calling, but wasm's kernel bound-checks as the twin does
      box.k.gather_dim_b32(xw, iw, yw, outer, lenX, lenI, inner); gpuCall(gpu, "gather_dim_b32", xg, ig, yg, outer, lenX, lenI, inner);
      await same(yg, yw, outer * lenI * inner, `gather ${what}`);
      const [sw, sg] = put(randomF32(outer * lenI * inner, 3));
      for (const acc of [0, 1]) {
        const y0 = randomF32(outer * lenX * inner, 4);
        const [tw, tg] = put(y0);
        box.k.scatter_dim_f32(sw, iw, tw, outer, lenX, lenI, inner, acc); gpuCall(gpu, "scatter_dim_f32", sg, ig, tg, outer, lenX, lenI, inner, acc);
        await same(tg, tw, outer * lenX * inner, `scatter acc=${acc} ${what}`);
      }
    }
  }
});

test("index_select_b32 / index_add_f32 match wasm", async () => {
  for (const [outer, lenX, n, inner] of [[1, 3, 5, 1], [2, 10, 7, 3], [3, 4, 6, 17], [2, 50, 30, 33], [1, 9, 600, 1]]) {
    for (const bad of [false, true]) {
      box.reset();
      const what = `${[outer, lenX, n, inner]} bad=${bad}`;
      const [xw, xg] = put(randomF32(outer * lenX * inner, n));
      const [iw, ig] = put(idxs(n, lenX, lenX, bad)), [yw, yg] = put(new Float32Array(outer * n * inner));
      box.k.index_select_b32(xw, iw, yw, outer, lenX, n, inner); gpuCall(gpu, "index_select_b32", xg, ig, yg, outer, lenX, n, inner);
      await same(yg, yw, outer * n * inner, `index_select ${what}`);
      const [dyw, dyg] = put(randomF32(outer * n * inner, 5)), [dxw, dxg] = put(randomF32(outer * lenX * inner, 6));
      box.k.index_add_f32(dyw, iw, dxw, outer, lenX, n, inner); gpuCall(gpu, "index_add_f32", dyg, ig, dxg, outer, lenX, n, inner);
      await same(dxg, dxw, outer * lenX * inner, `index_add ${what}`);
    }
  }
});

test("sort_f32 matches wasm: ties, ±0, NaN, ±∞, both directions, first k, strided rows", async () => {
  let seed = 1;
  for (const len of [1, 2, 9, 17, 64, 100, 300]) for (const [outer, inner] of [[1, 1], [3, 1], [2, 3]]) for (const desc of [0, 1]) {
    box.reset();
    const x = Float32Array.from(randomF32(outer * len * inner, seed++), (a, i) => (i % 11 === 3 ? NaN : i % 13 === 5 ? -0 : i % 13 === 6 ? 0 : i % 17 === 7 ? -Infinity : i % 19 === 2 ? Infinity : Math.round(a * 6) / 2));
    const k = seed % 2 ? len : Math.max(1, len >> 2);
    const [xw, xg] = put(x), [vw, vg] = put(new Float32Array(outer * k * inner)), [iw, ig] = put(new Int32Array(outer * k * inner));
    const sc = box.alloc(16 * len + 8);
    box.k.sort_f32(xw, vw, iw, outer, len, inner, k, desc, sc); gpuCall(gpu, "sort_f32", xg, vg, ig, outer, len, inner, k, desc);
    const what = `len=${len} outer=${outer} inner=${inner} k=${k} desc=${desc}`;
    await same(vg, vw, outer * k * inner, `sort values ${what}`);
    await same(ig, iw, outer * k * inner, `sort indices ${what}`);
  }
});

test.run();
