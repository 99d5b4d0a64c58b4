// Vercel's Edge Runtime (the npm package `edge-runtime`, run by
// test/e2e/edge.test.ts): this file is bundled into one script and evaluated in an
// EdgeVM whose code generation from strings and wasm bytes is off, as on
// Vercel's edge; the kernel module comes compiled from outside, as Vercel's
// `import wasm from "./x.wasm?module"` gives it, and goes to init({ wasm }).
// Runs a small MLP forward (inference). Plain JS on purpose.
import * as wg from "webgrad";

globalThis.__webgradInfer = async (wasm) => {
  const info = await wg.init({ wasm, verbose: false });
  wg.manualSeed(0);
  const model = new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 3));
  const logits = wg.noGrad(() => model.forward(wg.tensor([[0.5, -1, 2, 0.25], [1, 1, -1, 0]])).toArray());
  return { kernels: info.kernels, threads: info.threads, runtime: info.runtime, logits };
};

globalThis.__webgradNoWasm = async () => {
  try {
    await wg.init({ verbose: false });
    return null;
  } catch (e) {
    return String(e?.message ?? e);
  }
};
