// safetensors (Hugging Face's weight format): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {string: string}}, then the raw little-endian bytes.
// Parsing validates everything before any tensor is read: the header length
// against the file, each dtype, each shape against its byte range, ranges
// tiling the buffer exactly. A malformed or hostile file is rejected with a
// message saying what is wrong, never read out of bounds, and within limits
// (header size, tensor count) that a caller can raise for files it trusts.

import { parseStrictJson, isJsonObject } from "./strict-json.js";

/** A tensor as the file holds it, converted to float32 (F32, F16, BF16, F64) or int32 (I32, I64 in range, U8, BOOL). */
export interface StoredTensor {
  dtype: "float32" | "int32";
  shape: number[];
  data: Float32Array | Int32Array;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const FLOAT = new Set(["F32", "F64", "F16", "BF16"]);
// The reference reader allows 100 MB; JSON of that size takes seconds and gigabytes to build.
const DEFAULT_MAX_HEADER = 16 << 20, DEFAULT_MAX_TENSORS = 100_000;

function f16(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function convert(dtype: string, bytes: Uint8Array, n: number, name: string): Float32Array | Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case "F32": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    }
    case "F64": return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    case "F16": return Float32Array.from({ length: n }, (_, i) => f16(dv.getUint16(2 * i, true)));
    case "BF16": {
      const out = new Float32Array(n), u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    case "I32": return Int32Array.from({ length: n }, (_, i) => dv.getInt32(4 * i, true));
    case "I64": return Int32Array.from({ length: n }, (_, i) => {
      const v = dv.getBigInt64(8 * i, true);
      if (v < -0x80000000n || v > 0x7fffffffn) throw new Error(`safetensors: ${name}[${i}] = ${v} does not fit int32`);
      return Number(v);
    });
    case "I16": return Int32Array.from({ length: n }, (_, i) => dv.getInt16(2 * i, true));
    case "I8": return Int32Array.from({ length: n }, (_, i) => dv.getInt8(i));
    case "U8": return Int32Array.from(bytes.subarray(0, n));
    case "BOOL": return Int32Array.from(bytes.subarray(0, n), (b, i) => {
      if (b > 1) throw new Error(`safetensors: ${name}[${i}] = ${b} is not a BOOL (0 or 1)`);
      return b;
    });
    default: throw new Error(`safetensors: ${name} has unsupported dtype ${dtype}`);
  }
}

/** Limits on what a file may ask of the reader; raise them for files you trust. */
export interface SafetensorsLimits {
  /** Largest JSON header, in bytes (default 16 MiB: a few hundred thousand tensors). */
  maxHeaderBytes?: number;
  /** Most tensors one file may hold (default 100,000; a 70B-parameter model has under 1,000 per shard). */
  maxTensors?: number;
}

const TENSOR_FIELDS = new Set(["dtype", "shape", "data_offsets"]);

/**
 * Parses a safetensors file; throws on anything malformed. The whole header is
 * checked before any tensor is decoded: names are unique (the result has no
 * prototype, so "__proto__" is a name like any other), dtypes are strings the
 * format defines, shapes and byte ranges agree, and the ranges tile the data
 * buffer exactly (no holes, no overlap, no trailing bytes), as the reference
 * reader requires.
 * @example
 * const bytes = wg.io.serializeSafetensors(model.stateDict(), { step: "100" });
 * const { tensors, metadata } = wg.io.parseSafetensors(bytes); model.loadStateDict(tensors);
 * metadata; // { step: "100" }
 */
export function parseSafetensors(bytes: Uint8Array, limits: SafetensorsLimits = {}): { tensors: Record<string, StoredTensor>; metadata: Record<string, string> } {
  const maxHeader = positiveLimit(limits.maxHeaderBytes, DEFAULT_MAX_HEADER, "maxHeaderBytes");
  const maxTensors = positiveLimit(limits.maxTensors, DEFAULT_MAX_TENSORS, "maxTensors");
  for (const k of Object.keys(limits)) if (k !== "maxHeaderBytes" && k !== "maxTensors") throw new Error(`parseSafetensors: unknown option ${JSON.stringify(k)}`);
  if (!(bytes instanceof Uint8Array)) throw new Error("parseSafetensors: bytes must be a Uint8Array");
  if (bytes.length < 8) throw new Error(`safetensors: ${bytes.length} bytes is too short for the header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (8 + hlen > bytes.length) throw new Error(`safetensors: header of ${hlen} bytes does not fit a ${bytes.length}-byte file`);
  if (hlen > maxHeader) throw new Error(`safetensors: header of ${hlen} bytes is over the limit of ${maxHeader} (raise maxHeaderBytes for a file you trust)`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + hlen));
  } catch (e) {
    throw new Error(`safetensors: the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  let header: unknown;
  try {
    // the metadata entry is one more member than the tensors
    header = parseStrictJson(text, "header", { maxTopLevelKeys: maxTensors + 1, maxDepth: 4 });
  } catch (e) {
    const msg = (e as Error).message;
    if (/more than \d+ entries/.test(msg)) throw new Error(`safetensors: more than ${maxTensors} tensors (raise maxTensors for a file you trust)`);
    throw new Error(`safetensors: the header is not valid UTF-8 JSON (${msg})`);
  }
  if (!isJsonObject(header)) throw new Error("safetensors: the header is not a JSON object");
  if (Object.keys(header).length - (Object.hasOwn(header, "__metadata__") ? 1 : 0) > maxTensors) {
    throw new Error(`safetensors: more than ${maxTensors} tensors (raise maxTensors for a file you trust)`);
  }
  const body = bytes.subarray(8 + hlen);
  const metadata: Record<string, string> = Object.create(null);
  const entries: { name: string; dtype: string; shape: number[]; begin: number; end: number; n: number }[] = [];
  for (const name of Object.keys(header)) {
    const info = header[name];
    if (name === "__metadata__") {
      if (!isJsonObject(info)) throw new Error("safetensors: __metadata__ is not an object of strings");
      for (const k of Object.keys(info)) {
        if (typeof info[k] !== "string") throw new Error(`safetensors: metadata ${k} is not a string`);
        metadata[k] = info[k] as string;
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (!isJsonObject(info)) throw new Error(`safetensors: ${what} is not an object {dtype, shape, data_offsets}`);
    for (const k of Object.keys(info)) if (!TENSOR_FIELDS.has(k)) throw new Error(`safetensors: ${what} has an unknown field ${JSON.stringify(k)}`);
    const { dtype, shape, data_offsets: off } = info as { dtype: unknown; shape: unknown; data_offsets: unknown };
    // a string, and one the format defines: ["F32"] would pass an `in` test as "F32"
    if (typeof dtype !== "string" || !Object.hasOwn(BYTES, dtype)) throw new Error(`safetensors: ${what} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new Error(`safetensors: ${what} has a bad shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o: unknown) => Number.isSafeInteger(o) && (o as number) >= 0) || off[0] > off[1] || off[1] > body.length) {
      throw new Error(`safetensors: ${what} has data_offsets ${JSON.stringify(off)} outside the ${body.length}-byte buffer`);
    }
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n * BYTES[dtype]) || n * BYTES[dtype] !== off[1] - off[0]) {
      throw new Error(`safetensors: ${what} of shape [${shape}] ${dtype} needs ${n * BYTES[dtype]} bytes, its range holds ${off[1] - off[0]}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: off[0], end: off[1], n });
  }
  // the ranges must tile the buffer: a hole or trailing bytes hide data no tensor accounts for
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) throw new Error(`safetensors: ${JSON.stringify(e.name)} overlaps the tensor before it`);
    if (e.begin > at) throw new Error(`safetensors: bytes ${at}..${e.begin} of the buffer belong to no tensor (a hole before ${JSON.stringify(e.name)})`);
    at = e.end;
  }
  if (at !== body.length) throw new Error(`safetensors: ${body.length - at} trailing bytes after the last tensor`);
  const tensors: Record<string, StoredTensor> = Object.create(null);
  for (const e of entries) {
    tensors[e.name] = { dtype: FLOAT.has(e.dtype) ? "float32" : "int32", shape: e.shape, data: convert(e.dtype, body.subarray(e.begin, e.end), e.n, e.name) };
  }
  return { tensors, metadata };
}

function positiveLimit(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new Error(`parseSafetensors: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * Serialises tensors (float32 as F32, int32 as I32) with optional string metadata.
 * @example const bytes = wg.io.serializeSafetensors(model.stateDict(), { step: "100" });
 */
export function serializeSafetensors(
  tensors: Record<string, { dtype: "float32" | "int32"; shape: readonly number[]; dataSync(): Float32Array | Int32Array } | StoredTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  // no prototype: a tensor named "__proto__" is written under that name, not lost
  const header: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== "string") throw new Error(`serializeSafetensors: metadata ${k} must be a string, got ${typeof v}`);
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  if (Object.hasOwn(tensors, "__metadata__")) throw new Error("serializeSafetensors: __metadata__ is the format's metadata entry, not a tensor name");
  const datas: Uint8Array[] = [];
  let at = 0;
  for (const [name, t] of Object.entries(tensors).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const data = "dataSync" in t ? t.dataSync() : t.data;
    const bytes = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)); // host is little-endian (wasm is)
    header[name] = { dtype: t.dtype === "int32" ? "I32" : "F32", shape: [...t.shape], data_offsets: [at, at + bytes.length] };
    datas.push(bytes);
    at += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20); // spaces: the buffer starts 8-aligned, as the reference writer has it
  head.set(json);
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const d of datas) {
    out.set(d, p);
    p += d.length;
  }
  return out;
}
