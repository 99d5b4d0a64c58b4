// The indexing ops (host/ops/indexing.ts) on every backend against hand-computed
// expectations (PyTorch's answers for the same calls): gather / scatter /
// scatterAdd / indexSelect along every dim, oneHot, maskedFill with a broadcast
// mask, tril / triu with diagonals, and sort / argsort / topk with ties, NaN and
// ±0 (stable; NaN largest); the Tensor methods; errors naming the op and shapes;
// and out-of-range indices: an error on wasm, NaN / nothing on WebGPU.
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32 } from "./harness.js";
import { forEachBackend } from "./backends.js";

const I = (a: number[] | number[][] | number[][][]) => wg.tensor(a, { dtype: "int32" });
const read = async (t: wg.Tensor) => Array.from(await t.data());

forEachBackend("indexing ops", (backend, test) => {
  test("gather along each dim of a 2-D and a 3-D tensor, index smaller than input, int32 input", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(await read(wg.gather(x, 1, I([[2, 0], [1, 1]]))), [3, 1, 5, 5]);
    assert.equal(await read(x.gather(0, I([[1, 0, 1]]))), [4, 2, 6]);
    assert.equal(await read(x.gather(-1, I([[0], [2]]))), [1, 6]);
    const y = wg.tensor(Array.from({ length: 24 }, (_, i) => i), { shape: [2, 3, 4] });
    const g = y.gather(1, I([[[2, 0, 1, 2]], [[0, 0, 2, 1]]]));
    assert.equal(g.shape, [2, 1, 4]);
    assert.equal(await read(g), [8, 1, 6, 11, 12, 13, 22, 19]);
    assert.equal(await read(wg.gather(I([[7, 8], [9, 10]]), 1, I([[1, 1], [0, 1]]))), [8, 8, 9, 10]);
  });

  test("scatter (tensor and scalar src, last write wins), scatterAdd (repeats sum), src larger than index", async () => {
    const x = wg.zeros([2, 4]);
    assert.equal(await read(wg.scatter(x, 1, I([[3, 0], [1, 1]]), wg.tensor([[1, 2], [3, 4]]))), [2, 0, 0, 1, 0, 4, 0, 0]);
    assert.equal(await read(x.scatter(0, I([[1, 0, 1, 0]]), 7)), [0, 7, 0, 7, 7, 0, 7, 0]);
    assert.equal(await read(wg.ones([2, 3]).scatterAdd(1, I([[0, 0], [2, 2]]), wg.tensor([[1, 2, 9], [3, 4, 9]]))), [4, 1, 1, 1, 1, 8]);
  });

  test("indexSelect along each dim, repeats, an empty index", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(await read(x.indexSelect(0, I([1, 1, 0]))), [4, 5, 6, 4, 5, 6, 1, 2, 3]);
    const c = wg.indexSelect(x, 1, I([2, 0]));
    assert.equal(c.shape, [2, 2]);
    assert.equal(await read(c), [3, 1, 6, 4]);
    assert.equal(wg.indexSelect(x, 1, wg.tensor([], { dtype: "int32" })).shape, [2, 0]);
    const big = randomF32(5 * 37, 3), xb = wg.tensor(big, { shape: [5, 37] });
    const sel = [4, 0, 4, 2];
    assert.equal(await read(xb.indexSelect(0, I(sel))), sel.flatMap((r) => Array.from(big.subarray(r * 37, r * 37 + 37))));
  });

  test("oneHot, maskedFill (broadcast mask), tril / triu with diagonals (float and int32)", async () => {
    const h = wg.oneHot(I([[0, 2], [1, 1]]), 3);
    assert.equal([h.dtype, h.shape], ["int32", [2, 2, 3]]);
    assert.equal(await read(h), [1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0]);
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(await read(x.maskedFill(wg.tensor([1, 0, 1]), -Infinity)), [-Infinity, 2, -Infinity, -Infinity, 5, -Infinity]);
    assert.equal(await read(wg.maskedFill(x, I([[0], [1]]), 0)), [1, 2, 3, 0, 0, 0]);
    const m = wg.tensor(Array.from({ length: 12 }, (_, i) => i + 1), { shape: [3, 4] });
    assert.equal(await read(m.tril()), [1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0]);
    assert.equal(await read(m.tril(-1)), [0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0]);
    assert.equal(await read(m.triu(1)), [0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12]);
    assert.equal(await read(wg.triu(m, -1)), [1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12]);
    const ti = wg.tril(wg.ones([2, 2, 2], { dtype: "int32" }));
    assert.equal([ti.dtype, await read(ti)], ["int32", [1, 0, 1, 1, 1, 0, 1, 1]]);
  });

  test("sort / argsort / topk: stable ties, ±0 equal, NaN largest, along dim 0 and the last dim", async () => {
    const x = wg.tensor([2, NaN, 1, -0, 2, 0, -Infinity]);
    const s = x.sort();
    assert.equal(await read(s.indices), [6, 3, 5, 2, 0, 4, 1]);
    assert.equal((await read(s.values)).map(String), ["-Infinity", "0", "0", "1", "2", "2", "NaN"]);
    assert.equal(await read(x.argsort(0, true)), [1, 0, 4, 2, 3, 5, 6]);
    const t = wg.tensor([[3, 1, 2], [0, 5, 5]]).topk(2);
    assert.equal([await read(t.values), await read(t.indices)], [[3, 2, 5, 5], [0, 2, 1, 2]]);
    const lo = wg.topk(wg.tensor([[3, 1, 2], [0, 5, 5]]), 1, 0, false);
    assert.equal([lo.values.shape, await read(lo.values), await read(lo.indices)], [[1, 3], [0, 1, 2], [1, 0, 0]]);
    const d0 = wg.sort(wg.tensor([[3, 1], [1, 1], [2, 0]]), 0, true);
    assert.equal([await read(d0.values), await read(d0.indices)], [[3, 1, 2, 1, 1, 0], [0, 0, 2, 1, 1, 2]]);
    assert.equal(await read(wg.topk(wg.tensor([1, 2]), 0).values), []);
  });

  test("argument errors name the op and the shapes", () => {
    const x = wg.zeros([2, 3]);
    assert.throws(() => wg.gather(x, 1, wg.tensor([[0]])), /gather: index must be int32/);
    assert.throws(() => wg.gather(x, 1, I([0])), /gather: index \[1\] must have the rank of input \[2,3\]/);
    assert.throws(() => wg.gather(x, 2, I([[0]])), /gather: dim 2 is out of range/);
    assert.throws(() => wg.gather(x, 1, I([[0], [0], [0]])), /gather: index \[3,1\] is larger than input \[2,3\] in dim 0/);
    assert.throws(() => wg.scatter(x, 1, I([[0]]), 1), /scatter: index \[1,1\] must match input \[2,3\]/);
    assert.throws(() => wg.scatterAdd(x, 1, I([[0], [1]]), wg.zeros([1, 1])), /scatterAdd: src \[1,1\] is smaller than index \[2,1\] in dim 0/);
    assert.throws(() => wg.indexSelect(x, 0, I([[0]])), /indexSelect: index must be 1-D/);
    assert.throws(() => wg.topk(x, 4), /topk: k must be an integer in 0\.\.3/);
    assert.throws(() => wg.sort(I([1, 2])), /sort: expected a float32 input, got int32/);
    assert.throws(() => wg.maskedFill(x, wg.zeros([3, 3]), 1), /maskedFill: mask \[3,3\] cannot be broadcast to input \[2,3\]/);
    assert.throws(() => wg.tril(wg.zeros([3])), /tril: input must have at least 2 dims/);
  });

  test("out-of-range indices: an error on wasm before writing, NaN gathered / nothing scattered on WebGPU", async () => {
    const x = wg.tensor([[1, 2], [3, 4]]);
    if (backend === "wasm") {
      assert.throws(() => wg.gather(x, 1, I([[0, 2], [0, 0]])), /gather: index 2 at position 1 is out of range for a dim of size 2/);
      assert.throws(() => wg.indexSelect(x, 0, I([-1])), /indexSelect: index -1 at position 0 is out of range/);
      assert.throws(() => wg.scatterAdd(x, 0, I([[2, 0], [0, 0]]), x), /scatterAdd: index 2 at position 0 is out of range/);
      assert.throws(() => wg.oneHot(I([3]), 3), /oneHot: class values must be in \[0, 3\)/);
    } else {
      assert.equal((await read(wg.gather(x, 1, I([[0, 2], [0, 0]])))).map(String), ["1", "NaN", "3", "3"]);
      assert.equal((await read(wg.indexSelect(x, 0, I([-1, 1])))).map(String), ["NaN", "NaN", "3", "4"]);
      assert.equal(await read(wg.scatterAdd(x, 0, I([[2, 0], [0, 0]]), x)), [4, 8, 3, 4]);
      assert.equal(await read(wg.oneHot(I([3, 1]), 3)), [0, 0, 0, 0, 1, 0]);
    }
  });

  test("gradients: gather scatter-adds, indexSelect index-adds, scatter gathers back, topk flows to the picks", async () => {
    const x = wg.tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    wg.gather(x, 1, I([[0, 0], [2, 1]])).sum().backward();
    assert.equal(await read(x.grad!), [2, 0, 0, 0, 1, 1]);
    x.grad = null;
    wg.indexSelect(x, 1, I([2, 2, 0])).mul(wg.tensor([[1, 2, 3], [4, 5, 6]])).sum().backward();
    assert.equal(await read(x.grad!), [3, 0, 3, 6, 0, 9]);
    const a = wg.tensor([1, 2, 3], { requiresGrad: true }), src = wg.tensor([5, 6], { requiresGrad: true });
    wg.scatter(a, 0, I([2, 0]), src).mul(wg.tensor([1, 2, 3])).sum().backward();
    assert.equal([await read(a.grad!), await read(src.grad!)], [[0, 2, 0], [3, 1]]);
    const t = wg.tensor([[1, 5, 3], [9, 8, 7]], { requiresGrad: true });
    t.topk(2, 1).values.mul(wg.tensor([[1, 10], [100, 1000]])).sum().backward();
    assert.equal(await read(t.grad!), [0, 1, 10, 100, 1000, 0]);
    const u = wg.tensor([3, 1, 2], { requiresGrad: true });
    const { values, indices } = u.sort(0, true);
    indices.dispose(); // backward keeps its own copy
    values.mul(wg.tensor([1, 2, 3])).sum().backward();
    assert.equal(await read(u.grad!), [1, 3, 2]);
  });
});
