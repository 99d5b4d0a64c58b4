// onnxruntime-web's bench adapter: the wasm execution provider (CPU, MLAS kernels
// compiled to wasm SIMD) in Node, the way a user runs it: an ONNX model built
// in memory, InferenceSession.create(), session.run() with pre-made tensors.
//
// Forward workloads only. ORT-web is an inference runtime: it has no autograd and
// no optimizers (training lives in the separate onnxruntime-training builds, not in
// onnxruntime-web), so conv/attention backward, adam and train return null.
//
// Threads. ORT-web's wasm binary (dist/ort-wasm-simd-threaded.wasm, the only one it
// ships) is an Emscripten pthreads build. In Node, Emscripten implements pthreads
// with worker_threads and a shared WebAssembly.Memory (SharedArrayBuffer, always
// available in Node, no cross-origin isolation needed). env.wasm.numThreads = N is
// read once per process, when the first InferenceSession is created: Emscripten
// pre-spawns N − 1 workers and OrtInit(N) makes a global intra-op thread pool of N
// threads (the calling thread plus N − 1 workers); sessions share it (per-session
// thread options are disabled in ORT-web). Changing numThreads afterwards has no
// effect, so one process runs at one thread count (bench/engine-child.ts gives each
// engine × thread count its own process), and init() refuses a second, different one.

import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import { input, type Engine, type Prepared, type Workload } from "../workloads.js";
import { onnxModel, type OnnxGraph } from "./onnx-model.js";

type Ort = typeof import("onnxruntime-web");
type Session = import("onnxruntime-web").InferenceSession;
type Tensor = import("onnxruntime-web").Tensor;

/** How attention is expressed: plain ONNX ops, or the com.microsoft MultiHeadAttention contrib op. */
export type AttentionVariant = "matmul" | "mha";

/**
 * The default attention graph: the plain-ops chain (Transpose, MatMul, Mul, [Add mask],
 * Softmax, MatMul), which ORT's optimizer turns into FusedMatMul(transB, alpha) →
 * Softmax → MatMul. The com.microsoft MultiHeadAttention contrib op is in the wasm
 * build and gives bit-identical results (the same MLAS GEMMs and softmax), but is never
 * faster on 1×8×512×64 non-causal: ≈ 25 ms for both at 1 thread, 12–13 ms (chain) vs
 * 13–18 ms (MHA) at 2 threads (check-onnxruntime-web.ts measures both). Plain ops also
 * keep the graph standard ONNX. init({ variant: "mha" }) selects the contrib op.
 */
export const DEFAULT_ATTENTION: AttentionVariant = "matmul";

/** file:// URL of onnxruntime-web/dist/, where the .mjs/.wasm pair lives (nothing is fetched). */
function wasmDir(): string {
  const main = createRequire(import.meta.url).resolve("onnxruntime-web"); // …/dist/ort.node.min.js
  return pathToFileURL(dirname(main)).href + "/";
}

/** Sets the wasm backend's flags; they take effect at the process's first session creation. */
function configure(ort: Ort, threads: number): void {
  ort.env.logLevel = "error";
  ort.env.wasm.numThreads = threads; // 1: no worker is spawned
  ort.env.wasm.simd = true; // the fixed-width SIMD feature check (there is no non-SIMD or relaxed-SIMD binary to pick)
  ort.env.wasm.proxy = false; // run on the calling thread, not in a proxy worker
  ort.env.wasm.wasmPaths = wasmDir();
}

const sessionOptions = {
  executionProviders: ["wasm"],
  graphOptimizationLevel: "all",
  executionMode: "sequential",
} satisfies import("onnxruntime-web").InferenceSession.SessionOptions;

/** C = A·B with A and B both graph inputs (see prepare() for why not B as an initializer). */
export function gemmGraph(m: number, n: number, k: number, bAsInitializer?: Float32Array): OnnxGraph {
  return {
    nodes: [{ op: "MatMul", inputs: ["A", "B"], outputs: ["C"] }],
    inputs: bAsInitializer ? [{ name: "A", dims: [m, k] }] : [{ name: "A", dims: [m, k] }, { name: "B", dims: [k, n] }],
    outputs: [{ name: "C", dims: [m, n] }],
    initializers: bAsInitializer ? [{ name: "B", dims: [k, n], data: bAsInitializer }] : [],
  };
}

function convGraph(w: Extract<Workload, { kind: "conv" }>, weight: Float32Array): OnnxGraph {
  const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
  return {
    nodes: [
      {
        op: "Conv",
        inputs: ["X", "W"],
        outputs: ["Y"],
        attrs: { kernel_shape: [w.kh, w.kw], pads: [w.pad, w.pad, w.pad, w.pad], strides: [1, 1], dilations: [1, 1], group: 1 },
      },
    ],
    inputs: [{ name: "X", dims: [w.n, w.c, w.h, w.w] }],
    outputs: [{ name: "Y", dims: [w.n, w.oc, oh, ow] }],
    initializers: [{ name: "W", dims: [w.oc, w.c, w.kh, w.kw], data: weight }],
  };
}

/**
 * Additive causal mask [sq, sk], aligned bottom-right as PyTorch's is_causal with
 * sq ≠ sk: query i sees keys j ≤ i + (sk − sq); with sq = sk that masks j > i.
 * −1e9 rather than −∞: the same zero after exp(), and no NaN in any fused path.
 */
function causalMask(sq: number, sk: number): Float32Array {
  const m = new Float32Array(sq * sk);
  for (let i = 0; i < sq; i++) for (let j = i + (sk - sq) + 1; j < sk; j++) if (j >= 0) m[i * sk + j] = -1e9;
  return m;
}

/** o = softmax(q·kᵀ·(1/√d) [+ mask])·v on [b,h,s,d] inputs q, k, v. */
export function attentionGraph(w: Extract<Workload, { kind: "attention" }>, variant: AttentionVariant): OnnxGraph {
  const { b, h, s, d } = w;
  const bhsd = [b, h, s, d];
  const io = {
    inputs: [{ name: "q", dims: bhsd }, { name: "k", dims: bhsd }, { name: "v", dims: bhsd }],
    outputs: [{ name: "o", dims: bhsd }],
  };
  if (variant === "matmul") {
    const nodes: OnnxGraph["nodes"] = [
      { op: "Transpose", inputs: ["k"], outputs: ["kT"], attrs: { perm: [0, 1, 3, 2] } },
      { op: "MatMul", inputs: ["q", "kT"], outputs: ["qk"] },
      { op: "Mul", inputs: ["qk", "scale"], outputs: ["logits"] },
    ];
    const initializers: NonNullable<OnnxGraph["initializers"]> = [{ name: "scale", dims: [], data: Float32Array.of(1 / Math.sqrt(d)) }];
    let logits = "logits";
    if (w.causal) {
      nodes.push({ op: "Add", inputs: ["logits", "mask"], outputs: ["masked"] });
      initializers.push({ name: "mask", dims: [s, s], data: causalMask(s, s) });
      logits = "masked";
    }
    nodes.push(
      { op: "Softmax", inputs: [logits], outputs: ["p"], attrs: { axis: -1 } },
      { op: "MatMul", inputs: ["p", "v"], outputs: ["o"] },
    );
    return { ...io, nodes, initializers };
  }
  // com.microsoft.MultiHeadAttention: query is [b, s, h·d] (BSNH flattened); key and
  // value may stay [b, h, s, d] (BNSH). Its default scale is 1/√head_size; causal via
  // unidirectional = 1 (bottom-right aligned, as above).
  const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));
  return {
    ...io,
    nodes: [
      { op: "Transpose", inputs: ["q"], outputs: ["qT"], attrs: { perm: [0, 2, 1, 3] } },
      { op: "Reshape", inputs: ["qT", "bsD"], outputs: ["q3"] },
      {
        op: "MultiHeadAttention",
        domain: "com.microsoft",
        inputs: ["q3", "k", "v"],
        outputs: ["o3"],
        attrs: w.causal ? { num_heads: h, unidirectional: 1 } : { num_heads: h },
      },
      { op: "Reshape", inputs: ["o3", "bshd"], outputs: ["o4"] },
      { op: "Transpose", inputs: ["o4"], outputs: ["o"], attrs: { perm: [0, 2, 1, 3] } },
    ],
    initializers: [
      { name: "bsD", dims: [3], data: i64(b, s, h * d) },
      { name: "bshd", dims: [4], data: i64(b, s, h, d) },
    ],
    extraOpsets: { "com.microsoft": 1 },
  };
}

/**
 * issue 16 item 2: x·Wᵀ as onnxruntime's own dynamic quantisation writes a
 * MatMul (quantize_dynamic): DynamicQuantizeLinear(x) → uint8 x with its scale
 * and zero point, MatMulInteger(x_q, W_q int8 [k, n], x_zero) → int32, Cast,
 * times x's scale and W's per-column scales (W quantised symmetric per output
 * channel, untimed). ORT's optimizer fuses the chain into its DynamicQuantizeMatMul kernel.
 */
export function gemmInt8Graph(m: number, n: number, k: number, w: Float32Array): OnnxGraph {
  const wq = new Int8Array(k * n), scales = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let mx = 0;
    for (let p = 0; p < k; p++) mx = Math.max(mx, Math.abs(w[j * k + p]));
    const s = mx > 0 ? mx / 127 : 1;
    scales[j] = s;
    for (let p = 0; p < k; p++) wq[p * n + j] = Math.max(-127, Math.min(127, Math.round(w[j * k + p] / s)));
  }
  return {
    nodes: [
      { op: "DynamicQuantizeLinear", inputs: ["X"], outputs: ["Xq", "Xs", "Xz"] },
      { op: "MatMulInteger", inputs: ["Xq", "Wq", "Xz"], outputs: ["Yi"] },
      { op: "Cast", inputs: ["Yi"], outputs: ["Yf"], attrs: { to: 1 } },
      { op: "Mul", inputs: ["Xs", "Ws"], outputs: ["S"] },
      { op: "Mul", inputs: ["Yf", "S"], outputs: ["Y"] },
    ],
    inputs: [{ name: "X", dims: [m, k] }],
    outputs: [{ name: "Y", dims: [m, n] }],
    initializers: [{ name: "Wq", dims: [k, n], data: wq }, { name: "Ws", dims: [n], data: scales }],
  };
}

/** A session over `graph` fed the same tensors on every run; keeps the first run's `output`. */
async function prepared(ort: Ort, graph: OnnxGraph, feeds: Record<string, Float32Array>, output: string): Promise<Prepared> {
  const session: Session = await ort.InferenceSession.create(onnxModel(graph), sessionOptions);
  const tensors: Record<string, Tensor> = {};
  for (const v of graph.inputs) tensors[v.name] = new ort.Tensor("float32", feeds[v.name], v.dims);
  let first: Float32Array | null = null;
  return {
    async run() {
      const out = await session.run(tensors);
      // Outputs of the wasm EP are already copied out of the wasm heap into a fresh array.
      first ??= out[output].data as Float32Array;
    },
    result() {
      if (!first) throw new Error("onnxruntime-web: result() before run()");
      return first;
    },
    dispose() {
      session.release().catch(() => {});
    },
  };
}

let ort: Ort | null = null;
let threadsInUse = 0;
let attentionVariant: AttentionVariant = DEFAULT_ATTENTION;

const engine: Engine & {
  init(opts: { threads: number; variant?: string }): Promise<void>;
} = {
  name: "onnxruntime-web",

  async init({ threads, variant }) {
    if (threadsInUse && threadsInUse !== threads) {
      throw new Error(`onnxruntime-web: the wasm backend already runs ${threadsInUse} thread(s); a process gets one thread count`);
    }
    if (variant === "matmul" || variant === "mha") attentionVariant = variant;
    else if (variant) throw new Error(`onnxruntime-web: unknown variant ${variant} (matmul | mha)`);
    ort ??= await import("onnxruntime-web");
    configure(ort, threads);
    threadsInUse = threads;
    // Start the backend now (wasm compile, pthread workers, OrtInit) so that no
    // prepare() pays for it: a 2×2 MatMul session, created and released.
    const s = await ort.InferenceSession.create(onnxModel(gemmGraph(2, 2, 2)), sessionOptions);
    await s.release();
  },

  async prepare(w: Workload): Promise<Prepared | null> {
    if (!ort) throw new Error("onnxruntime-web: prepare() before init()");
    switch (w.kind) {
      case "gemm":
        // A and B are both graph inputs, as in every other engine's C = A·B. With B
        // an initializer ORT would pre-pack it (MLAS PackB) once at session creation,
        // taking B's packing out of the timed run: a weight-times-activation Linear,
        // not the GEMM the workload defines.
        return prepared(ort, gemmGraph(w.m, w.n, w.k), { A: input(w.m * w.k, 1), B: input(w.k * w.n, 2) }, "C");
      case "conv": {
        if (w.backward) return null;
        const weight = input(w.oc * w.c * w.kh * w.kw, 2).map((v) => v * 0.2);
        return prepared(ort, convGraph(w, weight), { X: input(w.n * w.c * w.h * w.w, 1) }, "Y");
      }
      case "attention": {
        if (w.backward) return null;
        const n = w.b * w.h * w.s * w.d;
        return prepared(ort, attentionGraph(w, attentionVariant), { q: input(n, 1), k: input(n, 2), v: input(n, 3) }, "o");
      }
      case "gemm-int8":
        return prepared(ort, gemmInt8Graph(w.m, w.n, w.k, input(w.n * w.k, 2)), { X: input(w.m * w.k, 1) }, "Y");
      case "adam": // no optimizers in ORT-web
      case "train": // no training in ORT-web
        return null;
    }
  },
};

export default engine;

/** For the self-check: the attention graph a workload would get with a given variant. */
export async function prepareAttention(w: Extract<Workload, { kind: "attention" }>, variant: AttentionVariant): Promise<Prepared> {
  if (!ort) throw new Error("onnxruntime-web: prepareAttention() before init()");
  const n = w.b * w.h * w.s * w.d;
  return prepared(ort, attentionGraph(w, variant), { q: input(n, 1), k: input(n, 2), v: input(n, 3) }, "o");
}

/** For the self-check: gemm with B as an initializer (pre-packed by ORT), to compare with the inputs-only graph. */
export async function prepareGemmWithConstantB(w: Extract<Workload, { kind: "gemm" }>): Promise<Prepared> {
  if (!ort) throw new Error("onnxruntime-web: prepareGemmWithConstantB() before init()");
  return prepared(ort, gemmGraph(w.m, w.n, w.k, input(w.k * w.n, 2)), { A: input(w.m * w.k, 1) }, "C");
}
