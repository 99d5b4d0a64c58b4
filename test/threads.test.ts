// Threads: every threaded op gives bit-identical results for 1 and 2 threads
// (work is split along independent outputs, never along a reduction).

import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { randomF32 } from "./harness.js";

const f = (shape: number[], seed: number) => wg.tensor(randomF32(shape.reduce((a, b) => a * b, 1), seed), { shape, requiresGrad: true });

/** Runs a forward+backward workload and returns every output and gradient as arrays. */
function workload(): Record<string, Float32Array | Int32Array> {
  return wg.scope(() => {
    const out: Record<string, Float32Array | Int32Array> = {};
    const a = f([130, 70], 1), b = f([70, 90], 2);
    const c = a.matmul(b);
    c.mul(f([130, 90], 3)).sum().backward();
    out.gemm = c.dataSync(); out.gemm_da = a.grad!.dataSync(); out.gemm_db = b.grad!.dataSync();
    const wide = f([8, 50], 4).matmul(f([50, 3000], 5)); // short and wide: column split
    out.gemm_wide = wide.dataSync();
    const x = f([6, 3, 20, 20], 6), w = f([8, 3, 3, 3], 7), bias = f([8], 8);
    const y = wg.conv2d(x, w, bias, { padding: 1 });
    const p = wg.maxPool2d(y.relu(), 2);
    p.mul(f([...p.shape], 9)).sum().backward();
    out.conv = y.dataSync(); out.conv_dx = x.grad!.dataSync(); out.conv_dw = w.grad!.dataSync(); out.conv_db = bias.grad!.dataSync();
    // a layer the wasm rule runs as Winograd (forward, input and weight gradients): tile chunks and planes split over threads
    const xw = f([6, 16, 20, 20], 19), ww = f([16, 16, 3, 3], 20);
    const yw = wg.conv2d(xw, ww, null, { padding: 1 });
    yw.mul(f([...yw.shape], 21)).sum().backward();
    out.winograd = yw.dataSync(); out.winograd_dx = xw.grad!.dataSync(); out.winograd_dw = ww.grad!.dataSync();
    const q = f([2, 4, 64, 32], 10), k = f([2, 4, 64, 32], 11), v = f([2, 4, 64, 32], 12);
    const o = wg.scaledDotProductAttention(q, k, v, { causal: true });
    o.mul(f([2, 4, 64, 32], 13)).sum().backward();
    out.attn = o.dataSync(); out.attn_dq = q.grad!.dataSync(); out.attn_dk = k.grad!.dataSync(); out.attn_dv = v.grad!.dataSync();
    // issue 17 (hk2): grouped-query attention (kv heads split over threads, dk/dv summed per group), GEMV at M = 1 (f32 and int8 rows)
    const qg = f([2, 6, 32, 32], 22), kg = f([2, 2, 64, 32], 23), vg = f([2, 2, 64, 32], 24);
    const og = wg.scaledDotProductAttention(qg, kg, vg, { causal: true, enableGqa: true });
    og.mul(f([2, 6, 32, 32], 25)).sum().backward();
    out.gqa = og.dataSync(); out.gqa_dq = qg.grad!.dataSync(); out.gqa_dk = kg.grad!.dataSync(); out.gqa_dv = vg.grad!.dataSync();
    const wv = f([3001, 301], 26).detach(), xv = f([1, 301], 27).detach();
    out.gemv = wg.linear(xv, wv).dataSync();
    const wq = wg.quantizeWeightInt8(wv, { decode: true, group: 64 });
    out.gemv_i8 = wg.noGrad(() => wg.int8Linear(xv, wq)).dataSync();
    wg.disposeInt8(wq);
    const big = f([300000], 14);
    out.unary = big.gelu().dataSync();
    out.softmax = f([512, 300], 15).softmax().dataSync();
    out.randn = wg.randn([300001], { seed: 5 }).dataSync();
    const lnx = f([256, 512], 16);
    out.layernorm = wg.layerNorm(lnx, [512]).dataSync();
    // issue 17's row / element splits (sizes past the 2-thread threshold), forward and backward
    const rx = f([512, 576], 22), rw = f([576], 23);
    const rn = wg.rmsNorm(rx, [576], rw, 1e-5);
    rn.mul(f([512, 576], 24)).sum().backward();
    out.rmsnorm = rn.dataSync(); out.rmsnorm_dx = rx.grad!.dataSync(); out.rmsnorm_dw = rw.grad!.dataSync();
    const px = f([4, 12, 128, 64], 25), cos = f([128, 32], 26).detach(), sin = f([128, 32], 27).detach();
    const ro = wg.rope(px, cos, sin);
    ro.mul(f([4, 12, 128, 64], 28)).sum().backward();
    out.rope = ro.dataSync(); out.rope_dx = px.grad!.dataSync();
    const sg = f([300000], 29), su = f([300000], 30);
    const so = wg.swiglu(sg, su);
    so.mul(f([300000], 31)).sum().backward();
    out.swiglu = so.dataSync(); out.swiglu_dg = sg.grad!.dataSync(); out.swiglu_du = su.grad!.dataSync();
    const params = [f([400000], 17)];
    params[0].grad = f([400000], 18).detach().keep();
    const opt = new wg.optim.Adam(params, { lr: 0.01 });
    opt.step(); opt.step();
    out.adam = params[0].dataSync();
    return out;
  });
}

test("1 thread and 2 threads give bit-identical results", async () => {
  await wg.init({ threads: 1, verbose: false });
  const one = workload();
  const info = await wg.init({ threads: 2, verbose: false });
  assert.is(info.threads, 2, `two threads started (${info.summary})`);
  assert.ok(info.kernels.endsWith("-threads"));
  const two = workload();
  for (const key of Object.keys(one)) {
    const a = one[key], b = two[key];
    assert.is(a.length, b.length, key);
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) assert.unreachable(`${key}[${i}]: 1 thread ${a[i]}, 2 threads ${b[i]}`);
    }
  }
  wg.shutdown();
});

test("init does not wait for the workers; once they are up they take their share", async () => {
  const t0 = performance.now();
  await wg.init({ threads: 2, verbose: false });
  const initMs = performance.now() - t0;
  const pool = (wg.backend() as unknown as { pool: { started: Promise<void>; startError: string | null; counts: { toWorkers: number; orphaned: number } } }).pool;
  assert.ok(pool, "a worker pool exists");
  const big = () => wg.scope(() => wg.ones([256, 256]).matmul(wg.ones([256, 256])).sum().item());
  assert.is(big(), 256 ** 3, "right before the workers are up (their share runs on the calling thread)");
  const alive = setInterval(() => {}, 1000); // the workers are unref'd: something must keep Node waiting for them
  await pool.started;
  clearInterval(alive);
  assert.is(pool.startError, null);
  const before = pool.counts.toWorkers;
  assert.is(big(), 256 ** 3, "right with them");
  assert.ok(pool.counts.toWorkers > before, `the worker took a share (${JSON.stringify(pool.counts)}; init took ${initMs.toFixed(0)} ms)`);
  wg.shutdown();
});

// A share goes to whoever claims it first: its worker, or the calling thread once its
// own share is done. A parked worker (idle longer than its spin) takes microseconds to
// wake, while the calling thread's share here takes less than one, so the calling
// thread claims most shares; a share must never run twice nor be skipped.
test("a share its worker has not claimed yet runs on the calling thread, exactly once", async () => {
  await wg.init({ threads: 2, verbose: false });
  const be = wg.backend() as unknown as {
    pool: { started: Promise<void>; run(fn: (...a: number[]) => unknown, index: number, groups: number[][][]): void; counts: { toWorkers: number; orphaned: number; stolen: number } };
    exports: Record<string, (...a: number[]) => unknown>; index: Map<string, number>;
  };
  const alive = setInterval(() => {}, 1000);
  await be.pool.started;
  clearInterval(alive);
  const n = 64, half = n / 2;
  const p = wg.zeros([n]).keep(), g = wg.ones([n]).keep();
  const step = (s: number, e: number) => [p.ptr + s * 4, g.ptr + s * 4, 0, e - s, 1, 0, 0, 0, 0, 1]; // p -= 1·g: twice would show
  const before = { ...be.pool.counts };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const rounds = 40;
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) await sleep(3); // the worker parks (SPIN_MS 0.5)
    be.pool.run(be.exports.sgd_f32, be.index.get("sgd_f32")!, [[step(0, half)], [step(half, n)]]);
  }
  const got = p.dataSync();
  for (let i = 0; i < n; i++) assert.is(got[i], -rounds, `p[${i}] after ${rounds} dispatches (a share run twice or skipped?)`);
  const c = be.pool.counts;
  assert.is(c.toWorkers - before.toWorkers, rounds, "every dispatch handed the worker a share");
  assert.ok(c.stolen > before.stolen, `the calling thread ran some of them (${JSON.stringify(c)})`);
  wg.shutdown();
});

test.run();
