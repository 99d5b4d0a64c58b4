// webgrad as a user gets it, for the cold-start bench (bench/cold-child.ts runs
// this adapter for "webgrad"): `import("webgrad")` resolves through
// package.json's "exports" to the bundled entry (dist/host/backends/webgrad.js),
// and the first matmul goes through the public API (tensor, matmul, dataSync),
// as the peers' cold starts go through theirs. Only the gemm workload.
// The warm bench keeps bench/engines/webgrad.ts (the tsc tree and the gemm_f32 kernel).

import type { Engine, Prepared, Workload } from "../workloads.js";
import { input } from "../workloads.js";

// by name, as users import it (a literal "webgrad" would make tsc look for
// dist/host/index.d.ts before it has written it)
const wg: typeof import("../../host/index.js") = await import("webgrad" as string);

const engine: Engine & { actualThreads(): number } = {
  name: "webgrad",
  async init({ threads, variant }) {
    await wg.init({ threads, isa: variant as "simd" | "relaxed" | undefined, verbose: false });
  },
  async prepare(w: Workload): Promise<Prepared | null> {
    if (w.kind !== "gemm") return null;
    const a = wg.tensor(input(w.m * w.k, 1), { shape: [w.m, w.k] }).keep();
    const b = wg.tensor(input(w.k * w.n, 2), { shape: [w.k, w.n] }).keep();
    let first: Float32Array | null = null;
    return {
      run() {
        wg.noGrad(() => wg.scope(() => {
          const c = a.matmul(b).dataSync() as Float32Array;
          first ??= c.slice();
        }));
      },
      result: () => first!,
      dispose() {
        a.dispose();
        b.dispose();
      },
    };
  },
  actualThreads() {
    return wg.backend().threads;
  },
};
export default engine;
