// Run after tsc. Two things tsc does not do:
//
// 1. Copies the kernel binaries (build/*.wasm, made by build-wasm.mjs) next to
//    dist/host/backends/loader.js, which names each one literally as
//    new URL("./webgrad-<variant>.wasm", import.meta.url): bundlers that follow
//    that pattern (Vite, Rollup, webpack 5, Parcel) emit them as assets, and
//    Node, Deno and Bun read them from the installed package.
//
// 2. Bundles the public entry (dist/host/index.js and the ~80 modules under it)
//    into one ES module, dist/host/backends/webgrad.js, which package.json's
//    "exports" points at. Why: a Node process spends ~3 ms per module it
//    resolves and links, and the whole graph cost ~70 ms of a ~115 ms cold import
//    (bench/cold-start.ts); one file costs ~20 ms. It lives in backends/ beside
//    worker.js and the .wasm files, so the relative URLs it holds resolve the
//    same as in the unbundled tree. Not minified (users' bundlers minify); no
//    Node built-in is bundled (node-import.ts hides them from bundlers), and
//    npm dependencies stay imports.
import { copyFileSync, mkdirSync, readFileSync, existsSync } from "node:fs";
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
await esbuild.build({
  entryPoints: [join(root, "dist", "host", "index.js")],
  outfile: join(dest, "webgrad.js"),
  bundle: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  packages: "external",
  legalComments: "none",
  logLevel: "warning",
  // host/ambient.js holds only types; the package's "sideEffects" list is for users' bundlers
  logOverride: { "ignored-bare-import": "silent" },
  banner: { js: "// webgrad, bundled from dist/host/index.js by scripts/build-assets.mjs (one module loads faster than ~80)." },
});
