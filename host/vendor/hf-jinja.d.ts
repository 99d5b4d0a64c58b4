// Types of dist/host/vendor/hf-jinja.js, the npm package @huggingface/jinja's
// single-file ES module, copied there by scripts/build-assets.mjs (see host/models/hf-libs.ts for why).
export * from "@huggingface/jinja";
