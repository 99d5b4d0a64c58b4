// Deployment pieces the seeds name: int8 post-training quantisation of Linear
// and Conv2d weights, ensembles that average several models' predictions, and
// freezing parameters for transfer learning.

import { Module } from "./nn/module.js";
import { Linear, Conv2d } from "./nn/layers.js";
import type { Tensor } from "./tensor.js";
import { tensor } from "./ops/creation.js";
import { noGrad } from "./autograd.js";
import { scope } from "./scope.js";
import { checkBool, checkOptions } from "./ops/util.js";
import { QuantizedLinear, QuantizedConv2d } from "./nn/quantized.js";
import { Conv1D, GPT } from "./models/gpt.js";
import { LlamaForCausalLM } from "./models/llama.js";

/** One weight in int8: q[o, …] · scales[o] ≈ w[o, …], symmetric, one scale per output channel (row). */
export interface Int8Weight {
  shape: number[];
  q: Int8Array;
  scales: Float32Array;
}

/**
 * Quantises a weight to int8 with one symmetric scale per output channel
 * (the first axis): scale = max|w[o]| / 127, q = round(w / scale).
 * @example
 * const { q, scales } = quantizeInt8(new Float32Array([1, -0.5, 0.25, 2]), [2, 2]);
 * q; // Int8Array [127, -63, 16, 127]
 * scales; // Float32Array [0.007874…, 0.015748…]
 */
export function quantizeInt8(w: Float32Array, shape: readonly number[]): Int8Weight {
  const rows = shape[0], cols = w.length / rows;
  if (!Number.isInteger(cols)) throw new Error(`quantizeInt8: ${w.length} values do not split into ${rows} output channels`);
  const q = new Int8Array(w.length), scales = new Float32Array(rows);
  for (let o = 0; o < rows; o++) {
    let m = 0;
    for (let i = o * cols; i < (o + 1) * cols; i++) m = Math.max(m, Math.abs(w[i]));
    const s = m > 0 ? m / 127 : 1;
    scales[o] = s;
    for (let i = o * cols; i < (o + 1) * cols; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i] / s)));
  }
  return { shape: [...shape], q, scales };
}

/** The f32 weight an Int8Weight stands for, written into `out` (a scratch buffer) or a new array. */
export function dequantizeInt8(w: Int8Weight, out: Float32Array<ArrayBufferLike> = new Float32Array(w.q.length)): Float32Array<ArrayBufferLike> {
  const rows = w.shape[0], cols = w.q.length / rows;
  for (let o = 0; o < rows; o++) {
    const s = w.scales[o];
    for (let i = o * cols; i < (o + 1) * cols; i++) out[i] = w.q[i] * s;
  }
  return out;
}

/** What quantizeModelInt8 did: the int8 weights by name and the storage they need. */
export interface QuantizedModel {
  weights: Record<string, Int8Weight>;
  /** Bytes of the quantised weights (int8 values and f32 scales) and of the f32 originals. */
  int8Bytes: number;
  f32Bytes: number;
}

/**
 * Post-training int8 quantisation of every Linear and Conv2d weight of a
 * model (biases stay f32): each weight is quantised per output channel and
 * its f32 buffer is overwritten with the dequantised values, so inference
 * runs the int8 model's numbers through the f32 kernels. Keep the returned
 * int8 weights (4× smaller) to store or ship the model.
 * @example
 * const accuracy = () => wg.scope(() => model.forward(x).argmax(1).eq(y).mean().item());
 * const before = accuracy();
 * const { int8Bytes, f32Bytes } = quantizeModelInt8(model);
 * [int8Bytes, f32Bytes]; // [1692, 6416]
 * const after = accuracy(); // on a trained model, usually within a few tenths of a percent of before
 */
export function quantizeModelInt8(model: Module): QuantizedModel {
  const result: QuantizedModel = { weights: {}, int8Bytes: 0, f32Bytes: 0 };
  for (const [name, w] of int8Layers(model, "quantizeModelInt8")) {
    const v = w.view() as Float32Array; // wasm memory: dequantised in place
    addWeight(result, name, v, w.shape);
  }
  return result;
}

/**
 * quantizeModelInt8 on every backend: weights that live on the GPU are read
 * back, quantised on the host and the dequantised values written back.
 * @example
 * await wg.init({ backend: "webgpu" });
 * const model = new wg.nn.Linear(4, 2); // made on the GPU
 * const { int8Bytes } = await quantizeModelInt8Async(model);
 * int8Bytes; // 16
 */
export async function quantizeModelInt8Async(model: Module): Promise<QuantizedModel> {
  const result: QuantizedModel = { weights: {}, int8Bytes: 0, f32Bytes: 0 };
  for (const [name, w] of int8Layers(model, "quantizeModelInt8Async")) {
    if (w.backend === "wasm") { addWeight(result, name, w.view() as Float32Array, w.shape); continue; }
    const v = Float32Array.from(await w.data());
    addWeight(result, name, v, w.shape);
    scope(() => noGrad(() => w.copy_(tensor(v, { shape: [...w.shape] }))));
  }
  return result;
}

/** The weights quantizeModelInt8 quantises (Linear and Conv2d), by state-dict name. */
function int8Layers(model: Module, who: string): [string, Tensor][] {
  const found: [string, Tensor][] = [];
  const visit = (m: Module, prefix: string) => {
    if (m instanceof Linear || m instanceof Conv2d) found.push([`${prefix}weight`, m.weight]);
    for (const [k, c] of m.namedChildren()) visit(c, `${prefix}${k}.`);
  };
  visit(model, "");
  if (found.length === 0) throw new Error(`${who}: the model has no Linear or Conv2d layer`);
  return found;
}

/** Quantises v (dequantised back into v) and records it. */
function addWeight(result: QuantizedModel, name: string, v: Float32Array, shape: readonly number[]): void {
  const qw = quantizeInt8(v, shape);
  dequantizeInt8(qw, v);
  result.weights[name] = qw;
  result.int8Bytes += qw.q.length + 4 * qw.scales.length;
  result.f32Bytes += 4 * v.length;
}

/** What quantizeDynamic swaps: Linear (the default, as PyTorch's), Conv2d, or both. */
export type QuantizableLayer = "Linear" | "Conv2d";

/**
 * Dynamic int8 quantisation (PyTorch's torch.ao.quantization.quantize_dynamic):
 * swaps every Linear (with GPT-2's Conv1D, a Linear stored [in, out]) of a
 * model, and with `layers: ["Linear", "Conv2d"]` every groups-1 Conv2d, for a
 * QuantizedLinear / QuantizedConv2d (and
 * gives a wg.models GPT an int8 copy of its tied output head) that runs the int8 kernels (weights int8 per output channel,
 * activations quantised per row as they arrive), in place, and returns the
 * model in eval mode. The float layers are released. Inference only: a
 * quantised layer in training mode, or one asked for a gradient, throws naming it.
 * `layers` picks the kinds to swap (PyTorch's qconfig_spec). Conv2d is not swapped
 * unless asked: the int8 convolution (im2col, quantise, GEMM, transpose) runs
 * slower than the f32 direct and Winograd kernels today (S5: 0.37×).
 * @example
 * const net = new wg.nn.Sequential(new wg.nn.Linear(8, 16), new wg.nn.ReLU(), new wg.nn.Linear(16, 2));
 * const x = wg.randn([4, 8]);
 * const before = net.forward(x).toArray();
 * quantizeDynamic(net);
 * String(net.layers[0]); // "QuantizedLinear(in_features=8, out_features=16, dtype=qint8, qscheme=per_channel_symmetric)"
 * net.forward(x).shape; // [4, 2]
 */
export function quantizeDynamic<M extends Module>(model: M, opts: { layers?: QuantizableLayer[]; decode?: boolean; group?: number } = {}): M {
  checkOptions("quantizeDynamic", opts, ["layers", "decode", "group"]);
  // issue 17 (hk2): decode: true also keeps weight-only int8 rows for 1–4-row inputs (QuantizedLinear's opts)
  const dec = { decode: opts.decode, group: opts.group };
  const kinds = new Set(opts.layers ?? ["Linear"]);
  for (const k of kinds) if (k !== "Linear" && k !== "Conv2d") throw new Error(`quantizeDynamic: layers may name "Linear" and "Conv2d", not ${JSON.stringify(k)}`);
  let swapped = 0;
  const swap = (m: Module): Module | null => {
    if (m instanceof Linear && kinds.has("Linear")) return QuantizedLinear.from(m, dec);
    if (m instanceof Conv1D && kinds.has("Linear")) return QuantizedLinear.fromInOut(m.weight, m.bias, dec);
    if (m instanceof Conv2d && kinds.has("Conv2d") && (m.opts.groups ?? 1) === 1) return QuantizedConv2d.from(m);
    return null;
  };
  const visit = (parent: Module) => {
    // GPT's tied output head (x·wteᵀ, the largest product of a small model): an int8 copy of wte
    if (parent instanceof GPT && !parent.lmHead && kinds.has("Linear")) {
      parent.lmHead = new QuantizedLinear(parent.wte.weight, null, dec).eval();
      swapped++;
    }
    // issue 17: a Llama-family model's tied head (x·embed_tokensᵀ) gets an int8 copy of embed_tokens as lm_head
    if (parent instanceof LlamaForCausalLM && !parent.lm_head && kinds.has("Linear")) {
      (parent as { lm_head: Module | null }).lm_head = new QuantizedLinear(parent.model.embed_tokens.weight, null, dec).eval();
      swapped++;
    }
    const own = parent as unknown as Record<string, unknown>;
    for (const key of Object.keys(own)) {
      const v = own[key];
      const list = Array.isArray(v) ? v : [v];
      list.forEach((c, i) => {
        if (!(c instanceof Module)) return;
        const q = swap(c);
        if (!q) { visit(c); return; }
        if (Array.isArray(v)) v[i] = q; else own[key] = q;
        c.dispose();
        swapped++;
      });
    }
  };
  const top = swap(model);
  if (top) throw new Error("quantizeDynamic: pass the model that holds the layer (a bare Linear or Conv2d: use wg.nn.QuantizedLinear.from)");
  visit(model);
  if (swapped === 0) {
    const hint = kinds.has("Conv2d") ? "" : ` (Conv2d layers are swapped with { layers: ["Linear", "Conv2d"] })`;
    throw new Error(`quantizeDynamic: the model has no ${[...kinds].join(" or ")} layer to quantise${hint}`);
  }
  return model.eval();
}

/**
 * Averages several classifiers' softmax outputs: returns [N, classes]
 * probabilities as a Float32Array (models run in eval mode, without the tape).
 * @example
 * const nets = [1, 2, 3].map((seed) => { wg.manualSeed(seed); return new wg.nn.Linear(4, 3); });
 * const probs = ensemblePredict(nets, wg.randn([2, 4])); // then argmax per row
 * probs.length; // 6
 */
export function ensemblePredict(models: Module[], x: Tensor): Float32Array {
  if (models.length === 0) throw new Error("ensemblePredict: no models");
  let sum: Float32Array | null = null;
  for (const m of models) {
    const was = m.training;
    m.eval();
    const p = scope(() => noGrad(() => m.forward(x).softmax(-1).dataSync() as Float32Array));
    if (was) m.train();
    if (sum && sum.length !== p.length) throw new Error(`ensemblePredict: models disagree on the output size (${sum.length} vs ${p.length} values)`);
    if (!sum) sum = p;
    else for (let i = 0; i < p.length; i++) sum[i] += p[i];
  }
  for (let i = 0; i < sum!.length; i++) sum![i] /= models.length;
  return sum!;
}

/**
 * Freezes (or unfreezes) a module's parameters for transfer learning: frozen
 * ones get no gradient, so optimizers leave them as they are. Pass only the
 * trainable ones to the optimizer, or all: frozen ones are skipped.
 * @example freeze(net.conv1); freeze(net.conv2); const opt = new wg.optim.Adam(trainable(net));
 */
export function freeze(m: Module, frozen = true): Module {
  checkBool("freeze", "frozen", frozen); // freeze(m, "no") once froze
  for (const p of m.parameters()) p.requiresGrad = !frozen;
  return m;
}

/** The parameters that are not frozen. @example new wg.optim.SGD(trainable(net), { lr: 0.01 }); */
export function trainable(m: Module): Tensor[] {
  return m.parameters().filter((p) => p.requiresGrad);
}
