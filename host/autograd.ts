// The autograd tape: define-by-run, PyTorch semantics.
//
// Every op whose inputs require grad records a Node on its output: the
// inputs, a backward closure that knows only its own local derivative, and
// the private tensors it saved (freed once backward has used them).
// backward() sorts the graph once and calls the closures in reverse.
// The tape knows nothing of backends: backward rules are written with ops.

import type { Tensor } from "./tensor.js";
import { backend } from "./engine.js";

export interface Node {
  name: string;
  inputs: Tensor[];
  /** Gradient of each input given the output's gradient (null where an input needs none). */
  backward: ((g: Tensor) => (Tensor | null)[]) | null;
  /** Tensors only this node holds (saved indices, statistics): freed after backward. */
  owned: Tensor[];
}

let gradEnabled = true;

/** Whether ops record onto the tape right now. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn with the tape off: nothing is recorded, results do not require grad.
 *
 * @example
 * const y = wg.noGrad(() => net.forward(x));   // inference, no graph kept
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Attaches a tape node to `out` when any input requires grad. Returns out. */
export function record(
  out: Tensor,
  name: string,
  inputs: Tensor[],
  backward: (g: Tensor) => (Tensor | null)[],
  owned: Tensor[] = [],
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out._node = { name, inputs, backward, owned };
  } else {
    for (const t of owned) t.dispose();
  }
  return out;
}

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
 */
export function runBackward(root: Tensor, opts: BackwardOptions = {}, capture?: Tensor[]): Map<Tensor, Tensor> {
  const { ones, addInto, copyPersistent } = hooks;
  if (!root.requiresGrad) {
    throw new Error("backward: the tensor does not require grad (no input of the computation had requiresGrad: true)");
  }
  if (root._node && root._node.backward === null) {
    throw new Error("backward: the graph was already freed by an earlier backward(); pass { retainGraph: true } to run it twice");
  }
  if (!opts.grad && root.size !== 1) {
    throw new Error(`backward: output has shape [${root.shape}]; pass { grad } for a non-scalar output`);
  }
  const seed = opts.grad ?? ones(root.shape);
  if (opts.grad && opts.grad.shape.join() !== root.shape.join()) {
    throw new Error(`backward: grad shape [${opts.grad.shape}] differs from output shape [${root.shape}]`);
  }
  const captured = new Map<Tensor, Tensor>();
  const captureSet = capture ? new Set(capture) : null;
  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const order = topoOrder(root);
  const deliver = (t: Tensor, g: Tensor) => {
    if (t._node) {
      const prev = grads.get(t);
      grads.set(t, prev ? addInto(prev, g) : g);
    } else if (captureSet) {
      if (!captureSet.has(t)) return;
      const prev = captured.get(t);
      captured.set(t, prev ? addInto(prev, g) : g);
    } else {
      // a leaf: the gradient lives as long as the parameter, not the step
      if (t.grad) addInto(t.grad, g, true);
      else t.grad = copyPersistent(g);
    }
  };
  if (!root._node) deliver(root, seed);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const node = t._node;
    if (!node) continue;
    const g = grads.get(t);
    grads.delete(t);
    if (!g) continue;
    if (!node.backward) throw new Error(`backward: ${node.name}'s graph was already freed; use { retainGraph: true }`);
    const bw = node.backward;
    const gs = noGrad(() => bw(g));
    for (let j = 0; j < node.inputs.length; j++) {
      const x = node.inputs[j];
      const gx = gs[j];
      if (gx && x.requiresGrad) deliver(x, gx);
    }
    if (!opts.retainGraph) {
      node.backward = null;
      for (const o of node.owned) o.dispose();
      node.owned = [];
    }
  }
  backend().mm.stepDone();
  return captured;
}

/** Set by tensor.ts / ops (late-bound so the tape does not import ops). */
export const hooks = {
  ones: (_shape: readonly number[]): Tensor => {
    throw new Error("autograd hooks not installed");
  },
  /** a += b; returns a (in place when `inPlace`, else may return a new tensor). */
  addInto: (_a: Tensor, _b: Tensor, _inPlace?: boolean): Tensor => {
    throw new Error("autograd hooks not installed");
  },
  copyPersistent: (_t: Tensor): Tensor => {
    throw new Error("autograd hooks not installed");
  },
};

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
