// Writes a tiny byte-level BPE tokenizer (tokenizer.json + tokenizer_config.json
// with a chat template) for the LLM test fixtures, trained with the npm
// `tokenizers` package (Hugging Face's Rust library: the files are what
// transformers writes). The corpus is a few lines kept here, so the vocabulary
// stays under the fixture models' vocab_size (check with the printed count).
//   node scripts/llm-fixture-tokenizer.mjs [folder]   (default test/fixtures/llm/tokenizer)
import { mkdirSync, writeFileSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import tokenizers from "tokenizers";

const { Tokenizer, BPE, byteLevelPreTokenizer, byteLevelProcessing, byteLevelAlphabet } = tokenizers;

const out = process.argv[2] ?? "test/fixtures/llm/tokenizer";
const CORPUS = [
  "The quick brown fox jumps over the lazy dog.",
  "Hello, world! Hello again, small model.",
  "A tiny language model reads the moon over the river.",
  "user: what is the moon? assistant: the moon is bright tonight.",
  "Once upon a time there was a tokenizer that learned a few merges.",
];

const work = mkdtempSync(join(tmpdir(), "webgrad-bpe-"));
try {
  const corpus = join(work, "corpus.txt");
  writeFileSync(corpus, CORPUS.map((l) => `${l}\n`).join("").repeat(4));
  const tok = new Tokenizer(BPE.empty());
  tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
  tok.setPostProcessor(byteLevelProcessing(false));
  tok.train([corpus]);
  mkdirSync(out, { recursive: true });
  tok.save(join(out, "tokenizer.json"), true);
  // The Node binding has no trainer options and no byte-level decoder: the JSON gets what
  // transformers' ByteLevelBPETokenizer has. Every byte's symbol is in the vocabulary (the
  // trainer keeps only the corpus's), so any text encodes and decodes back; the special
  // tokens come last.
  const json = JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8"));
  json.decoder = { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true };
  const vocab = json.model.vocab;
  let next = Object.keys(vocab).length;
  for (const ch of byteLevelAlphabet().sort()) if (!(ch in vocab)) vocab[ch] = next++;
  json.added_tokens = ["<|bos|>", "<|eos|>", "<|pad|>"].map((content) => ({ id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  writeFileSync(join(out, "tokenizer.json"), JSON.stringify(json, null, 2) + "\n");
  const config = {
    bos_token: "<|bos|>",
    eos_token: "<|eos|>",
    pad_token: "<|pad|>",
    add_bos_token: false,
    tokenizer_class: "PreTrainedTokenizerFast",
    model_max_length: 64,
    clean_up_tokenization_spaces: false,
    // the ChatML-like shape many small chat models use
    chat_template: "{{ bos_token }}{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}",
  };
  writeFileSync(join(out, "tokenizer_config.json"), JSON.stringify(config, null, 2) + "\n");
  const saved = JSON.parse(readFileSync(join(out, "tokenizer.json"), "utf8"));
  const size = Object.keys(saved.model.vocab).length + saved.added_tokens.length;
  console.log(`${out}: ${size} tokens (${saved.added_tokens.length} special)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
