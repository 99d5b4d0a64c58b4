// A GGUF v3 writer for the bench's Llama (bench/llm-weights.ts), so wllama
// (llama.cpp in wasm) runs the very weights webgrad runs, in F32 or Q8_0.
//
// The layout (ggml's docs/gguf.md): "GGUF", version 3, tensor count and
// metadata count (u64); metadata as key (u64 length + UTF-8), value type (u32),
// value; tensor infos as name, n_dims (u32), dims innermost first (u64 each),
// ggml type (u32), offset into the data section (u64, aligned); padding to
// general.alignment (32); the tensor data, each aligned.
//
// Two conversions llama.cpp's convert_hf_to_gguf.py makes for the "llama"
// architecture are made here too, or the two engines would compute different
// functions: tensor names (HF → GGUF), and q_proj / k_proj rows permuted from
// HF's rotate-half rotary layout (pairs (i, i + d/2)) to ggml's interleaved
// one (pairs (2i, 2i + 1)): LlamaModel.permute, reshape(n_head, 2, d/2, in)
// → swapaxes(1, 2), with k's head count being the KV head count.

import { openSync, writeSync, closeSync } from "node:fs";
import { llamaTensors, vocabulary, type LlamaConfig, type LazyTensor } from "./llm-weights.js";

const ALIGN = 32;
/** ggml_type values. */
const GGML_F32 = 0, GGML_Q8_0 = 8;
/** gguf_type values. */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, str: 8, arr: 9 } as const;

type Value = { t: "u32" | "i32" | "f32"; v: number } | { t: "bool"; v: boolean } | { t: "str"; v: string } | { t: "arr"; of: "str"; v: string[] } | { t: "arr"; of: "i32"; v: number[] };

/** Little-endian byte buffer that grows. */
class Bytes {
  buf = new Uint8Array(1 << 16);
  n = 0;
  private view = new DataView(this.buf.buffer);
  private room(k: number) {
    if (this.n + k <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    b.set(this.buf.subarray(0, this.n));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }
  u32(x: number) { this.room(4); this.view.setUint32(this.n, x, true); this.n += 4; }
  i32(x: number) { this.room(4); this.view.setInt32(this.n, x, true); this.n += 4; }
  u64(x: number) { this.room(8); this.view.setBigUint64(this.n, BigInt(x), true); this.n += 8; }
  f32(x: number) { this.room(4); this.view.setFloat32(this.n, x, true); this.n += 4; }
  u8(x: number) { this.room(1); this.buf[this.n++] = x; }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
  pad(align: number) { while (this.n % align) this.u8(0); }
  bytes() { return this.buf.subarray(0, this.n); }
}

function writeValue(b: Bytes, v: Value): void {
  b.u32(T[v.t]);
  if (v.t === "bool") b.u8(v.v ? 1 : 0);
  else if (v.t === "str") b.str(v.v);
  else if (v.t === "arr") {
    b.u32(T[v.of]);
    b.u64(v.v.length);
    if (v.of === "str") for (const x of v.v) b.str(x);
    else for (const x of v.v) b.i32(x);
  } else b[v.t](v.v);
}

/** HF parameter name → GGUF tensor name (llama.cpp's tensor map for "llama"). */
export function ggufName(hf: string): string {
  if (hf === "model.embed_tokens.weight") return "token_embd.weight";
  if (hf === "model.norm.weight") return "output_norm.weight";
  if (hf === "lm_head.weight") return "output.weight";
  const m = /^model\.layers\.(\d+)\.(.+)\.weight$/.exec(hf);
  const map: Record<string, string> = {
    input_layernorm: "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", post_attention_layernorm: "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
  };
  if (!m || !map[m[2]]) throw new Error(`gguf: no GGUF name for the parameter ${hf}`);
  return `blk.${m[1]}.${map[m[2]]}.weight`;
}

/**
 * Rows of a q or k projection [heads·d, in] from HF's rotate-half order to
 * ggml's interleaved rope order: new row h·d + 2i + j = old row h·d + j·d/2 + i.
 */
export function permuteRope(w: Float32Array, heads: number, rows: number, cols: number): Float32Array {
  const d = rows / heads, half = d / 2, out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const from = (h * d + j * half + i) * cols, to = (h * d + 2 * i + j) * cols;
        out.set(w.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/** IEEE half from a float (round to nearest even), for Q8_0's block scales. */
const halfScratch = new Float32Array(1), halfBits = new Uint32Array(halfScratch.buffer);
export function toHalf(x: number): number {
  halfScratch[0] = x;
  const u = halfBits[0];
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mant | 0x800000) >>> 0, shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1), halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/**
 * Q8_0 as ggml's quantize_row_q8_0_ref: blocks of 32 along a row, each an f16
 * scale d = max|x| / 127 and 32 int8 round(x / d) (34 bytes).
 */
export function quantizeQ8_0(x: Float32Array): Uint8Array {
  if (x.length % 32) throw new Error(`gguf: Q8_0 needs a multiple of 32 values, got ${x.length}`);
  const blocks = x.length / 32, out = new Uint8Array(blocks * 34), view = new DataView(out.buffer), qs = new Int8Array(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[b * 32 + j]));
    const d = Math.fround(amax / 127), id = d ? Math.fround(1 / d) : 0;
    view.setUint16(b * 34, toHalf(d), true);
    for (let j = 0; j < 32; j++) {
      const v = Math.fround(x[b * 32 + j] * id);
      qs[b * 34 + 2 + j] = v < 0 ? -Math.round(-v) : Math.round(v); // roundf: halves away from zero
    }
  }
  return out;
}

export type GgufType = "F32" | "Q8_0";

/** Bytes of one tensor's data in the file. 1-D tensors (norms) stay F32 in a Q8_0 file, as llama.cpp's quantiser leaves them. */
function tensorType(t: LazyTensor, type: GgufType): number {
  return type === "Q8_0" && t.shape.length === 2 ? GGML_Q8_0 : GGML_F32;
}
function tensorBytes(t: LazyTensor, ggml: number): number {
  const n = t.shape.reduce((a, b) => a * b, 1);
  return ggml === GGML_Q8_0 ? (n / 32) * 34 : 4 * n;
}

/**
 * Writes the bench's Llama to `path` as a GGUF v3 file of the given type and
 * returns its size in bytes. The LM head is the tied embedding (no
 * output.weight), as in SmolLM.
 */
export function writeLlamaGguf(path: string, c: LlamaConfig, type: GgufType): number {
  if (!c.tie_word_embeddings) throw new Error("gguf: the bench's Llama has tied embeddings; untied would need output.weight");
  const tensors = llamaTensors(c);
  const vocab = vocabulary(c);
  const meta: [string, Value][] = [
    ["general.architecture", { t: "str", v: "llama" }],
    ["general.name", { t: "str", v: "webgrad bench llama" }],
    ["general.alignment", { t: "u32", v: ALIGN }],
    ["general.file_type", { t: "u32", v: type === "F32" ? 0 : 7 }], // LLAMA_FTYPE_ALL_F32 / MOSTLY_Q8_0
    ["llama.context_length", { t: "u32", v: c.max_position_embeddings }],
    ["llama.embedding_length", { t: "u32", v: c.hidden_size }],
    ["llama.block_count", { t: "u32", v: c.num_hidden_layers }],
    ["llama.feed_forward_length", { t: "u32", v: c.intermediate_size }],
    ["llama.attention.head_count", { t: "u32", v: c.num_attention_heads }],
    ["llama.attention.head_count_kv", { t: "u32", v: c.num_key_value_heads }],
    ["llama.attention.key_length", { t: "u32", v: c.head_dim }],
    ["llama.attention.value_length", { t: "u32", v: c.head_dim }],
    ["llama.rope.dimension_count", { t: "u32", v: c.head_dim }],
    ["llama.rope.freq_base", { t: "f32", v: c.rope_theta }],
    ["llama.attention.layer_norm_rms_epsilon", { t: "f32", v: c.rms_norm_eps }],
    ["llama.vocab_size", { t: "u32", v: c.vocab_size }],
    ["tokenizer.ggml.model", { t: "str", v: "gpt2" }],
    ["tokenizer.ggml.pre", { t: "str", v: "default" }],
    ["tokenizer.ggml.tokens", { t: "arr", of: "str", v: vocab }],
    // 1 normal, 3 control (llama_token_type)
    ["tokenizer.ggml.token_type", { t: "arr", of: "i32", v: vocab.map((_, i) => (i === c.bos_token_id || i === c.eos_token_id ? 3 : 1)) }],
    ["tokenizer.ggml.merges", { t: "arr", of: "str", v: [] }],
    ["tokenizer.ggml.bos_token_id", { t: "u32", v: c.bos_token_id }],
    ["tokenizer.ggml.eos_token_id", { t: "u32", v: c.eos_token_id }],
    ["tokenizer.ggml.add_bos_token", { t: "bool", v: false }],
    ["tokenizer.ggml.add_eos_token", { t: "bool", v: false }],
  ];
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF"
  head.u32(3);
  head.u64(tensors.length);
  head.u64(meta.length);
  for (const [k, v] of meta) {
    head.str(k);
    writeValue(head, v);
  }
  let offset = 0;
  const types = tensors.map((t) => tensorType(t, type));
  tensors.forEach((t, i) => {
    head.str(ggufName(t.name));
    head.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) head.u64(d); // ne[0] is the innermost (contiguous) dimension
    head.u32(types[i]);
    head.u64(offset);
    offset += tensorBytes(t, types[i]);
    offset = Math.ceil(offset / ALIGN) * ALIGN;
  });
  head.pad(ALIGN);
  const fd = openSync(path, "w");
  let size = 0;
  const put = (b: Uint8Array) => {
    for (let o = 0; o < b.length; ) o += writeSync(fd, b, o, b.length - o);
    size += b.length;
  };
  try {
    put(head.bytes());
    tensors.forEach((t, i) => {
      let data = t.make();
      const m = /self_attn\.(q|k)_proj/.exec(t.name);
      if (m) data = permuteRope(data, m[1] === "q" ? c.num_attention_heads : c.num_key_value_heads, t.shape[0], t.shape[1]);
      const bytes = types[i] === GGML_Q8_0 ? quantizeQ8_0(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      put(bytes);
      const pad = (ALIGN - (bytes.length % ALIGN)) % ALIGN;
      if (pad) put(new Uint8Array(pad));
    });
  } finally {
    closeSync(fd);
  }
  return size;
}
