// Placeholder until helper hm's host/models/llama.ts lands (createCausalLM).
import type { Module } from "../nn/module.js";
export const SUPPORTED_MODEL_TYPES = ["llama", "qwen2", "mistral"];
export function createCausalLM(config: Record<string, unknown>): Module {
  throw new Error(`createCausalLM: ${String(config.model_type)} is not built yet`);
}
