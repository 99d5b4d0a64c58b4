// wg.models: whole models with Hugging Face's names and layouts.
export * from "./gpt.js";
// issue 17: Hugging Face folders (loadPretrained), their files and tokenizer
export { loadPretrained, type PretrainedOptions, type Pretrained, type GenerationConfig } from "./pretrained.js";
export { modelSource, type ModelSource, type ModelSourceLike, type FileSystemDirectoryHandleLike, type BlobLike } from "./source.js";
export { PretrainedTokenizer, type ChatMessage, type ChatTemplateOptions } from "./tokenizer.js";
