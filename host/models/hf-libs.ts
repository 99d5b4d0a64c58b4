// The two Hugging Face libraries a model folder needs: @huggingface/tokenizers
// (tokenizer.json, in plain JS) and @huggingface/jinja (chat templates).
//
// Why they are imported from ../vendor/ and not by package name: the build
// copies each package's own single-file ES module (no dependencies of their
// own) into dist/host/vendor/, so a relative import reaches them in every
// place webgrad runs: Node, Deno and Bun, a bundler (which makes each a lazy
// chunk, so the core bundle does not grow), and a page or worker that imports
// dist/ with no bundler and no import map (module workers have none). They
// load on first use: code that never opens a model folder never fetches them.

/** @huggingface/tokenizers, loaded once. @example const { Tokenizer } = await hfTokenizers(); // e.g. new Tokenizer(json, config) */
export function hfTokenizers(): Promise<typeof import("../vendor/hf-tokenizers.js")> {
  return (tokenizers ??= import("../vendor/hf-tokenizers.js"));
}
let tokenizers: Promise<typeof import("../vendor/hf-tokenizers.js")> | undefined;

/** @huggingface/jinja, loaded once. @example const { Template } = await hfJinja(); new Template("{{ a }}").render({ a: 1 }); // "1" */
export function hfJinja(): Promise<typeof import("../vendor/hf-jinja.js")> {
  return (jinja ??= import("../vendor/hf-jinja.js"));
}
let jinja: Promise<typeof import("../vendor/hf-jinja.js")> | undefined;
