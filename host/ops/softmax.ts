// Softmax, log-softmax and the fused softmax + cross-entropy. Kernels:
// assembly/softmax.ts work on rows × cols (softmax over the last axis);
// another axis is moved last and back.

import { record } from "../tape.js";
import { backend, out, Tensor, axis, requireFloat, shapeStr } from "./util.js";
import { transpose } from "./shape.js";

function lastAxis(x: Tensor, dim: number, op: string, f: (x: Tensor) => Tensor): Tensor {
  requireFloat(x, op);
  const d = axis(dim, x.rank, op);
  if (d === x.rank - 1 || x.rank === 0) return f(x);
  return transpose(f(transpose(x, d, -1)), d, -1);
}

function rowsCols(x: Tensor): [number, number] {
  const cols = x.rank ? x.shape[x.rank - 1] : 1;
  return [cols ? x.size / cols : 0, cols];
}

/**
 * softmax along `dim`.
 * @example wg.tensor([0, 0]).softmax().toArray(); // [0.5, 0.5]
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  return lastAxis(x, dim, "softmax", (x) => {
    const [rows, cols] = rowsCols(x);
    const K = backend().kernels;
    const y = out(x.shape, "float32", "softmax");
    K.softmax_f32({ x: x.ptr, y: y.ptr, rows, cols });
    return record(y, "softmax", [x], (g) => {
      const dx = out(x.shape, "float32", "softmax backward");
      K.softmax_backward_f32({ y: y.ptr, dy: g.ptr, dx: dx.ptr, rows, cols });
      return [dx];
    });
  });
}

/**
 * log(softmax(x)) along `dim`, computed stably.
 * @example wg.tensor([0, 0]).logSoftmax().toArray(); // [-0.693…, -0.693…]
 */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return lastAxis(x, dim, "logSoftmax", (x) => {
    const [rows, cols] = rowsCols(x);
    const K = backend().kernels;
    const y = out(x.shape, "float32", "logSoftmax");
    K.log_softmax_f32({ x: x.ptr, y: y.ptr, rows, cols });
    return record(y, "logSoftmax", [x], (g) => {
      const dx = out(x.shape, "float32", "logSoftmax backward");
      K.log_softmax_backward_f32({ y: y.ptr, dy: g.ptr, dx: dx.ptr, rows, cols });
      return [dx];
    });
  });
}

/** Checks int32 class labels against the number of classes before any kernel runs. */
export function checkLabels(labels: Tensor, rows: number, classes: number, op: string, ignore?: number): void {
  if (labels.dtype !== "int32") throw new Error(`${op}: labels must be int32 class indices, got ${labels.dtype} (use .int())`);
  if (labels.size !== rows) throw new Error(`${op}: ${labels.size} labels ${shapeStr(labels.shape)} for ${rows} rows of logits`);
  // labels the host cannot read without waiting (on the GPU) are not checked here: the kernels give
  // an out-of-range label a NaN loss instead (docs/WEBGPU.md)
  const v = labels.peek() as Int32Array | null;
  if (!v) return;
  for (let i = 0; i < v.length; i++) {
    if ((v[i] < 0 || v[i] >= classes) && v[i] !== ignore) {
      throw new Error(`${op}: label ${v[i]} at position ${i} is out of range for ${classes} classes`);
    }
  }
}

/**
 * Fused softmax + negative log-likelihood per row: logits [rows, classes],
 * labels int32 [rows]; returns the per-row losses [rows].
 * @example softmaxCrossEntropy(wg.tensor([[0, 0]]), wg.tensor([1], { dtype: "int32" })).item(); // 0.693…
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  requireFloat(logits, "crossEntropy");
  if (logits.rank !== 2) throw new Error(`crossEntropy: logits must be [batch, classes], got ${shapeStr(logits.shape)}`);
  const [rows, cols] = logits.shape;
  checkLabels(labels, rows, cols, "crossEntropy");
  const K = backend().kernels;
  const loss = out([rows], "float32", "crossEntropy");
  const probs = out([rows, cols], "float32", "crossEntropy probabilities");
  K.softmax_xent_f32({ logits: logits.ptr, labels: labels.ptr, loss: loss.ptr, probs: probs.ptr, rows, cols });
  return record(loss, "crossEntropy", [logits], (g) => {
    const dx = out(logits.shape, "float32", "crossEntropy backward");
    K.softmax_xent_backward_f32({ probs: probs.ptr, labels: labels.ptr, dloss: g.ptr, dlossStride: 1, dlogits: dx.ptr, rows, cols, scale: 1 });
    return [dx];
  }, [probs]);
}
