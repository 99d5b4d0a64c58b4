// dist/host/vendor/hf-jinja.js is the npm package @huggingface/jinja's single-file ES
// module, copied there by scripts/build-assets.mjs (host/models/hf-libs.ts says why).
// Declared here, narrowly: what host/models/tokenizer.ts uses.
export declare class Template {
  constructor(source: string);
  render(items?: Record<string, unknown>): string;
}
