// Memory: the block pool, scopes, and the rule that outranks flat memory:
// nothing a program can still reach is released behind its back. Each
// "repro" test below failed on the step-generation design this replaced.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { BlockPool, blockBytes } from "../host/memory/pool.js";
import { rng } from "../host/random.js";

await wg.init({ threads: 1, verbose: false });

const gc = (globalThis as { gc?: () => void }).gc;

test("pool: random allocate/free never hands out overlapping blocks, and freeing everything returns to the base", () => {
  const pool = new BlockPool(65536, 1 << 30, () => true);
  const live = new Map<number, number>();
  const r = rng(3);
  for (let i = 0; i < 20000; i++) {
    if (live.size && r() < 0.45) {
      const keys = [...live.keys()];
      const k = keys[Math.floor(r() * keys.length)];
      pool.free(k);
      live.delete(k);
    } else {
      const bytes = Math.floor(r() ** 3 * 100000) + 1;
      const p = pool.alloc(bytes);
      assert.is(p % 64, 0);
      assert.ok(pool.sizeOf(p) >= bytes);
      live.set(p, bytes);
    }
  }
  const spans = [...live].map(([p, b]) => [p, p + blockBytes(b)]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `overlap at ${spans[i][0]}`);
  for (const p of live.keys()) pool.free(p);
  pool.compact();
  assert.is(pool.inUse, 0);
  assert.is(pool.freeBytes, 0, "every free block merged into the untouched tail");
  assert.is(pool.high, 65536);
  assert.throws(() => pool.free(65536), /not an allocated block/, "a double free is caught");
});

test("repro: adjacent free blocks merge — with 31 of 32 MiB free, a 2 MiB request succeeds", () => {
  const limit = 65536 + (32 << 20);
  const pool = new BlockPool(65536, limit, () => true);
  const blocks = Array.from({ length: 32 }, () => pool.alloc(1 << 20));
  assert.throws(() => pool.alloc(64), (e: Error) => e instanceof wg.OutOfMemoryError);
  // free every block but the last, in a scattered order
  const order = blocks.slice(0, 31).map((p, i) => [p, (i * 17) % 31] as const).sort((a, b) => a[1] - b[1]);
  for (const [p] of order) pool.free(p);
  assert.is(pool.freeBytes, 31 << 20);
  const big = pool.alloc(2 << 20);
  assert.ok(big >= 65536 && big + (2 << 20) <= blocks[31]);
});

test("scopes: random nested scopes never overlap live tensors and release what they made", () => {
  const r = rng(5);
  const kept: { t: wg.Tensor; v: number }[] = [];
  const before = wg.memory().inUse;
  for (let round = 0; round < 50; round++) {
    const escaped = wg.scope(() => {
      const inner: { t: wg.Tensor; v: number }[] = [];
      for (let i = 0; i < 20; i++) {
        const n = Math.floor(r() * 5000) + 1;
        const v = Math.floor(r() * 1000);
        inner.push({ t: wg.full([n], v), v });
        if (r() < 0.3) {
          const nested = wg.scope(() => wg.full([Math.floor(r() * 3000) + 1], v + 1));
          inner.push({ t: nested, v: v + 1 });
        }
      }
      for (const { t, v } of [...inner, ...kept]) assert.ok(t.dataSync().every((x) => x === v), "a live tensor was overwritten");
      return inner[0].t;
    });
    kept.push({ t: escaped.keep(), v: escaped.dataSync()[0] });
  }
  for (const { t, v } of kept) assert.ok(t.dataSync().every((x) => x === v));
  for (const { t } of kept) t.dispose();
  assert.ok(wg.memory().inUse <= before + (1 << 16), `scopes leaked: ${wg.memory().text}`);
});

test("a tensor released by a scope or dispose() says why when it is used", () => {
  const t = wg.scope(() => {
    const inner = wg.ones([3]);
    return { inner, keep: wg.zeros([1]) };
  });
  assert.is(t.inner.dataSync()[0], 1, "returned tensors escape the scope");
  let leaked: wg.Tensor | null = null;
  wg.scope(() => {
    leaked = wg.ones([3]);
  });
  assert.throws(() => leaked!.dataSync(), /released: its scope ended/);
  const d = wg.ones([2]);
  d.dispose();
  assert.throws(() => d.add(1), /released: it was disposed/);
});

test("scope(fn) refuses an async fn up front, and a fn that returns a promise, with a clear error", () => {
  assert.throws(() => wg.scope((async () => wg.ones([1])) as never), /fn is async/);
  assert.throws(() => wg.scope(() => Promise.resolve(1)), /returned a promise/);
  assert.is(wg.scope(() => wg.ones([2]).sum().item()), 2, "the engine is fine afterwards");
});

test("a dropped persistent tensor is reclaimed by the FinalizationRegistry after a GC", async () => {
  if (!gc) assert.unreachable("run with --expose-gc (scripts/test.mjs passes it)");
  const before = wg.memory().inUse;
  (() => {
    for (let i = 0; i < 50; i++) wg.zeros([4096]).keep();
  })();
  const held = wg.memory().inUse;
  assert.ok(held >= before + 50 * 4096 * 4, `the tensors took memory (${before} → ${held})`);
  for (let i = 0; i < 20 && wg.memory().inUse > before; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(wg.memory().inUse <= before, `reclaimed: ${held} → ${wg.memory().inUse} (started at ${before})`);
});

// ---- the README's Example and the programs users write first ----

class Net extends wg.nn.Module {
  conv1 = new wg.nn.Conv2d(1, 16, 3, 1);
  pool = new wg.nn.MaxPool2d(2);
  fc = new wg.nn.Linear(16 * 13 * 13, 10);
  forward(x: wg.Tensor) {
    return this.fc.forward(this.pool.forward(this.conv1.forward(x).relu()).flatten(1));
  }
}

test("repro: the README Example runs all 10 steps (images made before the loop stay readable)", () => {
  const net = new Net();
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = wg.randn([64, 1, 28, 28]), labels = wg.tensor(Int32Array.from({ length: 64 }, (_, i) => i % 10));
  const first = images.dataSync().slice(0, 8);
  const losses: number[] = [];
  for (let step = 0; step < 10; step++) {
    opt.zeroGrad();
    const l = wg.nn.crossEntropy(net.forward(images), labels);
    l.backward();
    opt.step();
    losses.push(l.item());
  }
  assert.is(losses.length, 10);
  assert.ok(losses[9] < losses[0], `it trained: ${losses[0]} → ${losses[9]}`);
  assert.equal(Array.from(images.dataSync().slice(0, 8)), Array.from(first), "the program's tensor kept its values");
});

function mlp(seed: number) {
  wg.manualSeed(seed);
  return new wg.nn.Sequential(new wg.nn.Linear(10, 16), new wg.nn.ReLU(), new wg.nn.Linear(16, 2));
}
function trainOn(X: wg.Tensor, y: wg.Tensor, steps: number, seed = 1): number {
  const net = mlp(seed);
  const opt = new wg.optim.Adam(net.parameters(), { lr: 0.05 });
  let last = 0;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const loss = wg.nn.crossEntropy(net.forward(X), y);
    loss.backward();
    opt.step();
    last = loss.item();
  }
  return last;
}
const Xd = Float32Array.from({ length: 64 * 10 }, (_, i) => Math.sin(i * 0.37));
const yd = Int32Array.from({ length: 64 }, (_, i) => (Xd[i * 10] + Xd[i * 10 + 3] > 0 ? 1 : 0));

test("repro: two and five trainings in a row on the same data, and k-fold, each run as written", () => {
  const X = wg.tensor(Xd, { shape: [64, 10] }), y = wg.tensor(yd);
  const a = trainOn(X, y, 60);
  const b = trainOn(X, y, 60);
  assert.is(a, b, "the same seed on the same data gives the same loss the second time");
  for (let i = 0; i < 3; i++) trainOn(X, y, 30, i);
  // k-fold: each fold trains on the rows outside its quarter of the same X
  for (let k = 0; k < 4; k++) {
    const Xk = wg.cat([X.slice(0, 0, k * 16), X.slice(0, (k + 1) * 16)], 0);
    const yk = wg.cat([y.slice(0, 0, k * 16), y.slice(0, (k + 1) * 16)], 0);
    assert.ok(trainOn(Xk, yk, 40) < 0.69, `fold ${k} trained`);
  }
  assert.is(X.sum().item(), wg.tensor(Xd).sum().item(), "X is still there, unchanged");
});

test("repro: an await between forward and backward, and two models trained interleaved", async () => {
  const X = wg.tensor(Xd, { shape: [64, 10] }), y = wg.tensor(yd);
  const nets = [mlp(1), mlp(2)];
  const opts = nets.map((n) => new wg.optim.SGD(n.parameters(), { lr: 0.1 }));
  const losses: number[][] = [[], []];
  for (let s = 0; s < 300; s++) {
    for (let m = 0; m < 2; m++) {
      opts[m].zeroGrad();
      const loss = wg.nn.crossEntropy(nets[m].forward(X), y);
      await new Promise((r) => setImmediate(r)); // an async data source, a UI frame
      loss.backward();
      opts[m].step();
      losses[m].push(loss.item());
    }
  }
  for (const l of losses) assert.ok(l[299] < l[0], `trained: ${l[0]} → ${l[299]}`);
});

test("repro: outputs collected in an array across an evaluation loop all stay readable", () => {
  const net = mlp(3);
  const X = wg.tensor(Xd, { shape: [64, 10] });
  const outs: wg.Tensor[] = [];
  for (let i = 0; i < 3000; i++) outs.push(net.forward(X.mul(i % 7)));
  const ref = wg.noGrad(() => net.forward(X.mul(2998 % 7)).dataSync());
  assert.equal(Array.from(outs[2998].dataSync()), Array.from(ref), "an early output, read at the end, has its values");
  assert.ok(wg.memory().spilled > 0, "the held outputs moved to the JavaScript heap instead of filling linear memory");
});

// ---- flat without help ----

/**
 * Runs `steps` iterations of body; returns inUse before the loop (what the
 * program already held), then sampled every `every` steps after the first.
 */
function samples(steps: number, every: number, body: (i: number) => void): number[] {
  const out = [wg.memory().inUse];
  for (let i = 0; i < steps; i++) {
    body(i);
    if (i >= every && i % every === 0) out.push(wg.memory().inUse);
  }
  return out;
}
/**
 * Flat: above what was held before the loop, memory stays within twice the
 * loop's working set (its growth by the first samples, which include the
 * optimizer state it made) plus the sweep floor: loose temporaries may reach
 * twice what the program reuses before a sweep moves them out.
 */
function assertFlat(s: number[], what: string): void {
  const [base, ...rest] = s;
  const ws = Math.max(rest[0], rest[1]) - base;
  const bound = base + 2 * ws + (2 << 20);
  const max = Math.max(...rest);
  assert.ok(max <= bound, `${what}: memory grew to ${max - base} bytes above the ${base} held before, bound ${bound - base} (working set ${ws})`);
}

test("10,000 MLP training steps with no scope and no dispose stay flat", () => {
  const net = mlp(4);
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  const X = wg.tensor(Xd, { shape: [64, 10] }), y = wg.tensor(yd);
  let last = 0;
  const s = samples(10000, 500, () => {
    opt.zeroGrad();
    const loss = wg.nn.crossEntropy(net.forward(X.add(0)), y);
    loss.backward();
    opt.step();
    last = loss.item();
  });
  assert.ok(last < 0.5, `it trained (loss ${last})`);
  assertFlat(s, "MLP training");
});

test("10,000 S1 CNN training steps (batch 8) with no scope and no dispose stay flat", () => {
  wg.manualSeed(5);
  const net = new Net();
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const images = wg.randn([8, 1, 28, 28]), labels = wg.tensor(Int32Array.from({ length: 8 }, (_, i) => i), { dtype: "int32" });
  const s = samples(10000, 500, () => {
    opt.zeroGrad();
    const l = wg.nn.crossEntropy(net.forward(images), labels);
    l.backward();
    opt.step();
  });
  assertFlat(s, "S1 training");
});

test("10,000 GPT training steps (a tiny config) with no scope and no dispose stay flat", () => {
  wg.manualSeed(6);
  const gpt = new wg.models.GPT({ vocabSize: 32, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2 });
  const opt = new wg.optim.AdamW(gpt.parameters(), { lr: 1e-3 });
  const ids = wg.tensor(Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 7) % 32), { shape: [2, 8], dtype: "int32" });
  const s = samples(10000, 500, () => {
    opt.zeroGrad();
    const loss = gpt.loss(ids, ids);
    loss.backward();
    opt.step();
  });
  assertFlat(s, "GPT training");
});

test("repro: 10,000 inference batches (with and without noGrad, before and after training, forward and predict) stay flat", () => {
  const net = mlp(7);
  const X = wg.tensor(Xd, { shape: [64, 10] }), y = wg.tensor(yd);
  const infer = (mode: string) => {
    const s = samples(10000, 500, (i) => {
      const x = wg.tensor(Xd.map((v) => v * (i % 3)), { shape: [64, 10] });
      if (mode === "noGrad") wg.noGrad(() => net.forward(x).argmax(1));
      else net.forward(x).softmax(-1).max().item();
    });
    assertFlat(s, `inference (${mode})`);
  };
  infer("noGrad");
  infer("grad");
  trainOn(X, y, 20);
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.1 });
  for (let i = 0; i < 5; i++) {
    opt.zeroGrad();
    wg.nn.crossEntropy(net.forward(X), y).backward();
    opt.step();
  }
  infer("noGrad");
  infer("grad");
  const loader = new wg.data.DataLoader(new wg.data.ArrayDataset(Xd, [10], yd), { batchSize: 16 });
  const before = wg.memory().inUse;
  for (let i = 0; i < 200; i++) wg.predict(net, loader);
  assert.ok(wg.memory().inUse <= before + (1 << 16), `predict() grew memory: ${before} → ${wg.memory().inUse}`);
});

test("repro: a loop whose steps run in wg.scope, with each batch made outside it, stays flat", () => {
  const net = mlp(11);
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.05 });
  const s = samples(3000, 250, (i) => {
    const x = wg.tensor(Xd.map((v) => v * (1 + (i % 5))), { shape: [64, 10] }); // a DataLoader's batch: made outside the scope
    const y = wg.tensor(yd);
    wg.scope(() => {
      opt.zeroGrad();
      wg.nn.crossEntropy(net.forward(x), y).backward();
      opt.step();
    });
  });
  assertFlat(s, "scoped steps, batches outside");
});

test("fit() and evaluate() never grow: memory after the fifth epoch is memory after the first", async () => {
  const net = mlp(9);
  const ds = new wg.data.ArrayDataset(Xd, [10], yd);
  const loader = new wg.data.DataLoader(ds, { batchSize: 8, shuffle: true, seed: 1 });
  const seen: number[] = [];
  await wg.fit(net, loader, {
    optimizer: new wg.optim.Adam(net.parameters(), { lr: 0.01 }), loss: "crossEntropy", epochs: 5,
    validation: loader, metrics: ["accuracy"], onEpoch: () => seen.push(wg.memory().inUse), progress: false,
  });
  assert.is(seen.length, 5);
  assert.ok(seen[4] <= seen[0], `fit grew: ${seen.join(" → ")}`);
  const before = wg.memory().inUse;
  for (let i = 0; i < 100; i++) wg.evaluate(net, loader, { loss: "crossEntropy" });
  assert.ok(wg.memory().inUse <= before, `evaluate grew: ${before} → ${wg.memory().inUse}`);
});

// ---- explicit control ----

test("repro: dispose() on an intermediate keeps the graph: backward passes through it, or names it when its values are needed", () => {
  const w = wg.tensor([1, 2, 3], { requiresGrad: true });
  const z = w.mul(2);
  const z2 = z.add(1);
  z.dispose(); // add's backward does not read z: the gradient still reaches w
  z2.sum().backward();
  assert.equal(Array.from(w.grad!.dataSync()), [2, 2, 2]);

  const v = wg.tensor([1, -2, 3], { requiresGrad: true });
  const h = v.mul(1);
  const r = h.relu(); // relu's backward reads h
  h.dispose();
  assert.throws(() => r.sum().backward(), /released: it was disposed/);
  assert.is(v.grad, null, "nothing was written");
});

test("module.dispose() and optimizer.dispose() give their memory back", () => {
  wg.scope(() => wg.ones([64, 64]).matmul(wg.ones([64, 64]))); // the scratch block is there before and after
  const before = wg.memory().inUse;
  const net = mlp(8);
  const opt = new wg.optim.Adam(net.parameters(), { lr: 0.01 });
  const X = wg.tensor(Xd, { shape: [64, 10] }), y = wg.tensor(yd);
  wg.scope(() => {
    opt.zeroGrad();
    wg.nn.crossEntropy(net.forward(X), y).backward();
    opt.step();
  });
  assert.ok(wg.memory().inUse > before);
  opt.dispose();
  net.dispose();
  X.dispose();
  y.dispose();
  assert.ok(wg.memory().inUse <= before + 256, `left behind: ${wg.memory().inUse - before} bytes`);
  const m = wg.memory();
  for (const k of ["inUse", "pooled", "limit"] as const) assert.type(m[k], "number");
  assert.match(m.text, /in use.*pooled.*limit/);
});

test("repro: after training with no scope, disposing model, optimizer and data leaves only what the program still holds", () => {
  const before = wg.memory().inUse - wg.memory().scratch;
  wg.manualSeed(10);
  const net = new wg.nn.Sequential(new wg.nn.Linear(784, 256), new wg.nn.ReLU(), new wg.nn.Linear(256, 10));
  const opt = new wg.optim.Adam(net.parameters(), { lr: 1e-3 });
  const X = wg.randn([256, 784]), y = wg.tensor(Int32Array.from({ length: 256 }, (_, i) => i % 10), { dtype: "int32" });
  let loss: wg.Tensor | null = null;
  for (let i = 0; i < 5; i++) {
    opt.zeroGrad();
    loss = wg.nn.crossEntropy(net.forward(X), y);
    loss.backward();
    opt.step();
  }
  opt.dispose();
  net.dispose();
  X.dispose();
  y.dispose();
  const left = wg.memory().inUse - wg.memory().scratch - before;
  // the last step's logits [256,10] and the loss pieces the program may still read (it holds `loss`)
  assert.ok(left <= 64 << 10, `left behind: ${left} bytes`);
  assert.ok(Number.isFinite(loss!.item()));
});

test("1,000 init()/shutdown() cycles leave memory where the first left it, and matmul still works", async () => {
  wg.shutdown();
  await wg.init({ threads: 1, verbose: false });
  const check = () => wg.scope(() => wg.ones([40, 70]).matmul(wg.ones([70, 30])).sum().item());
  assert.is(check(), 40 * 70 * 30);
  const first = wg.memory().inUse;
  for (let i = 0; i < 1000; i++) {
    wg.shutdown();
    await wg.init({ threads: 1, verbose: false });
    assert.is(check(), 40 * 70 * 30);
  }
  assert.is(wg.memory().inUse, first);
});

// ---- out of memory ----

test("repro: out of memory inside backward() writes no gradient, keeps the graph, gives the memory back; a smaller step then works", async () => {
  await wg.init({ threads: 1, verbose: false, maxMemory: 48 << 20 });
  const ws = Array.from({ length: 6 }, (_, i) => wg.nn.parameter(wg.full([1024, 1024], 0.001 * (i + 1)))); // 24 MiB
  const x = wg.ones([2, 1024]);
  const loss = ws.map((w) => x.matmul(w).sum()).reduce((a, b) => a.add(b));
  const before = wg.memory().inUse;
  assert.throws(() => loss.backward(), (e: Error) => e instanceof wg.OutOfMemoryError && /asked for/.test(e.message) && /in use/.test(e.message));
  assert.ok(ws.every((w) => w.grad === null), "no gradient was written");
  assert.ok(wg.memory().inUse <= before, `the failed pass gave back what it took (${before} → ${wg.memory().inUse})`);
  assert.throws(() => loss.backward(), (e: Error) => e instanceof wg.OutOfMemoryError, "a retry meets the same limit, not a freed graph");
  const small = x.matmul(ws[0]).sum();
  small.backward();
  assert.ok(Math.abs(ws[0].grad!.dataSync()[0] - 2) < 1e-6, "the smaller step's gradient is right");
  assert.is(ws[1].grad, null);
});

test("out of memory in forward() and in optimizer.step() leaves memory and parameters as they were", async () => {
  wg.shutdown();
  await wg.init({ threads: 1, verbose: false, maxMemory: 48 << 20 });
  const lin = new wg.nn.Linear(1024, 1024); // 4 MiB
  const before = wg.memory().inUse;
  assert.throws(() => lin.forward(wg.ones([12 * 1024, 1024])), (e: Error) => e instanceof wg.OutOfMemoryError);
  assert.ok(wg.memory().inUse <= before + (1 << 16), `forward left ${wg.memory().inUse - before} bytes`);
  const ps = Array.from({ length: 4 }, () => wg.nn.parameter(wg.full([1024, 1024], 1))); // 16 MiB
  for (const p of ps) p.grad = wg.full([1024, 1024], 1).keep(); // 16 MiB
  const opt = new wg.optim.Adam(ps, { lr: 0.1 }); // needs 32 MiB of state: does not fit
  const mid = wg.memory().inUse;
  assert.throws(() => opt.step(), (e: Error) => e instanceof wg.OutOfMemoryError);
  assert.is(wg.memory().inUse, mid, "no half-made state is left");
  assert.ok(ps.every((p) => p.dataSync()[0] === 1), "no parameter was updated");
  assert.is(opt.stepCount, 0);
  const small = new wg.optim.Adam(ps.slice(0, 1), { lr: 0.1 });
  small.step();
  assert.ok(ps[0].dataSync()[0] < 1 && ps[1].dataSync()[0] === 1);
  await wg.init({ threads: 1, verbose: false });
});

test("asking for more memory than exists throws a clear error and the engine keeps working", () => {
  assert.throws(() => wg.zeros([1 << 30, 8]), (e: Error) =>
    e instanceof wg.OutOfMemoryError && /out of memory in full: asked for 32\.00 GiB/.test(e.message) && /limit/.test(e.message));
  const t = wg.ones([4]).add(1);
  assert.equal(Array.from(t.dataSync()), [2, 2, 2, 2]);
});

test("init({ maxMemory }) caps the memory and the error names what is left", async () => {
  await wg.init({ threads: 1, verbose: false, maxMemory: 64 << 20 });
  assert.throws(() => wg.zeros([32 << 20]), /asked for 128\.00 MiB.*limit 64\.00 MiB/);
  const a = wg.zeros([4 << 20]);
  assert.is(a.size, 4 << 20);
  await wg.init({ threads: 1, verbose: false });
});

test.after.each(() => console.log(`  [${wg.memory().text}]`));
test.run();
