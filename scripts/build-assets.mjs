// Run after tsc. Two things tsc does not do:
//
// 1. Copies the kernel binaries (build/*.wasm, made by build-wasm.mjs) next to
//    dist/host/backends/loader.js, which names each one literally as
//    new URL("./webgrad-<variant>.wasm", import.meta.url): bundlers that follow
//    that pattern (Vite, Rollup, webpack 5, Parcel) emit them as assets, and
//    Node, Deno and Bun read them from the installed package.
//
// 2. Bundles the public entry (dist/host/index.js and the ~80 modules under it)
//    into dist/host/backends/webgrad.js (and two chunks), which package.json's
//    "exports" points at. Why: Node spends ~1 ms of CPU per module it resolves,
//    links and evaluates: importing the tsc tree took ~90 ms of CPU, the bundle
//    ~19 ms (process.cpuUsage around import(), median of 7, a loaded 2-core VM).
//    It lives in backends/ beside worker.js and the .wasm files, so the relative
//    URLs it holds resolve as in the unbundled tree. No Node built-in is
//    bundled (node-import.ts hides them from bundlers); npm dependencies stay
//    imports.
import { copyFileSync, mkdirSync, readFileSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join, basename } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const config = JSON.parse(readFileSync(join(root, "asconfig.json"), "utf8"));
const dest = join(root, "dist", "host", "backends");
mkdirSync(dest, { recursive: true });
for (const target of Object.values(config.targets)) {
  const from = join(root, target.outFile);
  if (!existsSync(from)) {
    console.error(`${target.outFile} is missing: run \`npm run build:wasm\` first`);
    process.exit(1);
  }
  copyFileSync(from, join(dest, basename(target.outFile)));
}

const esbuild = await import("esbuild").catch(() => null);
if (!esbuild) {
  console.error("esbuild is missing: run `npm install` (it is a devDependency)");
  process.exit(1);
}

// 2a. The Hugging Face libraries model folders need (host/models/hf-libs.ts says
// why they are imported by relative path): each package's single-file ES module,
// minified (the install footprint of issue 12), with its licence named on top.
// The bundle below leaves them external, so both trees load these same files.
const vendor = join(root, "dist", "host", "vendor");
mkdirSync(vendor, { recursive: true });
for (const [pkg, file, out] of [
  ["@huggingface/tokenizers", "dist/tokenizers.mjs", "hf-tokenizers.js"],
  ["@huggingface/jinja", "dist/index.js", "hf-jinja.js"],
]) {
  const dir = join(root, "node_modules", ...pkg.split("/"));
  if (!existsSync(join(dir, file))) {
    console.error(`${pkg} is missing: run \`npm install\` (a devDependency, copied into dist/host/vendor)`);
    process.exit(1);
  }
  const { version, license } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const { code } = await esbuild.transform(readFileSync(join(dir, file), "utf8"), { minify: true, format: "esm", target: "es2022", legalComments: "none" });
  writeFileSync(join(vendor, out), `// ${pkg} ${version} (${license} licence, https://www.npmjs.com/package/${pkg}): ${file}, minified by webgrad's scripts/build-assets.mjs\n${code}`);
}

// earlier builds' chunks (their names carry a content hash)
for (const f of readdirSync(dest)) if (/^webgrad(\.[\w-]+)?\.js$/.test(f)) rmSync(join(dest, f));
await esbuild.build({
  entryPoints: { webgrad: join(root, "dist", "host", "index.js") },
  outdir: dest,
  // the WebGPU backend (its WGSL alone is 130 KB) is a chunk of its own, loaded
  // by init({ backend: "webgpu" | "auto" }) only
  splitting: true,
  chunkNames: "webgrad.[name]-[hash]",
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  packages: "external",
  // the vendored Hugging Face libraries stay files of their own (2a), reached by the same relative path
  external: ["../vendor/*"],
  // whitespace and syntax only: names stay, so stack traces still read
  minifyWhitespace: true,
  minifySyntax: true,
  // a class that names itself inside (QuantizedLinear.from: new QuantizedLinear) is
  // otherwise bundled as `class _QuantizedLinear`, and module reprs read constructor.name
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
  // host/ambient.js holds only types; the package's "sideEffects" list is for users' bundlers
  logOverride: { "ignored-bare-import": "silent" },
  banner: { js: "// webgrad, bundled from dist/host/index.js by scripts/build-assets.mjs (a few modules load faster than ~80)." },
});
