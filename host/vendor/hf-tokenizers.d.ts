// Types of dist/host/vendor/hf-tokenizers.js, the npm package @huggingface/tokenizers'
// single-file ES module, copied there by scripts/build-assets.mjs (see host/models/hf-libs.ts for why).
export * from "@huggingface/tokenizers";
