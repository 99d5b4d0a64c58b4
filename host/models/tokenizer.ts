// A model folder's tokenizer: tokenizer.json read by @huggingface/tokenizers
// (pure JavaScript, so the same in browsers, workers and Node), special tokens
// from tokenizer_config.json, and the chat template (tokenizer_config.json's
// chat_template or chat_template.jinja) rendered by @huggingface/jinja, as
// transformers' apply_chat_template renders it.

import { isJsonObject } from "../io/strict-json.js";

/**
 * The part of @huggingface/tokenizers' Tokenizer used here, declared here: the
 * package's own .d.ts does not type-check under node16 resolution, and the
 * shipped types must not make users' strict builds depend on it.
 */
export interface HFTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  token_to_id(token: string): number | undefined;
  get_vocab(withAddedTokens?: boolean): Map<string, number>;
}
interface HFTemplate {
  render(items?: Record<string, unknown>): string;
}
type Libraries = { Tokenizer: new (json: object, config: object) => HFTokenizer; Template: new (source: string) => HFTemplate };

// Loaded on first use, not imported at the top: pages that import the unbundled
// tree (the demo, the runtime tests) have no import map for bare package names,
// and most programs never tokenize. Literal specifiers, so bundlers still include them.
let libraries: Libraries | null = null;
let loading: Promise<void> | null = null;

/** Loads @huggingface/tokenizers and @huggingface/jinja (once). */
async function loadLibraries(): Promise<NonNullable<typeof libraries>> {
  loading ??= Promise.all([import("@huggingface/tokenizers"), import("@huggingface/jinja")]).then(([t, j]) => {
    libraries = { Tokenizer: t.Tokenizer as unknown as Libraries["Tokenizer"], Template: j.Template };
  }).catch((e) => {
    loading = null;
    throw new Error(`tokenizer: @huggingface/tokenizers and @huggingface/jinja would not load (${(e as Error).message}); in a page without a bundler, map them in an import map`);
  });
  await loading;
  return libraries!;
}

/** One turn of a conversation, as chat templates expect it. */
export interface ChatMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

/** Options of applyChatTemplate. */
export interface ChatTemplateOptions {
  /** End with the assistant's turn opening, so the model writes the reply (default true). */
  addGenerationPrompt?: boolean;
  /** Return token ids (encoded without adding special tokens again) instead of the text. */
  tokenize?: boolean;
  /** More variables for the template (tools, documents, …). */
  extra?: Record<string, unknown>;
}

/**
 * A Hugging Face tokenizer: encode and decode, the special token ids, and the
 * chat template. Made by loadPretrained, or from the parsed JSON files by
 * PretrainedTokenizer.fromJSON.
 * @example
 * const tok = await wg.models.PretrainedTokenizer.fromJSON(
 *   { model: { type: "BPE", vocab: { a: 0, b: 1, ab: 2 }, merges: [["a", "b"]], ignore_merges: false }, decoder: { type: "Fuse" },
 *     added_tokens: [{ id: 3, content: "</s>", special: true }] },
 *   { eos_token: "</s>", chat_template: "{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}" });
 * tok.encode("abab"); // [2, 2]
 * tok.decode([2, 3], { skipSpecialTokens: true }); // "ab"
 * tok.eosTokenId; // 3
 * tok.applyChatTemplate([{ role: "user", content: "ab" }]); // "ab</s>"
 */
export class PretrainedTokenizer {
  /** The @huggingface/tokenizers Tokenizer underneath, for what this wrapper does not cover. */
  readonly tokenizer: HFTokenizer;
  readonly config: Record<string, unknown>;
  /** The chat template source, or null when the folder has none. */
  readonly chatTemplate: string | null;
  readonly bosToken: string | null;
  readonly eosToken: string | null;
  readonly padToken: string | null;
  readonly bosTokenId: number | null;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  private template: HFTemplate | null = null;

  /**
   * The tokenizer of tokenizer.json and tokenizer_config.json (parsed), with
   * an optional chat template that overrides the config's (chat_template.jinja).
   * @example
   * const tok = await wg.models.PretrainedTokenizer.fromJSON(
   *   { model: { type: "BPE", vocab: { a: 0, b: 1 }, merges: [], ignore_merges: false }, decoder: { type: "Fuse" } });
   * tok.encode("ba"); // [1, 0]
   */
  static async fromJSON(tokenizerJson: unknown, tokenizerConfig: unknown = {}, chatTemplate?: string | null): Promise<PretrainedTokenizer> {
    await loadLibraries();
    return new PretrainedTokenizer(tokenizerJson, tokenizerConfig, chatTemplate);
  }

  /** Use fromJSON (it loads the tokenizer libraries first); the constructor needs them loaded. */
  constructor(tokenizerJson: unknown, tokenizerConfig: unknown = {}, chatTemplate?: string | null) {
    if (!libraries) throw new Error("PretrainedTokenizer: create it with `await PretrainedTokenizer.fromJSON(json, config)` (the tokenizer libraries load on first use)");
    const { Tokenizer } = libraries;
    if (!isJsonObject(tokenizerJson) || !isJsonObject(tokenizerJson.model)) {
      throw new Error("tokenizer: tokenizer.json must be an object with a \"model\" entry (the file transformers and tokenizers save)");
    }
    if (!isJsonObject(tokenizerConfig)) throw new Error("tokenizer: tokenizer_config.json must be a JSON object");
    this.config = tokenizerConfig;
    try {
      // the library requires every section; tokenizer.json files written by hand or by older tools leave some out
      this.tokenizer = new Tokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tokenizerJson }, tokenizerConfig);
    } catch (e) {
      throw new Error(`tokenizer: tokenizer.json could not be read by @huggingface/tokenizers: ${(e as Error).message}`);
    }
    this.bosToken = tokenText(tokenizerConfig.bos_token);
    this.eosToken = tokenText(tokenizerConfig.eos_token);
    this.padToken = tokenText(tokenizerConfig.pad_token);
    this.bosTokenId = this.idOf(this.bosToken);
    this.eosTokenId = this.idOf(this.eosToken);
    this.padTokenId = this.idOf(this.padToken);
    this.chatTemplate = chatTemplate ?? pickTemplate(tokenizerConfig.chat_template);
  }

  private idOf(token: string | null): number | null {
    return token === null ? null : this.tokenizer.token_to_id(token) ?? null;
  }

  /**
   * Token ids of `text`; addSpecialTokens (default true) adds what the
   * tokenizer's post-processor adds (Llama's BOS, for one).
   * @example tok.encode("Hello", { addSpecialTokens: false }); // e.g. [15496]
   */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    if (typeof text !== "string") throw new Error(`tokenizer.encode: text must be a string, got ${typeof text}`);
    return this.tokenizer.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  /**
   * The text of token ids; skipSpecialTokens drops BOS, EOS and the like.
   * @example tok.decode([15496], { skipSpecialTokens: true }); // e.g. "Hello"
   */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  /** Size of the vocabulary, added tokens included. @example tok.vocabSize; // e.g. 32000 */
  get vocabSize(): number {
    return this.tokenizer.get_vocab(true).size;
  }

  /**
   * Renders the chat template over `messages` with bos_token, eos_token and
   * add_generation_prompt, as transformers' apply_chat_template does; the
   * text, or its ids with `tokenize: true`.
   * @example
   * const prompt = tok.applyChatTemplate([{ role: "user", content: "Hi" }], { addGenerationPrompt: true });
   * const ids = tok.applyChatTemplate([{ role: "user", content: "Hi" }], { tokenize: true }); // number[]
   */
  applyChatTemplate(messages: ChatMessage[], opts?: ChatTemplateOptions & { tokenize?: false }): string;
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions & { tokenize: true }): number[];
  applyChatTemplate(messages: ChatMessage[], opts: ChatTemplateOptions = {}): string | number[] {
    if (!this.chatTemplate) throw new Error("tokenizer: this model has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja); build the prompt text yourself");
    if (!Array.isArray(messages) || !messages.every((m) => m && typeof m.role === "string" && typeof m.content === "string")) {
      throw new Error("applyChatTemplate: messages must be an array of { role, content } with string values");
    }
    this.template ??= new libraries!.Template(this.chatTemplate);
    const text = this.template.render({
      ...opts.extra,
      messages,
      add_generation_prompt: opts.addGenerationPrompt ?? true,
      bos_token: this.bosToken ?? "",
      eos_token: this.eosToken ?? "",
      pad_token: this.padToken ?? "",
      unk_token: tokenText(this.config.unk_token) ?? "",
    });
    // the template already wrote BOS where the model wants it
    return opts.tokenize ? this.encode(text, { addSpecialTokens: false }) : text;
  }
}

/** A special token as tokenizer_config.json writes it: a string, or an AddedToken object { content }. */
function tokenText(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (isJsonObject(v) && typeof v.content === "string") return v.content;
  return null;
}

/** tokenizer_config.json's chat_template: a string, or a list of named templates (the "default" one). */
function pickTemplate(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    const named = v.filter((t) => isJsonObject(t) && typeof t.name === "string" && typeof t.template === "string") as { name: string; template: string }[];
    return (named.find((t) => t.name === "default") ?? named[0])?.template ?? null;
  }
  return null;
}
