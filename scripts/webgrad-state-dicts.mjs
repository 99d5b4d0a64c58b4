// State dicts in the other direction: webgrad → PyTorch. Builds a few webgrad
// modules with fixed seeds and writes each, with an input and webgrad's
// output, as <dir>/<name>.safetensors ("model.<state dict name>", "input.<i>",
// "output"). scripts/torch-fixtures.py runs this and loads every file into the
// matching torch module with load_state_dict(strict=True), and fails unless
// torch's output matches webgrad's.
//
//   node scripts/webgrad-state-dicts.mjs <dir>     (needs `npx tsc -p .` first: it imports dist/)
import { mkdirSync, writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wg = await import(join(root, "dist", "host", "index.js"));
const out = process.argv[2] ?? join(root, "test-artifacts", "webgrad-state-dicts");
mkdirSync(out, { recursive: true });
await wg.init({ backend: "wasm", threads: 1, verbose: false });

const nn = wg.nn;
/** name → [module, inputs, forward] */
const cases = {
  "linear": () => [new nn.Linear(7, 5), [wg.randn([3, 7])]],
  "conv2d": () => [new nn.Conv2d(3, 4, 3, 1, 1), [wg.randn([2, 3, 5, 7])]],
  "layernorm": () => {
    const m = new nn.LayerNorm(9);
    m.weight.copy_(wg.rand([9]).add(0.5));
    m.bias.copy_(wg.randn([9]));
    return [m, [wg.randn([2, 9])]];
  },
  "embedding": () => [new nn.Embedding(11, 6), [wg.tensor([[1, 0, 10], [3, 3, 7]], { dtype: "int32" })]],
  "batchnorm2d": () => {
    const m = new nn.BatchNorm2d(3);
    m.forward(wg.randn([4, 3, 3, 5]).mul(2).add(1)); // a training forward: running stats and num_batches_tracked move
    return [m, [wg.randn([2, 3, 3, 5])]];
  },
  "lstm": () => [new nn.LSTM(4, 6, { numLayers: 2, batchFirst: true }), [wg.randn([2, 5, 4])]],
  "gru": () => [new nn.GRU(4, 5), [wg.randn([3, 2, 4])]],
  "mha": () => [new nn.MultiheadAttention(8, 2, { batchFirst: true, dropout: 0 }), [wg.randn([2, 5, 8])], (m, [x]) => m.forward(x, x, x)[0]],
  "encoder-layer": () => [new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true }), [wg.randn([2, 5, 8])]],
  "decoder-layer": () => [new nn.TransformerDecoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, batchFirst: true }), [wg.randn([2, 3, 8]), wg.randn([2, 5, 8])]],
  "sequential": () => [new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU(), new nn.Flatten(), new nn.Linear(2 * 3 * 3, 3)), [wg.randn([2, 1, 5, 5])]],
  "lstm-bidirectional": () => [new nn.LSTM(4, 6, { numLayers: 2, bidirectional: true }), [wg.randn([5, 2, 4])]],
  "lstm-bidirectional-proj": () => [new nn.LSTM(4, 6, { numLayers: 2, bidirectional: true, projSize: 3, batchFirst: true }), [wg.randn([2, 5, 4])]],
  "gru-bidirectional": () => [new nn.GRU(4, 5, { bidirectional: true, batchFirst: true }), [wg.randn([2, 3, 4])]],
};

let seed = 20;
for (const [name, make] of Object.entries(cases)) {
  wg.manualSeed(seed++);
  const [m, inputs, fwd] = make();
  m.eval();
  const y = wg.noGrad(() => {
    const r = fwd ? fwd(m, inputs) : m.forward(...inputs);
    return Array.isArray(r) ? r[0] : r;
  });
  const tensors = {};
  for (const [k, t] of Object.entries(m.stateDict())) tensors[`model.${k}`] = t;
  inputs.forEach((t, i) => (tensors[`input.${i}`] = t));
  tensors.output = y;
  const bytes = wg.io.serializeSafetensors(tensors, { source: "scripts/webgrad-state-dicts.mjs" });
  writeFileSync(join(out, `${name}.safetensors`), bytes);
  console.log(`  webgrad saved ${name}: ${Object.keys(m.stateDict()).length} tensors, ${bytes.length} bytes`);
}
wg.shutdown();
