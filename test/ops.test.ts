// Op-level checks on every backend this machine can test (test/backends.ts:
// wasm always, WebGPU where its test environment is; an expected backend that
// does not start FAILS its group). Values are read with await t.data(), so the
// same test body runs on both. The raw-kernel twins (the WGSL kernels against
// the wasm kernels, webgpu*.test.ts) and the gradient checks (gradcheck.test.ts)
// live elsewhere.
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { assertClose, randomF32 } from "./harness.js";
import { forEachBackend } from "./backends.js";

forEachBackend("ops", (backend, test) => {
  // was the engine-path test of webgpu.test.ts (webgpu against wasm); now each backend
  // against a float64 reference, which holds both to it (and so to each other)
  test("tensors, matmul, broadcast add, relu, mul, sum, column max, exp(row mean) and await data() match float64", async () => {
    const A = randomF32(70 * 33, 1), B = randomF32(33 * 20, 2), bias = randomF32(20, 3);
    const [y, s, m, e] = wg.scope(() => {
      const a = wg.tensor(Array.from(A), { shape: [70, 33] });
      const b = wg.tensor(Array.from(B), { shape: [33, 20] });
      const y = a.matmul(b).add(wg.tensor(Array.from(bias))).relu().mul(2);
      return [y, y.sum(), y.max(0), y.mean(1).exp()];
    });
    const ref = new Float64Array(70 * 20);
    for (let i = 0; i < 70; i++) for (let j = 0; j < 20; j++) {
      let acc = bias[j];
      for (let k = 0; k < 33; k++) acc += A[i * 33 + k] * B[k * 20 + j];
      ref[i * 20 + j] = Math.max(acc, 0) * 2;
    }
    const colMax = Array.from({ length: 20 }, (_, j) => Math.max(...Array.from({ length: 70 }, (_, i) => ref[i * 20 + j])));
    const rowExpMean = Array.from({ length: 70 }, (_, i) => Math.exp(ref.subarray(i * 20, i * 20 + 20).reduce((p, v) => p + v, 0) / 20));
    const expected = [...ref, ref.reduce((p, v) => p + v, 0), ...colMax, ...rowExpMean];
    const got = Float32Array.from([...(await y.data()), ...(await s.data()), ...(await m.data()), ...(await e.data())]);
    // float32 sums of 33 products, and of 1400 values for the total, against float64
    assertClose(got, expected, { rtol: 1e-4, atol: 1e-4, what: `relu(a@b + bias)·2, its sum, column max and exp(row mean) on ${backend}` });
    assert.equal(Array.from(await wg.tensor([4, 5], { dtype: "int32" }).data()), [4, 5], "int32 data reads back");
    for (const t of [y, s, m, e]) t.dispose();
  });

  // was in pool-relu.test.ts (wasm only): the fused maxpool/ReLU backward on every backend
  test("maxPool2d(relu(z)) sends its gradient to z through the fused kernel, equal to the unfused composition", async () => {
    const cases: [number[], number, { stride?: number; padding?: number }][] = [[[2, 3, 26, 27], 2, {}], [[1, 2, 7, 9], 3, { stride: 2, padding: 1 }]];
    for (const [shape, k, opts] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const out = wg.scope(() => {
        const z = wg.tensor(randomF32(n, 77).map((v) => Math.round(v * 8) / 8), { shape: [...shape], requiresGrad: true });
        const fused = wg.maxPool2d(z.relu(), k, opts);
        assert.is((fused as any)._node.name, "maxPool2d(relu)");
        const unfused = wg.maxPool2d(z.relu().mul(1), k, opts);
        assert.is((unfused as any)._node.name, "maxPool2d");
        const r = wg.tensor(randomF32(fused.size, 78), { shape: [...fused.shape] });
        const gz = (y: wg.Tensor) => wg.grad(() => y.mul(r).sum(), [z]).grads[0]!;
        return [fused, unfused, gz(wg.maxPool2d(z.relu(), k, opts)), gz(wg.maxPool2d(z.relu().mul(1), k, opts))];
      });
      const [fv, uv, fg, ug] = await Promise.all(out.map((t) => t.data()));
      assert.equal(fv, uv, `fused vs unfused values ${shape}`);
      assertClose(fg, ug, { rtol: 0, atol: 0, what: `fused vs unfused gradient ${shape}` });
      for (const t of out) t.dispose();
    }
  });

  // permute/transpose copy 32-bit words (gather_b32): int32 values of any size and float bit
  // patterns come through unchanged on every backend (int32 once went through a wasm-only view)
  test("permute and transpose move int32 values and float bits exactly (NaN payloads, -0, denormals, big ints)", async () => {
    const ints = Int32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i % 2 ? -1 : 1) * (i * 97_531_071 + 7));
    const bits = new Uint32Array(2 * 3 * 4).map((_, i) => [0x7fc01234, 0x80000000, 0x00000001, 0x007fffff, 0xffc0beef][i % 5]);
    const floats = new Float32Array(bits.buffer);
    const perm = (a: ArrayLike<number>, i: number, j: number, k: number) => a[(i * 3 + j) * 4 + k]; // [2,3,4] → [4,2,3]
    const wantInts: number[] = [], wantBits: number[] = [];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) { wantInts.push(perm(ints, i, j, k)); wantBits.push(perm(bits, i, j, k)); }
    const ti = wg.tensor(Array.from(ints), { shape: [2, 3, 4], dtype: "int32" }).permute(2, 0, 1);
    const tf = wg.tensor(floats, { shape: [2, 3, 4] }).permute(2, 0, 1);
    assert.equal(Array.from(await ti.data()), wantInts, `int32 permute on ${backend}`);
    assert.equal(Array.from(new Uint32Array((await tf.data()).buffer)), wantBits, `float bits through permute on ${backend}`);
    const tt = wg.tensor(Array.from(ints), { shape: [4, 6], dtype: "int32" }).transpose(0, 1);
    assert.equal(Array.from(await tt.data()), Array.from({ length: 24 }, (_, n) => ints[(n % 4) * 6 + Math.floor(n / 4)]), `int32 transpose on ${backend}`);
    // a permute that keeps the last axis moves whole runs (memory.copy on wasm)
    const tr = wg.tensor(Array.from(ints), { shape: [2, 3, 4], dtype: "int32" }).permute(1, 0, 2);
    const wantRuns: number[] = [];
    for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) wantRuns.push(perm(ints, i, j, k));
    assert.equal(Array.from(await tr.data()), wantRuns, `int32 permute keeping the last axis on ${backend}`);
    for (const t of [ti, tf, tt, tr]) t.dispose();
  });
});
