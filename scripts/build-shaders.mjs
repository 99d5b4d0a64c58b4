// Embeds shaders/*.wgsl into host/backends/webgpu/shaders.generated.ts.
// Why embed (as the wasm binaries are): a string imported as a module works the
// same in Node, Deno, browsers and bundlers, with no fetch and no file paths.
// shaders/common.wgsl (the shared bindings) is prepended to every family, and
// each @compute entry point is mapped to its family so the backend compiles a
// family's module the first time one of its kernels is called.
//
// Feature variants: `shaders/<family>.<feature>.wgsl` (feature: subgroups or
// f16) holds kernels that need an optional WGSL extension. It becomes its own
// module, with `enable <feature>;` put first (WGSL wants directives before
// anything else), and REQUIRES names the adapter feature it needs, so the
// backend compiles it only on adapters that have it; its f32 / plain twin in
// `<family>.wgsl` is the fallback.
import { readFileSync, writeFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { loadManifests, wgslPrologue, twinEntries } from "./kernels/manifest.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// each family's kernel arguments, named, from kernels/*.mjs: a shader reads `let a = unary_f32_args();`
const manifests = await loadManifests(root);
const dir = join(root, "shaders");
const common = readFileSync(join(dir, "common.wgsl"), "utf8");
const families = {};
const entries = {};
const requires = {};
const ADAPTER_FEATURE = { subgroups: "subgroups", f16: "shader-f16" };
// WGSL language features (navigator.gpu.wgslLanguageFeatures): a `requires` directive, not `enable`; REQUIRES says "wgsl:<name>"
const LANGUAGE_FEATURE = { packed4x8: "packed_4x8_integer_dot_product" };
const names = readdirSync(dir).filter((f) => f.endsWith(".wgsl")).sort();
const read = (f) => readFileSync(join(dir, f), "utf8");

// Partials (`_<name>.wgsl`, not families) are pulled in by `//#include <name>`
// lines; a module built for a feature takes `_<name>.<feature>.wgsl` where one
// exists. So the one-workgroup-per-row kernels are written once and their
// reductions come as a tree in core WGSL or through subgroup operations.
function expand(src, feature, from, seen = []) {
  return src.replace(/^\/\/#include (\w+)[^\n]*$/gm, (_, name) => {
    const file = [feature && `_${name}.${feature}.wgsl`, `_${name}.wgsl`].find((f) => f && names.includes(f));
    if (!file) throw new Error(`build-shaders: ${from}: //#include ${name}: no shaders/_${name}.wgsl`);
    if (seen.includes(file)) throw new Error(`build-shaders: ${from}: ${file} includes itself`);
    return expand(read(file), feature, file, [...seen, file]);
  });
}

// `//#row-kernels-of <family>` in a variant file: that family's region between
// `//#begin row-kernels` and `//#end row-kernels`, its `<name>_workgroup`
// entry points renamed `<name>_subgroup` (the variant's kernels: same bodies).
function rowKernelsOf(family, from) {
  const src = read(`${family}.wgsl`);
  const m = src.match(/^\/\/#begin row-kernels[^\n]*\n([\s\S]*?)^\/\/#end row-kernels/m);
  if (!m) throw new Error(`build-shaders: ${from}: ${family}.wgsl has no //#begin row-kernels … //#end row-kernels region`);
  return m[1].replace(/\b(\w+)_workgroup\b/g, "$1_subgroup");
}

// The shipped text drops comments, indentation and blank lines (WGSL is free-form): a
// third of it, twice over (the unbundled tree and the bundle's WebGPU chunk), for
// issue 12's install footprint. The sources under shaders/ keep them.
const compact = (wgsl) => wgsl.split("\n").map((l) => l.replace(/\/\/.*$/, "").trim()).filter(Boolean).join("\n") + "\n";

for (const f of names.filter((f) => !f.startsWith("_") && f !== "common.wgsl")) {
  const family = f.slice(0, -5);
  const feature = family.includes(".") ? family.slice(family.indexOf(".") + 1) : null;
  if (feature && !ADAPTER_FEATURE[feature] && !LANGUAGE_FEATURE[feature]) throw new Error(`build-shaders: ${f}: unknown feature "${feature}" (have: ${[...Object.keys(ADAPTER_FEATURE), ...Object.keys(LANGUAGE_FEATURE)].join(", ")})`);
  if (feature) requires[family] = ADAPTER_FEATURE[feature] ?? `wgsl:${LANGUAGE_FEATURE[feature]}`;
  let src = read(f).replace(/^\/\/#row-kernels-of (\w+)[^\n]*$/gm, (_, base) => {
    if (feature !== "subgroups") throw new Error(`build-shaders: ${f}: //#row-kernels-of is for .subgroups.wgsl variants`);
    return rowKernelsOf(base, f);
  });
  src = expand(src, feature, f);
  const base = feature ? family.slice(0, family.indexOf(".")) : family;
  const directive = !feature ? "" : LANGUAGE_FEATURE[feature] ? `requires ${LANGUAGE_FEATURE[feature]};\n` : `enable ${feature};\n`;
  families[family] = compact(directive + common + "\n" + wgslPrologue(manifests, base) + "\n" + src);
  for (const m of src.matchAll(/@compute[^\n]*\n\s*fn\s+(\w+)/g)) {
    if (entries[m[1]]) throw new Error(`build-shaders: entry point ${m[1]} is in both ${entries[m[1]]}.wgsl and ${f}`);
    entries[m[1]] = family;
  }
}
// every twin the manifests promise must be an entry point here (a missing one would fail at run time)
const missing = [...new Set(manifests.map((m) => m.shader))].flatMap((sh) => twinEntries(manifests, sh).filter((e) => !entries[e]).map((e) => `${e} (kernels → shaders/${sh}.wgsl)`));
if (missing.length) throw new Error(`build-shaders: the manifests name WGSL entry points no shader defines: ${missing.join(", ")}`);
const out =
  "// Generated by scripts/build-shaders.mjs from shaders/*.wgsl: do not edit.\n" +
  `export const FAMILIES: Record<string, string> = ${JSON.stringify(families, null, 1)};\n` +
  `export const ENTRIES: Record<string, string> = ${JSON.stringify(entries, null, 1)};\n` +
  `/** Families that need an adapter feature (variant files \`<family>.<feature>.wgsl\`). */\n` +
  `export const REQUIRES: Record<string, string> = ${JSON.stringify(requires, null, 1)};\n`;
writeFileSync(join(root, "host", "backends", "webgpu", "shaders.generated.ts"), out);
console.log(`shaders: ${Object.keys(entries).length} entry points in ${Object.keys(families).length} families`);
