// Losses and functional forms of layers, written from ops (composites get
// their gradients from the primitives they use).

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { shapeStr, checkOptions, checkOneOf, checkNumber, checkInt, checkBool, broadcastShapes } from "../ops/util.js";
import { noGrad, record } from "../tape.js";

export type Reduction = "mean" | "sum" | "none";

/** A loss's options, checked before anything runs: a misspelt reduction once fell through to "none". */
function reductionOf(op: string, opts: { reduction?: Reduction }): Reduction {
  checkOptions(op, opts, ["reduction"]);
  return checkOneOf(op, "reduction", opts.reduction, ["mean", "sum", "none"]) ?? "mean";
}

function reduce(t: Tensor, reduction: Reduction): Tensor {
  return reduction === "mean" ? t.mean() : reduction === "sum" ? t.sum() : t;
}

export interface CrossEntropyOptions {
  reduction?: Reduction;
  /** Class weights [C]: a sample of class c counts w[c] times (the mean divides by the weights picked). */
  weight?: Tensor | null;
  /** Class-index targets equal to this give no loss and no gradient and leave the mean (default −100). */
  ignoreIndex?: number;
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/** Logits [N, C, d1, …] as rows [N·d1·…, C] (classes last), and the per-sample shape [N, d1, …]. */
function classRows(x: Tensor, op: string): { rows: Tensor; per: number[]; C: number } {
  if (x.rank < 1) throw new Error(`${op}: input must be [C], [N, C] or [N, C, d1, …], got ${shapeStr(x.shape)}`);
  if (x.rank === 1) return { rows: x.reshape(1, x.shape[0]), per: [], C: x.shape[0] };
  const C = x.shape[1], per = [x.shape[0], ...x.shape.slice(2)];
  if (x.rank === 2) return { rows: x, per, C };
  const order = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2), 1];
  return { rows: ops.permute(x, order).reshape(per.reduce((a, b) => a * b, 1), C), per, C };
}

function checkWeight(op: string, w: Tensor | null | undefined, C: number, name = "weight"): Tensor | null {
  if (w === undefined || w === null) return null;
  if (!(w instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor or null, got ${typeof w}`);
  if (w.dtype !== "float32") throw new Error(`${op}: ${name} must be float32, got ${w.dtype}`);
  if (C >= 0 && (w.rank !== 1 || w.shape[0] !== C)) throw new Error(`${op}: ${name} ${shapeStr(w.shape)} must be [${C}] (one per class)`);
  return w;
}

/**
 * NaN where a class-index target is out of range (and not ignored), 0 elsewhere: labels the host
 * cannot read (on the GPU) are not checked before the kernels run, so a bad one shows as a NaN loss.
 */
function nanAtBadLabels(t: Tensor, C: number, ignore: number): Tensor {
  const bad = ops.lt(t, 0).add(ops.ge(t, C)).mul(ops.ne(t, ignore));
  return bad.neg().sqrt(); // √−1 = NaN, √−0 = −0
}

/**
 * Class-index losses from per-row log-probabilities [M, C]: per-sample w[y]·(−log p[y]) (or (1 − ε)·that
 * + ε/C·Σ_c w[c]·(−log p[c])), 0 where ignored; and the per-sample weights the mean divides by.
 */
function classIndexLoss(logp: Tensor, t: Tensor, C: number, weight: Tensor | null, ignore: number, smoothing: number): { loss: Tensor; w: Tensor } {
  const M = t.size;
  const valid = ops.ne(t, ignore); // [M]
  const onehot = ops.eq(t.reshape(M, 1), ops.arange(C).reshape(1, C)).mul(valid.reshape(M, 1));
  const picked = weight ? onehot.mul(weight.reshape(1, C)) : onehot; // w[y] at y, 0 elsewhere
  const w = weight ? picked.sum(1) : valid;
  let loss = logp.mul(picked).sum(1).neg();
  if (smoothing > 0) {
    const all = weight ? logp.mul(weight.reshape(1, C)) : logp;
    const smooth = all.sum(1).neg().mul(valid);
    loss = loss.mul(1 - smoothing).add(smooth.mul(smoothing / C));
  }
  return { loss, w };
}

function reduceWeighted(loss: Tensor, w: Tensor, reduction: Reduction, per: number[]): Tensor {
  if (reduction === "none") return loss.reshape(per);
  if (reduction === "sum") return loss.sum();
  return loss.sum().div(w.sum());
}

/**
 * Cross-entropy between logits and targets, PyTorch's F.cross_entropy: logits [N, C] (or [C], or
 * [N, C, d1, …]); targets int32 class indices of the logits' shape without C, or float32 class
 * probabilities of the logits' shape. Options: reduction ("mean", the weighted mean; "sum"; "none"),
 * class `weight` [C], `ignoreIndex` (−100), `labelSmoothing`. Plain class-index targets run one fused
 * softmax kernel; the other options are composed from ops.
 *
 * @example
 * const loss = wg.nn.functional.crossEntropy(wg.tensor([[2, 0], [0, 2]]), wg.tensor([0, 1], { dtype: "int32" }));
 * loss.item(); // 0.1269…
 * wg.nn.functional.crossEntropy(wg.tensor([[2, 0], [0, 2]]), wg.tensor([0, -100], { dtype: "int32" })).item(); // 0.1269…
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = "crossEntropy";
  checkOptions(op, opts, ["reduction", "weight", "ignoreIndex", "labelSmoothing"]);
  const reduction = checkOneOf(op, "reduction", opts.reduction, ["mean", "sum", "none"]) ?? "mean";
  const smoothing = opts.labelSmoothing === undefined ? 0 : checkNumber(op, "labelSmoothing", opts.labelSmoothing, 0, 1);
  const ignore = opts.ignoreIndex === undefined ? -100 : checkInt(op, "ignoreIndex", opts.ignoreIndex);
  if (!(logits instanceof Tensor) || !(labels instanceof Tensor)) throw new Error(`${op}: input and target must be tensors`);
  if (logits.dtype !== "float32") throw new Error(`${op}: logits must be float32, got ${logits.dtype}`);
  const { rows, per, C } = classRows(logits, op);
  const weight = checkWeight(op, opts.weight, C);

  if (labels.dtype === "float32") {
    // class probabilities, the logits' shape
    if (labels.shape.join() !== logits.shape.join()) {
      throw new Error(`${op}: labels must be int32 class indices ${shapeStr(per)}, or float32 class probabilities of the logits' shape ${shapeStr(logits.shape)}; got float32 ${shapeStr(labels.shape)}`);
    }
    if (opts.ignoreIndex !== undefined) throw new Error(`${op}: ignoreIndex applies to class-index (int32) targets only, not to class probabilities`);
    let t = classRows(labels, op).rows;
    if (smoothing > 0) t = t.mul(1 - smoothing).add(smoothing / C);
    const logp = ops.logSoftmax(rows, 1);
    const tw = weight ? t.mul(weight.reshape(1, C)) : t;
    const loss = logp.mul(tw).sum(1).neg();
    return reduction === "none" ? loss.reshape(per) : reduction === "sum" ? loss.sum() : loss.mean();
  }
  if (labels.shape.join() !== per.join()) {
    if (labels.dtype !== "int32") throw new Error(`${op}: labels must be int32 class indices, got ${labels.dtype} (use .int())`);
    throw new Error(`${op}: ${labels.size} labels ${shapeStr(labels.shape)} for ${per.reduce((a, b) => a * b, 1)} rows of logits ${shapeStr(logits.shape)} (class indices must be ${shapeStr(per)})`);
  }
  const M = rows.shape[0];
  const t = labels.reshape(M);
  ops.checkLabels(t, M, C, op, ignore);
  const v = t.peek();
  const readable = v !== null;
  if (!weight && smoothing === 0) {
    // the fused kernel; labels it must not see (ignored) are replaced by 0 and their rows masked out
    const noneIgnored = readable && !(v as Int32Array).includes(ignore);
    if (noneIgnored) return reduce(ops.softmaxCrossEntropy(rows, t), reduction).reshape(reduction === "none" ? per : []);
    const valid = ops.ne(t, ignore);
    const safe = ops.cast(ops.cast(t, "float32").mul(valid), "int32");
    let loss = ops.softmaxCrossEntropy(rows, safe).mul(valid);
    if (!readable) loss = loss.add(nanAtBadLabels(t, C, ignore));
    return reduceWeighted(loss, valid, reduction, per);
  }
  const { loss, w } = classIndexLoss(ops.logSoftmax(rows, 1), t, C, weight, ignore, smoothing);
  return reduceWeighted(readable ? loss : loss.add(nanAtBadLabels(t, C, ignore)), w, reduction, per);
}

/**
 * Negative log-likelihood of log-probabilities [N, C] (or [C], or [N, C, d1, …]) at int32 class
 * indices, PyTorch's F.nll_loss, with its `weight`, `ignoreIndex` (−100) and weighted-mean reduction.
 * @example wg.nn.functional.nllLoss(wg.tensor([[-0.1, -2.3]]), wg.tensor([0], { dtype: "int32" })).item(); // 0.1
 */
export function nllLoss(logProbs: Tensor, labels: Tensor, opts: { reduction?: Reduction; weight?: Tensor | null; ignoreIndex?: number } = {}): Tensor {
  const op = "nllLoss";
  checkOptions(op, opts, ["reduction", "weight", "ignoreIndex"]);
  const reduction = checkOneOf(op, "reduction", opts.reduction, ["mean", "sum", "none"]) ?? "mean";
  const ignore = opts.ignoreIndex === undefined ? -100 : checkInt(op, "ignoreIndex", opts.ignoreIndex);
  if (logProbs.dtype !== "float32") throw new Error(`${op}: input must be float32, got ${logProbs.dtype}`);
  const { rows, per, C } = classRows(logProbs, op);
  const weight = checkWeight(op, opts.weight, C);
  if (labels.dtype !== "int32") throw new Error(`${op}: labels must be int32 class indices, got ${labels.dtype} (use .int())`);
  if (labels.shape.join() !== per.join()) throw new Error(`${op}: ${labels.size} labels ${shapeStr(labels.shape)} for ${per.reduce((a, b) => a * b, 1)} rows of input ${shapeStr(logProbs.shape)} (class indices must be ${shapeStr(per)})`);
  const M = rows.shape[0];
  const t = labels.reshape(M);
  ops.checkLabels(t, M, C, op, ignore);
  const { loss, w } = classIndexLoss(rows, t, C, weight, ignore, 0);
  return reduceWeighted(t.peek() ? loss : loss.add(nanAtBadLabels(t, C, ignore)), w, reduction, per);
}

function sameShape(a: Tensor, b: Tensor, op: string): void {
  if (a.shape.join() !== b.shape.join()) throw new Error(`${op}: input ${shapeStr(a.shape)} and target ${shapeStr(b.shape)} differ`);
}

/**
 * Mean squared error.
 * @example wg.nn.functional.mseLoss(wg.tensor([1, 2]), wg.tensor([1, 4])).item(); // 2
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOf("mseLoss", opts);
  sameShape(input, target, "mseLoss");
  return reduce(input.sub(target).square(), reduction);
}

/** An optional weight that broadcasts against the input (checked here, not at the first kernel). */
function broadcastWeight(op: string, name: string, w: Tensor | null | undefined, x: Tensor): Tensor | null {
  if (w === undefined || w === null) return null;
  if (!(w instanceof Tensor) || w.dtype !== "float32") throw new Error(`${op}: ${name} must be a float32 tensor or null`);
  broadcastShapes(w.shape, x.shape, `${op} ${name}`);
  return w;
}

/**
 * Binary cross-entropy of probabilities in (0, 1); log terms are clamped at -100 as in PyTorch.
 * `weight` (broadcast to the input) rescales each element's loss.
 * @example wg.nn.functional.binaryCrossEntropy(wg.tensor([0.5]), wg.tensor([1])).item(); // 0.693…
 */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: { reduction?: Reduction; weight?: Tensor | null } = {}): Tensor {
  const op = "binaryCrossEntropy";
  checkOptions(op, opts, ["reduction", "weight"]);
  const reduction = reductionOf(op, { reduction: opts.reduction });
  sameShape(p, target, op);
  const weight = broadcastWeight(op, "weight", opts.weight, p);
  // the value clamps each log at −100 (PyTorch's); the gradients are PyTorch's binary_cross_entropy_backward
  // (p − t)/max((1 − p)·p, 1e-12) and its target gradient −logit(p), unclamped (±inf at p = 0, 1)
  const value = noGrad(() => {
    const logP = p.log().maximum(-100);
    const log1mP = ops.sub(1, p).log().maximum(-100);
    return target.mul(logP).add(ops.sub(1, target).mul(log1mP)).neg();
  });
  let loss = record(value, op, [p, target], (g) => [
    p.requiresGrad ? g.mul(p.sub(target).div(ops.sub(1, p).mul(p).maximum(1e-12))) : null,
    target.requiresGrad ? g.mul(p.div(ops.sub(1, p)).log().neg()) : null,
  ]);
  if (weight) loss = loss.mul(weight);
  return reduce(loss, reduction);
}

/**
 * Binary cross-entropy on logits, stable for large |x|: (1 − t)·x + (1 + (posWeight − 1)·t)·softplus(−x),
 * softplus(−x) = max(−x, 0) + log(1 + e^−|x|), as PyTorch. `posWeight` (broadcast along the last
 * dim: one per class) weighs the positive term; `weight` rescales each element's loss.
 * @example
 * wg.nn.functional.binaryCrossEntropyWithLogits(wg.tensor([0]), wg.tensor([1])).item(); // 0.693…
 * wg.nn.functional.binaryCrossEntropyWithLogits(wg.tensor([0]), wg.tensor([1]), { posWeight: wg.tensor([2]) }).item(); // 1.386…
 */
export function binaryCrossEntropyWithLogits(x: Tensor, target: Tensor, opts: { reduction?: Reduction; weight?: Tensor | null; posWeight?: Tensor | null } = {}): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  checkOptions(op, opts, ["reduction", "weight", "posWeight"]);
  const reduction = reductionOf(op, { reduction: opts.reduction });
  sameShape(x, target, op);
  const weight = broadcastWeight(op, "weight", opts.weight, x);
  const posWeight = broadcastWeight(op, "posWeight", opts.posWeight, x);
  // softplus(−x) = log(1 + e^(2m − x)) − m with m = min(x, 0) (= max(−x, 0) + log(1 + e^−|x|)): written
  // through minimum, whose gradient splits at the tie x = 0, autograd gives PyTorch's σ(x) − t there too
  const m = x.minimum(0);
  const softplusNeg = m.mul(2).sub(x).exp().add(1).log().sub(m);
  let loss: Tensor;
  if (!posWeight) loss = ops.sub(1, target).mul(x).add(softplusNeg);
  else {
    const logWeight = posWeight.sub(1).mul(target).add(1);
    loss = ops.sub(1, target).mul(x).add(logWeight.mul(softplusNeg));
  }
  if (weight) loss = loss.mul(weight);
  return reduce(loss, reduction);
}

export const scaledDotProductAttention = ops.scaledDotProductAttention;
export const conv2d = ops.conv2d;
export const linear = ops.linear;
export const maxPool2d = ops.maxPool2d;
export const avgPool2d = ops.avgPool2d;
export const layerNorm = ops.layerNorm;
export const embedding = ops.embedding;
export const dropout = ops.dropout;
export const softmax = ops.softmax;
export const logSoftmax = ops.logSoftmax;
export const relu = ops.relu;
export const gelu = ops.gelu;
export const sigmoid = ops.sigmoid;
export const tanh = ops.tanh;
export const conv1d = ops.conv1d;
export const convTranspose2d = ops.convTranspose2d;

/**
 * Leaky ReLU, PyTorch's F.leaky_relu: x where x > 0, else negativeSlope·x (a composite of where).
 * @example wg.nn.functional.leakyRelu(wg.tensor([-2, 3]), 0.1).toArray(); // [-0.2, 3]
 */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  checkNumber("leakyRelu", "negativeSlope", negativeSlope);
  if (x.dtype !== "float32") throw new Error(`leakyRelu: input must be float32, got ${x.dtype}`);
  return ops.where(ops.gt(x, 0), x, x.mul(negativeSlope));
}

/**
 * Group normalisation, PyTorch's F.group_norm: x [N, C, …] normalised over each of `numGroups`
 * groups of C/numGroups channels (and all positions), then weight and bias [C] per channel.
 * @example wg.nn.functional.groupNorm(wg.tensor([[1, 3, 5, 9]]), 2).toArray(); // [[-1, 1, -1, 1]]
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = "groupNorm";
  checkInt(op, "numGroups", numGroups, 1);
  checkNumber(op, "eps", eps, 0);
  if (x.rank < 2) throw new Error(`${op}: input must be [N, C, …], got ${shapeStr(x.shape)}`);
  const [N, C] = x.shape;
  if (C % numGroups !== 0) throw new Error(`${op}: ${C} channels of input ${shapeStr(x.shape)} do not split into ${numGroups} groups`);
  for (const [name, p] of [["weight", weight], ["bias", bias]] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== C)) throw new Error(`${op}: ${name} ${shapeStr(p.shape)} must be [${C}]`);
  }
  const g = x.reshape(N, numGroups, -1);
  const mean = g.mean(2, true);
  const centred = g.sub(mean);
  const variance = centred.square().mean(2, true);
  let y = centred.mul(variance.add(eps).rsqrt()).reshape([...x.shape]);
  const bshape = [1, C, ...x.shape.slice(2).map(() => 1)];
  if (weight) y = y.mul(weight.reshape(bshape));
  if (bias) y = y.add(bias.reshape(bshape));
  return y;
}

/** float32's machine epsilon, torch.finfo(torch.float32).eps: RMSNorm's default eps. */
export const FLOAT32_EPS = 2 ** -23;

/**
 * Root-mean-square normalisation, PyTorch's F.rms_norm: x / √(mean(x²) + eps) over the trailing
 * dims `normalizedShape`, times weight; eps defaults (null) to float32's epsilon as in PyTorch.
 * @example wg.nn.functional.rmsNorm(wg.tensor([[3, 4]]), [2], null, 0).toArray(); // [[0.8485…, 1.1313…]]
 */
export function rmsNorm(x: Tensor, normalizedShape: number | number[], weight: Tensor | null = null, eps: number | null = null): Tensor {
  const op = "rmsNorm";
  const shape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape;
  const e = eps === null || eps === undefined ? FLOAT32_EPS : checkNumber(op, "eps", eps, 0);
  const k = shape.length;
  if (k < 1 || x.rank < k || x.shape.slice(x.rank - k).join() !== shape.join()) {
    throw new Error(`${op}: input ${shapeStr(x.shape)} does not end with normalizedShape ${shapeStr(shape)}`);
  }
  if (weight && weight.shape.join() !== shape.join()) throw new Error(`${op}: weight ${shapeStr(weight.shape)} must be ${shapeStr(shape)}`);
  const dims = Array.from({ length: k }, (_, i) => x.rank - k + i);
  const y = x.mul(x.square().mean(dims, true).add(e).rsqrt());
  return weight ? y.mul(weight) : y;
}

export type InterpolateMode = "nearest" | "nearest-exact" | "linear" | "bilinear";

export interface InterpolateOptions {
  /** The output's spatial size (one per spatial dim, or one number for all). */
  size?: number | number[];
  /** Multiplies each spatial size (floored), as PyTorch's scale_factor; the sampling uses 1/scaleFactor. */
  scaleFactor?: number | number[];
  mode?: InterpolateMode;
  /** linear and bilinear only: sample so that the corner pixels' centres align (default false). */
  alignCorners?: boolean;
}

/** Source positions and weights of one output index along a dim: out[o] = Σ w·in[i]. */
function interpolationMatrix(mode: InterpolateMode, inSize: number, outSize: number, scale: number | null, alignCorners: boolean): Float32Array {
  // PyTorch's area_pixel_compute_scale: the given scale factor's reciprocal, else in/out
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    if (mode === "nearest" || mode === "nearest-exact") {
      const s = scale !== null ? 1 / scale : inSize / outSize;
      const src = mode === "nearest" ? Math.floor(o * s) : Math.floor((o + 0.5) * s);
      m[o * inSize + Math.min(src, inSize - 1)] = 1;
      continue;
    }
    let src: number;
    if (alignCorners) src = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    else src = Math.max(0, (o + 0.5) * (scale !== null ? 1 / scale : inSize / outSize) - 0.5);
    const i0 = Math.min(Math.floor(src), inSize - 1), i1 = Math.min(i0 + 1, inSize - 1), l = src - i0;
    m[o * inSize + i0] += 1 - l;
    m[o * inSize + i1] += l;
  }
  return m;
}

/**
 * Resizes the spatial dims of x [N, C, W] or [N, C, H, W], PyTorch's F.interpolate: modes "nearest"
 * (PyTorch's default), "nearest-exact", "linear" (3-D) and "bilinear" (4-D) with alignCorners. Each
 * spatial dim is a product with a fixed [out, in] interpolation matrix, so the gradient is exact.
 * @example
 * wg.nn.functional.interpolate(wg.tensor([[[1, 2]]]), { scaleFactor: 2 }).toArray(); // [[[1, 1, 2, 2]]]
 * wg.nn.functional.interpolate(wg.tensor([[[1, 2]]]), { size: 3, mode: "linear", alignCorners: true }).toArray(); // [[[1, 1.5, 2]]]
 */
export function interpolate(x: Tensor, opts: InterpolateOptions = {}): Tensor {
  const op = "interpolate";
  checkOptions(op, opts, ["size", "scaleFactor", "mode", "alignCorners"]);
  const mode = checkOneOf(op, "mode", opts.mode, ["nearest", "nearest-exact", "linear", "bilinear"]) ?? "nearest";
  const alignCorners = checkBool(op, "alignCorners", opts.alignCorners);
  if (x.dtype !== "float32") throw new Error(`${op}: input must be float32, got ${x.dtype}`);
  if (x.rank !== 3 && x.rank !== 4) throw new Error(`${op}: input must be [N, C, W] or [N, C, H, W], got ${shapeStr(x.shape)}`);
  const sd = x.rank - 2;
  if (mode === "linear" && sd !== 1) throw new Error(`${op}: mode "linear" needs a 3-D input [N, C, W], got ${shapeStr(x.shape)}`);
  if (mode === "bilinear" && sd !== 2) throw new Error(`${op}: mode "bilinear" needs a 4-D input [N, C, H, W], got ${shapeStr(x.shape)}`);
  if (alignCorners !== undefined && mode.startsWith("nearest")) throw new Error(`${op}: alignCorners applies to the linear modes only, not "${mode}"`);
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new Error(`${op}: give exactly one of size and scaleFactor`);
  const perDim = (v: number | number[], name: string): number[] => {
    const a = typeof v === "number" ? new Array(sd).fill(v) : v;
    if (!Array.isArray(a) || a.length !== sd) throw new Error(`${op}: ${name} must be a number or ${sd} of them for input ${shapeStr(x.shape)}, got ${JSON.stringify(v)}`);
    return a;
  };
  const inSizes = x.shape.slice(2);
  let outSizes: number[], scales: (number | null)[];
  if (opts.size !== undefined) {
    outSizes = perDim(opts.size, "size").map((n) => checkInt(op, "size", n, 1));
    scales = outSizes.map(() => null);
  } else {
    scales = perDim(opts.scaleFactor!, "scaleFactor").map((f) => checkNumber(op, "scaleFactor", f, 0, Infinity, true));
    outSizes = inSizes.map((n, i) => Math.floor(n * scales[i]!));
    if (outSizes.some((n) => n < 1)) throw new Error(`${op}: scaleFactor ${JSON.stringify(opts.scaleFactor)} leaves input ${shapeStr(x.shape)} empty`);
  }
  let y = x;
  // the last dim: y · Aᵀ ([…, in] → […, out]); for 4-D, then the height through a transpose
  for (let d = sd - 1; d >= 0; d--) {
    const n = inSizes[d], o = outSizes[d];
    if (n === o && (scales[d] === null || scales[d] === 1)) continue; // the identity, in every mode
    const a = ops.tensor(interpolationMatrix(mode, n, o, scales[d], !!alignCorners), { shape: [o, n] });
    const at = ops.transpose(a, 0, 1);
    if (d === sd - 1) y = y.matmul(at);
    else y = ops.transpose(ops.transpose(y, -1, -2).matmul(at), -1, -2);
  }
  return y;
}

// PyTorch's F.pad and F.one_hot live in torch.nn.functional: the same functions as wg.pad and wg.oneHot
export { pad, oneHot } from "../ops/index.js";
