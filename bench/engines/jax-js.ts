// jax-js (@jax-js/jax 0.1.25) as a bench engine, on its "wasm" device.
//
// Things about the package that shape this adapter:
//  - It is imported dynamically (load()), so the cold-start bench (cold-child.ts) sees the
//    whole cost of loading it, and a plain import of this module loads nothing.
//  - The wasm device generates and compiles its own wasm kernels at run time (one per
//    fused kernel, cached by hash), so the first run of each workload includes that
//    compilation; every workload is jit()-compiled, the normal way to get fused kernels
//    and a recorded execution plan in jax-js.
//  - Threads: the wasm device parallelises only through a pool of Web Workers sharing a
//    SharedArrayBuffer memory, and only when the global `Worker` exists. Node has no
//    global Worker, so in Node jax-js always runs single-threaded whatever opts.threads
//    asks (and there is no setting for it: where Workers exist it takes
//    navigator.hardwareConcurrency of them). actualThreads() says so.
//  - Ownership: every op and every jitted function consumes (decrements the reference
//    count of) its array arguments; `.ref` adds a reference. Persistent inputs are
//    therefore passed as `x.ref`, state that each run replaces (Adam moments, parameters,
//    momentum buffers) is passed without `.ref` and replaced by the outputs, and every
//    output a run does not keep is disposed, so nothing grows across runs.
//  - Arrays are lazy: run() awaits blockUntilReady() on its outputs (which does not
//    consume them) before it returns.
//  - Layouts are PyTorch's natively: lax.convGeneralDilated takes NCHW input and OIHW
//    weights, so nothing is transposed.

import type * as JaxNS from "@jax-js/jax";
import type { Engine, Prepared, Workload } from "../workloads.js";
import { input, labels, modelInit } from "../workloads.js";

type Jax = typeof JaxNS;
type JArray = JaxNS.Array;

let jax!: Jax;
let loading: Promise<void> | null = null;

function load(): Promise<void> {
  if (!loading) {
    loading = (async () => {
      jax = await import("@jax-js/jax");
      const got = await jax.init("wasm");
      if (!got.includes("wasm")) throw new Error("jax-js: wasm device unavailable");
      jax.defaultDevice("wasm");
    })();
  }
  return loading;
}

const arr = (data: Float32Array, shape: number[]): JArray => jax.numpy.array(data as Float32Array<ArrayBuffer>, { shape, dtype: jax.numpy.float32, device: "wasm" });

/** Disposes every array leaf of a (nested) list/record of arrays. */
function disposeAll(...xs: unknown[]): void {
  for (const x of xs) jax.tree.dispose(x as JaxNS.JsTree<JArray>);
}

interface Runner {
  /** Runs once, waits for it, and returns (a reference to) the workload's result array, which the caller consumes. */
  step(): Promise<JArray>;
}

/**
 * A Prepared around a step that returns its "result" array: the first one is read back
 * (as float32) and kept, later ones are disposed.
 */
function prepared(r: Runner, owned: () => unknown[], extra?: () => void): Prepared {
  let first: Float32Array | null = null;
  return {
    async run() {
      const out = await r.step();
      if (!first) first = Float32Array.from((await out.data()) as Float32Array);
      else out.dispose();
    },
    result() {
      if (!first) throw new Error("jax-js: result() before run()");
      return first;
    },
    dispose() {
      disposeAll(...owned());
      extra?.();
    },
  };
}

function prepareGemm(w: Extract<Workload, { kind: "gemm" }>): Prepared {
  const np = jax.numpy;
  const a = arr(input(w.m * w.k, 1), [w.m, w.k]);
  const b = arr(input(w.k * w.n, 2), [w.k, w.n]);
  const f = jax.jit((x: JArray, y: JArray) => np.matmul(x, y));
  return prepared(
    {
      async step() {
        const c = f(a.ref, b.ref);
        await c.blockUntilReady();
        return c;
      },
    },
    () => [a, b],
    () => f.dispose(),
  );
}

function prepareConv(w: Extract<Workload, { kind: "conv" }>): Prepared {
  const { lax } = jax;
  const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
  const x = arr(input(w.n * w.c * w.h * w.w, 1), [w.n, w.c, w.h, w.w]);
  const wt = arr(input(w.oc * w.c * w.kh * w.kw, 2).map((v) => v * 0.2), [w.oc, w.c, w.kh, w.kw]);
  const pads: [number, number][] = [[w.pad, w.pad], [w.pad, w.pad]];
  const conv = (xx: JArray, ww: JArray) => lax.convGeneralDilated(xx, ww, [1, 1], pads);
  if (!w.backward) {
    const f = jax.jit(conv);
    return prepared(
      {
        async step() {
          const y = f(x.ref, wt.ref);
          await y.blockUntilReady();
          return y;
        },
      },
      () => [x, wt],
      () => f.dispose(),
    );
  }
  const r = arr(input(w.n * w.oc * oh * ow, 3), [w.n, w.oc, oh, ow]);
  const g = jax.jit(jax.grad((xx: JArray, ww: JArray, rr: JArray) => conv(xx, ww).mul(rr).sum(), { argnums: [0, 1] }));
  return prepared(
    {
      async step() {
        const [dx, dw] = g(x.ref, wt.ref, r.ref) as unknown as [JArray, JArray];
        await jax.blockUntilReady([dx, dw]);
        dx.dispose();
        return dw;
      },
    },
    () => [x, wt, r],
    () => g.dispose(),
  );
}

function prepareAttention(w: Extract<Workload, { kind: "attention" }>): Prepared {
  const { numpy: np, nn } = jax;
  const shape = [w.b, w.h, w.s, w.d];
  const size = w.b * w.h * w.s * w.d;
  const q = arr(input(size, 1), shape), k = arr(input(size, 2), shape), v = arr(input(size, 3), shape);
  const scale = 1 / Math.sqrt(w.d);
  // The causal mask (np.tri) is built inside the traced function, so jit folds it into
  // the fused kernels; masked logits are -inf, as jax-js's own nn.dotProductAttention does.
  const attn = (qq: JArray, kk: JArray, vv: JArray): JArray => {
    let s = np.matmul(qq, kk.transpose([0, 1, 3, 2])).mul(scale);
    if (w.causal) s = np.where(np.tri(w.s, w.s, 0, { dtype: np.bool }), s, -Infinity);
    return np.matmul(nn.softmax(s, -1), vv);
  };
  if (!w.backward) {
    const f = jax.jit(attn);
    return prepared(
      {
        async step() {
          const o = f(q.ref, k.ref, v.ref);
          await o.blockUntilReady();
          return o;
        },
      },
      () => [q, k, v],
      () => f.dispose(),
    );
  }
  const r = arr(input(size, 4), shape);
  const g = jax.jit(jax.grad((qq: JArray, kk: JArray, vv: JArray, rr: JArray) => attn(qq, kk, vv).mul(rr).sum(), { argnums: [0, 1, 2] }));
  return prepared(
    {
      async step() {
        const [dq, dk, dv] = g(q.ref, k.ref, v.ref, r.ref) as unknown as [JArray, JArray, JArray];
        await jax.blockUntilReady([dq, dk, dv]);
        dk.dispose();
        dv.dispose();
        return dq;
      },
    },
    () => [q, k, v, r],
    () => g.dispose(),
  );
}

function prepareAdam(w: Extract<Workload, { kind: "adam" }>): Prepared {
  const np = jax.numpy;
  const lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  let p = arr(input(w.n, 1), [w.n]);
  const g = arr(input(w.n, 2), [w.n]);
  let m = np.zeros([w.n], { dtype: np.float32 }), v = np.zeros([w.n], { dtype: np.float32 });
  let t = 0;
  // PyTorch's Adam (no weight decay): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
  // p ← p − lr · (m / bc1) / (√(v / bc2) + ε), bc_i = 1 − β_i^t (scalars traced, not static).
  const step = jax.jit((pp: JArray, gg: JArray, mm: JArray, vv: JArray, bc1: JArray, bc2: JArray) => {
    const m2 = mm.mul(b1).add(gg.ref.mul(1 - b1));
    const v2 = vv.mul(b2).add(gg.ref.mul(gg).mul(1 - b2));
    const p2 = pp.sub(m2.ref.div(bc1).div(np.sqrt(v2.ref.div(bc2)).add(eps)).mul(lr));
    return [p2, m2, v2];
  });
  return prepared(
    {
      async step() {
        t++;
        [p, m, v] = step(p, g.ref, m, v, 1 - b1 ** t, 1 - b2 ** t) as unknown as [JArray, JArray, JArray];
        await jax.blockUntilReady([p, m, v]);
        return p.ref;
      },
    },
    () => [p, g, m, v],
    () => step.dispose(),
  );
}

type Params = Record<string, JArray>;

function prepareTrain(w: Extract<Workload, { kind: "train" }>): Prepared & { lastLoss(): number } {
  const { numpy: np, nn, lax } = jax;
  const B = w.batch;
  const init = modelInit(w.model);
  let params: Params = {};
  let bufs: Params = {};
  for (const [key, { shape, data }] of Object.entries(init)) {
    params[key] = arr(data, shape);
    bufs[key] = np.zeros(shape, { dtype: np.float32 });
  }
  const x = arr(input(B * 784, 12), w.model === "s1" ? [B, 1, 28, 28] : [B, 784]);
  const yh = new Float32Array(B * 10);
  labels(B).forEach((c, i) => (yh[i * 10 + c] = 1));
  const y = arr(yh, [B, 10]);

  const logitsOf = (p: Params, xx: JArray): JArray => {
    if (w.model === "mlp") {
      const h = nn.relu(np.matmul(xx, p["fc1.weight"].transpose()).add(p["fc1.bias"]));
      return np.matmul(h, p["fc2.weight"].transpose()).add(p["fc2.bias"]);
    }
    const c = lax.convGeneralDilated(xx, p["conv1.weight"], [1, 1], "VALID").add(p["conv1.bias"].reshape([1, 16, 1, 1]));
    const h = lax.reduceWindow(nn.relu(c), (win: JArray) => np.max(win), [2, 2], [2, 2]); // MaxPool2d(2)
    return np.matmul(h.reshape([B, 2704]), p["fc.weight"].transpose()).add(p["fc.bias"]);
  };
  // Mean cross-entropy over the batch: −Σ onehot·logSoftmax(logits) / B.
  const lossFn = (p: Params, xx: JArray, yy: JArray): JArray => nn.logSoftmax(logitsOf(p, xx), -1).mul(yy).sum().mul(-1 / B);
  // One SGD step, PyTorch's momentum rule: buf ← 0.9·buf + g (buf starts at 0, so the
  // first buf is g), p ← p − 0.01·buf.
  const step = jax.jit((p: Params, bf: Params, xx: JArray, yy: JArray) => {
    const [loss, grads] = jax.valueAndGrad(lossFn)(jax.tree.ref(p), xx, yy) as unknown as [JArray, Params];
    const nb: Params = {}, np2: Params = {};
    for (const key of Object.keys(p)) nb[key] = bf[key].mul(0.9).add(grads[key]);
    for (const key of Object.keys(p)) np2[key] = p[key].sub(nb[key].ref.mul(0.01));
    return [loss, np2, nb];
  });
  let first: Float32Array | null = null;
  let last = NaN;
  return {
    async run() {
      const [loss, p2, b2] = step(params, bufs, x.ref, y.ref) as unknown as [JArray, Params, Params];
      params = p2;
      bufs = b2;
      await jax.blockUntilReady([loss, params, bufs]);
      last = (await loss.data())[0];
      if (!first) first = Float32Array.of(last);
    },
    result() {
      if (!first) throw new Error("jax-js: result() before run()");
      return first;
    },
    /** Loss of the latest run()'s forward (for the self-check). */
    lastLoss: () => last,
    dispose() {
      disposeAll(params, bufs, x, y);
      step.dispose();
    },
  };
}

const engine: Engine & { actualThreads(): number } = {
  name: "jax-js",
  async init(_opts) {
    // opts.threads cannot be honoured: see the header (single-threaded in Node).
    await load();
  },
  async prepare(w) {
    await load();
    switch (w.kind) {
      case "gemm":
        return prepareGemm(w);
      case "conv":
        return prepareConv(w);
      case "attention":
        return prepareAttention(w);
      case "adam":
        return prepareAdam(w);
      case "gemm-int8": // no int8 matmul in jax-js
        return null;
      case "train":
        return prepareTrain(w);
    }
  },
  /** Threads jax-js's wasm device really uses: 1 unless a global Worker exists (never in Node). */
  actualThreads() {
    if (typeof (globalThis as { Worker?: unknown }).Worker === "undefined" || typeof SharedArrayBuffer === "undefined") return 1;
    return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency || 4);
  },
};

export default engine;
