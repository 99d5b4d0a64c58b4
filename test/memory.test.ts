// Memory arenas: no overlapping blocks, flat memory over a long training loop
// written with no dispose(), and a clear, recoverable out-of-memory error.

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { SizeClassPool, sizeClass } from "../host/memory/pool.js";
import { rng } from "../host/random.js";

await wg.init({ threads: 1, verbose: false });

test("size classes: a block is never smaller than asked, at most 25% waste above 256 B", () => {
  for (let b = 1; b < 1 << 22; b = Math.ceil(b * 1.13) + 1) {
    const [, size] = sizeClass(b);
    assert.ok(size >= b, `${b} → ${size}`);
    if (b > 256) assert.ok(size <= b * 1.25 + 64, `${b} → ${size}`);
    assert.is(size % 64, 0);
  }
});

test("pool: random allocate/free never hands out overlapping blocks", () => {
  const pool = new SizeClassPool(65536, 1 << 30, () => true);
  const live = new Map<number, number>();
  const r = rng(3);
  for (let i = 0; i < 20000; i++) {
    if (live.size && r() < 0.45) {
      const keys = [...live.keys()];
      const k = keys[Math.floor(r() * keys.length)];
      pool.free(k, live.get(k)!);
      live.delete(k);
    } else {
      const bytes = Math.floor(r() ** 3 * 100000) + 1;
      const p = pool.alloc(bytes);
      assert.is(p % 64, 0);
      live.set(p, bytes);
    }
  }
  const spans = [...live].map(([p, b]) => [p, p + sizeClass(b)[1]]).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], `overlap at ${spans[i][0]}`);
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
      // every live tensor still holds its own value: nothing was overwritten
      for (const { t, v } of [...inner, ...kept]) assert.ok(t.dataSync().every((x) => x === v), "a live tensor was overwritten");
      return inner[0].t;
    });
    kept.push({ t: escaped.keep(), v: escaped.dataSync()[0] });
  }
  for (const { t, v } of kept) assert.ok(t.dataSync().every((x) => x === v));
  for (const { t } of kept) t.dispose();
  assert.ok(wg.memory().inUse <= before + (1 << 16), `scopes leaked: ${wg.memory().text}`);
});

test("a released tensor says why when it is used", () => {
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

test("a dropped persistent tensor is reclaimed by the FinalizationRegistry after a GC", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) assert.unreachable("run with --expose-gc (scripts/test.mjs passes it)");
  const before = wg.memory().inUse;
  (() => {
    for (let i = 0; i < 50; i++) wg.zeros([4096]).keep(); // 16 KiB each, dropped at once
  })();
  const held = wg.memory().inUse;
  assert.ok(held >= before + 50 * 4096 * 4, `the tensors took memory (${before} → ${held})`);
  // finalizers run on a later task after a GC; give them a few turns
  for (let i = 0; i < 20 && wg.memory().inUse > before; i++) {
    gc!();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(wg.memory().inUse <= before, `reclaimed: ${held} → ${wg.memory().inUse} (started at ${before})`);
});

test("1,000 training steps with no dispose and no scope keep memory flat", () => {
  wg.manualSeed(1);
  const net = new wg.nn.Sequential(new wg.nn.Linear(32, 64), new wg.nn.ReLU(), new wg.nn.Linear(64, 10));
  const opt = new wg.optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 });
  const x = wg.randn([64, 32]).keep();
  const y = wg.tensor(Array.from({ length: 64 }, (_, i) => i % 10), { dtype: "int32" }).keep();
  const samples: number[] = [];
  let lastLoss = 0;
  for (let step = 0; step < 1000; step++) {
    opt.zeroGrad();
    const loss = wg.nn.crossEntropy(net.forward(x.add(0)), y);
    loss.backward();
    opt.step();
    lastLoss = loss.item(); // still readable after step()
    if (step >= 100 && step % 100 === 0) samples.push(wg.memory().inUse);
  }
  assert.ok(lastLoss < 1.0, `the loop really trained (loss ${lastLoss})`);
  const first = samples[0];
  for (const s of samples) assert.ok(s <= first, `memory grew from ${first} to ${s} bytes`);
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
  const a = wg.zeros([4 << 20]); // 16 MiB still fits
  assert.is(a.size, 4 << 20);
  await wg.init({ threads: 1, verbose: false });
});

test.run();
