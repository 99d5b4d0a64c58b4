// webgrad's bench adapter: the same public API a user writes, nothing private
// but the backend's gemm_f32 kernel (a plain C = A·B with no tape, which is what the peers' matMul is).

import type { Engine, Prepared, Workload } from "../workloads.js";
import { input, modelInit, labels } from "../workloads.js";
import * as wg from "../../host/index.js";

const t = (data: Float32Array, shape: number[], requiresGrad = false) => wg.tensor(data, { shape, requiresGrad }).keep();
const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Drops a leaf's gradient the way optimizer.zeroGrad() does: its bytes go back
 * now. (Only `t.grad = null` would leave them to the garbage collector, so every
 * round would write its gradients into fresh, never-touched pages.)
 */
const clearGrad = (t: wg.Tensor) => {
  t.grad?.dispose();
  t.grad = null;
};

/** Runs `step` inside a scope; keeps a copy of the first run's result. */
function prepared(step: () => wg.Tensor, owned: wg.Tensor[]): Prepared {
  let first: Float32Array | null = null;
  return {
    run() {
      wg.scope(() => {
        const r = step();
        if (!first) first = r.dataSync() as Float32Array;
      });
    },
    result: () => first!,
    dispose: () => owned.forEach((o) => o.dispose()),
  };
}

class S1 extends wg.nn.Module {
  conv1 = new wg.nn.Conv2d(1, 16, 3, 1);
  pool = new wg.nn.MaxPool2d(2);
  fc = new wg.nn.Linear(16 * 13 * 13, 10);
  forward(x: wg.Tensor): wg.Tensor {
    return this.fc.forward(this.pool.forward(this.conv1.forward(x).relu()).flatten(1));
  }
}
class Mlp extends wg.nn.Module {
  fc1 = new wg.nn.Linear(784, 256);
  fc2 = new wg.nn.Linear(256, 10);
  forward(x: wg.Tensor): wg.Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu());
  }
}

const engine: Engine = {
  name: "webgrad",
  async init({ threads, variant }) {
    await wg.init({ threads, isa: variant as "simd" | "relaxed" | undefined, verbose: false });
  },
  async prepare(w: Workload): Promise<Prepared | null> {
    switch (w.kind) {
      case "gemm": {
        const a = t(input(w.m * w.k, 1), [w.m, w.k]), b = t(input(w.k * w.n, 2), [w.k, w.n]);
        const c = wg.zeros([w.m, w.n]).keep();
        let first: Float32Array | null = null;
        return {
          run() {
            wg.backend().kernels.gemm_f32({ a: a.ptr, b: b.ptr, c: c.ptr, m: w.m, n: w.n, k: w.k, lda: w.k, ldb: w.n, ldc: w.n, flags: 0 });
            first ??= c.dataSync() as Float32Array;
          },
          result: () => first!,
          dispose: () => [a, b, c].forEach((x) => x.dispose()),
        };
      }
      case "conv": {
        const xs = [w.n, w.c, w.h, w.w], ws = [w.oc, w.c, w.kh, w.kw];
        const x = t(input(size(xs), 1), xs, w.backward), wt = t(input(size(ws), 2).map((v) => v * 0.2), ws, w.backward);
        const oh = w.h + 2 * w.pad - w.kh + 1, ow = w.w + 2 * w.pad - w.kw + 1;
        const r = t(input(w.n * w.oc * oh * ow, 3), [w.n, w.oc, oh, ow]);
        return prepared(() => {
          const y = wg.conv2d(x, wt, null, { padding: w.pad });
          if (!w.backward) return y;
          clearGrad(x);
          clearGrad(wt);
          y.mul(r).sum().backward();
          return wt.grad!;
        }, [x, wt, r]);
      }
      case "attention": {
        const s = [w.b, w.h, w.s, w.d], n = size(s);
        const [q, k, v] = [1, 2, 3].map((seed) => t(input(n, seed), s, w.backward));
        const r = t(input(n, 4), s);
        return prepared(() => {
          const o = wg.scaledDotProductAttention(q, k, v, { causal: w.causal });
          if (!w.backward) return o;
          for (const p of [q, k, v]) clearGrad(p);
          o.mul(r).sum().backward();
          return q.grad!;
        }, [q, k, v, r]);
      }
      case "adam": {
        const p = t(input(w.n, 1), [w.n]);
        p.grad = t(input(w.n, 2), [w.n]);
        const opt = new wg.optim.Adam([p], { lr: 1e-3 });
        let first: Float32Array | null = null;
        return {
          run() {
            opt.step();
            first ??= p.dataSync() as Float32Array;
          },
          result: () => first!,
          dispose: () => { p.grad?.dispose(); p.dispose(); },
        };
      }
      // issue 16 item 2: the int8 kernels through the public op (weight quantised once, untimed)
      case "gemm-int8": {
        const x = t(input(w.m * w.k, 1), [w.m, w.k]), wt = t(input(w.n * w.k, 2), [w.n, w.k]);
        const q = wg.quantizeWeightInt8(wt);
        return prepared(() => wg.int8Linear(x, q), [x, wt, q.packed, q.scales, q.wsum]);
      }
      case "train": {
        const net = w.model === "s1" ? new S1() : new Mlp();
        net.loadStateDict(modelInit(w.model));
        const opt = new wg.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
        const x = t(input(w.batch * 784, 12), w.model === "s1" ? [w.batch, 1, 28, 28] : [w.batch, 784]);
        const y = wg.tensor(labels(w.batch), { dtype: "int32" }).keep();
        return prepared(() => {
          opt.zeroGrad();
          const loss = wg.nn.crossEntropy(net.forward(x), y);
          loss.backward();
          opt.step();
          return loss;
        }, [x, y]);
      }
    }
  },
};

export default engine;
