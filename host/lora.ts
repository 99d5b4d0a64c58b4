// wg.lora: low-rank adapters (LoRA, Hu et al. 2021) in PEFT's layout. attach()
// freezes a model and wraps the Linear layers it names in LoraLinear
// (y = base(x) + B·A·dropout(x) · alpha/r, A [r, in] kaiming-uniform, B [out, r]
// zeros, so the wrapped model starts as the base); only A and B train. save()
// writes adapter_model.safetensors and adapter_config.json as PEFT does (so
// `PeftModel.from_pretrained` reads them), load() reads PEFT's files back onto
// a base model, merge() folds B·A·scaling into the base weights.

import { Module, parameter } from "./nn/module.js";
import { Linear } from "./nn/layers.js";
import { QuantizedLinear } from "./nn/quantized.js";
import { Tensor } from "./tensor.js";
import * as ops from "./ops/index.js";
import { noGrad } from "./autograd.js";
import { scope } from "./scope.js";
import { checkOptions, checkInt, checkNumber } from "./ops/util.js";
import { freeze } from "./deploy.js";
import { serializeSafetensors, SafetensorsFile, type StoredTensor } from "./io/safetensors.js";
import { writeFileAtomic } from "./io/files.js";
import { isJsonObject } from "./io/strict-json.js";
import { modelSource, type ModelSourceLike } from "./models/source.js";

/** attach()'s options, PEFT's LoraConfig in camelCase. */
export interface LoraOptions {
  /** The adapters' rank (default 8). */
  r?: number;
  /** The scale numerator: the update is B·A·alpha/r (default 8, PEFT's lora_alpha). */
  alpha?: number;
  /** Dropout on the adapters' input while training (default 0). */
  dropout?: number;
  /** Module names to adapt: a Linear whose dotted name is one of these or ends with "." + one (default ["q_proj", "v_proj"], PEFT's for Llama). */
  targetModules?: string[];
  /** rsLoRA: scale by alpha/√r instead of alpha/r (PEFT's use_rslora). */
  useRslora?: boolean;
}

const OPTIONS = ["r", "alpha", "dropout", "targetModules", "useRslora"];

/**
 * A frozen Linear plus a trainable low-rank update: y = base(x) + B(A(dropout(x)))·scaling.
 * PEFT's names: base_layer, lora_A, lora_B.
 * @example
 * const l = new wg.lora.LoraLinear(new wg.nn.Linear(8, 4), { r: 2, alpha: 4 });
 * l.lora_A.weight.shape; // [2, 8]
 * l.lora_B.weight.shape; // [4, 2]
 * l.scaling; // 2
 */
export class LoraLinear extends Module {
  base_layer: Linear;
  lora_A: Linear;
  lora_B: Linear;
  readonly r: number;
  readonly alpha: number;
  readonly scaling: number;
  readonly dropout: number;

  constructor(base: Linear, opts: { r?: number; alpha?: number; dropout?: number; useRslora?: boolean } = {}) {
    super();
    if (!(base instanceof Linear)) throw new Error("LoraLinear: base must be an nn.Linear");
    const { r, alpha, dropout, useRslora } = checkLora("LoraLinear", opts);
    this.base_layer = base;
    this.r = r;
    this.alpha = alpha;
    this.dropout = dropout;
    this.scaling = useRslora ? alpha / Math.sqrt(r) : alpha / r;
    // A: PEFT's kaiming_uniform_(a=√5), i.e. U(±1/√in), which is nn.Linear's own init; B: zeros, so the update starts at 0
    this.lora_A = new Linear(base.inFeatures, r, { bias: false });
    this.lora_B = new Linear(r, base.outFeatures, { bias: false });
    noGrad(() => this.lora_B.weight.mul_(0));
  }

  get inFeatures(): number { return this.base_layer.inFeatures; }
  get outFeatures(): number { return this.base_layer.outFeatures; }

  forward(x: Tensor): Tensor {
    const y = this.base_layer.forward(x);
    const h = this.dropout > 0 ? ops.dropout(x, this.dropout, this.training) : x;
    return ops.add(y, ops.mul(this.lora_B.forward(this.lora_A.forward(h)), this.scaling));
  }

  override extraRepr(): string {
    return `r=${this.r}, alpha=${this.alpha}, scaling=${this.scaling}, dropout=${this.dropout}`;
  }
}

function checkLora(who: string, opts: LoraOptions) {
  checkOptions(who, opts, OPTIONS);
  const r = opts.r ?? 8;
  checkInt(who, "r", r, 1);
  const alpha = opts.alpha ?? 8;
  checkNumber(who, "alpha", alpha, 0, Infinity, true);
  const dropout = opts.dropout ?? 0;
  checkNumber(who, "dropout", dropout, 0, 1, false, true);
  if (opts.useRslora !== undefined && typeof opts.useRslora !== "boolean") throw new Error(`${who}: useRslora must be true or false, got ${JSON.stringify(opts.useRslora)}`);
  return { r, alpha, dropout, useRslora: opts.useRslora ?? false };
}

/** A module's children that are Modules, with the slot each sits in (fields and array entries), in namedChildren order. */
function slots(m: Module): { key: string; child: Module; put: (n: Module) => void }[] {
  const own = m as unknown as Record<string, unknown>;
  const out: { key: string; child: Module; put: (n: Module) => void }[] = [];
  for (const key of Object.keys(own)) {
    const v = own[key];
    if (v instanceof Module) out.push({ key, child: v, put: (n) => (own[key] = n) });
    else if (Array.isArray(v)) v.forEach((c, i) => c instanceof Module && out.push({ key: `${key}.${i}`, child: c, put: (n) => (v[i] = n) }));
  }
  return out;
}

/** Every module below `m` with its dotted name (PyTorch's named_modules, without the root). */
function walk(m: Module, visit: (name: string, child: Module, put: (n: Module) => void) => boolean | void, prefix = ""): void {
  for (const { key, child, put } of slots(m)) {
    const name = prefix + key;
    if (visit(name, child, put) === false) continue; // replaced or a leaf: do not look inside
    walk(child, visit, `${name}.`);
  }
}

/** PEFT's matching: a name equal to a target or ending with "." + target; a single string is a regex over the whole name. */
function matcher(targets: string[] | string): (name: string) => boolean {
  if (typeof targets === "string") {
    const re = new RegExp(`^(?:${targets})$`);
    return (n) => re.test(n);
  }
  return (n) => targets.some((t) => n === t || n.endsWith(`.${t}`));
}

/** The adapters of a model, by module name. */
function adapters(model: Module): [string, LoraLinear][] {
  const out: [string, LoraLinear][] = [];
  walk(model, (name, child) => {
    if (child instanceof LoraLinear) { out.push([name, child]); return false; }
  });
  return out;
}

/** What attach() records on the model, for save(). */
const CONFIGS = new WeakMap<Module, { r: number; alpha: number; dropout: number; targetModules: string[] | string; useRslora: boolean }>();

/**
 * Freezes every parameter of `model` and wraps each nn.Linear whose name
 * matches targetModules in a LoraLinear; returns the adapted names. Only the
 * adapters train: pass `wg.trainable(model)` (or all parameters: frozen ones
 * are skipped) to an optimizer, or train with wg.fit.
 * @example
 * const net = new wg.nn.Sequential(new wg.nn.Linear(8, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 2));
 * wg.lora.attach(net, { r: 4, alpha: 8, targetModules: ["0", "2"] }); // ["0", "2"]
 * wg.trainable(net).length; // 4
 */
export function attach(model: Module, opts: LoraOptions = {}): string[] {
  return attachMatching("lora.attach", model, opts, opts.targetModules ?? ["q_proj", "v_proj"]);
}

function attachMatching(who: string, model: Module, opts: LoraOptions, targets: string[] | string): string[] {
  if (!(model instanceof Module)) throw new Error(`${who}: model must be an nn.Module`);
  const { r, alpha, dropout, useRslora } = checkLora(who, opts);
  if (typeof targets !== "string" && (!Array.isArray(targets) || !targets.length || !targets.every((t) => typeof t === "string" && t))) {
    throw new Error(`${who}: targetModules must be a non-empty list of module names (e.g. ["q_proj", "v_proj"]), got ${JSON.stringify(targets)}`);
  }
  if (adapters(model).length) throw new Error(`${who}: the model already has LoRA adapters (merge() them, or load a fresh base model)`);
  const wanted = matcher(targets);
  const found: { name: string; layer: Linear; put: (n: Module) => void }[] = [];
  const linears: string[] = [], quantized: string[] = [];
  walk(model, (name, child, put) => {
    if (child instanceof Linear) {
      linears.push(name);
      if (wanted(name)) found.push({ name, layer: child, put });
      return false;
    }
    if (child instanceof QuantizedLinear && wanted(name)) quantized.push(name);
  });
  if (quantized.length) {
    throw new Error(`${who}: ${quantized[0]} is int8 (QuantizedLinear), which has no gradient to train through; load the model in float32 (loadPretrained without dtype: "int8") to fine-tune it`);
  }
  if (!found.length) {
    throw new Error(`${who}: no nn.Linear matches targetModules ${JSON.stringify(targets)}; the model's Linear layers are ${linears.length ? linears.slice(0, 8).join(", ") + (linears.length > 8 ? ", …" : "") : "none"}`);
  }
  freeze(model);
  // in the mode of the layer it wraps: a model in eval() must not start dropping its adapters' inputs
  for (const { layer, put } of found) put(new LoraLinear(layer, { r, alpha, dropout, useRslora }).train(layer.training));
  CONFIGS.set(model, { r, alpha, dropout, targetModules: targets, useRslora });
  return found.map((f) => f.name);
}

// ------------------------------------------------------------ PEFT files

const PREFIX = "base_model.model.";
const WEIGHTS = "adapter_model.safetensors", CONFIG = "adapter_config.json";

/** Where save() writes: a folder (the file system in Node, Deno and Bun; OPFS or IndexedDB in browsers), or a function given each file. */
export type AdapterSink = string | ((name: string, bytes: Uint8Array) => void | Promise<void>);

/**
 * Writes the adapters in PEFT's layout: adapter_model.safetensors with
 * `base_model.model.<module>.lora_A.weight` / `lora_B.weight`, and
 * adapter_config.json (peft_type "LORA", r, lora_alpha, lora_dropout,
 * target_modules, task_type "CAUSAL_LM", …). Returns the two files' bytes.
 * @example
 * const net = new wg.nn.Sequential(new wg.nn.Linear(8, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 2));
 * wg.lora.attach(net, { r: 2, targetModules: ["0"] });
 * const files = await wg.lora.save(net, "adapter");
 * Object.keys(files); // ["adapter_model.safetensors", "adapter_config.json"]
 */
export async function save(model: Module, to: AdapterSink, opts: { baseModelNameOrPath?: string | null; taskType?: string } = {}): Promise<Record<string, Uint8Array>> {
  checkOptions("lora.save", opts, ["baseModelNameOrPath", "taskType"]);
  const found = adapters(model);
  const cfg = CONFIGS.get(model);
  if (!found.length || !cfg) throw new Error("lora.save: the model has no LoRA adapters (wg.lora.attach or wg.lora.load first)");
  if (typeof to !== "string" && typeof to !== "function") throw new Error(`lora.save: to must be a folder path or a function (name, bytes), got ${typeof to}`);
  const tensors: Record<string, StoredTensor> = Object.create(null);
  for (const [name, l] of found) {
    for (const k of ["lora_A", "lora_B"] as const) {
      const w = l[k].weight;
      tensors[`${PREFIX}${name}.${k}.weight`] = { dtype: "float32", shape: [...w.shape], data: Float32Array.from(await w.data() as Float32Array) };
    }
  }
  // target_modules as PEFT writes it: the names given (a set there, a list here), or the regex string
  const config = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: opts.baseModelNameOrPath ?? null,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: cfg.alpha,
    lora_dropout: cfg.dropout,
    modules_to_save: null,
    peft_type: "LORA",
    r: cfg.r,
    rank_pattern: {},
    revision: null,
    target_modules: typeof cfg.targetModules === "string" ? cfg.targetModules : [...cfg.targetModules].sort(),
    task_type: opts.taskType ?? "CAUSAL_LM",
    use_dora: false,
    use_rslora: cfg.useRslora,
  };
  const files: Record<string, Uint8Array> = {
    [WEIGHTS]: serializeSafetensors(tensors, { format: "pt" }),
    [CONFIG]: new TextEncoder().encode(JSON.stringify(config, null, 2) + "\n"),
  };
  for (const [name, bytes] of Object.entries(files)) {
    if (typeof to === "string") await writeFileAtomic(`${to.replace(/\/+$/, "")}/${name}`, bytes);
    else await to(name, bytes);
  }
  return files;
}

/**
 * Reads PEFT's adapter_config.json and adapter_model.safetensors (a folder,
 * URL base, directory handle or Files, as loadPretrained takes) and attaches
 * those adapters to `model` (a base model without adapters); returns the
 * adapted names. Every adapter's A and B must be there with the shapes the
 * config and the model give, and nothing else.
 * @example
 * const make = () => { wg.manualSeed(1); return new wg.nn.Sequential(new wg.nn.Linear(8, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 2)); };
 * const tuned = make(); wg.lora.attach(tuned, { r: 2, targetModules: ["0"] });
 * await wg.lora.save(tuned, "adapter");
 * await wg.lora.load(make(), "adapter"); // ["0"]
 */
export async function load(model: Module, from: ModelSourceLike): Promise<string[]> {
  const src = modelSource(from);
  if (!(await src.has(CONFIG))) throw new Error(`lora.load: ${src.description} has no ${CONFIG} (the folder PEFT's save_pretrained writes)`);
  const c = await src.readJson(CONFIG);
  if (!isJsonObject(c)) throw new Error(`lora.load: ${CONFIG} is not a JSON object`);
  const bad = (what: string) => new Error(`lora.load: ${src.description}/${CONFIG}: ${what}`);
  if (c.peft_type !== "LORA") throw bad(`peft_type is ${JSON.stringify(c.peft_type)}, only "LORA" adapters are read`);
  if (c.use_dora === true) throw bad("use_dora is true; DoRA adapters are not supported");
  if (c.fan_in_fan_out === true) throw bad("fan_in_fan_out is true (GPT-2 Conv1D layout); only nn.Linear adapters are supported");
  if (c.bias !== undefined && c.bias !== "none") throw bad(`bias is ${JSON.stringify(c.bias)}; only "none" is supported (the base biases stay as they are)`);
  if (Array.isArray(c.modules_to_save) && c.modules_to_save.length) throw bad(`modules_to_save ${JSON.stringify(c.modules_to_save)} is not supported`);
  for (const k of ["rank_pattern", "alpha_pattern"]) if (isJsonObject(c[k]) && Object.keys(c[k] as object).length) throw bad(`${k} is not supported (one r and lora_alpha for every layer)`);
  const targets = c.target_modules;
  if (!(typeof targets === "string" || (Array.isArray(targets) && targets.every((t) => typeof t === "string")))) throw bad(`target_modules must be a list of names or a regex string, got ${JSON.stringify(targets)}`);
  const opts: LoraOptions = { r: c.r as number, alpha: (c.lora_alpha ?? 8) as number, dropout: (c.lora_dropout ?? 0) as number, useRslora: c.use_rslora === true };
  if (!(await src.has(WEIGHTS))) throw new Error(`lora.load: ${src.description} has no ${WEIGHTS}${(await src.has("adapter_model.bin")) ? " (adapter_model.bin is a pickle, not read here: save with safe_serialization)" : ""}`);
  const file = SafetensorsFile.fromBytes(await src.readBytes(WEIGHTS));
  const wasTrainable = model.parameters().map((p) => [p, p.requiresGrad] as const);
  const names = attachMatching("lora.load", model, opts, targets as string[] | string);
  try {
    const found = new Map(adapters(model));
    const used = new Set<string>();
    for (const [name, l] of found) {
      for (const k of ["lora_A", "lora_B"] as const) {
        // PEFT saves without the adapter name; some older files keep ".default"
        const stored = [`${PREFIX}${name}.${k}.weight`, `${PREFIX}${name}.${k}.default.weight`].find((n) => file.has(n));
        if (!stored) throw new Error(`lora.load: ${WEIGHTS} has no ${PREFIX}${name}.${k}.weight, which target_modules ${JSON.stringify(targets)} adapts in this model (is it the adapter's base model?)`);
        const t = await file.read(stored);
        const w = l[k].weight;
        if (t.shape.join() !== w.shape.join()) throw new Error(`lora.load: ${stored} is [${t.shape}], this model with r ${opts.r} expects [${w.shape}] (is it the adapter's base model?)`);
        scope(() => noGrad(() => w.copy_(ops.tensor(t.data as Float32Array, { shape: [...t.shape] }))));
        used.add(stored);
      }
    }
    const unexpected = file.names.filter((n) => !used.has(n));
    if (unexpected.length) throw new Error(`lora.load: ${WEIGHTS} has tensors no adapted layer of this model takes: ${unexpected.slice(0, 4).join(", ")}${unexpected.length > 4 ? ", …" : ""}`);
  } catch (e) {
    // a failed load leaves the model as it was: no adapters, nothing frozen that was not
    unwrap(model, false);
    for (const [p, g] of wasTrainable) p.requiresGrad = g;
    throw e;
  }
  return names;
}

/** Puts each LoraLinear's base layer back; with fold, B·A·scaling added to its weight first. */
function unwrap(model: Module, fold: boolean): string[] {
  const names: string[] = [];
  walk(model, (name, child, put) => {
    if (!(child instanceof LoraLinear)) return;
    if (fold) {
      const w = child.base_layer.weight;
      scope(() => noGrad(() => w.add_(ops.matmul(child.lora_B.weight, child.lora_A.weight), child.scaling)));
    }
    put(child.base_layer);
    child.lora_A.dispose();
    child.lora_B.dispose();
    names.push(name);
    return false;
  });
  CONFIGS.delete(model);
  return names;
}

/**
 * Folds every adapter into its base weight (W += B·A·scaling) and puts the
 * plain nn.Linear back (PEFT's merge_and_unload); returns the merged names.
 * The merged model runs as fast as the base; its parameters stay frozen
 * (wg.freeze(model, false) to train them all).
 * @example
 * const net = new wg.nn.Sequential(new wg.nn.Linear(8, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 2));
 * wg.lora.attach(net, { r: 2, targetModules: ["0"] });
 * wg.lora.merge(net); // ["0"]
 * net.layers[0] instanceof wg.nn.Linear; // true
 */
export function merge(model: Module): string[] {
  if (!adapters(model).length) throw new Error("lora.merge: the model has no LoRA adapters");
  return unwrap(model, true);
}
