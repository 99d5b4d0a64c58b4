// The kernel binaries as base64 inside JavaScript, for hosts with neither
// fetch nor a file system (and for bundles that must be one file). Nothing in
// the engine imports this module: only a program that asks for it pays the
// ~500 KB of base64, and only the variant init() picks is decoded.
//
// @example
// import * as wg from "webgrad";
// import { wasm } from "webgrad/wasm-inline";
// await wg.init({ wasm });

import * as b64 from "./kernels.generated.js";
import type { KernelVariant } from "./loader.js";

function decode(s: string): Uint8Array<ArrayBuffer> {
  const g = globalThis as any;
  if (typeof g.Buffer === "function") {
    const b = g.Buffer.from(s, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Each variant's bytes, decoded when init() picks it: pass as `init({ wasm })`. */
export const wasm: Record<KernelVariant, () => Uint8Array<ArrayBuffer>> = {
  simd: () => decode(b64.simd),
  relaxed: () => decode(b64.relaxed),
  "simd-threads": () => decode(b64.simd_threads),
  "relaxed-threads": () => decode(b64.relaxed_threads),
};
