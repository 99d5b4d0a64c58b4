// wg.models: whole models with Hugging Face's names and layouts.
export * from "./gpt.js";
