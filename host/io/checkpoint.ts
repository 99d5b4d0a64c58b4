// Checkpoints: a model's state dict (PyTorch names and layouts) and, when
// given, the optimizer's state and counters, in one safetensors file, so
// training resumes exactly where it stopped. Files are written atomically
// (a temporary file in the same folder, then a rename): a crash mid-write
// leaves the previous checkpoint intact. Node, Deno and Bun keep files on the
// file system; browsers in the origin private file system or IndexedDB
// (host/io/files.ts; pass `store` to choose).

import type { Module } from "../nn/module.js";
import { Tensor } from "../tensor.js";
import type { Optimizer } from "../optim/optimizer.js";
import { parseSafetensors, serializeSafetensors, type StoredTensor } from "./safetensors.js";
import { writeFileAtomic, readFileBytes, type FileStore } from "./files.js";

const FORMAT = "webgrad-checkpoint-1";

/**
 * Saves tensors to a safetensors file (atomically).
 * @example await wg.io.saveSafetensors("model.safetensors", net.stateDict());
 */
export async function saveSafetensors(path: string, tensors: Parameters<typeof serializeSafetensors>[0], metadata: Record<string, string> = {}, opts: { store?: FileStore } = {}): Promise<void> {
  // serializeSafetensors reads synchronously: tensors that live on the GPU are read back first
  const readable: Parameters<typeof serializeSafetensors>[0] = {};
  for (const [k, t] of Object.entries(tensors)) {
    readable[k] = t instanceof Tensor && t.backend !== "wasm" ? { dtype: t.dtype, shape: [...t.shape], data: await t.data() } : t;
  }
  await writeFileAtomic(path, serializeSafetensors(readable, metadata), opts.store);
}

/**
 * Reads and validates a safetensors file.
 * @example const { tensors } = await wg.io.loadSafetensors("model.safetensors"); net.loadStateDict(tensors);
 */
export async function loadSafetensors(path: string, opts: { store?: FileStore } = {}): Promise<{ tensors: Record<string, StoredTensor>; metadata: Record<string, string> }> {
  const bytes = await readFileBytes(path, opts.store);
  try {
    return parseSafetensors(bytes);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Saves model (and optimizer) state with a step number and any JSON-able extra.
 * @example await wg.io.saveCheckpoint("ckpt.safetensors", { model: net, optimizer: opt, step: 1000 });
 */
export async function saveCheckpoint(path: string, c: { model: Module; optimizer?: Optimizer; step?: number; extra?: unknown; store?: FileStore }): Promise<void> {
  const tensors: Record<string, any> = {};
  for (const [k, t] of Object.entries(c.model.stateDict())) tensors[`model.${k}`] = t;
  const meta: Record<string, string> = { format: FORMAT, step: String(c.step ?? 0), extra: JSON.stringify(c.extra ?? null) };
  if (c.optimizer) {
    const s = c.optimizer.stateDict();
    for (const [k, t] of Object.entries(s.tensors)) tensors[`optimizer.${k}`] = t;
    meta.optimizer = JSON.stringify({ type: c.optimizer.constructor.name, ...s.meta });
  }
  await saveSafetensors(path, tensors, meta, { store: c.store });
}

/**
 * Restores a checkpoint into model (and optimizer); returns its step and extra.
 * @example const { step } = await wg.io.loadCheckpoint("ckpt.safetensors", { model: net, optimizer: opt });
 */
export async function loadCheckpoint(path: string, c: { model: Module; optimizer?: Optimizer; store?: FileStore }): Promise<{ step: number; extra: unknown }> {
  const { tensors, metadata } = await loadSafetensors(path, { store: c.store });
  if (metadata.format !== FORMAT) throw new Error(`${path}: not a webgrad checkpoint (format ${JSON.stringify(metadata.format)}); use loadSafetensors for plain weights`);
  const pick = (prefix: string) => Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v]));
  c.model.loadStateDict(pick("model."));
  if (c.optimizer) {
    if (!metadata.optimizer) throw new Error(`${path}: holds no optimizer state`);
    const meta = JSON.parse(metadata.optimizer);
    if (meta.type !== c.optimizer.constructor.name) throw new Error(`${path}: optimizer state is ${meta.type}'s, not ${c.optimizer.constructor.name}'s`);
    c.optimizer.loadStateDict(pick("optimizer."), meta);
  }
  return { step: Number(metadata.step), extra: JSON.parse(metadata.extra ?? "null") };
}
