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

  // ---- issue 15 item 2: values against hand-computed / float64 expectations (torch's conventions noted)
  const vals = async (t: wg.Tensor) => Array.from(await t.data());
  const near = async (t: wg.Tensor, want: number[], what: string, tol = 1e-5) =>
    assertClose(await t.data(), want, { rtol: tol, atol: tol, what: `${what} on ${backend}` });

  test("floor, ceil, round (halves to even, decimals), trunc", async () => {
    const x = wg.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, -1.7, 1.2, 1e8, -0.2]);
    assert.equal(await vals(wg.floor(x)), [-3, -2, -1, 0, 1, 2, -2, 1, 1e8, -1]);
    assert.equal(await vals(x.ceil()), [-2, -1, -0, 1, 2, 3, -1, 2, 1e8, -0]);
    assert.equal(await vals(x.round()), [-2, -2, -0, 0, 2, 2, -2, 1, 1e8, -0]);
    assert.equal(await vals(x.trunc()), [-2, -1, -0, 0, 1, 2, -1, 1, 1e8, -0]);
    await near(wg.round(wg.tensor([1.26, -0.36, 1250, 1350]), { decimals: 1 }), [1.3, -0.4, 1250, 1350], "round decimals 1");
    assert.equal(await vals(wg.round(wg.tensor([1250, 1350, 49]), { decimals: -2 })), [1200, 1400, 0]);
    assert.throws(() => wg.round(x, { decimals: 1.5 }), /round: decimals must be an integer/);
    assert.throws(() => wg.round(x, { digits: 1 } as any), /round: unknown option "digits"/);
  });

  test("cumsum and cumprod along every dim, scalars, empty tensors; errors", async () => {
    const x = wg.tensor([[[1, 2], [3, 4], [5, 6]], [[-1, 0.5], [2, -2], [0, 3]]]); // [2, 3, 2]
    assert.equal(await vals(x.cumsum(0)), [1, 2, 3, 4, 5, 6, 0, 2.5, 5, 2, 5, 9]);
    assert.equal(await vals(x.cumsum(1)), [1, 2, 4, 6, 9, 12, -1, 0.5, 1, -1.5, 1, 1.5]);
    assert.equal(await vals(wg.cumsum(x, -1)), [1, 3, 3, 7, 5, 11, -1, -0.5, 2, 0, 0, 3]);
    assert.equal(await vals(x.cumprod(1)), [1, 2, 3, 8, 15, 48, -1, 0.5, -2, -1, -0, -3]);
    assert.equal(await vals(wg.cumprod(x, 2)), [1, 2, 3, 12, 5, 30, -1, -0.5, 2, -4, 0, 0]);
    const long = wg.arange(1000).float();
    const cs = await long.cumsum(0).data();
    assert.is(cs[999], 499500);
    assert.is(cs[500], 125250);
    assert.equal(await vals(wg.tensor(3).cumsum(0)), [3]);
    assert.equal(wg.zeros([2, 0]).cumsum(1).shape, [2, 0]);
    assert.throws(() => x.cumsum(3), /cumsum: dim 3 is out of range for a tensor of rank 3/);
    assert.throws(() => wg.cumsum(wg.tensor([1], { dtype: "int32" }), 0), /cumsum: expected a float32 tensor/);
  });

  test("var and std (unbiased default, correction, keepdim, dims), logsumexp (stable, -inf)", async () => {
    const x = wg.tensor([[1, 2, 3, 4], [2, 4, 6, 8], [0, 0, 0, 1]]);
    await near(x.var(1), [5 / 3, 20 / 3, 0.25], "var dim 1");
    await near(x.var(1, false), [1.25, 5, 0.1875], "var unbiased=false");
    await near(wg.var(x, 1, { correction: 0, keepdim: true }), [1.25, 5, 0.1875], "var correction 0 keepdim");
    assert.equal(wg.var(x, 1, { correction: 0, keepdim: true }).shape, [3, 1]);
    assert.equal(x.var(1, true, true).shape, [3, 1]);
    await near(x.std(0), [1, 2, 3, Math.sqrt(37 / 3)], "std dim 0");
    const all = [1, 2, 3, 4, 2, 4, 6, 8, 0, 0, 0, 1], m = all.reduce((a, b) => a + b) / 12;
    const ss = all.reduce((a, b) => a + (b - m) ** 2, 0);
    await near(x.var(), [ss / 11], "var of everything");
    await near(wg.std(x, [0, 1]), [Math.sqrt(ss / 11)], "std over [0, 1]");
    await near(wg.var(x, null, { unbiased: false }), [ss / 12], "var unbiased false (options)");
    assert.ok(Number.isNaN((await wg.tensor([5]).var().data())[0]), "var of one element with correction 1 is NaN, as torch");
    assert.throws(() => x.var(1, { correction: 1, unbiased: true }), /var: give correction or unbiased, not both/);
    assert.throws(() => x.std(1, { ddof: 1 } as any), /std: unknown option "ddof"/);
    const l = wg.tensor([[0, 0, 0], [1000, 1000, -1000], [-Infinity, -Infinity, -Infinity], [-Infinity, 0, 1]]);
    const lse = await l.logsumexp(1).data();
    assert.is(lse[2], -Infinity, "logsumexp of all -inf is -inf, as torch");
    assertClose([lse[0], lse[1], lse[3]], [Math.log(3), 1000 + Math.log(2), Math.log(1 + Math.E)], { rtol: 1e-6, atol: 1e-6, what: `logsumexp dim 1 on ${backend}` });
    await near(wg.logsumexp(wg.tensor([[1, 2], [3, 4]]), [0, 1]), [Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3) + Math.exp(4))], "logsumexp of all");
    assert.equal(wg.logsumexp(wg.ones([2, 3, 4]), [0, 2], true).shape, [1, 3, 1]);
    assert.throws(() => (wg.logsumexp as any)(l), /logsumexp: dim is required/);
  });

  test("pad: constant (value, negative crops), reflect, replicate, circular; int32; errors", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]]);
    const p = wg.pad(x, [1, 2]);
    assert.equal(p.shape, [2, 6]);
    assert.equal(await vals(p), [0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0, 0]);
    assert.equal(await vals(wg.pad(x, [0, 0, 1, 0], "constant", 7)), [7, 7, 7, 1, 2, 3, 4, 5, 6]);
    assert.equal(await vals(wg.pad(x, [-1, 1])), [2, 3, 0, 5, 6, 0]);
    assert.equal(await vals(wg.pad(x, [2, 1], "reflect")), [3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5]);
    assert.equal(await vals(wg.pad(x, [1, 1, 1, 0], "reflect")), [5, 4, 5, 6, 5, 2, 1, 2, 3, 2, 5, 4, 5, 6, 5]);
    assert.equal(await vals(wg.pad(x, [1, 2], "replicate")), [1, 1, 2, 3, 3, 3, 4, 4, 5, 6, 6, 6]);
    assert.equal(await vals(wg.pad(x, [0, 0, 1, 1], "replicate")), [1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6]);
    assert.equal(await vals(wg.pad(x, [2, 1], "circular")), [2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4]);
    assert.equal(await vals(wg.pad(wg.tensor([1, 2], { dtype: "int32" }), [1, 1], "constant", 9)), [9, 1, 2, 9]);
    assert.throws(() => wg.pad(x, [1]), /pad: pad must be an array of even length/);
    assert.throws(() => wg.pad(x, [1, 1, 1, 1, 1, 1]), /pad: 6 amounts pad 3 dims, but the tensor has shape \[2,3\]/);
    assert.throws(() => wg.pad(x, [3, 0], "reflect"), /pad: reflect amounts \[3, 0\] must be below the size 3 of dim 1/);
    assert.throws(() => wg.pad(x, [1, 0], "wrap" as any), /pad: mode must be/);
    assert.throws(() => wg.pad(x, [1, 0], "reflect", 1), /pad: mode "reflect" takes no value/);
  });

  test("split, chunk, repeat, tile (values, int32, errors)", async () => {
    const x = wg.arange(10).float().reshape(2, 5);
    const s = x.split(2, 1);
    assert.equal(s.map((t) => t.shape), [[2, 2], [2, 2], [2, 1]]);
    assert.equal(await vals(s[2]), [4, 9]);
    const sec = wg.split(x, [1, 4], 1);
    assert.equal(await vals(sec[1]), [1, 2, 3, 4, 6, 7, 8, 9]);
    assert.equal(x.split(5).length, 1);
    assert.throws(() => x.split([1, 2], 1), /split: sections \[1,2\] add up to 3, but dim 1 of \[2,5\] is 5/);
    assert.equal(wg.arange(10).chunk(4).map((t) => t.shape[0]), [3, 3, 3, 1]);
    assert.equal(wg.arange(5).chunk(4).map((t) => t.shape[0]), [2, 2, 1]);
    assert.equal(await vals(x.chunk(2, 0)[1]), [5, 6, 7, 8, 9]);
    assert.throws(() => x.chunk(0), /chunk: chunks must be an integer ≥ 1/);
    const r = wg.tensor([[1, 2], [3, 4]]).repeat(2, 1, 2);
    assert.equal(r.shape, [2, 2, 4]);
    assert.equal(await vals(r), [1, 2, 1, 2, 3, 4, 3, 4, 1, 2, 1, 2, 3, 4, 3, 4]);
    assert.equal(await vals(wg.tensor([7, -8], { dtype: "int32" }).repeat([3])), [7, -8, 7, -8, 7, -8]);
    assert.throws(() => wg.ones([2, 2]).repeat(2), /repeat: 1 repeat counts \[2\] for a tensor of rank 2/);
    assert.equal(await vals(wg.tile(wg.tensor([[1, 2], [3, 4]]), [2])), [1, 2, 1, 2, 3, 4, 3, 4]);
    assert.equal(wg.ones([2, 3]).tile([2, 1, 1]).shape, [2, 2, 3]);
  });

  test("einsum: matmul, batched, transposes, traces-free reductions, outer and dot products, three operands; errors", async () => {
    const A = randomF32(12, 91), B = randomF32(20, 92);
    const a = wg.tensor(Array.from(A), { shape: [3, 4] }), b = wg.tensor(Array.from(B), { shape: [4, 5] });
    const mm: number[] = [];
    for (let i = 0; i < 3; i++) for (let k = 0; k < 5; k++) { let s = 0; for (let j = 0; j < 4; j++) s += A[i * 4 + j] * B[j * 5 + k]; mm.push(s); }
    await near(wg.einsum("ij,jk->ik", a, b), mm, "ij,jk->ik");
    await near(wg.einsum("ij,jk", a, b), mm, "implicit output");
    const mmT: number[] = [];
    for (let k = 0; k < 5; k++) for (let i = 0; i < 3; i++) mmT.push(mm[i * 5 + k]);
    await near(wg.einsum("ij,jk->ki", a, b), mmT, "ij,jk->ki");
    await near(wg.einsum("ij->ji", a), Array.from({ length: 12 }, (_, q) => A[(q % 3) * 4 + Math.floor(q / 3)]), "transpose");
    await near(wg.einsum("ij->", a), [A.reduce((p, v) => p + v, 0)], "sum of everything");
    await near(wg.einsum("ij->j", a), [0, 1, 2, 3].map((j) => A[j] + A[4 + j] + A[8 + j]), "column sums");
    await near(wg.einsum("i,i->", wg.tensor([1, 2, 3]), wg.tensor([4, 5, 6])), [32], "dot");
    await near(wg.einsum("i,j->ij", wg.tensor([1, 2]), wg.tensor([3, 4, 5])), [3, 4, 5, 6, 8, 10], "outer");
    await near(wg.einsum("bi,bi->b", wg.tensor([[1, 2], [3, 4]]), wg.tensor([[5, 6], [7, 8]])), [17, 53], "batched dot");
    await near(wg.einsum("bij,bjk->bik", wg.tensor([[[1, 2]], [[3, 4]]]), wg.tensor([[[1], [1]], [[2], [0]]])), [3, 6], "bmm");
    await near(wg.einsum("ij,jk,kl->il", wg.tensor([[1, 2]]), wg.tensor([[1, 0], [0, 1]]), wg.tensor([[2], [3]])), [8], "chain of three");
    assert.throws(() => wg.einsum("...ij,jk", a, b), /einsum: "...ij,jk": ellipsis \("..."\) is not supported/);
    await near(wg.einsum("ii->i", wg.tensor([[1, 2], [3, 4]])), [1, 4], "diagonal");
    await near(wg.einsum("ii", wg.tensor([[1, 2], [3, 4]])), [5], "trace");
    await near(wg.einsum("iij->j", wg.tensor([[[1, 2], [3, 4]], [[5, 6], [7, 8]]])), [8, 10], "diagonal, then summed");
    assert.throws(() => wg.einsum("ij,jk->ik", a, a), /einsum: "ij,jk->ik": subscript j is 4 in one operand and 3 in operand 1/);
    assert.throws(() => wg.einsum("ij,jk->ik", a), /einsum: "ij,jk->ik" has 2 operand\(s\), but 1 tensor\(s\) were given/);
    assert.throws(() => wg.einsum("ijk,jk->ik", a, b), /operand 0 has 3 subscripts "ijk" but shape \[3,4\]/);
    assert.throws(() => wg.einsum("ij->iz", a), /output subscript z appears in no operand/);
  });
});
