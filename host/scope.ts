// wg.scope(): the user-facing memory scope (see host/memory/manager.ts for the rules).

import { backend } from "./engine.js";
import { Tensor } from "./tensor.js";

/**
 * The tensors inside a value: itself, or those in its arrays, plain objects
 * and Maps, at any depth.
 *
 * @example
 * const logits = wg.zeros([2]), k = wg.zeros([1]), v = wg.zeros([1]);
 * tensorsIn({ logits, cache: [k, v], step: 3 }).length; // 3
 */
export function tensorsIn(v: unknown, out: Tensor[] = [], seen = new Set<unknown>()): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (v && typeof v === "object" && !seen.has(v)) {
    seen.add(v);
    const items = Array.isArray(v) ? v : v instanceof Map ? [...v.values()] : Object.values(v);
    for (const x of items) tensorsIn(x, out, seen);
  }
  return out;
}

/**
 * Runs fn in a memory scope: every temporary it makes is released when it
 * returns, except the tensors it returns (alone, in an array or an object).
 * fn must be synchronous: an async fn is refused before it runs.
 *
 * @example
 * const acc = wg.scope(() => net.forward(x).argmax(1).eq(y).mean().item());
 */
export function scope<T>(fn: () => T): T {
  if (typeof fn !== "function") throw new Error(`wg.scope: expected a function, got ${typeof fn}`);
  if (fn.constructor?.name === "AsyncFunction") {
    throw new Error("wg.scope: fn is async: a scope ends when fn returns, before its awaits finish; make fn synchronous (await outside the scope)");
  }
  return backend().mm.scope(fn, (v) => tensorsIn(v).map((t) => t._s));
}
