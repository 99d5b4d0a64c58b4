// The autograd tape: define-by-run, PyTorch semantics.
//
// Every op whose inputs require grad records a Node on its output: the
// inputs, a backward closure that knows only its own local derivative, and
// the private tensors it saved (freed once backward has used them).
// backward() sorts the graph once and calls the closures in reverse.
// The tape knows nothing of backends: backward rules are written with ops.

import { Tensor } from "./tensor.js";
import type { Storage } from "./memory/manager.js";
import { noGrad, type Node } from "./tape.js";
import { full } from "./ops/creation.js";
import { axpyInPlace, addNoGrad, copyInPlace } from "./ops/elementwise.js";

export { noGrad, isGradEnabled, record, countCallNodes, type Node } from "./tape.js";

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS: deep graphs (RNNs over long sequences) must not overflow the stack
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t._node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const c = inputs[i];
      if (c.requiresGrad && c._node && !seen.has(c)) {
        seen.add(c);
        stack.push([c, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

export interface BackwardOptions {
  /** Gradient of the output (default: ones; required unless the output is a scalar). */
  grad?: Tensor;
  /** Keep the graph so backward can run through it again. */
  retainGraph?: boolean;
}

/**
 * Accumulates d(root)/d(leaf) into leaf.grad for every leaf that requires grad,
 * or, when `capture` is given, returns the gradients of those tensors instead.
 *
 * All or nothing: the gradients are summed in temporaries and written to the
 * leaves' .grad only once every rule has run, and the graph is freed only
 * then. An error on the way (out of memory, a disposed tensor a rule needs)
 * leaves every .grad and the graph as they were and gives back what the
 * failed pass took, so the step can be retried or made smaller.
 */
export function runBackward(root: Tensor, opts: BackwardOptions = {}, capture?: Tensor[]): Map<Tensor, Tensor> {
  if (!root.requiresGrad) {
    throw new Error("backward: the tensor does not require grad (no input of the computation had requiresGrad: true)");
  }
  if (root._node && root._node.backward === null) {
    throw new Error("backward: the graph was already freed by an earlier backward(); pass { retainGraph: true } to run it twice");
  }
  if (!opts.grad && root.size !== 1) {
    throw new Error(`backward: output has shape [${root.shape}]; pass { grad } for a non-scalar output`);
  }
  if (opts.grad && opts.grad.shape.join() !== root.shape.join()) {
    throw new Error(`backward: grad shape [${opts.grad.shape}] differs from output shape [${root.shape}]`);
  }
  const mm = root._be.mm;
  const order = topoOrder(root);
  for (const t of order) {
    if (t._node && !t._node.backward) throw new Error(`backward: ${t._node.name}'s graph was already freed; use { retainGraph: true }`);
  }
  const collected = mm.beginCollect();
  const keep = new Set<Storage>();
  const captured = new Map<Tensor, Tensor>();
  const leafGrads = new Map<Tensor, Tensor>();
  try {
    const seed = opts.grad ?? full(root.shape, 1);
    const captureSet = capture ? new Set(capture) : null;
    const grads = new Map<Tensor, Tensor>([[root, seed]]);
    // sums made here may be added into in place; a rule's own result may be shared, so it is not
    const owned = new Set<Tensor>();
    const sumInto = (m: Map<Tensor, Tensor>, t: Tensor, g: Tensor) => {
      const prev = m.get(t);
      if (!prev) m.set(t, g);
      else if (owned.has(prev)) axpyInPlace(prev, g, 1);
      else {
        const sum = addNoGrad(prev, g);
        owned.add(sum);
        m.set(t, sum);
      }
    };
    const deliver = (t: Tensor, g: Tensor) => {
      if (t._node) sumInto(grads, t, g);
      else if (captureSet) {
        if (captureSet.has(t)) sumInto(captured, t, g);
      } else sumInto(leafGrads, t, g);
    };
    if (!root._node) deliver(root, seed);
    for (let i = order.length - 1; i >= 0; i--) {
      const t = order[i];
      const node = t._node;
      if (!node) continue;
      const g = grads.get(t);
      grads.delete(t);
      if (!g) continue;
      owned.delete(g); // handed to a rule, which may pass it on as another input's gradient
      const bw = node.backward!;
      const gs = noGrad(() => bw(g));
      for (let j = 0; j < node.inputs.length; j++) {
        const x = node.inputs[j];
        const gx = gs[j];
        if (gx && x.requiresGrad) deliver(x, gx);
      }
    }
    // commit: first every block a new .grad needs (the one step here that can run out of memory), then the writes
    const fresh = new Map<Tensor, Tensor>();
    try {
      for (const [leaf, g] of leafGrads) if (!leaf.grad) fresh.set(leaf, persistentCopy(g));
    } catch (e) {
      for (const f of fresh.values()) f.dispose();
      throw e;
    }
    for (const [leaf, g] of leafGrads) {
      if (leaf.grad) axpyInPlace(leaf.grad, g, 1);
      else leaf.grad = fresh.get(leaf)!;
    }
    for (const g of captured.values()) keep.add(g._s);
  } catch (e) {
    mm.endCollect(collected, keep);
    mm.trimScratch();
    throw e;
  }
  mm.endCollect(collected, keep);
  if (!opts.retainGraph) {
    for (const t of order) {
      const node = t._node;
      if (!node) continue;
      node.backward = null;
      for (const o of node.owned) o.dispose();
      node.owned = [];
      const call = node.call;
      if (call) {
        node.call = null;
        mm.nodeUsed(call);
      }
    }
  }
  mm.maybeSweep();
  return captured;
}

/** A leaf's new .grad: it lives as long as the parameter, not the step. */
function persistentCopy(t: Tensor): Tensor {
  const out = Tensor.empty(t.shape, t.dtype, "grad", "persistent");
  copyInPlace(out, t);
  return out;
}

/**
 * GradientTape style: runs fn and returns its value and the gradients of
 * `params` (which need not require grad beforehand). `.grad` is left alone.
 *
 * @example
 * const w = wg.tensor([1, 2]);
 * const { value, grads } = wg.grad(() => w.mul(w).sum(), [w]);
 * grads[0].toArray(); // [2, 4]
 */
export function grad(fn: () => Tensor, params: Tensor[]): { value: Tensor; grads: (Tensor | null)[] } {
  const prev = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = true;
  try {
    const value = fn();
    if (!value.requiresGrad) return { value, grads: params.map(() => null) };
    const got = runBackward(value, {}, params);
    return { value, grads: params.map((p) => got.get(p) ?? null) };
  } finally {
    params.forEach((p, i) => (p.requiresGrad = prev[i]));
  }
}
