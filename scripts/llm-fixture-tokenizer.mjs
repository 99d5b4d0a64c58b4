// Writes the tokenizers of the LLM test fixtures (tokenizer.json +
// tokenizer_config.json with a chat template), each a byte-level BPE trained
// with the npm `tokenizers` package (Hugging Face's Rust library: the files
// are what transformers writes):
//  - test/fixtures/llm/tokenizer: every byte's symbol in the vocabulary (any
//    text round-trips), 385 tokens, <|bos|> <|eos|> <|pad|> last;
//  - test/fixtures/llm/tiny-llama (scripts/torch-fixtures.py's folder,
//    vocab_size 128, bos_token_id 1, eos_token_id 2): the corpus's symbols
//    only, <unk> 0, <s> 1, </s> 2 first, so the ids fit the model and match
//    its config.json.
// The corpora are a few lines kept here. Run: node scripts/llm-fixture-tokenizer.mjs
import { mkdirSync, writeFileSync, readFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import tokenizers from "tokenizers";

const { Tokenizer, BPE, byteLevelPreTokenizer, byteLevelProcessing, byteLevelAlphabet } = tokenizers;

const CORPUS = [
  "The quick brown fox jumps over the lazy dog.",
  "Hello, world! Hello again, small model.",
  "A tiny language model reads the moon over the river.",
  "user: what is the moon? assistant: the moon is bright tonight.",
  "Once upon a time there was a tokenizer that learned a few merges.",
];
const TINY_CORPUS = ["the moon is bright. user: hi! assistant: hello.", "a small model reads the moon."];

// the shape many small chat models use: role, text, end-of-turn token; the reply's opening when asked
const CHAT_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

/** Trains on `lines`; returns the saved tokenizer.json as an object (the Node binding has no trainer options: vocab size follows the corpus). */
function train(lines) {
  const work = mkdtempSync(join(tmpdir(), "webgrad-bpe-"));
  try {
    const corpus = join(work, "corpus.txt");
    writeFileSync(corpus, lines.map((l) => `${l}\n`).join("").repeat(4));
    const tok = new Tokenizer(BPE.empty());
    tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
    tok.setPostProcessor(byteLevelProcessing(false));
    tok.train([corpus]);
    tok.save(join(work, "tokenizer.json"), true);
    const json = JSON.parse(readFileSync(join(work, "tokenizer.json"), "utf8"));
    // the binding has no byte-level decoder to set: written as transformers' ByteLevelBPETokenizer has it
    json.decoder = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
    return json;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

function write(out, json, config) {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "tokenizer.json"), JSON.stringify(json, null, 2) + "\n");
  writeFileSync(join(out, "tokenizer_config.json"), JSON.stringify({ ...config, chat_template: CHAT_TEMPLATE }, null, 2) + "\n");
  const size = Object.keys(json.model.vocab).length + json.added_tokens.filter((t) => !(t.content in json.model.vocab)).length;
  console.log(`${out}: ${size} tokens (${json.added_tokens.length} special)`);
  return size;
}

// 1. complete byte-level: every byte's symbol added after the trained vocabulary, the special tokens last
{
  const json = train(CORPUS);
  const vocab = json.model.vocab;
  let next = Object.keys(vocab).length;
  for (const ch of byteLevelAlphabet().sort()) if (!(ch in vocab)) vocab[ch] = next++;
  json.added_tokens = ["<|bos|>", "<|eos|>", "<|pad|>"].map((c) => special(next++, c));
  write("test/fixtures/llm/tokenizer", json, {
    bos_token: "<|bos|>", eos_token: "<|eos|>", pad_token: "<|pad|>", add_bos_token: false,
    tokenizer_class: "PreTrainedTokenizerFast", model_max_length: 64, clean_up_tokenization_spaces: false,
  });
}

// 2. tiny-llama: the special tokens first at the ids its config.json names, unknown symbols to <unk>
{
  const dir = "test/fixtures/llm/tiny-llama";
  const json = train(TINY_CORPUS);
  const trained = Object.entries(json.model.vocab).sort((a, b) => a[1] - b[1]).map(([t]) => t);
  const vocab = { "<unk>": 0, "<s>": 1, "</s>": 2 };
  for (const t of trained) vocab[t] = Object.keys(vocab).length;
  json.model.vocab = vocab;
  json.model.unk_token = "<unk>";
  json.added_tokens = [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")];
  const size = write(dir, json, {
    bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", add_bos_token: false,
    tokenizer_class: "PreTrainedTokenizerFast", model_max_length: 64, clean_up_tokenization_spaces: false,
  });
  const config = existsSync(join(dir, "config.json")) ? JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) : null;
  if (config && size > config.vocab_size) throw new Error(`${dir}: ${size} tokens do not fit vocab_size ${config.vocab_size}; shorten TINY_CORPUS`);
}
