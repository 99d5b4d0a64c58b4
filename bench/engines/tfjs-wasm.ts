// TensorFlow.js (tfjs-core 4.22 + tfjs-backend-wasm 4.22) as a bench engine.
//
// Things about these packages that shape this adapter:
//  - The packages are imported dynamically (load()), so the cold-start bench (cold-child.ts) sees
//    the whole cost of loading them and a plain import of this module loads nothing.
//  - In Node the wasm backend locates its .wasm files itself: Emscripten's locateFile
//    prefix is the directory of dist/tf-backend-wasm.node.js, i.e.
//    node_modules/@tensorflow/tfjs-backend-wasm/dist/, so no setWasmPaths() is needed
//    and nothing is fetched. With SIMD detected it loads tfjs-backend-wasm-simd.wasm.
//  - tfjs-backend-wasm never multithreads in Node: its WASM_HAS_MULTITHREAD_SUPPORT
//    flag returns false whenever IS_NODE (tfjs issue #3830), so setThreadsCount() is
//    called as asked but the threaded-simd binary is never used. actualThreads() says so.
//  - tfjs-core's published bundles (tf-core.node.js and the ESM bundles) do not register
//    any gradient: @tensorflow/tfjs (the union package, not installed) does that by
//    bundling tfjs-core's dist/gradients/*.js, which are extensionless ESM files that
//    Node cannot load from a CommonJS package. So registerGradients() below registers,
//    through the public tf.registerGradient(), the gradient configs the workloads need,
//    transcribed from tfjs-core 4.22 dist/gradients/*_grad.js (same ops, same math).
//  - tfjs-backend-wasm has no Conv2DBackpropFilter kernel (it has Conv2D and
//    Conv2DBackpropInput only), so the filter gradient of Conv2D is computed with the
//    backend's own Conv2D/Transpose kernels: dW[kh,kw,ci,co] is the VALID-or-padded
//    conv of x viewed as [ci,H,W,n] with dy viewed as the filter [oh,ow,n,co].
//  - Padding is passed to tf.conv2d explicitly (tfPad()): tfjs-core 4.22 sizes a numeric
//    pad's output from the filter height alone, so non-square filters go wrong.
//  - MomentumOptimizer.dispose() forgets the -lr scalar it inherits from SGDOptimizer;
//    the train workload's dispose() frees it.
//  - The wasm backend runs every kernel synchronously inside the op call, so when an op
//    returns its result is computed; run() needs no extra read to block.
//  - tfjs layouts are NHWC / HWIO. Inputs (and the fixed cotangent r) are transposed
//    once in prepare(); results are converted back to NCHW / OIHW in result(), outside
//    the timed run().
//  - tfjs-wasm's BatchMatMul reaches XNNPACK only for a single 2-D product without
//    transposeA/transposeB; batched products (attention) and transposed ones (every
//    matmul gradient) run its plain C++ loop, 10–25× slower here. So Linear weights are
//    kept as [in,out] (PyTorch's [out,in] transposed once in prepare(), the layout of a
//    tf.layers.dense kernel), which puts the training forward on the fast path.

import type * as TFNS from "@tensorflow/tfjs-core";
import type { Engine, Prepared, Workload } from "../workloads.js";
import { input, labels, modelInit } from "../workloads.js";

type TF = typeof TFNS;
type Tensor = TFNS.Tensor;

let tf!: TF;
let wasmBackend!: typeof import("@tensorflow/tfjs-backend-wasm");
let loading: Promise<void> | null = null;
let requestedThreads = 1;
let nameCounter = 0;

function load(threads: number): Promise<void> {
  if (!loading) {
    requestedThreads = threads;
    loading = (async () => {
      tf = await import("@tensorflow/tfjs-core");
      wasmBackend = await import("@tensorflow/tfjs-backend-wasm");
      registerGradients(tf);
      wasmBackend.setThreadsCount(threads);
      if (!(await tf.setBackend("wasm"))) throw new Error("tfjs-wasm: setBackend('wasm') failed");
      await tf.ready();
    })();
  }
  return loading;
}

// ---------------------------------------------------------------------------------------
// Gradients (tfjs-core 4.22 dist/gradients/*_grad.js, registered only where missing;
// bench/webgpu.ts registers them for tfjs-webgpu too, its Conv2D first: see there)

export function registerGradients(t: TF): void {
  const bu = t.broadcast_util;
  const reduceTo = (res: Tensor, shape: number[], outShape: number[]): Tensor => {
    const axes = bu.getReductionAxes(shape, outShape);
    return axes.length > 0 ? t.reshape(t.sum(res, axes), shape) : res;
  };
  const one = (dy: Tensor | Tensor[]): Tensor => (Array.isArray(dy) ? dy[0] : dy);
  const configs: TFNS.GradConfig[] = [
    {
      kernelName: "Add",
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return { a: () => t.reshape(reduceTo(one(dy), a.shape, out), a.shape), b: () => t.reshape(reduceTo(one(dy), b.shape, out), b.shape) };
      },
    },
    {
      kernelName: "Sub",
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return { a: () => t.reshape(reduceTo(one(dy), a.shape, out), a.shape), b: () => t.reshape(t.neg(reduceTo(one(dy), b.shape, out)), b.shape) };
      },
    },
    {
      kernelName: "Multiply",
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return {
          a: () => reduceTo(t.mul(one(dy), t.cast(b, "float32")), a.shape, out),
          b: () => reduceTo(t.mul(one(dy), t.cast(a, "float32")), b.shape, out),
        };
      },
    },
    {
      kernelName: "RealDiv",
      inputsToSave: ["a", "b"],
      gradFunc: (dy, [a, b]) => {
        const out = bu.assertAndGetBroadcastShape(a.shape, b.shape);
        return {
          a: () => reduceTo(t.div(one(dy), t.cast(b, "float32")), a.shape, out),
          b: () => t.neg(t.div(reduceTo(t.mul(one(dy), t.cast(a, "float32")), b.shape, out), t.cast(t.square(b), "float32"))),
        };
      },
    },
    {
      kernelName: "Sum",
      inputsToSave: ["x"],
      gradFunc: (dy, [x], attrs) => {
        const shape = x.shape.slice();
        for (const ax of t.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape)) shape[ax] = 1;
        const derX = t.mul(t.reshape(one(dy), shape), t.ones(x.shape, "float32"));
        return { x: () => derX };
      },
    },
    {
      kernelName: "Mean",
      inputsToSave: ["x"],
      gradFunc: (dy, [x], attrs) => {
        const axes = t.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
        const shape = x.shape.slice();
        let reduceSize = 1;
        for (const ax of axes) {
          reduceSize *= x.shape[ax];
          shape[ax] = 1;
        }
        return { x: () => t.div(t.mul(t.reshape(one(dy), shape), t.ones(x.shape, "float32")), reduceSize) };
      },
    },
    { kernelName: "Neg", gradFunc: (dy) => ({ x: () => t.neg(one(dy)) }) },
    { kernelName: "Cast", gradFunc: (dy) => ({ x: () => one(dy).clone() }) },
    { kernelName: "Identity", gradFunc: (dy) => ({ x: () => t.cast(one(dy), "float32") }) },
    { kernelName: "Reshape", inputsToSave: ["x"], gradFunc: (dy, [x]) => ({ x: () => t.reshape(one(dy), x.shape) }) },
    {
      kernelName: "Transpose",
      gradFunc: (dy, _saved, attrs) => {
        const perm = (attrs as { perm: number[] }).perm;
        const undo = perm.map((_, i) => perm.indexOf(i));
        return { x: () => t.transpose(one(dy), undo) };
      },
    },
    {
      kernelName: "BatchMatMul",
      inputsToSave: ["a", "b"],
      gradFunc: (dyIn, [a, b], attrs) => {
        const dy = one(dyIn);
        const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
        if (!transposeA && !transposeB) return { a: () => t.matMul(dy, b, false, true), b: () => t.matMul(a, dy, true, false) };
        if (!transposeA && transposeB) return { a: () => t.matMul(dy, b, false, false), b: () => t.matMul(dy, a, true, false) };
        if (transposeA && !transposeB) return { a: () => t.matMul(b, dy, false, true), b: () => t.matMul(a, dy, false, false) };
        return { a: () => t.matMul(b, dy, true, true), b: () => t.matMul(dy, a, true, true) };
      },
    },
    {
      kernelName: "Softmax",
      outputsToSave: [true],
      gradFunc: (dy, [y], attrs) => {
        const dim = (attrs as { dim: number }).dim;
        const dyTimesY = t.mul(one(dy), y);
        return { logits: () => t.sub(dyTimesY, t.mul(t.sum(dyTimesY, [dim], true), y)) };
      },
    },
    { kernelName: "Relu", inputsToSave: ["x"], gradFunc: (dy, [x]) => ({ x: () => t.mul(one(dy), t.cast(t.step(x), "float32")) }) },
    {
      kernelName: "MaxPool",
      inputsToSave: ["x"],
      outputsToSave: [true],
      gradFunc: (dy, [x, y], attrs) => {
        const { filterSize, strides, pad, dimRoundingMode } = attrs as Record<string, unknown>;
        return {
          x: () => t.engine().runKernel("MaxPoolGrad", { dy: one(dy), input: x, output: y }, { filterSize, strides, pad, dimRoundingMode } as TFNS.NamedAttrMap) as Tensor,
        };
      },
    },
    {
      kernelName: "Conv2D",
      inputsToSave: ["x", "filter"],
      gradFunc: (dyIn, [x, filter], attrs) => {
        const dy = one(dyIn);
        const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as Record<string, unknown>;
        const ones = (v: unknown) => (Array.isArray(v) ? v.every((e) => e === 1) : v === 1 || v == null);
        if (!ones(dilations)) throw new Error("tfjs-wasm adapter: conv2d gradient with dilation > 1");
        if (dataFormat !== "NHWC") throw new Error("tfjs-wasm adapter: conv2d gradient expects NHWC");
        return {
          x: () =>
            t.engine().runKernel("Conv2DBackpropInput", { dy, filter }, { strides, pad, dataFormat, dimRoundingMode, inputShape: x.shape } as TFNS.NamedAttrMap) as Tensor,
          filter: () => {
            if (!ones(strides)) throw new Error("tfjs-wasm adapter: conv2d filter gradient with stride > 1");
            if (typeof pad !== "number" && pad !== "valid" && !Array.isArray(pad)) throw new Error(`tfjs-wasm adapter: conv2d filter gradient with pad ${String(pad)}`);
            // dW[kh,kw,ci,co] = Σ_{n,oh,ow} xpad[n,oh+kh,ow+kw,ci]·dy[n,oh,ow,co]: a conv of x as
            // [ci,H,W,n] (batch ci, channels n) with dy as the HWIO filter [oh,ow,n,co], same padding.
            const g = t.conv2d(t.transpose(x, [3, 1, 2, 0]) as TFNS.Tensor4D, t.transpose(dy, [1, 2, 0, 3]) as TFNS.Tensor4D, 1, typeof pad === "number" ? tfPad(pad) : (pad as "valid"));
            return t.transpose(g, [1, 2, 0, 3]); // [ci,kh,kw,co] → [kh,kw,ci,co]
          },
        };
      },
    },
  ];
  for (const c of configs) if (t.getGradient(c.kernelName) == null) t.registerGradient(c);
}

/**
 * Padding argument for tf.conv2d. A numeric pad is avoided on purpose: tfjs-core 4.22
 * computes the output size of a numeric pad from the filter height alone
 * (computeOutputShape2D), so a non-square filter gets a wrong output shape and the wasm
 * kernel writes out of bounds. Explicit padding is computed per dimension.
 */
function tfPad(p: number): "valid" | [[number, number], [number, number], [number, number], [number, number]] {
  return p === 0 ? "valid" : [[0, 0], [p, p], [p, p], [0, 0]];
}

// ---------------------------------------------------------------------------------------
// Layout helpers (plain JS, used in prepare()/result() only)

/** [d0,d1,d2,d3] → permuted by perm (out[i] has size shape[perm[i]]). */
function permute4(src: Float32Array, shape: number[], perm: number[]): Float32Array {
  const out = new Float32Array(src.length);
  const st = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const os = perm.map((p) => shape[p]);
  const s = perm.map((p) => st[p]);
  let o = 0;
  for (let a = 0; a < os[0]; a++)
    for (let b = 0; b < os[1]; b++)
      for (let c = 0; c < os[2]; c++) {
        const base = a * s[0] + b * s[1] + c * s[2];
        for (let d = 0; d < os[3]; d++) out[o++] = src[base + d * s[3]];
      }
  return out;
}
function transpose2(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = src[i * cols + j];
  return out;
}
const NCHW_TO_NHWC = [0, 2, 3, 1];
const NHWC_TO_NCHW = [0, 3, 1, 2];
const OIHW_TO_HWIO = [2, 3, 1, 0];
const HWIO_TO_OIHW = [3, 2, 0, 1];

function oneHot(batch: number): Float32Array {
  const y = labels(batch), out = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) out[i * 10 + y[i]] = 1;
  return out;
}

// ---------------------------------------------------------------------------------------
// Workloads

/** A Prepared whose run() computes `compute()` (tensors it returns are disposed after). */
function simple(compute: () => Tensor, toResult: (d: Float32Array) => Float32Array, owned: Tensor[], onDispose?: () => void): Prepared {
  let first: Float32Array | null = null;
  return {
    run() {
      const out = tf.tidy(compute);
      if (!first) first = toResult((out.dataSync() as Float32Array).slice());
      out.dispose();
    },
    result() {
      if (!first) throw new Error("tfjs-wasm: result() before run()");
      return first;
    },
    dispose() {
      tf.dispose(owned);
      onDispose?.();
    },
  };
}

function prepareGemm(w: Extract<Workload, { kind: "gemm" }>): Prepared {
  const a = tf.tensor2d(input(w.m * w.k, 1), [w.m, w.k]);
  const b = tf.tensor2d(input(w.k * w.n, 2), [w.k, w.n]);
  return simple(() => tf.matMul(a, b), (d) => d, [a, b]);
}

function prepareConv(w: Extract<Workload, { kind: "conv" }>): Prepared {
  const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
  const x = tf.tensor4d(permute4(input(w.n * w.c * w.h * w.w, 1), [w.n, w.c, w.h, w.w], NCHW_TO_NHWC), [w.n, w.h, w.w, w.c]);
  const wt = input(w.oc * w.c * w.kh * w.kw, 2).map((v) => v * 0.2);
  const f = tf.tensor4d(permute4(wt, [w.oc, w.c, w.kh, w.kw], OIHW_TO_HWIO), [w.kh, w.kw, w.c, w.oc]);
  if (!w.backward) {
    return simple(() => tf.conv2d(x, f, 1, tfPad(w.pad)), (d) => permute4(d, [w.n, oh, ow, w.oc], NHWC_TO_NCHW), [x, f]);
  }
  const r = tf.tensor4d(permute4(input(w.n * w.oc * oh * ow, 3), [w.n, w.oc, oh, ow], NCHW_TO_NHWC), [w.n, oh, ow, w.oc]);
  const g = tf.grads((xx: Tensor, ff: Tensor) => tf.sum(tf.mul(tf.conv2d(xx as TFNS.Tensor4D, ff as TFNS.Tensor4D, 1, tfPad(w.pad)), r)));
  let first: Float32Array | null = null;
  return {
    run() {
      const [dx, dw] = tf.tidy(() => g([x, f]));
      if (!first) first = permute4((dw.dataSync() as Float32Array).slice(), [w.kh, w.kw, w.c, w.oc], HWIO_TO_OIHW);
      dx.dispose();
      dw.dispose();
    },
    result() {
      if (!first) throw new Error("tfjs-wasm: result() before run()");
      return first;
    },
    dispose() {
      tf.dispose([x, f, r]);
    },
  };
}

function prepareAttention(w: Extract<Workload, { kind: "attention" }>): Prepared {
  const shape = [w.b, w.h, w.s, w.d] as [number, number, number, number];
  const size = w.b * w.h * w.s * w.d;
  const q = tf.tensor4d(input(size, 1), shape), k = tf.tensor4d(input(size, 2), shape), v = tf.tensor4d(input(size, 3), shape);
  const scale = tf.scalar(1 / Math.sqrt(w.d));
  let mask: Tensor | null = null;
  if (w.causal) {
    const m = new Float32Array(w.s * w.s);
    for (let i = 0; i < w.s; i++) for (let j = i + 1; j < w.s; j++) m[i * w.s + j] = -1e9;
    mask = tf.tensor2d(m, [w.s, w.s]);
  }
  // q is scaled before the product (b·h·s·d multiplies instead of b·h·s·s: tfjs-wasm's
  // broadcasting binary ops are slow), as PyTorch's math SDPA path does too.
  const attn = (qq: Tensor, kk: Tensor, vv: Tensor): Tensor => {
    let s = tf.matMul(tf.mul(qq, scale), kk, false, true);
    if (mask) s = tf.add(s, mask);
    return tf.matMul(tf.softmax(s), vv);
  };
  const owned = [q, k, v, scale, ...(mask ? [mask] : [])];
  if (!w.backward) return simple(() => attn(q, k, v), (d) => d, owned);
  const r = tf.tensor4d(input(size, 4), shape);
  owned.push(r);
  const g = tf.grads((qq: Tensor, kk: Tensor, vv: Tensor) => tf.sum(tf.mul(attn(qq, kk, vv), r)));
  let first: Float32Array | null = null;
  return {
    run() {
      const grads = tf.tidy(() => g([q, k, v]));
      if (!first) first = (grads[0].dataSync() as Float32Array).slice();
      tf.dispose(grads);
    },
    result() {
      if (!first) throw new Error("tfjs-wasm: result() before run()");
      return first;
    },
    dispose() {
      tf.dispose(owned);
    },
  };
}

function prepareAdam(w: Extract<Workload, { kind: "adam" }>): Prepared {
  const name = `tfjs-bench-adam-${nameCounter++}`;
  const p = tf.tidy(() => tf.variable(tf.tensor1d(input(w.n, 1)), true, name)); // tidy frees the initial tensor
  const g = tf.tensor1d(input(w.n, 2));
  const opt = tf.train.adam(1e-3, 0.9, 0.999, 1e-8);
  let first: Float32Array | null = null;
  return {
    run() {
      opt.applyGradients([{ name, tensor: g }]);
      if (!first) first = (p.dataSync() as Float32Array).slice();
    },
    result() {
      if (!first) throw new Error("tfjs-wasm: result() before run()");
      return first;
    },
    dispose() {
      opt.dispose();
      tf.dispose([p, g]);
    },
  };
}

function prepareTrain(w: Extract<Workload, { kind: "train" }>): Prepared & { lastLoss(): number } {
  const init = modelInit(w.model);
  const id = nameCounter++;
  const vars: Record<string, TFNS.Variable> = {};
  const mk = (key: string, data: Float32Array, shape: number[]) =>
    (vars[key] = tf.tidy(() => tf.variable(tf.tensor(data, shape), true, `tfjs-bench-${id}-${key}`)));
  const b = w.batch;
  const xData = input(b * 784, 12);
  const y = tf.tensor2d(oneHot(b), [b, 10]);
  let x: Tensor;
  let forward: () => Tensor;
  if (w.model === "mlp") {
    x = tf.tensor2d(xData, [b, 784]);
    const w1 = mk("fc1.weight", transpose2(init["fc1.weight"].data, 256, 784), [784, 256]), b1 = mk("fc1.bias", init["fc1.bias"].data, [256]);
    const w2 = mk("fc2.weight", transpose2(init["fc2.weight"].data, 10, 256), [256, 10]), b2 = mk("fc2.bias", init["fc2.bias"].data, [10]);
    forward = () => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(x, w1), b1)), w2), b2);
  } else {
    // NHWC throughout: x [b,28,28,1] is the NCHW input as is (c = 1); conv1.weight goes
    // OIHW → HWIO, and fc.weight [10, (c,h,w)] goes to [(h,w,c), 10] (NHWC flatten order,
    // [in,out]), once here, so the model computes PyTorch's function.
    x = tf.tensor4d(xData, [b, 28, 28, 1]);
    const cw = mk("conv1.weight", permute4(init["conv1.weight"].data, [16, 1, 3, 3], OIHW_TO_HWIO), [3, 3, 1, 16]);
    const cb = mk("conv1.bias", init["conv1.bias"].data, [16]);
    const fw = mk("fc.weight", permute4(init["fc.weight"].data, [10, 16, 13, 13], [2, 3, 1, 0]), [2704, 10]);
    const fb = mk("fc.bias", init["fc.bias"].data, [10]);
    forward = () => {
      const h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x as TFNS.Tensor4D, cw as TFNS.Tensor4D, 1, "valid"), cb)) as TFNS.Tensor4D, 2, 2, "valid");
      return tf.add(tf.matMul(tf.reshape(h, [b, 2704]), fw), fb);
    };
  }
  const opt = tf.train.momentum(0.01, 0.9);
  const varList = Object.values(vars);
  let first: Float32Array | null = null;
  let last = NaN;
  return {
    run() {
      const cost = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward()) as TFNS.Scalar, true, varList)!;
      last = cost.dataSync()[0];
      cost.dispose();
      if (!first) first = Float32Array.of(last);
    },
    result() {
      if (!first) throw new Error("tfjs-wasm: result() before run()");
      return first;
    },
    /** Loss of the latest run()'s forward (for the self-check). */
    lastLoss: () => last,
    dispose() {
      opt.dispose();
      // MomentumOptimizer.dispose() does not call SGDOptimizer.dispose(), so the optimizer's
      // kept -lr scalar (`c`) would outlive it.
      (opt as unknown as { c?: Tensor }).c?.dispose();
      tf.dispose([x, y, ...varList]);
    },
  };
}

const engine: Engine & { actualThreads(): number } = {
  name: "tfjs-wasm",
  async init(opts) {
    await load(opts.threads);
  },
  async prepare(w) {
    await load(requestedThreads);
    switch (w.kind) {
      case "gemm":
        return prepareGemm(w);
      case "conv":
        return prepareConv(w);
      case "attention":
        return prepareAttention(w);
      case "adam":
        return prepareAdam(w);
      case "gemm-int8": // no int8 matmul in tfjs
        return null;
      case "train":
        return prepareTrain(w);
    }
  },
  /** Threads tfjs-wasm really uses (1 in Node, whatever setThreadsCount asked). */
  actualThreads() {
    return tf ? wasmBackend.getThreadsCount() : 0;
  },
};

export default engine;
