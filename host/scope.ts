// wg.scope(): the user-facing memory scope (see host/memory/scope.ts for the rules).

import { backend } from "./engine.js";
import { Tensor } from "./tensor.js";
import type { Storage } from "./memory/scope.js";

function storagesIn(v: unknown, out: Storage[] = [], seen = new Set<unknown>()): Storage[] {
  if (v instanceof Tensor) out.push(v._s);
  else if (v && typeof v === "object" && !seen.has(v)) {
    seen.add(v);
    for (const x of Array.isArray(v) ? v : Object.values(v)) storagesIn(x, out, seen);
  }
  return out;
}

/**
 * Runs fn in a memory scope: every temporary it makes is released when it
 * returns, except the tensors it returns (alone, in an array or an object).
 *
 * @example
 * const acc = wg.scope(() => net.forward(x).argmax(1).eq(y).mean().item());
 */
export function scope<T>(fn: () => T): T {
  return backend().mm.scope(fn, (v) => storagesIn(v));
}
