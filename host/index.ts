// webgrad's public API: `import * as wg from "webgrad"`.

import { backend } from "./engine.js";
import { Tensor } from "./tensor.js";
import type { Storage } from "./memory/scope.js";

export { init, shutdown, memory, backend, type InitOptions, type EngineInfo } from "./engine.js";
export { Tensor, type DType, type Shape, type NestedArray } from "./tensor.js";
export { noGrad, grad, isGradEnabled } from "./autograd.js";
export { manualSeed } from "./random.js";
export { OutOfMemoryError } from "./memory/pool.js";
export * from "./ops/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";

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
