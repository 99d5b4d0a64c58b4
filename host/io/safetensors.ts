// safetensors (Hugging Face's weight format): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]},
// "__metadata__": {string: string}}, then the raw little-endian bytes.
// Parsing validates everything before any tensor is read: the header length
// against the file, each dtype, each shape against its byte range, ranges
// inside the buffer and not overlapping. A malformed or hostile file is
// rejected with a message saying what is wrong, never read out of bounds.

/** A tensor as the file holds it, converted to float32 (F32, F16, BF16, F64) or int32 (I32, I64 in range, U8, BOOL). */
export interface StoredTensor {
  dtype: "float32" | "int32";
  shape: number[];
  data: Float32Array | Int32Array;
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const MAX_HEADER = 100 << 20; // the reference implementation's limit

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
    default: return Int32Array.from(bytes.subarray(0, n)); // U8, BOOL
  }
}

/**
 * Parses a safetensors file; throws on anything malformed.
 * @example const { tensors, metadata } = wg.io.parseSafetensors(bytes); model.loadStateDict(tensors);
 */
export function parseSafetensors(bytes: Uint8Array): { tensors: Record<string, StoredTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`safetensors: ${bytes.length} bytes is too short for the header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = Number(dv.getBigUint64(0, true));
  if (hlen > MAX_HEADER || 8 + hlen > bytes.length) throw new Error(`safetensors: header of ${hlen} bytes does not fit a ${bytes.length}-byte file`);
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new Error(`safetensors: the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) throw new Error("safetensors: the header is not a JSON object");
  const body = bytes.subarray(8 + hlen);
  const metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  const tensors: Record<string, StoredTensor> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!info || typeof info !== "object") throw new Error("safetensors: __metadata__ is not an object");
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== "string") throw new Error(`safetensors: metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const { dtype, shape, data_offsets: off } = info ?? {};
    if (!(dtype in BYTES)) throw new Error(`safetensors: ${name} has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d: unknown) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new Error(`safetensors: ${name} has a bad shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o: unknown) => Number.isSafeInteger(o) && (o as number) >= 0) || off[0] > off[1] || off[1] > body.length) {
      throw new Error(`safetensors: ${name} has data_offsets ${JSON.stringify(off)} outside the ${body.length}-byte buffer`);
    }
    const n = shape.reduce((a: number, b: number) => a * b, 1);
    if (n * BYTES[dtype] !== off[1] - off[0]) throw new Error(`safetensors: ${name} of shape [${shape}] ${dtype} needs ${n * BYTES[dtype]} bytes, its range holds ${off[1] - off[0]}`);
    ranges.push([off[0], off[1], name]);
    tensors[name] = { dtype: ["F32", "F64", "F16", "BF16"].includes(dtype) ? "float32" : "int32", shape, data: convert(dtype, body.subarray(off[0], off[1]), n, name) };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) throw new Error(`safetensors: ${ranges[i][2]} overlaps ${ranges[i - 1][2]}`);
  }
  return { tensors, metadata };
}

/**
 * Serialises tensors (float32 as F32, int32 as I32) with optional string metadata.
 * @example const bytes = wg.io.serializeSafetensors(model.stateDict(), { step: "100" });
 */
export function serializeSafetensors(
  tensors: Record<string, { dtype: "float32" | "int32"; shape: readonly number[]; dataSync(): Float32Array | Int32Array } | StoredTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
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
