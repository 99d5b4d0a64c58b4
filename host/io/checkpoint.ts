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
import { parseSafetensors, serializeSafetensors, type StoredTensor, type SafetensorsLimits } from "./safetensors.js";
import { writeFileAtomic, readFileBytes, checkStore, type FileStore } from "./files.js";
import { checkOptions, checkBool } from "../ops/util.js";
import { parseStrictJson, isJsonObject } from "./strict-json.js";
import { getRngState, setRngState, type RngState } from "../random.js";

const FORMAT = "webgrad-checkpoint-1";

/**
 * Saves tensors to a safetensors file (atomically).
 * @example await wg.io.saveSafetensors("model.safetensors", net.stateDict());
 */
export async function saveSafetensors(path: string, tensors: Parameters<typeof serializeSafetensors>[0], metadata: Record<string, string> = {}, opts: { store?: FileStore } = {}): Promise<void> {
  checkOptions("saveSafetensors", opts, ["store"]);
  checkStore("saveSafetensors", opts.store);
  // serializeSafetensors reads synchronously: tensors that live on the GPU are read back first
  const readable: Parameters<typeof serializeSafetensors>[0] = Object.create(null);
  for (const [k, t] of Object.entries(tensors)) {
    readable[k] = t instanceof Tensor && t.backend !== "wasm" ? { dtype: t.dtype, shape: [...t.shape], data: await t.data() } : t;
  }
  await writeFileAtomic(path, serializeSafetensors(readable, metadata), opts.store);
}

/**
 * Reads and validates a safetensors file.
 * @example
 * await wg.io.saveSafetensors("model.safetensors", net.stateDict());
 * const { tensors } = await wg.io.loadSafetensors("model.safetensors"); net.loadStateDict(tensors);
 * tensors["fc.bias"].shape; // [10]
 */
export async function loadSafetensors(path: string, opts: { store?: FileStore } & SafetensorsLimits = {}): Promise<{ tensors: Record<string, StoredTensor>; metadata: Record<string, string> }> {
  checkOptions("loadSafetensors", opts, ["store", "maxHeaderBytes", "maxTensors"]);
  checkStore("loadSafetensors", opts.store);
  const bytes = await readFileBytes(path, opts.store);
  try {
    const { store: _, ...limits } = opts;
    return parseSafetensors(bytes, limits);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** The model a checkpoint call needs, an optimizer if given, and the store. */
function checkParts(who: string, c: { model?: unknown; optimizer?: unknown; store?: unknown }): void {
  if (typeof (c?.model as Module | undefined)?.stateDict !== "function") throw new Error(`${who}: model must be a Module`);
  if (c.optimizer !== undefined && typeof (c.optimizer as Optimizer).stateDict !== "function") throw new Error(`${who}: optimizer must be an optimizer`);
  checkStore(who, c.store);
}

/**
 * Saves model (and optimizer) state with a step number, any JSON-able extra,
 * and where the global random stream stands (so dropout masks and unseeded
 * draws after a resume are the ones the uninterrupted run would have drawn).
 * @example await wg.io.saveCheckpoint("ckpt.safetensors", { model: net, optimizer: opt, step: 1000 });
 */
export async function saveCheckpoint(path: string, c: { model: Module; optimizer?: Optimizer; step?: number; extra?: unknown; store?: FileStore }): Promise<void> {
  checkOptions("saveCheckpoint", c, ["model", "optimizer", "step", "extra", "store"]);
  checkParts("saveCheckpoint", c);
  const step = c.step ?? 0;
  if (!Number.isSafeInteger(step) || step < 0) throw new Error(`saveCheckpoint: step must be a non-negative integer, got ${String(step)}`);
  let extra: string | undefined;
  try {
    extra = JSON.stringify(c.extra ?? null);
  } catch (e) {
    throw new Error(`saveCheckpoint: extra is not JSON-able (${(e as Error).message})`); // a BigInt or a cycle, named
  }
  if (extra === undefined) throw new Error("saveCheckpoint: extra is not JSON-able");
  const tensors: Record<string, any> = Object.create(null);
  for (const [k, t] of Object.entries(c.model.stateDict())) tensors[`model.${k}`] = t;
  const meta: Record<string, string> = { format: FORMAT, step: String(step), extra, rng: JSON.stringify(getRngState()) };
  if (c.optimizer) {
    const s = c.optimizer.stateDict();
    for (const [k, t] of Object.entries(s.tensors)) tensors[`optimizer.${k}`] = t;
    meta.optimizer = JSON.stringify({ type: c.optimizer.constructor.name, ...s.meta });
  }
  await saveSafetensors(path, tensors, meta, { store: c.store });
}

/** JSON from a metadata string, with an error naming the entry (never a raw SyntaxError). */
function metaJson(path: string, key: string, text: string): unknown {
  try {
    return parseStrictJson(text, `metadata ${key}`, { maxDepth: 64 });
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Restores a checkpoint into model (and optimizer); returns its step and extra.
 * The whole file is checked (names, shapes, value counts, optimizer counters,
 * step, extra, random state) before the model is touched, so a bad file
 * leaves model, optimizer and random stream as they were. The global random
 * stream is put where the saved run had it (`restoreRng: false` leaves it).
 * @example
 * await wg.io.saveCheckpoint("ckpt.safetensors", { model: net, optimizer: opt, step: 1000 });
 * const { step } = await wg.io.loadCheckpoint("ckpt.safetensors", { model: net, optimizer: opt });
 * step; // 1000
 */
export async function loadCheckpoint(path: string, c: { model: Module; optimizer?: Optimizer; store?: FileStore; restoreRng?: boolean }): Promise<{ step: number; extra: unknown }> {
  checkOptions("loadCheckpoint", c, ["model", "optimizer", "store", "restoreRng"]);
  checkParts("loadCheckpoint", c);
  checkBool("loadCheckpoint", "restoreRng", c.restoreRng);
  const { tensors, metadata } = await loadSafetensors(path, { store: c.store });
  if (metadata.format !== FORMAT) throw new Error(`${path}: not a webgrad checkpoint (format ${JSON.stringify(metadata.format)}); use loadSafetensors for plain weights`);
  for (const k of Object.keys(metadata)) if (!["format", "step", "extra", "optimizer", "rng"].includes(k)) throw new Error(`${path}: unknown metadata entry ${JSON.stringify(k)}`);
  if (!/^(0|[1-9]\d{0,15})$/.test(metadata.step ?? "") || !Number.isSafeInteger(Number(metadata.step))) throw new Error(`${path}: step ${JSON.stringify(metadata.step)} is not a non-negative integer`);
  const step = Number(metadata.step);
  let extra: unknown = null;
  try {
    // plain JSON.parse: extra is the caller's own data, given back as ordinary objects
    if (metadata.extra !== undefined) extra = JSON.parse(metadata.extra);
  } catch (e) {
    throw new Error(`${path}: metadata extra is not JSON (${(e as Error).message})`);
  }
  let rng: RngState | undefined;
  if (metadata.rng !== undefined) {
    const r = metaJson(path, "rng", metadata.rng) as RngState;
    const old = getRngState();
    try {
      setRngState(r); // checks it; put back below until everything else has passed
    } catch (e) {
      throw new Error(`${path}: metadata rng: ${(e as Error).message}`);
    } finally {
      setRngState(old);
    }
    rng = { seed: r.seed, offset: r.offset };
  }
  const model: Record<string, StoredTensor> = Object.create(null), optim: Record<string, StoredTensor> = Object.create(null);
  for (const k of Object.keys(tensors)) {
    if (k.startsWith("model.")) model[k.slice(6)] = tensors[k];
    else if (k.startsWith("optimizer.")) optim[k.slice(10)] = tensors[k];
    else throw new Error(`${path}: tensor ${JSON.stringify(k)} is neither model.* nor optimizer.*`);
  }
  try {
    c.model.checkStateDict(model);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  let optMeta: { stepCount: number; lr: number; counts: number[] } | undefined;
  if (c.optimizer) {
    if (metadata.optimizer === undefined) throw new Error(`${path}: holds no optimizer state`);
    const meta = metaJson(path, "optimizer", metadata.optimizer);
    if (!isJsonObject(meta)) throw new Error(`${path}: metadata optimizer is not an object`);
    if (meta.type !== c.optimizer.constructor.name) throw new Error(`${path}: optimizer state is ${JSON.stringify(meta.type)}'s, not ${c.optimizer.constructor.name}'s`);
    for (const k of Object.keys(meta)) if (!["type", "stepCount", "lr", "counts"].includes(k)) throw new Error(`${path}: metadata optimizer has an unknown entry ${JSON.stringify(k)}`);
    optMeta = { stepCount: meta.stepCount as number, lr: meta.lr as number, counts: meta.counts as number[] };
    try {
      c.optimizer.checkStateDict(optim, optMeta);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
  }
  // everything checked: now write
  c.model.loadStateDict(model);
  if (c.optimizer && optMeta) c.optimizer.loadStateDict(optim, optMeta);
  if (rng && c.restoreRng !== false) setRngState(rng);
  return { step, extra };
}
