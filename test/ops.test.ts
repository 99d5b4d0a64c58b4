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

  // issue 15: torch.matmul broadcasts the batch dims of both operands and promotes 1-D operands;
  // each case against a float64 reference, and the gradients (summed over broadcast batch dims)
  // against the same reference's gradients of L = Σ C·R
  test("matmul broadcasts batch dims as torch.matmul: shapes, values and gradients summed over the broadcast", async () => {
    const cases: [number[], number[], number[]][] = [
      [[1, 2, 3], [4, 3, 5], [4, 2, 5]],
      [[2, 3], [4, 3, 5], [4, 2, 5]],
      [[3], [4, 3, 5], [4, 5]],
      [[4, 3, 5], [5], [4, 3]],
      [[2, 1, 2, 3], [3, 3, 2], [2, 3, 2, 2]],
      [[3, 2, 3], [2, 1, 3, 4], [2, 3, 2, 4]],
      [[4, 2, 3], [1, 3, 5], [4, 2, 5]],
      [[1, 2, 3], [3, 4], [1, 2, 4]],
      [[3], [3], []],
    ];
    for (const [sa, sb, want] of cases) {
      const size = (s: number[]) => s.reduce((p, v) => p * v, 1);
      const A = randomF32(size(sa), 3), Bv = randomF32(size(sb), 4), R = randomF32(size(want), 5);
      const [c, ga, gb] = wg.scope(() => {
        const a = wg.tensor(A, { shape: sa, requiresGrad: true }), b = wg.tensor(Bv, { shape: sb, requiresGrad: true });
        const c = a.matmul(b);
        const { grads } = wg.grad(() => c.mul(wg.tensor(R, { shape: want })).sum(), [a, b]);
        return [c, grads[0]!, grads[1]!];
      });
      assert.equal([...c.shape], want, `${JSON.stringify(sa)} @ ${JSON.stringify(sb)}`);
      // the float64 reference: promote 1-D, broadcast the batch, then C = A·B per batch entry
      const pa = sa.length === 1 ? [1, sa[0]] : sa, pb = sb.length === 1 ? [sb[0], 1] : sb;
      const [m, k] = pa.slice(-2), n = pb[pb.length - 1];
      const batch: number[] = [];
      const ba = pa.slice(0, -2), bb = pb.slice(0, -2), nb = Math.max(ba.length, bb.length);
      for (let i = 0; i < nb; i++) batch.push(Math.max(ba[ba.length - nb + i] ?? 1, bb[bb.length - nb + i] ?? 1));
      const offset = (bs: number[], idx: number[]) => bs.reduce((o, d, i) => o * d + (d === 1 ? 0 : idx[nb - bs.length + i]), 0);
      const ref = new Float64Array(size(batch) * m * n), dA = new Float64Array(A.length), dB = new Float64Array(Bv.length);
      for (let t = 0; t < size(batch); t++) {
        const idx: number[] = [];
        for (let i = nb - 1, r = t; i >= 0; i--) (idx[i] = r % batch[i], (r = Math.floor(r / batch[i])));
        const oa = offset(ba, idx) * m * k, ob = offset(bb, idx) * k * n;
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let acc = 0;
          for (let l = 0; l < k; l++) acc += A[oa + i * k + l] * Bv[ob + l * n + j];
          ref[(t * m + i) * n + j] = acc;
          const r = R[(t * m + i) * n + j];
          for (let l = 0; l < k; l++) (dA[oa + i * k + l] += r * Bv[ob + l * n + j], dB[ob + l * n + j] += r * A[oa + i * k + l]);
        }
      }
      const what = `${JSON.stringify(sa)} @ ${JSON.stringify(sb)} on ${backend}`;
      assertClose(await c.data(), ref, { rtol: 1e-4, atol: 1e-5, what });
      assertClose(await ga.data(), dA, { rtol: 1e-4, atol: 1e-5, what: `dA of ${what}` });
      assertClose(await gb.data(), dB, { rtol: 1e-4, atol: 1e-5, what: `dB of ${what}` });
      for (const t of [c, ga, gb]) t.dispose();
    }
    assert.throws(() => wg.zeros([2, 2, 3]).matmul(wg.zeros([3, 3, 4])), /matmul: batch dims of \[2,2,3\] and \[3,3,4\] cannot be broadcast/);
  });

  // issue 15: PyTorch's gradients at ties (values by hand from PyTorch's derivative formulas)
  test("gradients at ties as PyTorch: max()/min() split evenly, max(dim)/min(dim) to the first, maximum/minimum 0.5/0.5", async () => {
    const gradOf = async (data: number[][] | number[], f: (x: wg.Tensor) => wg.Tensor) => {
      const g = wg.scope(() => {
        const x = wg.tensor(data as any, { requiresGrad: true });
        return wg.grad(() => f(x), [x]).grads[0]!;
      });
      const v = Array.from(await g.data());
      g.dispose();
      return v;
    };
    // full reduction (amax semantics): evenly_distribute_backward
    assert.equal(await gradOf([1, 3, 3, 2], (x) => x.max()), [0, 0.5, 0.5, 0], "max() of [1,3,3,2]");
    assert.equal(await gradOf([2, 1, 1, 4, 1], (x) => x.min().mul(3)), [0, 1, 1, 0, 1], "3·min() of [2,1,1,4,1]: 3 split three ways");
    assert.equal(await gradOf([[5, 1], [5, 5]], (x) => x.max(undefined, true).sum()), [1 / 3, 0, 1 / 3, 1 / 3].map(Math.fround), "max() keepdim of a 2-D tensor");
    assert.equal(await gradOf([7, 2], (x) => x.max()), [1, 0], "no tie");
    // along a dim: the whole gradient to the index PyTorch returns (the first)
    assert.equal(await gradOf([[1, 3, 3, 2], [5, 5, 0, 5]], (x) => x.max(1).sum()), [0, 1, 0, 0, 1, 0, 0, 0], "max(1)");
    assert.equal(await gradOf([[1, 0], [1, 0]], (x) => x.min(0).sum()), [1, 1, 0, 0], "min(0)");
    // maximum / minimum: the larger (smaller) operand, 0.5 each at a tie, broadcast gradients summed
    const pair = async (fa: number[], fb: number[], op: "maximum" | "minimum") => {
      const gs = wg.scope(() => {
        const a = wg.tensor(fa, { requiresGrad: true }), b = wg.tensor(fb, { requiresGrad: true });
        return wg.grad(() => wg[op](a, b).sum(), [a, b]).grads.map((g) => g!);
      });
      const v = [Array.from(await gs[0].data()), Array.from(await gs[1].data())];
      gs.forEach((g) => g.dispose());
      return v;
    };
    assert.equal(await pair([1, 2, 3], [1, 3, 2], "maximum"), [[0.5, 0, 1], [0.5, 1, 0]], "maximum");
    assert.equal(await pair([1, 2, 3], [1, 3, 2], "minimum"), [[0.5, 1, 0], [0.5, 0, 1]], "minimum");
    assert.equal(await pair([2, 2, 1], [2], "maximum"), [[0.5, 0.5, 0], [2]], "maximum broadcast: b gets 0.5 + 0.5 + 1");
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
