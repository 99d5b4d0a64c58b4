// dist/host/vendor/hf-tokenizers.js is the npm package @huggingface/tokenizers'
// single-file ES module, copied there by scripts/build-assets.mjs (host/models/hf-libs.ts
// says why). Declared here, narrowly: host/models/tokenizer.ts types what it uses, and
// webgrad's shipped types never lean on the package's own .d.ts.
export declare const Tokenizer: new (json: object, config: object) => unknown;
