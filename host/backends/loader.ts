// Where the kernel binary comes from. The four variants ship as asset files
// beside this module (dist/host/backends/webgrad-<variant>.wasm), each named
// literally in `new URL("./…wasm", import.meta.url)` so bundlers that follow
// that pattern (Vite, Rollup, webpack 5, Parcel) emit them; only the variant
// init() picks is ever fetched or read:
//   browsers, workers, Deno: fetch + WebAssembly.compileStreaming
//   Node, Bun (file: URLs):  fs.readFile + WebAssembly.compile
// Hosts that forbid compiling at run time (Cloudflare Workers, Vercel Edge)
// hand init({ wasm }) a WebAssembly.Module they imported at deploy time; hosts
// with neither fetch nor files import "webgrad/wasm-inline" (base64).
// Every binary carries a custom section "webgrad" ({"variant": "…"}), so a
// module handed in says which variant it is (scripts/build-wasm.mjs writes it).

import { nodeImport } from "./node-import.js";

export const VARIANTS = ["simd", "relaxed", "simd-threads", "relaxed-threads"] as const;
export type KernelVariant = (typeof VARIANTS)[number];

/** A kernel binary: a compiled module, its bytes, a URL to fetch or read, or a fetch Response. */
export type WasmSource = WebAssembly.Module | URL | string | ArrayBuffer | ArrayBufferView | Response;
/**
 * What `init({ wasm })` takes: one binary (its variant is read from the
 * module's "webgrad" custom section), or binaries keyed by variant (init picks
 * the best one the runtime and `threads` allow; a function is called only for
 * the variant picked, so the others are never loaded).
 */
export type WasmOption =
  | WasmSource
  | Promise<WasmSource>
  | Partial<Record<KernelVariant, WasmSource | Promise<WasmSource> | (() => WasmSource | Promise<WasmSource>)>>;

/** The shipped binary of each variant, each URL written out so bundlers see it. */
export function assetUrl(v: KernelVariant): URL {
  switch (v) {
    case "simd":
      return new URL("./webgrad-simd.wasm", import.meta.url);
    case "relaxed":
      return new URL("./webgrad-relaxed.wasm", import.meta.url);
    case "simd-threads":
      return new URL("./webgrad-simd-threads.wasm", import.meta.url);
    case "relaxed-threads":
      return new URL("./webgrad-relaxed-threads.wasm", import.meta.url);
  }
}

/** True for a WebAssembly.Module of any realm (edge runtimes run code in a vm context of their own). */
export function isModule(x: unknown): x is WebAssembly.Module {
  return x instanceof WebAssembly.Module || Object.prototype.toString.call(x) === "[object WebAssembly.Module]";
}

function isBytes(x: unknown): x is ArrayBuffer | ArrayBufferView {
  return x instanceof ArrayBuffer || ArrayBuffer.isView(x) || Object.prototype.toString.call(x) === "[object ArrayBuffer]";
}

/**
 * Duck-typed on purpose: merely reading the global `Response` in Node 20 loads
 * its fetch implementation (undici), ~80 ms of a cold start.
 */
function isResponse(x: unknown): x is Response {
  return Object.prototype.toString.call(x) === "[object Response]";
}

/** The variant a binary says it is (its "webgrad" custom section), or null when it has none. */
export function variantOf(module: WebAssembly.Module): KernelVariant | null {
  try {
    const [sec] = WebAssembly.Module.customSections(module, "webgrad");
    if (!sec) return null;
    const v = JSON.parse(new TextDecoder().decode(sec)).variant;
    return (VARIANTS as readonly string[]).includes(v) ? (v as KernelVariant) : null;
  } catch {
    return null;
  }
}

/** Compiles a binary from wherever it is; `what` names it in errors. */
export async function compile(src: WasmSource, what: string): Promise<WebAssembly.Module> {
  if (isModule(src)) return src;
  try {
    if (isBytes(src)) return await compileBytes(src);
    if (isResponse(src)) return await compileResponse(src);
    const url = typeof src === "string" ? new URL(src, (globalThis as any).location?.href) : src;
    if (url.protocol === "file:") return compileBytes(await readFileUrl(url));
    if (typeof fetch !== "function") throw new Error("this runtime has no fetch");
    return await compileResponse(await fetch(url));
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    const hint = /disallowed|code generation|not allowed/i.test(msg)
      ? " (this host forbids compiling WebAssembly at run time: import the .wasm at deploy time and pass the module as init({ wasm }))"
      : isModule(src) || isBytes(src) ? "" : " (a host that can neither fetch it nor read it from disk can be handed the binary: init({ wasm }))";
    throw new Error(`webgrad: could not load the ${what} kernel binary: ${msg}${hint}`);
  }
}

/**
 * Node, Deno and Bun compile synchronously: V8 compiles wasm lazily, so this
 * is validation and takes ~0.5 ms for our ~95 KB, where the async compile's
 * hand-off to background threads took 2–5 ms of a cold start (more on a busy
 * machine). Browsers may not compile over 4 KB synchronously on the main thread.
 */
function compileBytes(bytes: ArrayBuffer | ArrayBufferView): WebAssembly.Module | Promise<WebAssembly.Module> {
  if (serverSide()) return new WebAssembly.Module(bytes as BufferSource);
  return WebAssembly.compile(bytes as BufferSource);
}

function serverSide(): boolean {
  const g = globalThis as any;
  return !!(g.process?.versions?.node || g.Deno?.version) && typeof g.document === "undefined";
}

/**
 * Instantiates the kernels over `memory`: synchronously where allowed (as
 * compileBytes: ~0.6 ms against 1–4 ms async in Node). Typed `unknown` because
 * the shipped declarations must check under @types/node alone, whose
 * WebAssembly namespace has no Instance (the caller casts).
 */
export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): unknown {
  const imports = { env: { memory } };
  if (serverSide()) return new WebAssembly.Instance(module, imports);
  return WebAssembly.instantiate(module, imports);
}

async function compileResponse(res: Response): Promise<WebAssembly.Module> {
  if (!res.ok) throw new Error(`${res.url || "fetch"}: HTTP ${res.status}`);
  // compileStreaming compiles while the bytes arrive, but insists on the
  // application/wasm content type: servers that send another get the plain path
  if (typeof WebAssembly.compileStreaming === "function" && /^application\/wasm\b/i.test(res.headers.get("content-type") ?? "")) {
    return WebAssembly.compileStreaming(res);
  }
  return WebAssembly.compile(await res.arrayBuffer());
}

async function readFileUrl(url: URL): Promise<Uint8Array<ArrayBuffer>> {
  const g = globalThis as any;
  if (g.Deno?.readFile) return g.Deno.readFile(url);
  if (g.process?.versions?.node) {
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    const b = await fs.readFile(url);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength) as Uint8Array<ArrayBuffer>;
  }
  if (typeof fetch === "function") return new Uint8Array(await (await fetch(url)).arrayBuffer());
  throw new Error(`${url.href}: this runtime can neither read files nor fetch (pass init({ wasm }), e.g. the binaries of "webgrad/wasm-inline")`);
}

/** The variants to try for a wish, best first (a threads binary runs one thread too; a plain one never runs more). */
function preference(relaxed: boolean, threads: boolean): KernelVariant[] {
  const order: KernelVariant[] = [];
  for (const t of threads ? [true, false] : [false, true]) {
    if (relaxed) order.push(t ? "relaxed-threads" : "relaxed");
    order.push(t ? "simd-threads" : "simd");
  }
  return order;
}

/**
 * The kernel module for a wish (relaxed SIMD or not, shared memory or not):
 * from `given` (init's `wasm` option) when there is one, else the shipped
 * asset. Returns the module and the variant it really is.
 */
export async function loadKernels(
  relaxed: boolean,
  threads: boolean,
  given: WasmOption | undefined,
  canRelaxed: boolean,
): Promise<{ module: WebAssembly.Module; variant: KernelVariant }> {
  if (given === undefined) {
    const variant: KernelVariant = `${relaxed ? "relaxed" : "simd"}${threads ? "-threads" : ""}`;
    let url: URL;
    try {
      url = assetUrl(variant);
    } catch {
      throw new Error(`webgrad: init: this host gives modules no file URL (import.meta.url is ${JSON.stringify(import.meta.url)}), so the ${variant} kernel binary cannot be found: import it at deploy time and pass it as init({ wasm }) (README: "Every host")`);
    }
    return { module: await compile(url, variant), variant };
  }
  const resolved = await given;
  if (isModule(resolved) || isResponse(resolved) || isBytes(resolved) || (resolved as unknown) instanceof URL || typeof resolved === "string") {
    const module = await compile(resolved as WasmSource, "given");
    const variant = variantOf(module);
    if (!variant) {
      throw new Error('webgrad: init: the wasm given has no "webgrad" section naming its variant: pass it keyed by variant, e.g. init({ wasm: { simd: module } })');
    }
    return { module, variant };
  }
  if (typeof resolved !== "object" || resolved === null) throw new Error(`webgrad: init: wasm must be a WebAssembly.Module, URL, bytes or { simd, relaxed, "simd-threads", "relaxed-threads" }, got ${typeof resolved}`);
  const record = resolved as Partial<Record<string, unknown>>;
  for (const k of Object.keys(record)) {
    if (!(VARIANTS as readonly string[]).includes(k)) throw new Error(`webgrad: init: wasm has an unknown variant "${k}" (known: ${VARIANTS.join(", ")})`);
  }
  const pick = preference(relaxed, threads).find((v) => record[v] !== undefined && (canRelaxed || !v.startsWith("relaxed")));
  if (!pick) throw new Error(`webgrad: init: wasm holds ${Object.keys(record).join(", ") || "no variant"}, none of which this runtime can run${canRelaxed ? "" : " (it has no relaxed SIMD)"}`);
  let src = record[pick];
  if (typeof src === "function") src = await (src as () => unknown)();
  const module = await compile((await src) as WasmSource, pick);
  const said = variantOf(module);
  if (said && said !== pick) throw new Error(`webgrad: init: wasm.${pick} is the ${said} binary`);
  return { module, variant: pick };
}
