// A byte-level BPE trained on the zoo's own text with Hugging Face's
// `tokenizers` (the Rust library's napi binding, Node only, an optional peer:
// host/zoo/packages.ts), written out as the tokenizer.json and
// tokenizer_config.json of a Llama-style Hugging Face folder, which any
// tokenizer.json reader (transformers, @huggingface/tokenizers) loads.
//
// The binding's `Tokenizer.train(files)` takes no trainer, so it trains with
// the BPE model's default trainer (30,000 tokens, no special tokens, only the
// bytes the text holds). BPE training is greedy, one merge at a time, so the
// first K merges of that run are exactly what a run stopped at K merges
// learns: the vocabulary asked for is the special tokens, all 256 byte
// symbols (any text encodes, nothing is unknown) and the first merges.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importOptional } from "./packages.js";

/** A tokenizer.json document (the fields this file writes; readers take more). */
export interface TokenizerJson {
  version: string;
  added_tokens: { id: number; content: string; single_word: boolean; lstrip: boolean; rstrip: boolean; normalized: boolean; special: boolean }[];
  normalizer: null;
  pre_tokenizer: Record<string, unknown>;
  post_processor: Record<string, unknown> | null;
  decoder: Record<string, unknown>;
  model: { type: "BPE"; vocab: Record<string, number>; merges: [string, string][]; [k: string]: unknown };
  [k: string]: unknown;
}

export interface BpeTrainOptions {
  /** Tokens in all: special tokens + 256 byte symbols + merges (default 3000; fewer when the text runs out of pairs). */
  vocabSize?: number;
  /** Special tokens, ids 0, 1, … in this order (default Llama's: <unk>, <s>, </s>). */
  specialTokens?: string[];
  /** A special token to put before every encoded text, as Llama's tokenizers do with <s> (default the second special token; null: none). */
  bos?: string | null;
}

/** GPT-2's byte-to-symbol table: printable bytes stand for themselves, the others move to U+0100 onwards. */
function byteSymbols(): string[] {
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 256;
  return Array.from({ length: 256 }, (_, b) => String.fromCodePoint(keep(b) ? b : next++));
}

/**
 * Trains a byte-level BPE on `texts` and returns its tokenizer.json document.
 * The pre-tokenizer is GPT-2's byte-level split (no prefix space), the decoder
 * its inverse; with `bos` a TemplateProcessing post-processor puts it first.
 * @example
 * const json = await trainByteLevelBpe(["今天天气很好", "天气不好"], { vocabSize: 270 });
 * json.model.vocab["<s>"]; // 1
 * Object.keys(json.model.vocab).length <= 270; // true
 */
export async function trainByteLevelBpe(texts: string[], opts: BpeTrainOptions = {}): Promise<TokenizerJson> {
  const mod: any = await importOptional("tokenizers", "trainByteLevelBpe", () => import("tokenizers"));
  const tk = mod.default ?? mod;
  const specials = opts.specialTokens ?? ["<unk>", "<s>", "</s>"], vocabSize = opts.vocabSize ?? 3000;
  const bos = opts.bos === undefined ? specials[1] ?? null : opts.bos;
  if (bos !== null && !specials.includes(bos)) throw new Error(`trainByteLevelBpe: bos "${bos}" is not one of the special tokens ${JSON.stringify(specials)}`);
  if (vocabSize < specials.length + 256) throw new Error(`trainByteLevelBpe: vocabSize ${vocabSize} leaves no room for the ${specials.length} special tokens and the 256 byte symbols (at least ${specials.length + 256})`);
  const dir = mkdtempSync(join(tmpdir(), "webgrad-bpe-"));
  let trained: { model: { merges: ([string, string] | string)[] } };
  try {
    writeFileSync(join(dir, "text.txt"), texts.join("\n"));
    const tokenizer = new tk.Tokenizer(tk.BPE.empty());
    tokenizer.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
    tokenizer.train([join(dir, "text.txt")]);
    tokenizer.save(join(dir, "tokenizer.json"), false);
    trained = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const vocab: Record<string, number> = {};
  const add = (t: string) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  for (const t of [...specials, ...byteSymbols()]) add(t);
  const merges: [string, string][] = [];
  for (const m of trained.model.merges) {
    if (Object.keys(vocab).length >= vocabSize) break;
    const [a, b] = typeof m === "string" ? (m.split(" ") as [string, string]) : m;
    merges.push([a, b]);
    add(a + b);
  }
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: bos === null ? null : {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: bos, type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { [bos]: { id: bos, ids: [vocab[bos]], tokens: [bos] } },
    },
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}
