// Classification metrics (the seeds' accuracy, precision, recall, F1 and a
// confusion matrix), computed on the host from predicted and true class
// indices. Inputs are tensors (int32 or float32 holding integers) or plain
// arrays; the numbers are checked before anything is counted.

import { Tensor } from "./tensor.js";
import { checkOptions, checkOneOf, checkInt } from "./ops/util.js";

type Labels = Tensor | ArrayLike<number>;

function values(x: Labels, what: string, op: string): Int32Array {
  const src = x instanceof Tensor ? x.dataSync() : x;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${what}[${i}] = ${v} is not a class index (a non-negative integer)`);
    out[i] = v;
  }
  return out;
}

function pair(pred: Labels, target: Labels, op: string): [Int32Array, Int32Array] {
  const p = values(pred, "pred", op), t = values(target, "target", op);
  if (p.length !== t.length) throw new Error(`${op}: ${p.length} predictions for ${t.length} targets`);
  if (!p.length) throw new Error(`${op}: no samples`);
  return [p, t];
}

/**
 * Confusion matrix: m[t][p] counts samples of true class t predicted as p.
 *
 * @example
 * wg.metrics.confusionMatrix([0, 1, 1, 0], [0, 1, 0, 0]); // [[2, 1], [0, 1]]
 */
export function confusionMatrix(pred: Labels, target: Labels, numClasses?: number): number[][] {
  if (numClasses !== undefined) checkInt("confusionMatrix", "numClasses", numClasses, 1);
  const [p, t] = pair(pred, target, "confusionMatrix");
  let k = numClasses ?? 0;
  if (numClasses === undefined) for (let i = 0; i < p.length; i++) k = Math.max(k, p[i] + 1, t[i] + 1);
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < p.length; i++) {
    if (p[i] >= k || t[i] >= k) throw new Error(`confusionMatrix: class ${Math.max(p[i], t[i])} at ${i} is out of range for ${k} classes`);
    m[t[i]][p[i]]++;
  }
  return m;
}

/**
 * Fraction of predictions equal to the target.
 *
 * @example
 * wg.metrics.accuracy([0, 1, 1, 0], [0, 1, 0, 0]); // 0.75
 */
export function accuracy(pred: Labels, target: Labels): number {
  const [p, t] = pair(pred, target, "accuracy");
  let c = 0;
  for (let i = 0; i < p.length; i++) c += p[i] === t[i] ? 1 : 0;
  return c / p.length;
}

export interface PrfOptions {
  /** "binary" (default): the scores of class `positive`; "macro": the unweighted mean over classes. */
  average?: "binary" | "macro";
  /** The positive class for "binary" (default 1). */
  positive?: number;
}

export interface Prf {
  precision: number;
  recall: number;
  f1: number;
}

/** precision, recall and F1 of one class from the confusion matrix; 0 where a denominator is 0 (as scikit-learn's zero_division=0). */
function classPrf(m: number[][], c: number): Prf {
  const tp = m[c]?.[c] ?? 0;
  let predicted = 0, actual = 0;
  for (let i = 0; i < m.length; i++) {
    predicted += m[i][c] ?? 0;
    actual += m[c]?.[i] ?? 0;
  }
  const precision = predicted ? tp / predicted : 0, recall = actual ? tp / actual : 0;
  return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}

/**
 * Precision, recall and F1, binary (of class `positive`) or macro-averaged over
 * the classes present in pred or target; scikit-learn's definitions.
 *
 * @example
 * wg.metrics.precisionRecallF1([1, 1, 0, 0], [1, 0, 1, 0]); // { precision: 0.5, recall: 0.5, f1: 0.5 }
 */
export function precisionRecallF1(pred: Labels, target: Labels, opts: PrfOptions = {}): Prf {
  return prf("precisionRecallF1", pred, target, opts);
}

function prf(who: string, pred: Labels, target: Labels, opts: PrfOptions = {}): Prf {
  // an average other than "binary" once meant "macro", whatever it said
  checkOptions(who, opts, ["average", "positive"]);
  checkOneOf(who, "average", opts.average, ["binary", "macro"]);
  if (opts.positive !== undefined) checkInt(who, "positive", opts.positive, 0);
  const m = confusionMatrix(pred, target);
  if ((opts.average ?? "binary") === "binary") return classPrf(m, opts.positive ?? 1);
  // classes that occur in pred or target, as scikit-learn's labels=None
  const present = m.map((_, c) => c).filter((c) => m[c].some((v) => v > 0) || m.some((row) => row[c] > 0));
  const per = present.map((c) => classPrf(m, c));
  const mean = (k: keyof Prf) => per.reduce((a, x) => a + x[k], 0) / per.length;
  return { precision: mean("precision"), recall: mean("recall"), f1: mean("f1") };
}

/** Precision alone. @example wg.metrics.precision([1, 1, 0], [1, 0, 0]); // 0.5 */
export const precision = (pred: Labels, target: Labels, opts?: PrfOptions): number => prf("precision", pred, target, opts).precision;
/** Recall alone. @example wg.metrics.recall([1, 0, 0], [1, 1, 0]); // 0.5 */
export const recall = (pred: Labels, target: Labels, opts?: PrfOptions): number => prf("recall", pred, target, opts).recall;
/** F1 alone. @example wg.metrics.f1([1, 1, 0, 0], [1, 0, 1, 0]); // 0.5 */
export const f1 = (pred: Labels, target: Labels, opts?: PrfOptions): number => prf("f1", pred, target, opts).f1;
