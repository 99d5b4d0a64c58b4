// PyTorch as the oracle: the fixtures scripts/torch-fixtures.py wrote with
// Debian's python3-torch (test/fixtures/torch/*.json, committed; CI needs no
// torch) are run on every backend this machine tests (test/backends.ts).
// Each case names a webgrad call, its inputs (some handed over as permuted or
// transposed views), PyTorch's outputs and the gradients of
// Σ_k (out_k · w_k).sum() for fixed w_k with respect to every float input, and
// for layers the parameters' gradients after a strict loadStateDict of the
// torch module's state dict (PyTorch's names and layouts). Optimizer cases
// compare the parameters after each of several steps and the final state
// (state.<i>.<key>, torch's names); schedule cases the lr at each step.
//
// Two kinds of case are skipped, each with its reason, counted in the
// runner's "skipped":
//   - KNOWN_DIVERGENCES: cases that fail today, each a divergence webgrad must
//     fix (issue 15). When a fix lands, delete its line: the case then checks.
//     One test per backend runs them all anyway and prints those that now
//     match PyTorch, so the table is easy to keep honest.
//   - ops, layers, optimizers and schedules PyTorch has and webgrad does not
//     (yet): the case names the camelCase webgrad path it expects (gather,
//     nn.Conv1d, optim.RMSprop, ...); it is skipped while that path does not
//     exist in `wg`, and starts checking by itself when it does.
//
// Tolerances: float32 against float32 (PyTorch's CPU kernels sum in other
// orders than webgrad's), rtol 1e-4 / atol 1e-5 unless a case or a group
// below says otherwise and why.
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import * as wg from "../host/index.js";
import { forEachBackend } from "./backends.js";

/** Cases (group/name) that fail today, and why: divergences from PyTorch webgrad must fix (issue 15). */
export const KNOWN_DIVERGENCES: Record<string, string> = {
  // one backend only (the key ends with " [backend]")
  "special/abs denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so the gradient at ±1e-40 is sign(0)·dy = 0, PyTorch's ±dy",
  "special/ceil denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so ceil(1e-40) is 0, PyTorch's 1",
  "special/floor denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so floor(-1e-40) is -0, PyTorch's -1",
  "special/log denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so log(1e-40) is -inf and log(-1e-40) -inf, PyTorch's -92.1 and NaN",
  "special/reciprocal denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so 1/1e-40 is inf, 1/5e-39 too (PyTorch's 2e38)",
  "special/relu denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so the gradient at 1e-40 is 0, PyTorch's dy",
  "special/rsqrt denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so rsqrt(-1e-40) is -inf (rsqrt(-0)), PyTorch's NaN",
  "special/sign denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so sign(±1e-40) is 0, PyTorch's ±1",
  "special/sqrt denormals [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so sqrt(-1e-40) is -0, PyTorch's NaN",
  "special/binaryCrossEntropy denormal p [webgpu]": "the GPU flushes denormal inputs to ±0 (WGSL allows it; SwiftShader does), so p = 1e-44 reads as 0, so the target gradient −logit(p) is inf, PyTorch's 101.3",
  "special/sin huge arguments [webgpu]": "sin(3e38), sin(1e20): WGSL has no f64 for a full (Payne–Hanek) range reduction and the GPU twin's Cody–Waite reduction in f32 holds to |x| ≈ 8192 (wasm redoes those lanes in f64 and matches)",
  "special/cos huge arguments [webgpu]": "cos(3e38), cos(1e20): as sin huge arguments",
};

/** The known divergence of a case on a backend: "<key> [backend]" for that backend only, or "<key>" for all. */
const knownFor = (key: string, backend: string): string | undefined => KNOWN_DIVERGENCES[`${key} [${backend}]`] ?? KNOWN_DIVERGENCES[key];

const MISSING = "not in webgrad yet (issue 15)";

// ---------------------------------------------------------------- fixtures

interface Stored { shape: number[]; dtype: "float32" | "int32"; b64?: string; data?: number[]; view?: { permute?: number[]; transpose?: [number, number] }; grad?: boolean }
interface Case {
  name: string; kind: "fn" | "module" | "optim" | "sched"; note?: string; tol?: { rtol: number; atol: number };
  // fn
  fn: string; args: unknown[]; inputs: Stored[]; outputs: Stored[]; w: (Stored | null)[]; grads?: (Stored | null)[];
  // module
  module: string; ctor: unknown[]; train: boolean; state: Record<string, Stored>; paramGrads?: Record<string, Stored>; stateAfter?: Record<string, Stored>;
  // optim
  optim: string; opts: Record<string, unknown>; params: Stored[]; paramsAfter: Stored[][];
  // sched
  base: number; lrs: number[]; metrics?: number[];
}

const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test", "fixtures", "torch");
const groups = readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => {
  const j = JSON.parse(readFileSync(join(dir, f), "utf8")) as { group: string; torch: string; cases: Case[] };
  return { group: j.group, cases: j.cases };
});

function values(s: Stored): Float32Array | Int32Array {
  if (s.dtype === "int32") return Int32Array.from(s.data!);
  const b = Buffer.from(s.b64!, "base64");
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Float32Array(copy.buffer); // little-endian bytes, as the script wrote them (every JS host we run is LE)
}

/** The thing a dotted path names in `wg` ("nn.functional.pad", "optim.RMSprop"), with its owner (for static methods), or undefined. */
function lookup(path: string): { owner: any; value: any } | undefined {
  let owner: any = undefined, v: any = wg;
  for (const k of path.split(".")) {
    if (v === undefined || v === null) return undefined;
    owner = v;
    v = Object.hasOwn(v, k) || (typeof v === "function" && k in v) ? v[k] : undefined;
  }
  return v === undefined ? undefined : { owner, value: v };
}

/** The webgrad path a case needs. */
const pathOf = (c: Case) => (c.kind === "fn" || c.kind === "sched" ? c.fn : c.kind === "module" ? c.module : c.optim);

/** Every module path a constructor argument list names ({"$m": "nn.Linear"} inside nn.Sequential). */
function modulePaths(c: Case): string[] {
  const out = [pathOf(c)];
  const walk = (a: unknown) => {
    if (Array.isArray(a)) a.forEach(walk);
    else if (a && typeof a === "object") {
      if ("$m" in a) out.push((a as any).$m);
      Object.values(a).forEach(walk);
    }
  };
  if (c.kind === "module") walk(c.ctor);
  return out;
}

// ---------------------------------------------------------------- running a case

function makeInput(s: Stored): wg.Tensor {
  const v = values(s);
  return s.dtype === "int32"
    ? wg.tensor(v, { shape: s.shape, dtype: "int32" })
    : wg.tensor(v, { shape: s.shape, requiresGrad: !!s.grad });
}

function viewOf(t: wg.Tensor, s: Stored): wg.Tensor {
  if (s.view?.permute) return t.permute(...s.view.permute);
  if (s.view?.transpose) return t.transpose(...s.view.transpose);
  return t;
}

function resolveArg(a: unknown, xs: wg.Tensor[]): unknown {
  if (Array.isArray(a)) return a.map((x) => resolveArg(x, xs));
  if (a && typeof a === "object") {
    const o = a as Record<string, unknown>;
    if ("$t" in o) return xs[o.$t as number];
    if ("$tl" in o) return (o.$tl as number[]).map((i) => xs[i]);
    if ("$m" in o) return construct(o.$m as string, o.ctor as unknown[]);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveArg(v, xs)]));
  }
  return a;
}

function construct(path: string, ctor: unknown[]): wg.nn.Module {
  const C = lookup(path)!.value;
  return new C(...(resolveArg(ctor, []) as unknown[]));
}

function tensorsOf(r: unknown): wg.Tensor[] {
  if (r instanceof wg.Tensor) return [r];
  if (Array.isArray(r)) return r.flatMap(tensorsOf);
  // sort and topk give { values, indices }, PyTorch a (values, indices) named tuple
  if (r && typeof r === "object" && (r as any).values instanceof wg.Tensor && (r as any).indices instanceof wg.Tensor) return [(r as any).values, (r as any).indices];
  return []; // null (MultiheadAttention's weights when not asked for)
}

interface Tol { rtol: number; atol: number }

async function compare(got: wg.Tensor | null | undefined, want: Stored | null | undefined, tol: Tol, what: string): Promise<void> {
  if (!want) {
    // PyTorch gave no gradient (the input does not reach the loss): webgrad may give none, or zeros
    if (got) for (const v of await got.data()) if (v !== 0) throw new Error(`${what}: PyTorch gives no gradient, webgrad a nonzero one (${v})`);
    return;
  }
  const exp = values(want);
  if (!got) {
    if (exp.every((v) => v === 0)) return;
    throw new Error(`${what}: webgrad gives no gradient, PyTorch a nonzero one`);
  }
  if (got.shape.join() !== want.shape.join()) throw new Error(`${what}: shape [${got.shape}], PyTorch's [${want.shape}]`);
  const a = await got.data();
  let worst = -1, worstErr = 0;
  for (let i = 0; i < exp.length; i++) {
    const x = a[i], y = exp[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : x === y || Math.abs(x - y) <= tol.atol + tol.rtol * Math.abs(y);
    if (!ok) {
      const e = Math.abs(x - y) - tol.atol - tol.rtol * Math.abs(y);
      if (worst < 0 || !(e <= worstErr)) (worst = i, worstErr = e);
    }
  }
  if (worst >= 0) throw new Error(`${what}: element ${worst} is ${a[worst]}, PyTorch's ${exp[worst]} (rtol ${tol.rtol}, atol ${tol.atol})`);
}

const DEFAULT_TOL: Tol = { rtol: 1e-4, atol: 1e-5 };
function tolOf(group: string, c: Case): Tol {
  if (c.tol) return c.tol;
  // Adam's update divides by √v̂ + eps: a last-place difference in v moves p by ~lr·1e-7 relative, and
  // the steps compound; 1e-5 absolute on parameters of size ~1 is still far below one step (lr 1e-3)
  if (group === "optim") return { rtol: 1e-5, atol: 1e-5 };
  // schedules are float64 arithmetic on both sides
  if (group === "schedules") return { rtol: 1e-9, atol: 1e-12 };
  return DEFAULT_TOL;
}

/**
 * Runs `call` on the case's inputs (made, and viewed as PyTorch viewed them) and
 * backpropagates Σ outᵢ·wᵢ, PyTorch's loss for the case: the outputs and each
 * input's gradient (null where PyTorch has none).
 */
function forwardBackward(c: Case, call: (args: unknown[]) => unknown): { outs: wg.Tensor[]; grads: (wg.Tensor | null)[] } {
  return wg.scope(() => {
    const leaves = c.inputs.map(makeInput);
    const xs = leaves.map((l, i) => viewOf(l, c.inputs[i]));
    const outs = tensorsOf(call(resolveArg(c.args, xs) as unknown[]));
    let loss: wg.Tensor | null = null;
    outs.forEach((o, k) => {
      const w = c.w[k];
      if (!w || !o.requiresGrad) return;
      const term = o.mul(wg.tensor(values(w), { shape: w.shape })).sum();
      loss = loss ? loss.add(term) : term;
    });
    let grads: (wg.Tensor | null)[] = [];
    if (c.grads && loss) {
      (loss as wg.Tensor).backward();
      grads = leaves.map((l, i) => (c.inputs[i].grad ? l.grad ?? null : null));
    }
    return { outs, grads };
  });
}

/** The outputs and input gradients against PyTorch's. */
async function compareOutputs(c: Case, outs: wg.Tensor[], grads: (wg.Tensor | null)[], tol: Tol): Promise<void> {
  if (outs.length !== c.outputs.length) throw new Error(`${outs.length} outputs, PyTorch gives ${c.outputs.length}`);
  for (let k = 0; k < outs.length; k++) await compare(outs[k], c.outputs[k], tol, `output ${k}`);
  if (c.grads) for (let i = 0; i < c.inputs.length; i++) if (c.inputs[i].grad) await compare(grads[i], c.grads[i], tol, `gradient of input ${i}`);
}

async function runFn(c: Case, tol: Tol): Promise<void> {
  const f = lookup(c.fn)!;
  const { outs, grads } = forwardBackward(c, (args) => f.value.apply(f.owner, args));
  try {
    await compareOutputs(c, outs, grads, tol);
  } finally {
    for (const t of [...outs, ...grads]) t?.dispose();
  }
}

const asLoadable = (sd: Record<string, Stored>) => Object.fromEntries(Object.entries(sd).map(([k, s]) => [k, { shape: s.shape, data: values(s) }]));

async function runModule(c: Case, tol: Tol): Promise<void> {
  const m = construct(c.module, c.ctor);
  try {
    m.loadStateDict(asLoadable(c.state), { strict: true });
    m.train(c.train);
    const { outs, grads } = forwardBackward(c, (args) => (m as any).forward(...args));
    try {
      await compareOutputs(c, outs, grads, tol);
      const params = Object.fromEntries(m.namedParameters());
      for (const [k, g] of Object.entries(c.paramGrads ?? {})) {
        if (!params[k]) throw new Error(`PyTorch's parameter ${k} is not a webgrad parameter`);
        await compare(params[k].grad, g, tol, `gradient of ${k}`);
      }
      if (c.stateAfter) {
        const sd = m.stateDict();
        for (const [k, s] of Object.entries(c.stateAfter)) await compare(sd[k], s, tol, `${k} after the training forward`);
      }
    } finally {
      for (const t of [...outs, ...grads]) t?.dispose();
    }
  } finally {
    m.dispose();
  }
}

async function runOptim(c: Case, tol: Tol): Promise<void> {
  const C = lookup(c.optim)!.value;
  const params = c.params.map((s) => wg.tensor(values(s), { shape: s.shape, requiresGrad: true }));
  const opt = new C(params, c.opts) as wg.optim.Optimizer;
  try {
    for (let k = 0; k < (c as any).grads.length; k++) {
      const gs = ((c as any).grads[k] as Stored[]).map((s) => wg.tensor(values(s), { shape: s.shape }));
      opt.applyGradients(gs);
      for (const g of gs) g.dispose();
      for (let i = 0; i < params.length; i++) await compare(params[i], c.paramsAfter[k][i], tol, `parameter ${i} after step ${k + 1}`);
    }
    const st = opt.stateDict().tensors;
    for (const [k, s] of Object.entries(c.state)) {
      if (!st[k]) throw new Error(`PyTorch's optimizer state ${k} is not in webgrad's stateDict() (${Object.keys(st).join(", ")})`);
      await compare(st[k], s, tol, `state ${k}`);
    }
  } finally {
    opt.dispose?.();
    for (const p of params) p.dispose();
  }
}

async function runSched(c: Case, tol: Tol): Promise<void> {
  const got: number[] = [];
  if (c.metrics) {
    // a metric-driven schedule, torch's shape: new C(optimizer, opts); step(metric) after each epoch
    const p = wg.tensor([0], { requiresGrad: true });
    const opt = new wg.optim.SGD([p], { lr: c.base });
    const C = lookup(c.fn)!.value;
    const s = new C(opt, ...c.args);
    for (const m of c.metrics) {
      got.push(opt.lr);
      s.step(m);
    }
    p.dispose();
  } else {
    const f = lookup(c.fn)!;
    const s = f.value.apply(f.owner, c.args) as wg.LearningRateSchedule;
    for (let k = 0; k < c.lrs.length; k++) got.push(s.lrAt(k, c.base));
  }
  got.forEach((v, k) => {
    const y = c.lrs[k];
    if (!(Math.abs(v - y) <= tol.atol + tol.rtol * Math.abs(y))) throw new Error(`lr at step ${k}: ${v}, PyTorch's ${y}`);
  });
}

const RUN = { fn: runFn, module: runModule, optim: runOptim, sched: runSched };

// ---------------------------------------------------------------- registration

const all = groups.flatMap(({ group, cases }) => cases.map((c) => ({ key: `${group}/${c.name}`, group, c })));
const missingOf = (c: Case) => modulePaths(c).filter((p) => !lookup(p));
for (const k of Object.keys(KNOWN_DIVERGENCES).map((k) => k.replace(/ \[(wasm|webgpu)\]$/, ""))) if (!all.some((x) => x.key === k)) throw new Error(`KNOWN_DIVERGENCES names ${JSON.stringify(k)}, which is no fixture case`);
{
  const missing = all.filter((x) => missingOf(x.c).length), known = all.filter((x) => !missingOf(x.c).length && KNOWN_DIVERGENCES[x.key]);
  const one = Object.keys(KNOWN_DIVERGENCES).filter((k) => / \[(wasm|webgpu)\]$/.test(k));
  console.log(`torch fixtures: ${all.length} cases, ${all.length - missing.length - known.length} checked, ${known.length} known divergences (+${one.length} on one backend), ${missing.length} ${MISSING}`);
  for (const x of known) console.log(`  skipped (known divergence): ${x.key}: ${KNOWN_DIVERGENCES[x.key]}`);
  for (const k of one) console.log(`  skipped (known divergence): ${k}: ${KNOWN_DIVERGENCES[k]}`);
  for (const x of missing) console.log(`  skipped (${MISSING}: ${missingOf(x.c).join(", ")}): ${x.key}`);
}

forEachBackend("torch fixtures", (backend, test) => {
  for (const { key, group, c } of all) {
    const lacks = missingOf(c);
    if (lacks.length) { test.skip(key, `${MISSING}: ${lacks.join(", ")}`); continue; }
    const known = knownFor(key, backend);
    if (known) { test.skip(key, known); continue; }
    test(key, async () => {
      try {
        await RUN[c.kind](c, tolOf(group, c));
      } catch (e) {
        // the case's name on the error, its own stack kept (where in webgrad it threw)
        const err = e instanceof Error ? e : new Error(String(e));
        err.message = `${key} on ${backend}: ${err.message}${c.note ? ` (${c.note})` : ""}`;
        throw err;
      }
    });
  }
  test("known divergences: each still diverges (those that now match PyTorch are printed, to be removed from KNOWN_DIVERGENCES)", async () => {
    const now: string[] = [];
    for (const { key, group, c } of all) {
      if (!knownFor(key, backend) || missingOf(c).length) continue;
      try {
        await RUN[c.kind](c, tolOf(group, c));
        now.push(key);
      } catch { /* still diverges: as the table says */ }
    }
    if (now.length) console.log(`[${backend}] these KNOWN_DIVERGENCES now match PyTorch; delete their lines:\n  ${now.join("\n  ")}`);
  });
});
