// The fixtures doc examples may name without making them: each is built fresh for
// the example that names it (and only then). Kept small on purpose: an example
// that needs something else builds it itself, so a reader can copy it whole.
import { PNG } from "pngjs";
import { readFileSync } from "node:fs";
import * as wg from "../host/index.js";

/** A small image classifier, the `net` of the examples: conv1 → conv2 → fc on [N, 1, 8, 8] images, 10 classes. */
export class Net extends wg.nn.Module {
  conv1 = new wg.nn.Conv2d(1, 4, 3, 1, 1);
  conv2 = new wg.nn.Conv2d(4, 8, 3, 2, 1);
  fc = new wg.nn.Linear(8 * 4 * 4, 10);
  forward(x: wg.Tensor): wg.Tensor {
    const h = this.conv2.forward(this.conv1.forward(x).relu()).relu();
    return this.fc.forward(h.flatten(1));
  }
}

const N = 16;
const images = () => { wg.manualSeed(1); return wg.rand([N, 1, 8, 8]).dataSync() as Float32Array; };
const labels = () => Int32Array.from({ length: N }, (_, i) => i % 10);

/** Built in this order; each gets the ones made before it for this example. */
export const fixtures: Record<string, (made: Record<string, any>) => unknown> = {
  /** Net (above), seeded. */
  net: () => { wg.manualSeed(0); return new Net(); },
  /** The same kind of classifier under the other usual name. */
  model: () => { wg.manualSeed(0); return new Net(); },
  /** A batch for net: [4, 1, 8, 8] values in [0, 1). */
  x: () => wg.rand([4, 1, 8, 8], { seed: 2 }),
  /** Class labels for x: int32 [4]. */
  y: () => wg.tensor([3, 1, 4, 1], { dtype: "int32" }),
  /** Adam over the parameters of net (or model, or a fresh Net when the example names neither). */
  opt: (made) => new wg.optim.Adam((made.net ?? made.model ?? new Net()).parameters()),
  /** A DataLoader of 16 [1, 8, 8] images and int32 labels, batches of 4. */
  loader: () => new wg.data.DataLoader(new wg.data.ArrayDataset(images(), [1, 8, 8], labels()), { batchSize: 4 }),
  /** A tiny GPT: vocabulary 100, 32 positions, 2 layers. */
  gpt: () => { wg.manualSeed(0); return new wg.models.GPT({ vocabSize: 100, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 4 }); },
  /** A tiny Llama (issue 17): vocabulary 50, hidden 16, 1 layer, 4 heads / 2 kv heads. */
  llm: () => { wg.manualSeed(0); return wg.models.createCausalLM({ architectures: ["LlamaForCausalLM"], vocab_size: 50, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 4, num_key_value_heads: 2 }); },
  /** The LLM fixtures' tokenizer (issue 17): a byte-level BPE of 385 tokens with <|bos|>, <|eos|> and a chat template (scripts/llm-fixture-tokenizer.mjs). */
  tok: async () => {
    const dir = new URL("../../test/fixtures/llm/tokenizer/", import.meta.url);
    const json = (f: string) => JSON.parse(readFileSync(new URL(f, dir), "utf8"));
    return wg.models.PretrainedTokenizer.fromJSON(json("tokenizer.json"), json("tokenizer_config.json"));
  },
  /** Token ids for gpt: int32 [1, 4]. */
  ids: () => wg.tensor([[1, 2, 3, 4]], { dtype: "int32" }),
  /** The bytes of a real 4×4 RGBA PNG (a red-green gradient). */
  bytes: () => {
    const png = new PNG({ width: 4, height: 4 });
    for (let i = 0; i < 16; i++) png.data.set([i * 16, 255 - i * 16, 0, 255], i * 4);
    return new Uint8Array(PNG.sync.write(png));
  },
};
