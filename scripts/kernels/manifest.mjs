// The kernel manifests (kernels/<family>.mjs) and everything generated from
// them. A manifest names each kernel's arguments in order with their types;
// from it come
//   - host/backends/abi.generated.ts: the op codes, one named-argument type per
//     kernel, the `Kernels` interface every backend implements and the typed
//     `WasmExports` of the binary;
//   - host/backends/wasm/kernels.generated.ts: the wasm backend's kernels (a
//     direct call, a thread split or a per-item spread, or the backend's own
//     schedule in host/backends/wasm/schedules.ts);
//   - host/backends/webgpu/kernels.generated.ts: the WebGPU backend's kernels,
//     each packing its arguments into the uniform slot of its WGSL twin and
//     sizing the launch;
//   - the WGSL argument prologue of each shader family (`let a =
//     unary_f32_args();` then `a.n`), put before the family by build-shaders.mjs;
//   - assembly/opcodes.generated.ts (the op codes as AssemblyScript constants);
//   - the kernel tables of docs/KERNELS.md.
// And it checks each AssemblyScript export's parameters against the manifest,
// and each twin's WGSL entry points, so neither can drift from it.
//
// Argument types: "ptr" (a byte offset; "ptr?" may be 0 for none), "u32" / "i32"
// (integers; u32 never negative, so WGSL reads it as u32), "f32", "scratch" (a
// wasm-only scratch pointer the backend's schedule supplies), an enum name of
// the family, and "host <type>[ = default]" for arguments only the host-side
// schedule reads (a batch count, a bias a schedule fuses).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const BASE_TYPES = new Set(["ptr", "ptr?", "u32", "i32", "f32", "scratch"]);

/** Every family's manifest, parsed and checked, in file-name order. */
export async function loadManifests(root) {
  const dir = join(root, "kernels");
  const families = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".mjs")).sort()) {
    const family = f.slice(0, -4);
    const m = (await import(pathToFileURL(join(dir, f)).href)).default;
    const enums = Object.entries(m.enums ?? {}).map(([name, e]) => ({ name, ...e, prefix: enumPrefix(name) }));
    const kernels = Object.entries(m.kernels).map(([name, k]) => {
      const args = Object.entries(k.args).map(([arg, spec]) => parseArg(family, name, arg, spec, enums));
      return { name, family, ...k, args, wasm: k.wasm ?? "direct", gpu: k.internal ? false : k.gpu ?? false };
    });
    families.push({ family, shader: m.shader ?? family, doc: m.doc ?? "", enums, kernels });
  }
  const names = new Set();
  for (const fam of families) for (const k of fam.kernels) {
    if (names.has(k.name)) throw new Error(`kernels/${fam.family}.mjs: ${k.name} is in two manifests`);
    names.add(k.name);
    if (!k.internal && !k.gpu) throw new Error(`kernels/${fam.family}.mjs: ${k.name} has no gpu entry (a twin's launch, "custom", or "none" for a kernel the GPU lacks so far); a building block of a wasm schedule is internal: true`);
  }
  return families;
}

function enumPrefix(name) {
  return name.replace(/(Op|Flags)$/, "").replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

function parseArg(family, kernel, name, spec, enums) {
  const m = /^(host\s+)?([\w?]+)(?:\s*=\s*(\S+))?$/.exec(spec);
  if (!m) throw new Error(`kernels/${family}.mjs: ${kernel}: argument ${name}: cannot read type "${spec}"`);
  const type = m[2];
  const en = enums.find((e) => e.name === type);
  if (!BASE_TYPES.has(type) && !en) throw new Error(`kernels/${family}.mjs: ${kernel}: argument ${name}: unknown type "${type}"`);
  return { name, type, host: !!m[1], dflt: m[3], enum: en ?? null };
}

/** Arguments of the AssemblyScript export (and the binary): everything but host arguments. */
export const exportArgs = (k) => k.args.filter((a) => !a.host);
/** Arguments of the WGSL twin's uniform slot: no host arguments, no scratch. */
export const twinArgs = (k) => k.args.filter((a) => !a.host && a.type !== "scratch");
/** Arguments ops pass (the Kernels interface): no scratch. */
export const opArgs = (k) => k.args.filter((a) => a.type !== "scratch");
const isPtr = (a) => a.type === "ptr" || a.type === "ptr?";
const pascal = (s) => s.split("_").map((w) => w[0].toUpperCase() + w.slice(1)).join("");
const argsType = (k) => `${pascal(k.name)}Args`;
const twinType = (k) => (k.args.some((a) => a.host) ? `${pascal(k.name)}TwinArgs` : argsType(k));

/** Prefixes the argument names in a manifest expression with `$.` (the arguments object). */
function expr(k, src) {
  const names = new Set(k.args.map((a) => a.name));
  return String(src).replace(/(?<![.\w$"])([A-Za-z_]\w*)(?![\w(":])/g, (id) => (names.has(id) ? `$.${id}` : id));
}

const tsType = (a) => (isPtr(a) || a.type === "scratch" ? "Ptr" : a.enum && !a.enum.flags ? a.enum.name : "number");
const docLine = (s) => s.replace(/\*\//g, "*\\/");

export function abiTs(families) {
  const out = ["// Generated by scripts/gen-kernels.mjs from kernels/*.mjs: do not edit (see docs/KERNELS.md).", "",
    "/** A byte offset into the backend's memory: wasm linear memory or the GPU heap. */", "export type Ptr = number;", ""];
  for (const fam of families) for (const e of fam.enums) {
    out.push(`/** ${docLine(e.doc)} (kernels/${fam.family}.mjs) */`);
    out.push(`export const ${e.name} = ${JSON.stringify(e.values).replace(/"(\w+)":/g, "$1: ")} as const;`);
    out.push(`export type ${e.name} = (typeof ${e.name})[keyof typeof ${e.name}];`, "");
  }
  const pub = families.flatMap((f) => f.kernels.filter((k) => !k.internal));
  for (const k of pub) {
    const field = (a) => `  /** ${a.host ? "host schedule only" + (a.dflt !== undefined ? `; default ${a.dflt}` : "") : a.type === "ptr?" ? "byte offset, or 0 for none" : isPtr(a) ? "byte offset" : a.type}${a.enum ? ` (${a.enum.name})` : ""} */\n  ${a.name}${a.dflt !== undefined ? "?" : ""}: ${tsType(a)};`;
    out.push(`/** Arguments of ${k.name} (kernels/${k.family}.mjs). */`, `export interface ${argsType(k)} {`, ...opArgs(k).map(field), "}");
    if (twinType(k) !== argsType(k)) out.push(`/** The WGSL twin's arguments of ${k.name}: no host-only ones. */`, `export interface ${twinType(k)} {`, ...twinArgs(k).map(field), "}");
  }
  out.push("", "/** The kernels every backend implements, by their assembly/ names (docs/KERNELS.md). */", "export interface Kernels {");
  for (const k of pub) out.push(`  /** ${docLine(k.doc)} — assembly/${k.family}.ts */`, `  ${k.name}(args: ${argsType(k)}): void;`);
  out.push("}", "export type KernelName = keyof Kernels;", "");
  out.push("/** The kernel binary's exports, positional as AssemblyScript declares them (the wasm backend's schedules call these). */", "export interface WasmExports {");
  for (const fam of families) for (const k of fam.kernels) {
    const ret = k.returns ? "number" : "void";
    out.push(`  ${k.name}(${exportArgs(k).map((a) => `${a.name}: ${isPtr(a) || a.type === "scratch" ? "Ptr" : "number"}`).join(", ")}): ${ret};`);
  }
  out.push("}", "");
  return out.join("\n") + "\n";
}

/** Run-time tables of the manifests for tests and tools (not imported by the engine, so not in its bundle). */
export function tablesTs(families) {
  const pub = families.flatMap((f) => f.kernels.filter((k) => !k.internal));
  const out = ["// Generated by scripts/gen-kernels.mjs from kernels/*.mjs: do not edit.", `import type { KernelName } from "./abi.generated.js";`, ""];
  out.push("/** Each kernel's arguments as the binary takes them, in order, with their manifest types (tests call twins positionally through this). */");
  out.push(`export const EXPORT_ARGS: Record<KernelName, readonly (readonly [string, string])[]> = {\n${pub.map((k) => `  ${k.name}: [${exportArgs(k).map((a) => `[${JSON.stringify(a.name)}, ${JSON.stringify(a.type)}]`).join(", ")}],`).join("\n")}\n};`, "");
  out.push("/** Each kernel's family (kernels/<family>.mjs). */");
  out.push(`export const KERNEL_FAMILY: Record<KernelName, string> = {\n${pub.map((k) => `  ${k.name}: ${JSON.stringify(k.family)},`).join("\n")}\n};`);
  return out.join("\n") + "\n";
}

export function wasmTs(families) {
  const pub = families.flatMap((f) => f.kernels.filter((k) => !k.internal));
  const custom = pub.filter((k) => k.wasm === "custom");
  const out = ["// Generated by scripts/gen-kernels.mjs from kernels/*.mjs: do not edit.",
    "// The wasm backend's kernels: a direct call of the export, a thread split of a range", "// (`wasm.split` in the manifest), a spread of per-item calls (`batch`), or a schedule of", "// host/backends/wasm/schedules.ts.",
    `import type { Kernels, WasmExports } from "../abi.generated.js";`, `import type { WasmRunner } from "./runner.js";`, "",
    "/** The kernels whose wasm schedule is written by hand (host/backends/wasm/schedules.ts). */",
    `export type WasmSchedules = Pick<Kernels, ${custom.map((k) => JSON.stringify(k.name)).join(" | ")}>;`, "",
    "export function wasmKernels(E: WasmExports, R: WasmRunner, S: WasmSchedules): Kernels {", "  return {"];
  for (const k of pub) {
    if (k.wasm === "custom") { out.push(`    ${k.name}: S.${k.name},`); continue; }
    const ex = exportArgs(k);
    if (ex.some((a) => a.type === "scratch")) throw new Error(`kernels/${k.family}.mjs: ${k.name} takes scratch: its wasm schedule must be "custom"`);
    if (k.batch) {
      const step = k.batch.step ?? {};
      const call = ex.map((a) => (step[a.name] ? `$.${a.name} + i * (${expr(k, step[a.name])}) * 4` : `$.${a.name}`));
      out.push(`    ${k.name}: ($) => R.parallel(${JSON.stringify(k.name)}, Array.from({ length: $.${k.batch.count} }, (_, i) => [${call.join(", ")}]), ${k.batch.flops ? expr(k, k.batch.flops) : "Infinity"}),`);
    } else if (typeof k.wasm === "object" && k.wasm.split) {
      const sp = k.wasm.split, step = sp.step ?? {};
      const call = ex.map((a) => {
        if (a.name === sp.along) return "e - s";
        if (sp.shift?.includes(a.name)) return `$.${a.name} + s`;
        if (step[a.name] === undefined) return `$.${a.name}`;
        const off = step[a.name] === "1" ? "s * 4" : `s * (${expr(k, step[a.name])}) * 4`;
        return a.type === "ptr?" ? `($.${a.name} ? $.${a.name} + ${off} : 0)` : `$.${a.name} + ${off}`;
      });
      out.push(`    ${k.name}: ($) => R.split(${JSON.stringify(k.name)}, $.${sp.along}, ${expr(k, sp.flops)}, (s, e) => [${call.join(", ")}]${sp.align ? `, ${sp.align}` : ""}),`);
    } else {
      out.push(`    ${k.name}: ($) => E.${k.name}(${ex.map((a) => `$.${a.name}`).join(", ")}),`);
    }
  }
  out.push("  };", "}");
  return out.join("\n") + "\n";
}

export function gpuTs(families) {
  const pub = families.flatMap((f) => f.kernels.filter((k) => !k.internal));
  const custom = pub.filter((k) => k.gpu === "custom");
  const types = new Set();
  for (const k of pub) { types.add(argsType(k)); types.add(twinType(k)); }
  const out = ["// Generated by scripts/gen-kernels.mjs from kernels/*.mjs: do not edit.",
    "// Each twin packs its arguments into its uniform slot in manifest order (pointers as",
    "// element indices, f32 bit patterns as they are) and sizes its launch; see docs/WEBGPU.md.",
    `import type { Kernels, ${[...types].sort().join(", ")} } from "../abi.generated.js";`,
    `import type { Launcher } from "./launcher.js";`,
    `import { gemmEntry, gemmGrid, gemmI8Entry, rowEntry, rowGrid, reductionEntry, reductionGrid, groups2d, groups64, shapeSize, attentionTiled, convWgradTiled } from "./plans.js";`, "",
    "/** The kernels whose WebGPU plan is written by hand (host/backends/webgpu/schedules.ts). */",
    `export type GpuSchedules = Pick<Kernels, ${custom.map((k) => JSON.stringify(k.name)).join(" | ") || "never"}>;`, "",
    "/** One dispatch per call (per item of a batch), for every kernel with a WGSL twin. */",
    "export function gpuTwins(L: Launcher) {", "  const { caps, shadow } = L;", "  void caps; void shadow;", "  return {"];
  for (const k of pub.filter((k) => k.gpu !== "none")) {
    const tw = twinArgs(k);
    const g = k.gpu === "custom" ? { grid: null } : k.gpu;
    // a custom plan still gets its twin's raw dispatch (grid from the manifest's `twin` entry)
    const launch = k.gpu === "custom" ? k.twin : g;
    if (!launch) throw new Error(`kernels/${k.family}.mjs: ${k.name}: a "custom" gpu plan needs twin: { grid } for its raw dispatch`);
    const entry = launch.entry ? expr(k, launch.entry).replace(/\bkernel\b/g, JSON.stringify(k.name)) : JSON.stringify(k.name);
    const pack = tw.map((a, i) => {
      const v = `$.${a.name}`;
      if (isPtr(a)) return `u[o + ${i}] = L.ptr(${v}, ${JSON.stringify(k.name)}, ${JSON.stringify(a.name)});`;
      if (a.type === "f32") return `f[o + ${i}] = ${v};`;
      return `u[o + ${i}] = ${v};`;
    }).join(" ");
    const grid = expr(k, launch.grid);
    const body = `L.run(${entry}, ${grid}, (u, f, o) => { ${pack} })`;
    const sig = `($: ${twinType(k)})`;
    if (k.batch && k.gpu !== "custom") {
      const step = k.batch.step ?? {};
      const moved = Object.keys(step).map((p) => `${p}: $0.${p} + i * (${expr(k, step[p]).replace(/\$\./g, "$0.")}) * 4`).join(", ");
      out.push(`    ${k.name}: ($0: ${argsType(k)}) => { for (let i = 0; i < ($0.${k.batch.count} ?? 1); i++) { const $ = { ...$0, ${moved} }; ${body}; } },`);
    } else {
      out.push(`    ${k.name}: ${sig} => ${body},`);
    }
  }
  out.push("  };", "}", "export type GpuTwins = ReturnType<typeof gpuTwins>;", "");
  out.push("/** The WebGPU backend's kernels: its twins, and its own plans where the manifest says custom. */",
    "export function gpuKernels(T: GpuTwins, S: GpuSchedules): Kernels {", "  return {");
  for (const k of pub) {
    if (k.gpu === "none") out.push(`    ${k.name}: () => { throw new Error(${JSON.stringify(`webgrad: ${k.name} has no WebGPU kernel yet (kernels/${k.family}.mjs); run this op on init({ backend: "wasm" }), or move its tensors there with t.to("wasm")`)}); },`);
    else out.push(k.gpu === "custom" ? `    ${k.name}: S.${k.name},` : `    ${k.name}: T.${k.name},`);
  }
  out.push("  };", "}", "",
    "/** Kernels of the manifests the GPU lacks so far (gpu: \"none\"): supports() says false, a call throws naming the way out. */",
    `export const GPU_MISSING: ReadonlySet<string> = new Set(${JSON.stringify(pub.filter((k) => k.gpu === "none").map((k) => k.name))});`);
  return out.join("\n") + "\n";
}

const wgslType = (a) => (isPtr(a) ? "u32" : a.enum ? "u32" : a.type);
const slot = (a, i) => (a.type === "f32" ? `pf(${i}u)` : a.type === "i32" ? `pi(${i}u)` : `pu(${i}u)`);

/** The WGSL prologue of shader family `shader`: op-code constants, and a named-arguments struct and loader per kernel. */
export function wgslPrologue(families, shader) {
  const out = [`// Generated from kernels/*.mjs by scripts/gen-kernels.mjs: each kernel's arguments, named, from its uniform slot.`];
  for (const fam of families.filter((f) => f.shader === shader)) {
    for (const e of fam.enums) for (const [k, v] of Object.entries(e.values)) out.push(`const ${e.prefix}_${k.toUpperCase()}: u32 = ${v}u;`);
    for (const k of fam.kernels.filter((k) => k.gpu && k.gpu !== "none")) {
      const tw = twinArgs(k);
      const S = `${pascal(k.name)}Args`;
      out.push(`struct ${S} { ${tw.map((a) => `${a.name}: ${wgslType(a)}`).join(", ")} }`);
      out.push(`fn ${k.name}_args() -> ${S} { return ${S}(${tw.map(slot).join(", ")}); }`);
    }
  }
  return out.join("\n") + "\n";
}

/** Entry points a family's WGSL must define: each twin's name and its manifest `entries`. */
export function twinEntries(families, shader) {
  return families.filter((f) => f.shader === shader).flatMap((f) => f.kernels.filter((k) => (k.gpu && k.gpu !== "custom" && k.gpu !== "none") || k.twin).flatMap((k) => [k.name, ...(k.entries ?? [])]));
}

export function opcodesAs(families) {
  const out = ["// Generated by scripts/gen-kernels.mjs from kernels/*.mjs: do not edit.", "// The op codes the kernels switch on, as the host and the WGSL twins number them."];
  for (const fam of families) for (const e of fam.enums) {
    out.push(`// ${e.name} (kernels/${fam.family}.mjs): ${e.doc}`);
    for (const [k, v] of Object.entries(e.values)) out.push(`export const ${e.prefix}_${k.toUpperCase()}: i32 = ${v};`);
  }
  return out.join("\n") + "\n";
}

/** Checks each AssemblyScript export against its manifest entry: same names, order and types. */
export function checkExports(root, families) {
  const sources = {};
  for (const f of readdirSync(join(root, "assembly")).filter((f) => f.endsWith(".ts"))) sources[f] = readFileSync(join(root, "assembly", f), "utf8");
  const errors = [];
  for (const fam of families) for (const k of fam.kernels) {
    const file = Object.keys(sources).find((f) => new RegExp(`export function ${k.name}\\(`).test(sources[f]));
    if (!file) { errors.push(`${k.name} (kernels/${fam.family}.mjs) is not exported by any assembly/*.ts`); continue; }
    const m = new RegExp(`export function ${k.name}\\(([\\s\\S]*?)\\)\\s*:\\s*(\\w+)`).exec(sources[file]);
    const params = m[1].replace(/\/\/[^\n]*/g, "").split(",").map((s) => s.trim()).filter(Boolean).map((s) => s.split(":").map((x) => x.trim()));
    const want = exportArgs(k);
    const asType = (a) => (isPtr(a) || a.type === "scratch" ? "usize" : a.type === "f32" ? "f32" : "i32");
    const got = params.map(([n, t]) => `${n}: ${t}`).join(", ");
    const exp = want.map((a) => `${a.name}: ${asType(a)}`).join(", ");
    if (got !== exp) errors.push(`assembly/${file}: ${k.name}(${got}) differs from kernels/${fam.family}.mjs: (${exp})`);
    const ret = k.returns ?? "void";
    if (m[2] !== ret) errors.push(`assembly/${file}: ${k.name} returns ${m[2]}, kernels/${fam.family}.mjs says ${ret}`);
  }
  if (errors.length) throw new Error("kernel manifests and assembly/ disagree:\n  " + errors.join("\n  "));
}

/** The generated part of docs/KERNELS.md: per family, its op codes and a table of its kernels. */
export function kernelsMd(families) {
  const out = [];
  for (const fam of families) {
    out.push(`### ${fam.family}`, "", `${fam.doc} Manifest: \`kernels/${fam.family}.mjs\`; kernels in \`assembly/${fam.family}.ts\`` + (fam.kernels.some((k) => k.gpu) ? `, twins in \`shaders/${fam.shader}.wgsl\`.` : "."), "");
    for (const e of fam.enums) out.push(`${e.name} (\`${e.prefix}_*\`${e.flags ? ", bit flags" : ""}): ${Object.entries(e.values).map(([k, v]) => `${v} ${k}`).join(", ")}.`, "");
    out.push("| kernel | arguments | wasm | WebGPU | what it does |", "|---|---|---|---|---|");
    for (const k of fam.kernels) {
      const args = k.args.map((a) => `${a.name}${a.host ? "ᴴ" : ""}: ${a.type}`).join(", ");
      const wasm = k.internal ? "internal" : k.wasm === "custom" ? "schedule" : k.batch ? `per ${k.batch.count}` : typeof k.wasm === "object" && k.wasm.split ? `split ${k.wasm.split.along}` : "direct";
      const gpu = k.internal ? "—" : k.gpu === "custom" ? "plan" : k.gpu === "none" ? "none yet" : `grid ${k.gpu.grid}`;
      out.push(`| \`${k.name}\`${k.returns ? ` → ${k.returns}` : ""} | ${args} | ${wasm} | ${gpu.replace(/\|/g, "\\|")} | ${k.doc.replace(/\|/g, "\\|")} |`);
    }
    out.push("");
  }
  return out.join("\n");
}
