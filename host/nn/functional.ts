// Losses and functional forms of layers, written from ops (composites get
// their gradients from the primitives they use).

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { shapeStr, checkOptions, checkOneOf } from "../ops/util.js";

export type Reduction = "mean" | "sum" | "none";

/** A loss's options, checked before anything runs: a misspelt reduction once fell through to "none". */
function reductionOf(op: string, opts: { reduction?: Reduction }): Reduction {
  checkOptions(op, opts, ["reduction"]);
  return checkOneOf(op, "reduction", opts.reduction, ["mean", "sum", "none"]) ?? "mean";
}

function reduce(t: Tensor, reduction: Reduction): Tensor {
  return reduction === "mean" ? t.mean() : reduction === "sum" ? t.sum() : t;
}

/**
 * Cross-entropy between logits [N, C] and int32 class labels [N] (PyTorch's
 * F.cross_entropy), through one fused softmax kernel.
 *
 * @example
 * const loss = wg.nn.functional.crossEntropy(wg.tensor([[2, 0], [0, 2]]), wg.tensor([0, 1], { dtype: "int32" }));
 * loss.item(); // 0.1269…
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOf("crossEntropy", opts);
  return reduce(ops.softmaxCrossEntropy(logits, labels), reduction);
}

/**
 * Negative log-likelihood of log-probabilities [N, C] at int32 labels [N].
 * @example wg.nn.functional.nllLoss(wg.tensor([[-0.1, -2.3]]), wg.tensor([0], { dtype: "int32" })).item(); // 0.1
 */
export function nllLoss(logProbs: Tensor, labels: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOf("nllLoss", opts);
  if (logProbs.rank !== 2) throw new Error(`nllLoss: input must be [batch, classes], got ${shapeStr(logProbs.shape)}`);
  const [n, c] = logProbs.shape;
  ops.checkLabels(labels, n, c, "nllLoss");
  // pick with a one-hot mask (label == class index, made by kernels on either backend):
  // gradient flows only to the chosen entries
  const mask = ops.eq(ops.reshape(labels, [n, 1]), ops.reshape(ops.arange(c), [1, c]));
  const picked = logProbs.mul(mask).sum(1);
  return reduce(picked.neg(), reduction);
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

/**
 * Binary cross-entropy of probabilities in (0, 1); log terms are clamped at -100 as in PyTorch.
 * @example wg.nn.functional.binaryCrossEntropy(wg.tensor([0.5]), wg.tensor([1])).item(); // 0.693…
 */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOf("binaryCrossEntropy", opts);
  sameShape(p, target, "binaryCrossEntropy");
  const logP = p.log().maximum(-100);
  const log1mP = ops.sub(1, p).log().maximum(-100);
  const loss = target.mul(logP).add(ops.sub(1, target).mul(log1mP)).neg();
  return reduce(loss, reduction);
}

/**
 * Binary cross-entropy on logits, stable for large |x|: max(x,0) − x·t + log(1 + e^−|x|).
 * @example wg.nn.functional.binaryCrossEntropyWithLogits(wg.tensor([0]), wg.tensor([1])).item(); // 0.693…
 */
export function binaryCrossEntropyWithLogits(x: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOf("binaryCrossEntropyWithLogits", opts);
  sameShape(x, target, "binaryCrossEntropyWithLogits");
  const loss = x.relu().sub(x.mul(target)).add(x.abs().neg().exp().add(1).log());
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
