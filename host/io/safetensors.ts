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

/** n 16-bit words of `bytes` (copied when they do not start 2-aligned). */
function halves(bytes: Uint8Array, n: number): Uint16Array {
  return bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice(0, 2 * n).buffer);
}

let F16_TABLE: Float32Array | null = null;
/** Every f16 bit pattern's value (256 KiB, made once): a lookup beats decoding each half. */
function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) F16_TABLE[h] = f16(h);
  }
  return F16_TABLE;
}

function convert(dtype: string, bytes: Uint8Array, n: number, name: string): Float32Array | Int32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    // the host is little-endian, as the file (and wasm) are: F32 is a copy and 16-bit types read through typed views (a weight file is mostly these)
    case "F32": return new Float32Array(bytes.slice(0, 4 * n).buffer);
    case "F64": return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    case "F16": {
      const h = halves(bytes, n), out = new Float32Array(n), table = f16Table();
      for (let i = 0; i < n; i++) out[i] = table[h[i]];
      return out;
    }
    case "BF16": {
      const h = halves(bytes, n), out = new Float32Array(n), u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = h[i] << 16;
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
  if (!(bytes instanceof Uint8Array)) throw new Error("parseSafetensors: bytes must be a Uint8Array");
  const file = SafetensorsFile.fromBytes(bytes, limits);
  const tensors: Record<string, StoredTensor> = Object.create(null);
  for (const name of file.names) tensors[name] = file.readFrom(name, bytes.subarray(file.dataStart));
  return { tensors, metadata: file.metadata };
}

/** Where one tensor lies in a safetensors file, as its header says (validated). */
export interface SafetensorsEntry {
  name: string;
  /** The stored dtype: "F32", "BF16", "I64", … */
  dtype: string;
  shape: number[];
  /** Byte range inside the data buffer (which starts at `dataStart` in the file). */
  begin: number;
  end: number;
}

/** Reads bytes [start, end) of a file: a file handle, a Blob slice, a range request. */
export type ByteRangeReader = (start: number, end: number) => Promise<Uint8Array>;

/**
 * A safetensors file whose header is parsed and validated once (with the same
 * checks as parseSafetensors) and whose tensors are decoded one at a time, on
 * demand: the way to load weights larger than memory allows twice over —
 * decode a tensor, use it, drop it. Built from the whole file's bytes
 * (fromBytes) or from a byte-range reader (open), which reads only the header
 * and then each tensor's own bytes.
 * @example
 * const bytes = wg.io.serializeSafetensors({ w: wg.ones([2, 3]), b: wg.zeros([3]) });
 * const file = wg.io.SafetensorsFile.fromBytes(bytes);
 * file.names; // ["b", "w"]
 * file.entry("w").shape; // [2, 3]
 * (await file.read("w")).data; // Float32Array [1, 1, 1, 1, 1, 1]
 */
export class SafetensorsFile {
  /** Byte offset of the data buffer in the file (8 + the header's length). */
  readonly dataStart: number;
  readonly metadata: Record<string, string>;
  private readonly entries: Map<string, SafetensorsEntry>;
  private readonly reader: ByteRangeReader;

  private constructor(dataStart: number, metadata: Record<string, string>, entries: SafetensorsEntry[], reader: ByteRangeReader) {
    this.dataStart = dataStart;
    this.metadata = metadata;
    this.entries = new Map(entries.map((e) => [e.name, e]));
    this.reader = reader;
  }

  /** A file held whole in memory. @example wg.io.SafetensorsFile.fromBytes(wg.io.serializeSafetensors({ x: wg.ones([2]) })).names; // ["x"] */
  static fromBytes(bytes: Uint8Array, limits: SafetensorsLimits = {}): SafetensorsFile {
    if (!(bytes instanceof Uint8Array)) throw new Error("SafetensorsFile.fromBytes: bytes must be a Uint8Array");
    const hlen = headerLength(bytes, bytes.length, limits);
    const { metadata, entries } = parseHeader(bytes.subarray(8, 8 + hlen), bytes.length - 8 - hlen, limits);
    return new SafetensorsFile(8 + hlen, metadata, entries, async (s, e) => bytes.subarray(s, e));
  }

  /**
   * A file read through `read(start, end)`, `size` bytes long: only the header
   * is read now, each tensor's bytes when it is read.
   * @example
   * const bytes = wg.io.serializeSafetensors({ x: wg.ones([2]) });
   * const file = await wg.io.SafetensorsFile.open(async (s, e) => bytes.slice(s, e), bytes.length);
   * (await file.read("x")).shape; // [2]
   */
  static async open(read: ByteRangeReader, size: number, limits: SafetensorsLimits = {}): Promise<SafetensorsFile> {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`SafetensorsFile.open: size must be a byte count, got ${size}`);
    const head = size >= 8 ? await read(0, 8) : new Uint8Array(size);
    const hlen = headerLength(head, size, limits);
    const { metadata, entries } = parseHeader(await read(8, 8 + hlen), size - 8 - hlen, limits);
    return new SafetensorsFile(8 + hlen, metadata, entries, read);
  }

  /** Tensor names, in the header's order. */
  get names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** A tensor's dtype, shape and byte range, without reading it. */
  entry(name: string): SafetensorsEntry {
    const e = this.entries.get(name);
    if (!e) throw new Error(`safetensors: no tensor ${JSON.stringify(name)} in this file (it has ${this.entries.size}: ${this.names.slice(0, 5).join(", ")}${this.entries.size > 5 ? ", …" : ""})`);
    return e;
  }

  /** Reads and decodes one tensor (float types to float32, integer types to int32). */
  async read(name: string): Promise<StoredTensor> {
    const e = this.entry(name);
    const bytes = await this.reader(this.dataStart + e.begin, this.dataStart + e.end);
    if (bytes.length !== e.end - e.begin) throw new Error(`safetensors: reading ${JSON.stringify(name)} gave ${bytes.length} bytes, its range holds ${e.end - e.begin} (was the file truncated?)`);
    return decodeEntry(e, bytes);
  }

  /** Decodes one tensor from the data buffer (the file's bytes after the header). */
  readFrom(name: string, body: Uint8Array): StoredTensor {
    const e = this.entry(name);
    return decodeEntry(e, body.subarray(e.begin, e.end));
  }
}

function decodeEntry(e: SafetensorsEntry, bytes: Uint8Array): StoredTensor {
  const n = e.shape.reduce((a, b) => a * b, 1);
  return { dtype: FLOAT.has(e.dtype) ? "float32" : "int32", shape: e.shape, data: convert(e.dtype, bytes, n, e.name) };
}

/** The header length from the first 8 bytes, checked against the file size and the limit. */
function headerLength(first8: Uint8Array, size: number, limits: SafetensorsLimits): number {
  const maxHeader = positiveLimit(limits.maxHeaderBytes, DEFAULT_MAX_HEADER, "maxHeaderBytes");
  positiveLimit(limits.maxTensors, DEFAULT_MAX_TENSORS, "maxTensors");
  for (const k of Object.keys(limits)) if (k !== "maxHeaderBytes" && k !== "maxTensors") throw new Error(`parseSafetensors: unknown option ${JSON.stringify(k)}`);
  if (size < 8 || first8.length < 8) throw new Error(`safetensors: ${size} bytes is too short for the header length`);
  const hlen = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (8 + hlen > size) throw new Error(`safetensors: header of ${hlen} bytes does not fit a ${size}-byte file`);
  if (hlen > maxHeader) throw new Error(`safetensors: header of ${hlen} bytes is over the limit of ${maxHeader} (raise maxHeaderBytes for a file you trust)`);
  return hlen;
}

/** Validates the JSON header against a data buffer of `bodyLength` bytes. */
function parseHeader(headerBytes: Uint8Array, bodyLength: number, limits: SafetensorsLimits): { metadata: Record<string, string>; entries: SafetensorsEntry[] } {
  const maxTensors = positiveLimit(limits.maxTensors, DEFAULT_MAX_TENSORS, "maxTensors");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(headerBytes);
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
  const metadata: Record<string, string> = Object.create(null);
  const entries: SafetensorsEntry[] = [];
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
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o: unknown) => Number.isSafeInteger(o) && (o as number) >= 0) || off[0] > off[1] || off[1] > bodyLength) {
      throw new Error(`safetensors: ${what} has data_offsets ${JSON.stringify(off)} outside the ${bodyLength}-byte buffer`);
    }
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n * BYTES[dtype]) || n * BYTES[dtype] !== off[1] - off[0]) {
      throw new Error(`safetensors: ${what} of shape [${shape}] ${dtype} needs ${n * BYTES[dtype]} bytes, its range holds ${off[1] - off[0]}`);
    }
    entries.push({ name, dtype, shape: shape as number[], begin: off[0], end: off[1] });
  }
  // the ranges must tile the buffer: a hole or trailing bytes hide data no tensor accounts for
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) throw new Error(`safetensors: ${JSON.stringify(e.name)} overlaps the tensor before it`);
    if (e.begin > at) throw new Error(`safetensors: bytes ${at}..${e.begin} of the buffer belong to no tensor (a hole before ${JSON.stringify(e.name)})`);
    at = e.end;
  }
  if (at !== bodyLength) throw new Error(`safetensors: ${bodyLength - at} trailing bytes after the last tensor`);
  return { metadata, entries };
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
