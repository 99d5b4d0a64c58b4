// The int8 kernels' WGSL twins (shaders/quant.wgsl) against the wasm kernels
// on the same inputs: the quantisers (bytes, scales, zero points, weight sums)
// and gemm_i8 given the very same quantised operands, whose i32 sums are exact
// on both, so outputs differ only by the epilogue's f32 rounding. Shapes hit
// every remainder of the 4-row groups, 8-channel panels and 4-k groups.
// No adapter FAILS this file (see webgpu.test.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { kernels, randomF32, assertClose } from "./harness.js";
import type { KernelBox } from "./harness.js";
import { WebGpuBackend } from "../host/backends/webgpu/backend.js";
import { putBoth, gpuCall } from "./webgpu-twins.js";
import { wIndex } from "./quant-reference.js";

let box: KernelBox;
let gpu: WebGpuBackend;

test.before(async () => {
  box = kernels("simd");
  gpu = await WebGpuBackend.create({ verbose: false });
  console.log(`  ${gpu.summary}`);
});
test.after(() => gpu?.shutdown());

const put = (data: Float32Array | Int32Array) => putBoth(box, gpu, data);
const readI32 = async (g: number, n: number) => new Int32Array(await gpu.read(g, n * 4));
const readF32 = async (g: number, n: number) => new Float32Array(await gpu.read(g, n * 4));

/** Quantised values that differ by more than 1, and how many differ at all (a division on the GPU may round a tie the other way). */
function compareBytes(a: Uint8Array | Int8Array, b: Uint8Array | Int8Array, what: string): number {
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    differ++;
    if (Math.abs(a[i] - b[i]) > 1) assert.unreachable(`${what}: byte ${i} is ${a[i]} on the GPU, ${b[i]} on wasm`);
  }
  return differ;
}

let hasDot4 = false;
test.before(() => {
  hasDot4 = !!gpu.caps.packedDot4;
  console.log(`  gemm_i8 on this device: ${hasDot4 ? "dot4I8Packed (packed_4x8_integer_dot_product) and the unpacked twin, both" : "the unpacked twin only (no packed_4x8_integer_dot_product)"}`);
});

test("quant twins: quantize_rows_u7 (rows and transposed), quantize_weights_i8 and gemm_i8 match wasm", async () => {
  let differ = 0, total = 0;
  for (const m of [1, 3, 4, 5, 9]) for (const n of [1, 7, 8, 9, 17]) for (const k of [1, 3, 4, 5, 17, 40]) {
    box.reset();
    const what = `m=${m} n=${n} k=${k}`;
    const x = randomF32(m * k, m * 100 + k).map((v) => 2 * v + 0.3), w = randomF32(n * k, n * 7 + k), b = randomF32(n, n);
    const xt = new Float32Array(m * k);
    for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) xt[j * m + i] = x[i * k + j];
    const qWords = box.k.quant_rows_bytes(m, k) / 4, wWords = (2 * Math.ceil(n / 8) * 8 * Math.ceil(k / 4) * 4) / 4;
    const [wx, gx] = put(x), [wxt, gxt] = put(xt), [ww, gw] = put(w), [wb, gb] = put(b);
    const [wq, gq] = put(new Int32Array(qWords)), [wsa, gsa] = put(new Float32Array(m)), [wza, gza] = put(new Int32Array(m));
    const [, gqt] = put(new Int32Array(qWords)), [, gsat] = put(new Float32Array(m)), [, gzat] = put(new Int32Array(m));
    const [wk, gk] = put(new Int32Array(wWords)), [wsw, gsw] = put(new Float32Array(n)), [wws, gws] = put(new Int32Array(n));
    box.k.quantize_rows_u7(wx, wq, wsa, wza, m, k, k, 0);
    box.k.quantize_weights_i8(ww, wk, wsw, wws, n, k);
    void wxt;
    gpuCall(gpu, "quantize_rows_u7", gx, gq, gsa, gza, m, k, k, 0);
    gpuCall(gpu, "quantize_rows_u7", gxt, gqt, gsat, gzat, m, k, m, 1);
    gpuCall(gpu, "quantize_weights_i8", gw, gk, gsw, gws, n, k);

    const wasmQ = new Uint8Array(box.memory.buffer, wq, qWords * 4);
    for (const [g, s, z, how] of [[gq, gsa, gza, "rows"], [gqt, gsat, gzat, "transposed rows"]] as const) {
      differ += compareBytes(new Uint8Array((await readI32(g, qWords)).buffer), wasmQ, `${what} ${how}`);
      total += qWords * 4;
      assertClose(await readF32(s, m), box.f32(wsa, m), { rtol: 1e-6, atol: 0, what: `${what} ${how} scales` });
      const zg = await readI32(z, m), zw = box.i32(wza, m);
      for (let i = 0; i < m; i++) if (Math.abs(zg[i] - zw[i]) > 1) assert.unreachable(`${what} ${how}: zero point ${i}: ${zg[i]} vs ${zw[i]}`);
    }
    // the plain binary packs int16; the GPU the same panels as int8
    const w16 = new Int16Array(box.memory.buffer, wk, wWords * 2), w8 = new Int8Array((await readI32(gk, wWords)).buffer);
    const fromWasm = new Int8Array(wWords * 2), fromGpu = new Int8Array(wWords * 2);
    for (let o = 0; o < n; o++) for (let j = 0; j < k; j++) { const i = wIndex(o, j, k); fromWasm[i] = w16[i]; fromGpu[i] = w8[i]; }
    differ += compareBytes(fromGpu, fromWasm, `${what} weights`);
    total += n * k;
    assertClose(await readF32(gsw, n), box.f32(wsw, n), { rtol: 1e-6, atol: 0, what: `${what} weight scales` });

    // gemm_i8 on the very same quantised operands (wasm's, copied to the GPU in the GPU's int8 panels)
    gpu.write(gq, Int32Array.from(new Int32Array(box.memory.buffer, wq, qWords)));
    gpu.write(gsa, Float32Array.from(box.f32(wsa, m)));
    gpu.write(gza, Int32Array.from(box.i32(wza, m)));
    gpu.write(gk, new Int32Array(fromWasm.buffer));
    gpu.write(gsw, Float32Array.from(box.f32(wsw, n)));
    gpu.write(gws, Int32Array.from(box.i32(wws, n)));
    // both WGSL paths where the device has dot4I8Packed: the unpacked one, then the packed one
    for (const dot4 of hasDot4 ? [false, true] : [false]) for (const [relu, bias] of [[0, 0], [1, 1]]) {
      gpu.caps.packedDot4 = dot4;
      const [wy, gy] = put(new Float32Array(m * n));
      box.k.gemm_i8(wq, wsa, wza, wk, wsw, wws, bias ? wb : 0, wy, m, n, k, n, relu);
      gpuCall(gpu, "gemm_i8", gq, gsa, gza, gk, gsw, gws, bias ? gb : 0, gy, m, n, k, n, relu);
      // exact sums: only the epilogue's two products and one add round (a GPU may fuse them)
      assertClose(await readF32(gy, m * n), box.f32(wy, m * n), { rtol: 3e-7, atol: 1e-7, what: `${what} gemm_i8${dot4 ? " (dot4I8Packed)" : ""} relu=${relu} bias=${bias}` });
    }
    gpu.caps.packedDot4 = hasDot4;
  }
  // a tie rounded the other way by a division of a few ulps: rare
  assert.ok(differ <= total * 1e-3, `${differ} of ${total} quantised values differ by 1`);
});

test.run();
