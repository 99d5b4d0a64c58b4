// A Cloudflare Worker (run by workerd in test/e2e/edge.test.ts): the kernel binary
// is imported as a module at deploy time (workerd forbids compiling wasm at
// run time) and handed to init({ wasm }). GET /infer runs a small MLP forward;
// GET /train runs one SGD step and the forward after it; GET /no-wasm shows
// what init() says when it is not given the module. Plain JS on purpose.
import * as wg from "webgrad";
import simd from "webgrad/wasm/simd.wasm";

function net() {
  wg.manualSeed(0);
  return new wg.nn.Sequential(new wg.nn.Linear(4, 8), new wg.nn.ReLU(), new wg.nn.Linear(8, 3));
}
const X = [[0.5, -1, 2, 0.25], [1, 1, -1, 0]];

export default {
  async fetch(req) {
    const path = new URL(req.url).pathname;
    try {
      if (path === "/no-wasm") {
        await wg.init({ verbose: false });
        return Response.json({ error: null });
      }
      const info = await wg.init({ wasm: simd, verbose: false });
      const model = net();
      const out = { kernels: info.kernels, threads: info.threads, runtime: info.runtime };
      if (path === "/infer") {
        out.logits = wg.noGrad(() => model.forward(wg.tensor(X)).toArray());
      } else if (path === "/train") {
        const opt = new wg.optim.SGD(model.parameters(), { lr: 0.5 });
        const y = wg.tensor([0, 2], { dtype: "int32" });
        const loss = () => wg.nn.crossEntropy(model.forward(wg.tensor(X)), y);
        out.before = wg.noGrad(() => loss().item());
        opt.zeroGrad();
        loss().backward();
        opt.step();
        out.after = wg.noGrad(() => loss().item());
      }
      return Response.json(out);
    } catch (e) {
      return Response.json({ error: String(e?.message ?? e) });
    }
  },
};
