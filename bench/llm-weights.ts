// The bench's Llama: a SmolLM-135M-shaped config (issue 17's speed section)
// with random weights drawn from the bench's seeded generator, by Hugging Face
// parameter name and layout, so webgrad loads them as a state dict and
// bench/gguf.ts writes the very same numbers for wllama.
//
// The vocabulary is made for the comparison, not for text: ids 33..126 but
// '<' and '>' are those single ASCII characters (so a prompt of letters
// tokenises to one known id per character in llama.cpp's GPT-2 BPE with no
// merges), every other id is the word "<tN>", and the last two are BOS and EOS
// (control tokens). A generated text then parses back to ids without ambiguity.

import { input } from "./workloads.js";
import { rng } from "../host/random.js";

/** A Hugging Face config.json object (the fields a LlamaForCausalLM reads). */
export interface LlamaConfig {
  architectures: string[];
  model_type: "llama";
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  intermediate_size: number;
  vocab_size: number;
  tie_word_embeddings: boolean;
  rope_theta: number;
  rms_norm_eps: number;
  max_position_embeddings: number;
  hidden_act: "silu";
  bos_token_id: number;
  eos_token_id: number;
}

/** What the llm group measures with one config. */
export interface LlmPlan {
  config: LlamaConfig;
  /** Prompt before the timed decode steps, and how many decode steps are timed. */
  promptTokens: number;
  decodeSteps: number;
  /** Tokens in the timed prefill. */
  prefillTokens: number;
  /** LoRA fine-tuning: sequence length and timed steps. */
  loraSeq: number;
  loraSteps: number;
  /** Greedy tokens compared between webgrad and wllama (F32) as the check that both run the same function. */
  checkTokens: number;
}

const base = (o: Partial<LlamaConfig>): LlamaConfig => ({
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 576, num_hidden_layers: 30, num_attention_heads: 9,
  num_key_value_heads: 3, head_dim: 64, intermediate_size: 1536, vocab_size: 49152, tie_word_embeddings: true, rope_theta: 10000,
  rms_norm_eps: 1e-5, max_position_embeddings: 2048, hidden_act: "silu", bos_token_id: 49150, eos_token_id: 49151, ...o,
});

/** SmolLM-135M's shape (full run), or a model small enough for the bench's quick mode (CI). */
export function llmPlan(quick: boolean): LlmPlan {
  if (quick) {
    return {
      config: base({ hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, intermediate_size: 128,
        vocab_size: 512, max_position_embeddings: 256, bos_token_id: 510, eos_token_id: 511 }),
      promptTokens: 16, decodeSteps: 8, prefillTokens: 32, loraSeq: 32, loraSteps: 2, checkTokens: 8,
    };
  }
  return { config: base({}), promptTokens: 64, decodeSteps: 32, prefillTokens: 512, loraSeq: 256, loraSteps: 3, checkTokens: 8 };
}

/** One tensor by HF name: PyTorch shape ([out, in] for Linear) and row-major data. */
export interface NamedTensor { name: string; shape: number[]; data: Float32Array }
/** The same, with the data drawn only when asked for (a 135M-parameter model is 540 MB of f32). */
export interface LazyTensor { name: string; shape: number[]; make(): Float32Array }

/**
 * The model's parameters in HF names and order. Scales keep every layer
 * relevant to the output (weights std ≈ 1/√(3·fan_in), embeddings uniform in
 * [-0.05, 0.05), so that after the first layer the residual stream is mostly
 * the layers' output; norm weights 1 ± 0.1), so a wrong layout in the GGUF (q/k
 * permutation, transposes) changes the greedy tokens; with HF's 0.02 init the
 * residual stream is all embedding and every model repeats its last token.
 */
export function llamaTensors(c: LlamaConfig): LazyTensor[] {
  const H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  let next = 1000;
  const out: LazyTensor[] = [];
  const lin = (name: string, rows: number, cols: number) => {
    const seed = next++, s = 1 / Math.sqrt(cols);
    out.push({ name, shape: [rows, cols], make: () => input(rows * cols, seed).map((v) => v * s) });
  };
  const norm = (name: string, n: number) => {
    const seed = next++;
    out.push({ name, shape: [n], make: () => input(n, seed).map((v) => 1 + 0.1 * v) });
  };
  const embSeed = next++;
  out.push({ name: "model.embed_tokens.weight", shape: [c.vocab_size, H], make: () => input(c.vocab_size * H, embSeed).map((v) => 0.05 * v) });
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    norm(`${p}input_layernorm.weight`, H);
    lin(`${p}self_attn.q_proj.weight`, c.num_attention_heads * D, H);
    lin(`${p}self_attn.k_proj.weight`, c.num_key_value_heads * D, H);
    lin(`${p}self_attn.v_proj.weight`, c.num_key_value_heads * D, H);
    lin(`${p}self_attn.o_proj.weight`, H, c.num_attention_heads * D);
    norm(`${p}post_attention_layernorm.weight`, H);
    lin(`${p}mlp.gate_proj.weight`, I, H);
    lin(`${p}mlp.up_proj.weight`, I, H);
    lin(`${p}mlp.down_proj.weight`, H, I);
  }
  norm("model.norm.weight", H);
  return out;
}

/** The vocabulary described at the top: token strings, with BOS and EOS last. */
export function vocabulary(c: LlamaConfig): string[] {
  return Array.from({ length: c.vocab_size }, (_, i) =>
    i === c.bos_token_id ? "<s>" : i === c.eos_token_id ? "</s>" : i >= 33 && i <= 126 && i !== 60 && i !== 62 ? String.fromCharCode(i) : `<t${i}>`);
}

/** A prompt of `n` lowercase letters from a seed: one token per letter, id = char code. */
export function promptText(n: number, seed: number): string {
  const r = rng(seed);
  return Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join("");
}

/** Token ids of a text written in the vocabulary (generated text parses back uniquely). */
export function parseTokens(text: string, c: LlamaConfig): number[] {
  const ids: number[] = [];
  for (let i = 0; i < text.length; ) {
    const m = /^<t(\d+)>/.exec(text.slice(i, i + 12));
    if (m) {
      ids.push(Number(m[1]));
      i += m[0].length;
    } else if (text.startsWith("<s>", i) || text.startsWith("</s>", i)) {
      ids.push(text.startsWith("<s>", i) ? c.bos_token_id : c.eos_token_id);
      i += text.startsWith("<s>", i) ? 3 : 4;
    } else ids.push(text.charCodeAt(i++));
  }
  return ids;
}

/** Parameters of the config (tied embeddings counted once). */
export function parameterCount(c: LlamaConfig): number {
  const H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  const layer = H * c.num_attention_heads * D * 2 + H * c.num_key_value_heads * D * 2 + 3 * H * I + 2 * H;
  return c.vocab_size * H * (c.tie_word_embeddings ? 1 : 2) + c.num_hidden_layers * layer + H;
}

/**
 * Bytes of weights one decode step reads: every Linear's matrix and the LM head
 * (the tied embedding matrix, read whole), norms in f32; the embedding lookup
 * reads one row. int8: one byte a weight plus an f32 scale per output row
 * (webgrad's per-channel int8; Q8_0's f16 scale per 32 weights is reported beside it).
 */
export function weightBytesPerToken(c: LlamaConfig, dtype: "f32" | "int8" | "q8_0"): number {
  const H = c.hidden_size, D = c.head_dim, I = c.intermediate_size;
  const mats: [number, number][] = [];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    mats.push([c.num_attention_heads * D, H], [c.num_key_value_heads * D, H], [c.num_key_value_heads * D, H], [H, c.num_attention_heads * D], [I, H], [I, H], [H, I]);
  }
  mats.push([c.vocab_size, H]);
  const norms = (2 * c.num_hidden_layers + 1) * H * 4;
  const per = ([o, i]: [number, number]) => (dtype === "f32" ? 4 * o * i : dtype === "int8" ? o * i + 4 * o : (o * i / 32) * 34);
  return mats.reduce((s, m) => s + per(m), 0) + norms;
}
