// How a module prints (console.log(net), String(net)): PyTorch's layer tree,
// from torch.nn.Module.__repr__, so a model reads as it does in PyTorch:
//
//   Net(
//     (conv1): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1))
//     (fc): Linear(in_features=2704, out_features=10, bias=True)
//   )
//
// A module's own line is its class name and its extraRepr(); children follow,
// indented, by their state-dict names; an array of modules prints as
// PyTorch's ModuleList, runs of identical entries folded into `(0-3): 4 x …`.
// The built-in layers' extraRepr (PyTorch's extra_repr, with Python's True,
// False and tuples so the text matches PyTorch's) is kept here, keyed by class
// name, so the layer files need no printing code; a class of your own
// overrides extraRepr(). Minifiers that rename classes change the names shown.

import type { Module } from "./module.js";
import type { Tensor } from "../tensor.js";

const py = (b: boolean) => (b ? "True" : "False");
/** Python's repr of a tuple: (3, 3), (64,). */
const tuple = (xs: readonly number[]) => `(${xs.join(", ")}${xs.length === 1 ? "," : ""})`;
const pair = (v: number | readonly number[] | undefined, d: number) => tuple(v === undefined ? [d, d] : typeof v === "number" ? [v, v] : v);
/** Python's repr of an int or tuple, as given (MaxPool2d(2) prints kernel_size=2). */
const asGiven = (v: number | readonly number[]) => (typeof v === "number" ? String(v) : tuple(v));
/** Python's repr of a float: 0.1, 1e-05, 1.0. */
function pyFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const exp = Math.floor(Math.log10(Math.abs(x)));
  return exp < -4 || exp >= 16 ? x.toExponential().replace(/e([+-])(\d)$/, "e$10$2").replace(/\.0e/, "e") : String(x);
}

type Any = Record<string, any>;
const BUILTIN: Record<string, (m: Any) => string> = {
  Linear: (m) => `in_features=${m.inFeatures}, out_features=${m.outFeatures}, bias=${py(!!m.bias)}`,
  Conv2d: (m) => {
    const [out, inG, kh, kw] = (m.weight as Tensor).shape, o = m.opts ?? {};
    const groups = o.groups ?? 1;
    let s = `${inG * groups}, ${out}, kernel_size=${tuple([kh, kw])}, stride=${pair(o.stride, 1)}`;
    if (pair(o.padding, 0) !== "(0, 0)") s += `, padding=${pair(o.padding, 0)}`;
    if (pair(o.dilation, 1) !== "(1, 1)") s += `, dilation=${pair(o.dilation, 1)}`;
    if (groups !== 1) s += `, groups=${groups}`;
    return m.bias ? s : `${s}, bias=False`;
  },
  MaxPool2d: (m) => `kernel_size=${asGiven(m.kernelSize)}, stride=${asGiven(m.stride ?? m.kernelSize)}, padding=${asGiven(m.padding)}, dilation=1, ceil_mode=${m.ceilMode ? "True" : "False"}`,
  AvgPool2d: (m) => `kernel_size=${asGiven(m.kernelSize)}, stride=${asGiven(m.stride ?? m.kernelSize)}, padding=${asGiven(m.padding)}`,
  GELU: (m) => `approximate='${m.approximate}'`,
  Flatten: (m) => `start_dim=${m.startDim}, end_dim=${m.endDim}`,
  Dropout: (m) => `p=${pyFloat(m.p)}, inplace=False`,
  LayerNorm: (m) => `${tuple(m.normalizedShape)}, eps=${pyFloat(m.eps)}, elementwise_affine=${py(!!m.weight)}`,
  Embedding: (m) => `${m.numEmbeddings}, ${m.embeddingDim}${m.paddingIdx === null || m.paddingIdx === undefined ? "" : `, padding_idx=${m.paddingIdx}`}`,
  BatchNorm2d: (m) => `${m.numFeatures}, eps=${pyFloat(m.eps)}, momentum=${m.momentum === null ? "None" : pyFloat(m.momentum)}, affine=${py(!!m.weight)}, track_running_stats=${py(!!m.running_mean)}`,
  BatchNorm1d: (m) => `${m.numFeatures}, eps=${pyFloat(m.eps)}, momentum=${m.momentum === null ? "None" : pyFloat(m.momentum)}, affine=${py(!!m.weight)}, track_running_stats=${py(!!m.running_mean)}`,
  Conv1d: (m) => {
    const [out, inC, k] = (m.weight as Tensor).shape, o = m.opts ?? {};
    const one = (v: unknown, d: number) => `(${Array.isArray(v) ? v[0] : v ?? d},)`;
    let s = `${inC}, ${out}, kernel_size=(${k},), stride=${one(o.stride, 1)}`;
    if (one(o.padding, 0) !== "(0,)") s += `, padding=${one(o.padding, 0)}`;
    if (one(o.dilation, 1) !== "(1,)") s += `, dilation=${one(o.dilation, 1)}`;
    return m.bias ? s : `${s}, bias=False`;
  },
  ConvTranspose2d: (m) => {
    const [inC, out, kh, kw] = (m.weight as Tensor).shape, o = m.opts ?? {};
    let s = `${inC}, ${out}, kernel_size=${tuple([kh, kw])}, stride=${pair(o.stride, 1)}`;
    if (pair(o.padding, 0) !== "(0, 0)") s += `, padding=${pair(o.padding, 0)}`;
    if (pair(o.outputPadding, 0) !== "(0, 0)") s += `, output_padding=${pair(o.outputPadding, 0)}`;
    if (pair(o.dilation, 1) !== "(1, 1)") s += `, dilation=${pair(o.dilation, 1)}`;
    return m.bias ? s : `${s}, bias=False`;
  },
  GroupNorm: (m) => `${m.numGroups}, ${m.numChannels}, eps=${pyFloat(m.eps)}, affine=${py(!!m.weight)}`,
  RMSNorm: (m) => `${tuple(m.normalizedShape)}, eps=${m.eps === null ? "None" : pyFloat(m.eps)}, elementwise_affine=${py(!!m.weight)}`,
  LeakyReLU: (m) => `negative_slope=${pyFloat(m.negativeSlope)}`,
  LSTM: recurrent,
  GRU: recurrent,
};

function recurrent(m: Any): string {
  let s = `${m.inputSize}, ${m.hiddenSize}`;
  if (m.projSize) s += `, proj_size=${m.projSize}`;
  if (m.numLayers !== 1) s += `, num_layers=${m.numLayers}`;
  if (m.hasBias === false) s += ", bias=False";
  if (m.batchFirst) s += ", batch_first=True";
  if (m.dropout) s += `, dropout=${pyFloat(m.dropout)}`;
  if (m.bidirectional) s += ", bidirectional=True";
  return s;
}

/** PyTorch's extra_repr of the built-in layers; "" for any other module. */
export function builtinExtraRepr(m: Module): string {
  const f = Object.hasOwn(BUILTIN, m.constructor.name) ? BUILTIN[m.constructor.name] : undefined;
  try {
    return f ? f(m as unknown as Any) : "";
  } catch {
    return ""; // a user class that shares a built-in's name but not its fields
  }
}

const indent = (s: string) => s.split("\n").join("\n  ");

function block(name: string, extra: string, children: string[]): string {
  const lines = [...(extra ? extra.split("\n") : []), ...children];
  if (!lines.length) return `${name}()`;
  if (extra && !children.length && !extra.includes("\n")) return `${name}(${extra})`;
  return `${name}(\n  ${lines.join("\n  ")}\n)`;
}

/** A ModuleList's lines: runs of modules that print the same fold into `(i-j): n x …` (PyTorch 2). */
function listLines(items: Module[]): string[] {
  const reprs = items.map(formatModule), out: string[] = [];
  for (let i = 0; i < reprs.length;) {
    let j = i;
    while (j + 1 < reprs.length && reprs[j + 1] === reprs[i]) j++;
    out.push(j === i ? `(${i}): ${indent(reprs[i])}` : `(${i}-${j}): ${j - i + 1} x ${indent(reprs[i])}`);
    i = j + 1;
  }
  return out;
}

/**
 * The module's PyTorch-style tree.
 * @example formatModule(new wg.nn.Linear(4, 2)); // "Linear(in_features=4, out_features=2, bias=True)"
 */
export function formatModule(m: Module): string {
  const children: string[] = [];
  const lists = new Map<string, Module[]>();
  for (const [name, child] of m.namedChildren()) {
    const dot = name.lastIndexOf(".");
    const list = dot > 0 && /^\d+$/.test(name.slice(dot + 1)) ? name.slice(0, dot) : null;
    if (list !== null && Array.isArray((m as unknown as Any)[list])) {
      // an array field: one ModuleList entry, at the position of its first element
      if (!lists.has(list)) {
        lists.set(list, []);
        children.push(`\0${list}`);
      }
      lists.get(list)!.push(child);
    } else children.push(`(${name}): ${indent(formatModule(child))}`);
  }
  const lines = children.map((c) => (c.startsWith("\0") ? `(${c.slice(1)}): ${indent(block("ModuleList", "", listLines(lists.get(c.slice(1))!)))}` : c));
  return block(m.constructor.name, m.extraRepr(), lines);
}
