// The tape's recording half: what ops call as they run (record, noGrad).
// Split from autograd.ts, which walks the tape backward with ops, so that
// the ops can import this without a cycle (ops -> tape, autograd -> ops).

import type { Tensor } from "./tensor.js";
import type { CallRecord } from "./memory/manager.js";

export interface Node {
  name: string;
  inputs: Tensor[];
  /** Gradient of each input given the output's gradient (null where an input needs none). */
  backward: ((g: Tensor) => (Tensor | null)[]) | null;
  /** Tensors only this node holds (saved indices, statistics): freed after backward. */
  owned: Tensor[];
  /** The top-level module call that recorded it, while backward() has still to use it. */
  call: CallRecord | null;
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
  const mm = out._be.mm;
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out._node = { name, inputs, backward, owned, call: mm.call };
  } else {
    for (const t of owned) t.dispose();
  }
  mm.maybeSweep(4); // the op is done with its operands' offsets: a safe point
  return out;
}

/**
 * The nodes a module call made that backward() can reach from what the call
 * returned: backward must use each of them before the call's internals go.
 */
export function countCallNodes(call: CallRecord, outputs: Tensor[]): number {
  const seen = new Set<Node>();
  const stack = outputs.map((t) => t._node).filter((n): n is Node => !!n && n.call === call);
  let count = 0;
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    count++;
    for (const x of n.inputs) if (x._node && x._node.call === call && !seen.has(x._node)) stack.push(x._node);
  }
  return count;
}
