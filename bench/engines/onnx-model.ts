// A minimal ONNX model writer: just enough protobuf (varints and length-delimited
// fields) to encode ModelProto / GraphProto / NodeProto / AttributeProto /
// ValueInfoProto / TensorProto for the bench's float32 graphs. Field numbers are
// those of onnx/onnx.proto (proto2; repeated int64 are written unpacked, which
// every protobuf parser accepts). A well-kept library (e.g. `onnx-proto`) would do
// the same; this avoids one more dependency.

/** An initializer: float32, int64 (e.g. the shape operand of Reshape), or int8 (quantised weights). */
export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array | Int8Array;
}

export type OnnxAttr = number | number[] | string | { float: number } | { floats: number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** "" (ai.onnx) or e.g. "com.microsoft". */
  domain?: string;
  /** Integers are written as INT, { float } as FLOAT, arrays as INTS, strings as STRING. */
  attrs?: Record<string, OnnxAttr>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: { name: string; dims: number[] }[];
  outputs: { name: string; dims: number[] }[];
  initializers?: OnnxTensor[];
  /** ai.onnx opset (default 17). */
  opset?: number;
  /** Extra operator sets, e.g. { "com.microsoft": 1 }. */
  extraOpsets?: Record<string, number>;
}

const FLOAT = 1, INT8 = 3, INT64 = 7; // TensorProto.DataType

class Writer {
  private chunks: Uint8Array[] = [];
  private buf = new Uint8Array(256);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, this.buf.length * 2));
  }
  private flush(): void {
    if (this.pos > 0) this.chunks.push(this.buf.slice(0, this.pos));
    this.pos = 0;
  }
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    this.ensure(10);
    while (x >= 0x80n) {
      this.buf[this.pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    this.buf[this.pos++] = Number(x);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.flush();
    this.chunks.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
    return this;
  }
  message(field: number, fill: (w: Writer) => void): this {
    const w = new Writer();
    fill(w);
    return this.bytes(field, w.finish());
  }
  finish(): Uint8Array {
    this.flush();
    const n = this.chunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

// TensorProto: dims=1, data_type=2, name=8, raw_data=9 (little-endian values).
function tensorProto(w: Writer, t: OnnxTensor): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) throw new Error(`onnx-model: initializer ${t.name}: ${t.data.length} values for shape [${t.dims}]`);
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? FLOAT : t.data instanceof Int8Array ? INT8 : INT64);
  w.string(8, t.name);
  // A copy of the bytes: wasm, x86 and ARM are all little-endian, as ONNX's raw_data is.
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice());
}

// ValueInfoProto: name=1, type=2 { tensor_type=1 { elem_type=1, shape=2 { dim=1 { dim_value=1 } } } }.
function valueInfo(w: Writer, v: { name: string; dims: number[] }): void {
  w.string(1, v.name);
  w.message(2, (ty) =>
    ty.message(1, (tt) => {
      tt.int(1, FLOAT);
      tt.message(2, (sh) => {
        for (const d of v.dims) sh.message(1, (dim) => dim.int(1, d));
      });
    }),
  );
}

// AttributeProto: name=1, f=2, i=3, s=4, floats=7, ints=8, type=20
// (FLOAT=1, INT=2, STRING=3, FLOATS=6, INTS=7).
function attribute(w: Writer, name: string, v: OnnxAttr): void {
  w.string(1, name);
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error(`onnx-model: attribute ${name}: use { float: ${v} } for floats`);
    w.int(3, v).int(20, 2);
  } else if (typeof v === "string") {
    w.string(4, v).int(20, 3);
  } else if (Array.isArray(v)) {
    for (const x of v) w.int(8, x);
    w.int(20, 7);
  } else if ("float" in v) {
    w.float(2, v.float).int(20, 1);
  } else {
    for (const x of v.floats) w.float(7, x);
    w.int(20, 6);
  }
}

// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, domain=7.
function nodeProto(w: Writer, n: OnnxNode, i: number): void {
  for (const s of n.inputs) w.string(1, s);
  for (const s of n.outputs) w.string(2, s);
  w.string(3, `${n.op.toLowerCase()}_${i}`);
  w.string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.message(5, (a) => attribute(a, k, v));
  if (n.domain) w.string(7, n.domain);
}

/**
 * Serialises a single-graph ONNX model (ModelProto: ir_version=1, producer_name=2,
 * graph=7, opset_import=8; GraphProto: node=1, name=2, initializer=5, input=11, output=12).
 */
export function onnxModel(g: OnnxGraph): Uint8Array {
  const w = new Writer();
  w.int(1, 8); // IR version 8 (ONNX 1.13+)
  w.string(2, "webgrad-bench");
  w.message(7, (gw) => {
    g.nodes.forEach((n, i) => gw.message(1, (nw) => nodeProto(nw, n, i)));
    gw.string(2, "bench");
    for (const t of g.initializers ?? []) gw.message(5, (tw) => tensorProto(tw, t));
    for (const v of g.inputs) gw.message(11, (vw) => valueInfo(vw, v));
    for (const v of g.outputs) gw.message(12, (vw) => valueInfo(vw, v));
  });
  // OperatorSetIdProto: domain=1, version=2.
  w.message(8, (o) => o.string(1, "").int(2, g.opset ?? 17));
  for (const [domain, version] of Object.entries(g.extraOpsets ?? {})) w.message(8, (o) => o.string(1, domain).int(2, version));
  return w.finish();
}
