// The bench's GGUF writer (bench/gguf.ts), read back by a reader written here
// from the format's description: header, metadata, tensor infos, alignment and
// data, the f16 and Q8_0 encodings, and the q/k rotary permutation. (That
// llama.cpp computes the same function from the file as webgrad does from the
// weights is checked by the bench itself on every run: logprobs compared.)

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ggufName, permuteRope, quantizeQ8_0, toHalf, writeLlamaGguf } from "../bench/gguf.js";
import { llamaTensors, llmPlan, parseTokens, promptText, vocabulary, weightBytesPerToken, parameterCount } from "../bench/llm-weights.js";

/** IEEE half → float, independently of toHalf. */
function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

test("toHalf: exact values, rounding to nearest even, subnormals, overflow", () => {
  assert.is(toHalf(1), 0x3c00);
  assert.is(toHalf(-2), 0xc000);
  assert.is(toHalf(0.5), 0x3800);
  assert.is(toHalf(65504), 0x7bff);
  assert.is(toHalf(1e6), 0x7c00);
  assert.is(toHalf(0), 0);
  assert.is(toHalf(2 ** -24), 1); // the smallest subnormal
  assert.is(toHalf(1 + 2 ** -11), 0x3c00); // halfway: to even
  assert.is(toHalf(1 + 3 * 2 ** -11), 0x3c02); // halfway: to even (up)
  for (const x of [0.1, 3.14159, 1e-5, 123.456, -7.77e-3]) {
    const back = fromHalf(toHalf(x));
    assert.ok(Math.abs(back - x) <= Math.abs(x) * 2 ** -11 + 2 ** -25, `${x} → ${back}`);
  }
});

test("quantizeQ8_0: per block of 32, an f16 scale max|x|/127 and round(x/scale), halves away from zero", () => {
  const x = Float32Array.from({ length: 64 }, (_, i) => (i < 32 ? (i - 16) / 4 : (i - 40) * 0.01));
  const q = quantizeQ8_0(x);
  assert.is(q.length, 2 * 34);
  const view = new DataView(q.buffer);
  for (let b = 0; b < 2; b++) {
    const block = x.subarray(b * 32, b * 32 + 32);
    const amax = Math.max(...Array.from(block, Math.abs));
    const d = fromHalf(view.getUint16(b * 34, true));
    assert.ok(Math.abs(d - amax / 127) <= (amax / 127) * 2 ** -10, `block ${b}: scale ${d} vs ${amax / 127}`);
    for (let j = 0; j < 32; j++) {
      const v = view.getInt8(b * 34 + 2 + j);
      assert.ok(Math.abs(v * d - block[j]) <= d / 2 + amax * 2 ** -10, `block ${b}[${j}]: ${v}·${d} vs ${block[j]}`);
    }
    assert.is(Math.max(...Array.from({ length: 32 }, (_, j) => Math.abs(view.getInt8(b * 34 + 2 + j)))), 127);
  }
  // x = -16/4 = -4 is the first block's max: exactly -127; 2.5 units rounds away from zero
  assert.is(view.getInt8(2), -127);
  const half = quantizeQ8_0(Float32Array.from({ length: 32 }, (_, i) => (i === 0 ? 127 : i === 1 ? -2.5 : i === 2 ? 2.5 : 0)));
  assert.is(new DataView(half.buffer).getInt8(3), -3);
  assert.is(new DataView(half.buffer).getInt8(4), 3);
  assert.throws(() => quantizeQ8_0(new Float32Array(31)), /multiple of 32/);
});

test("permuteRope: HF's rotate-half pairs (i, i + d/2) become ggml's adjacent pairs (2i, 2i + 1), per head", () => {
  // 2 heads of d = 4, one column: row r holds r
  const w = Float32Array.from({ length: 8 }, (_, i) => i);
  assert.equal(Array.from(permuteRope(w, 2, 8, 1)), [0, 2, 1, 3, 4, 6, 5, 7]);
  // columns move with their rows
  const w2 = Float32Array.from({ length: 8 }, (_, i) => i);
  assert.equal(Array.from(permuteRope(w2, 1, 4, 2)), [0, 1, 4, 5, 2, 3, 6, 7]);
});

test("ggufName: llama.cpp's tensor names; an unknown parameter throws naming it", () => {
  assert.is(ggufName("model.embed_tokens.weight"), "token_embd.weight");
  assert.is(ggufName("model.layers.3.self_attn.o_proj.weight"), "blk.3.attn_output.weight");
  assert.is(ggufName("model.layers.0.mlp.down_proj.weight"), "blk.0.ffn_down.weight");
  assert.is(ggufName("model.layers.12.post_attention_layernorm.weight"), "blk.12.ffn_norm.weight");
  assert.is(ggufName("model.norm.weight"), "output_norm.weight");
  assert.throws(() => ggufName("model.layers.0.self_attn.q_proj.bias"), /q_proj\.bias/);
});

/** A GGUF v3 reader: metadata and tensor infos, and where the data starts. */
function readGguf(buf: Uint8Array) {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  const u32 = () => ((o += 4), v.getUint32(o - 4, true));
  const u64 = () => ((o += 8), Number(v.getBigUint64(o - 8, true)));
  const str = () => {
    const n = u64();
    o += n;
    return new TextDecoder().decode(buf.subarray(o - n, o));
  };
  const value = (t: number): unknown => {
    switch (t) {
      case 4: return u32();
      case 5: return ((o += 4), v.getInt32(o - 4, true));
      case 6: return ((o += 4), v.getFloat32(o - 4, true));
      case 7: return buf[o++] !== 0;
      case 8: return str();
      case 9: {
        const et = u32(), n = u64();
        return Array.from({ length: n }, () => value(et));
      }
      default: throw new Error(`unexpected gguf type ${t}`);
    }
  };
  const magic = new TextDecoder().decode(buf.subarray(0, 4));
  o = 4;
  const version = u32(), nt = u64(), nk = u64();
  const meta: Record<string, unknown> = {};
  for (let i = 0; i < nk; i++) {
    const k = str();
    meta[k] = value(u32());
  }
  const tensors = Array.from({ length: nt }, () => {
    const name = str(), nd = u32();
    const dims = Array.from({ length: nd }, () => u64());
    return { name, dims, type: u32(), offset: u64() };
  });
  const align = (meta["general.alignment"] as number) ?? 32;
  const dataStart = Math.ceil(o / align) * align;
  return { magic, version, meta, tensors, dataStart };
}

test("writeLlamaGguf: header, llama metadata, tensors (ne innermost first), 32-byte alignment, F32 bytes and Q8_0 blocks", () => {
  const plan = llmPlan(true), c = plan.config;
  const dir = mkdtempSync(join(tmpdir(), "webgrad-gguf-test-"));
  try {
    for (const type of ["F32", "Q8_0"] as const) {
      const path = join(dir, `${type}.gguf`);
      const size = writeLlamaGguf(path, c, type);
      const buf = new Uint8Array(readFileSync(path));
      assert.is(buf.length, size);
      const g = readGguf(buf);
      assert.is(g.magic, "GGUF");
      assert.is(g.version, 3);
      assert.is(g.meta["general.architecture"], "llama");
      assert.is(g.meta["llama.embedding_length"], c.hidden_size);
      assert.is(g.meta["llama.block_count"], c.num_hidden_layers);
      assert.is(g.meta["llama.attention.head_count_kv"], c.num_key_value_heads);
      assert.is(g.meta["llama.feed_forward_length"], c.intermediate_size);
      assert.is(g.meta["llama.rope.freq_base"], c.rope_theta);
      assert.ok(Math.abs((g.meta["llama.attention.layer_norm_rms_epsilon"] as number) - c.rms_norm_eps) < 1e-9);
      assert.equal(g.meta["tokenizer.ggml.tokens"], vocabulary(c));
      assert.is((g.meta["tokenizer.ggml.token_type"] as number[])[c.eos_token_id], 3);
      assert.is(g.meta["tokenizer.ggml.bos_token_id"], c.bos_token_id);
      const hf = llamaTensors(c);
      assert.is(g.tensors.length, hf.length); // no output.weight: tied
      assert.not.ok(g.tensors.some((t) => t.name === "output.weight"));
      let expectOffset = 0;
      g.tensors.forEach((t, i) => {
        assert.is(t.name, ggufName(hf[i].name));
        assert.equal(t.dims, [...hf[i].shape].reverse());
        assert.is(t.offset, expectOffset);
        assert.is(t.offset % 32, 0);
        const n = hf[i].shape.reduce((a, b) => a * b, 1);
        const q8 = type === "Q8_0" && hf[i].shape.length === 2;
        assert.is(t.type, q8 ? 8 : 0);
        expectOffset = Math.ceil((expectOffset + (q8 ? (n / 32) * 34 : 4 * n)) / 32) * 32;
      });
      assert.is(g.dataStart % 32, 0);
      assert.is(buf.length, g.dataStart + g.tensors.at(-1)!.offset + 4 * c.hidden_size); // output_norm (F32) is last
      // the data: token_embd as written, q permuted
      const emb = hf[0].make(), q = hf.find((t) => t.name.endsWith("0.self_attn.q_proj.weight"))!;
      const qInfo = g.tensors.find((t) => t.name === "blk.0.attn_q.weight")!;
      if (type === "F32") {
        const at = (off: number, n: number) => new Float32Array(buf.slice(g.dataStart + off, g.dataStart + off + 4 * n).buffer);
        assert.equal(Array.from(at(0, 8)), Array.from(emb.subarray(0, 8)));
        const rows = q.shape[0], cols = q.shape[1];
        assert.equal(Array.from(at(qInfo.offset, rows * cols)), Array.from(permuteRope(q.make(), c.num_attention_heads, rows, cols)));
      } else {
        assert.equal(Array.from(buf.subarray(g.dataStart, g.dataStart + 34)), Array.from(quantizeQ8_0(emb.subarray(0, 32))));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the bench's vocabulary: a prompt of letters is one token a letter, and generated text parses back to ids", () => {
  const c = llmPlan(true).config, v = vocabulary(c);
  assert.is(v.length, c.vocab_size);
  assert.is(new Set(v).size, v.length);
  const p = promptText(16, 7);
  assert.match(p, /^[a-z]{16}$/);
  assert.equal(parseTokens(p, c), Array.from(p, (ch) => ch.charCodeAt(0)));
  const ids = [97, 300, 60, 62, 33, c.bos_token_id, 126, c.eos_token_id, 0];
  assert.equal(parseTokens(ids.map((i) => v[i]).join(""), c), ids);
});

test("weightBytesPerToken and parameterCount for SmolLM-135M's shape", () => {
  const c = llmPlan(false).config;
  assert.is(parameterCount(c), 134_515_008); // SmolLM-135M's count (tied embeddings)
  // f32: every parameter but the embedding lookup's... the tied head reads the whole matrix once
  assert.is(weightBytesPerToken(c, "f32"), 4 * parameterCount(c));
  assert.ok(weightBytesPerToken(c, "int8") < weightBytesPerToken(c, "f32") / 3.9);
});

test.run();
