// wg.models: whole models with Hugging Face's names and layouts.
export * from "./gpt.js";
// issue 17 (hk2): the preallocated KV cache for decoding
export { StaticKVCache } from "./kv-cache.js";
// Llama / Qwen2 / Mistral from a Hugging Face config.json (issue 17, helper hm)
export * from "./llama.js";
// issue 17: Hugging Face folders (loadPretrained), their files and tokenizer
export { loadPretrained, type PretrainedOptions, type Pretrained } from "./pretrained.js";
export { modelSource, type ModelSource, type ModelSourceLike, type FileSystemDirectoryHandleLike, type BlobLike } from "./source.js";
export { PretrainedTokenizer, type ChatMessage, type ChatTemplateOptions, type HFTokenizer } from "./tokenizer.js";
