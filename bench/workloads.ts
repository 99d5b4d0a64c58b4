// The workloads every engine in the bench runs, and the one contract an engine
// adapter (bench/engines/*.ts) implements. Inputs are made from seeds by one
// generator, so every engine computes on the very same numbers and the parent
// can check each result against a float64 reference before any time counts.
//
// Layouts are PyTorch's: NCHW activations, conv weights [out, in, kh, kw],
// attention tensors [batch, heads, seq, dim], Linear weights [out, in].

import { rng } from "../host/random.js";

export type Workload =
  /** C[m,n] = A[m,k]·B[k,n]; A = input(m·k, 1), B = input(k·n, 2). Result: C. */
  | { kind: "gemm"; m: number; n: number; k: number }
  /**
   * y = conv2d(x, w) (stride 1, no bias); x = input(n·c·h·w, 1), w = input(oc·c·kh·kw, 2)·0.2.
   * backward: also the gradients of L = Σ y·r, r = input(|y|, 3), with respect to x and w.
   * Result: y (forward), or dW (backward).
   */
  | { kind: "conv"; n: number; c: number; h: number; w: number; oc: number; kh: number; kw: number; pad: number; backward: boolean }
  /**
   * o = softmax(q·kᵀ/√d [+ causal mask])·v; q, k, v = input(b·h·s·d, 1 | 2 | 3).
   * backward: also the gradients of L = Σ o·r, r = input(|o|, 4), with respect to q, k, v.
   * Result: o (forward), or dq (backward).
   */
  | { kind: "attention"; b: number; h: number; s: number; d: number; causal: boolean; backward: boolean }
  /**
   * One Adam step (lr 1e-3, betas 0.9/0.999, eps 1e-8, no weight decay) on p = input(n, 1)
   * with gradient g = input(n, 2). Result: p after the first step.
   */
  | { kind: "adam"; n: number }
  /**
   * One training step (forward, cross-entropy, backward, SGD lr 0.01 momentum 0.9) at the
   * given batch. Model "s1": Conv2d(1→16, 3×3) → ReLU → MaxPool2d(2) → Linear(2704→10);
   * "mlp": Linear(784→256) → ReLU → Linear(256→10). Initial weights from modelInit(),
   * x = input(batch·784, 12) (shape [batch,1,28,28] for s1, [batch,784] for mlp),
   * labels[i] = i % 10. Result: [loss of the first forward].
   */
  | { kind: "train"; model: "s1" | "mlp"; batch: number }
  // issue 16 item 2: int8 inference
  /**
   * y[m,n] = x·Wᵀ in int8 (a dynamically quantised Linear, no bias): W = input(n·k, 2) [n, k]
   * quantised to int8 once (untimed, per output channel), x = input(m·k, 1) [m, k] quantised
   * as it runs, i32 sums, f32 y. Checked against float64 x·Wᵀ within the quantisation error.
   */
  | { kind: "gemm-int8"; m: number; n: number; k: number };

/** What an adapter returns for one workload. */
export interface Prepared {
  /** Runs the workload once (the timed part); resolves when the result is complete. */
  run(): void | Promise<void>;
  /** The result of the first run() as float32 (see each Workload for which tensor). */
  result(): Float32Array | Promise<Float32Array>;
  dispose(): void;
}

export interface Engine {
  /** e.g. "webgrad", "tfjs-wasm", "onnxruntime-web", "jax-js". */
  name: string;
  /** variant: an engine-specific build to use (webgrad: "simd" or "relaxed"); absent means the engine's default. */
  init(opts: { threads: number; variant?: string }): Promise<void>;
  /** null when the engine cannot run this workload (onnxruntime-web does not train). */
  prepare(w: Workload): Promise<Prepared | null>;
}

/** Deterministic floats in [-1, 1) (mulberry32): the bench's only source of inputs. */
export function input(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** Initial weights of the train workloads, by PyTorch parameter name and layout. */
export function modelInit(model: "s1" | "mlp"): Record<string, { shape: number[]; data: Float32Array }> {
  const p = (shape: number[], seed: number, scale: number) => ({
    shape,
    data: input(shape.reduce((a, b) => a * b, 1), seed).map((v) => v * scale),
  });
  const zeros = (n: number) => ({ shape: [n], data: new Float32Array(n) });
  if (model === "s1") {
    return { "conv1.weight": p([16, 1, 3, 3], 20, 1 / 3), "conv1.bias": zeros(16), "fc.weight": p([10, 2704], 21, 1 / 52), "fc.bias": zeros(10) };
  }
  return { "fc1.weight": p([256, 784], 22, 1 / 28), "fc1.bias": zeros(256), "fc2.weight": p([10, 256], 23, 1 / 16), "fc2.bias": zeros(10) };
}

/** Labels of the train workloads. */
export function labels(batch: number): Int32Array {
  return Int32Array.from({ length: batch }, (_, i) => i % 10);
}

/** Floating-point operations of one run, for GFLOPS (0 where GFLOPS means little). */
export function flops(w: Workload): number {
  switch (w.kind) {
    case "gemm":
    case "gemm-int8":
      return 2 * w.m * w.n * w.k;
    case "conv": {
      const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
      const f = 2 * w.n * w.oc * oh * ow * w.c * w.kh * w.kw;
      return w.backward ? 3 * f : f;
    }
    case "attention": {
      const pairs = w.causal ? (w.s * (w.s + 1)) / 2 : w.s * w.s;
      const f = 4 * w.b * w.h * pairs * w.d;
      return w.backward ? 3.5 * f : f;
    }
    default:
      return 0;
  }
}

/** A short label for tables: "gemm 512×512×512", "conv 64×1×28×28→16 3×3 fwd+bwd", ... */
export function label(w: Workload): string {
  switch (w.kind) {
    case "gemm":
      return w.m === w.n && w.n === w.k ? `gemm ${w.m}³` : `gemm ${w.m}×${w.n}×${w.k}`;
    case "conv":
      return `conv ${w.n}×${w.c}×${w.h}×${w.w}→${w.oc} ${w.kh}×${w.kw}${w.pad ? ` pad ${w.pad}` : ""} ${w.backward ? "fwd+bwd" : "fwd"}`;
    case "attention":
      return `attention ${w.b}×${w.h}×${w.s}×${w.d}${w.causal ? " causal" : ""} ${w.backward ? "fwd+bwd" : "fwd"}`;
    case "adam":
      return `adam ${w.n >= 1e6 ? `${w.n / 1e6}M` : w.n}`;
    case "gemm-int8":
      return w.m === w.n && w.n === w.k ? `gemm int8 ${w.m}³` : `gemm int8 ${w.m}×${w.n}×${w.k}`;
    case "train":
      return `train step ${w.model} batch ${w.batch}`;
  }
}
