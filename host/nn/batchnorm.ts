// Batch normalisation over (N, H, W) per channel, with PyTorch's state
// (weight, bias, running_mean, running_var, num_batches_tracked) and its
// train/eval behaviour. Composed from ops, so the gradient comes from theirs.

import { Tensor } from "../tensor.js";
import * as ops from "../ops/index.js";
import { noGrad } from "../autograd.js";
import { shapeStr, checkOptions, checkInt, checkNumber, checkBool } from "../ops/util.js";
import { Module, parameter } from "./module.js";

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running averages (default 0.1); null for a cumulative average, as in PyTorch. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * The batch norms' shared body: per-channel statistics over every dim but 1.
 * The running statistics and num_batches_tracked are updated by kernels on the
 * tensors' own backend: nothing is read back to the host (on WebGPU a read waits).
 */
abstract class BatchNormBase extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  running_mean!: Tensor | null;
  running_var!: Tensor | null;
  num_batches_tracked!: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  constructor(readonly numFeatures: number, opts: BatchNormOptions, who: string) {
    super();
    checkInt(who, "numFeatures", numFeatures, 1);
    checkOptions(who, opts, ["eps", "momentum", "affine", "trackRunningStats"]);
    if (opts.eps !== undefined) checkNumber(who, "eps", opts.eps, 0);
    if (opts.momentum !== undefined && opts.momentum !== null) checkNumber(who, "momentum", opts.momentum, 0, 1);
    checkBool(who, "affine", opts.affine);
    checkBool(who, "trackRunningStats", opts.trackRunningStats);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const affine = opts.affine !== false;
    this.weight = affine ? parameter(ops.ones([numFeatures])) : null;
    this.bias = affine ? parameter(ops.zeros([numFeatures])) : null;
    if (opts.trackRunningStats !== false) {
      this.registerBuffer("running_mean", ops.zeros([numFeatures]));
      this.registerBuffer("running_var", ops.ones([numFeatures]));
      this.registerBuffer("num_batches_tracked", ops.zeros([], { dtype: "int32" }));
    } else {
      this.running_mean = this.running_var = this.num_batches_tracked = null;
    }
  }

  /** Normalises x [N, C, …] over dims 0, 2, 3, …; who names the layer in errors. */
  protected normalize(x: Tensor, who: string): Tensor {
    const C = this.numFeatures;
    const dims = [0, ...Array.from({ length: x.rank - 2 }, (_, i) => i + 2)];
    const bshape = [1, C, ...x.shape.slice(2).map(() => 1)];
    const useBatch = this.training || !this.running_mean;
    let mean: Tensor, variance: Tensor;
    if (useBatch) {
      const n = x.size / C;
      if (n <= 1 && this.training) throw new Error(`${who}: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
      mean = x.mean(dims, true);
      variance = x.sub(mean).square().mean(dims, true);
      if (this.training && this.running_mean && this.running_var && this.num_batches_tracked) {
        const rm = this.running_mean, rv = this.running_var, nbt = this.num_batches_tracked;
        noGrad(() => {
          // num_batches_tracked += 1 on the device (through float32, exact to 2^24 batches): the
          // host never reads it back, so this runs on WebGPU without a synchronous read
          const tracked = ops.cast(nbt, "float32").add(1);
          nbt.copy_(ops.cast(tracked, "int32"));
          const bm = mean.detach().reshape(C), bv = variance.detach().reshape(C).mul(n / Math.max(n - 1, 1));
          if (this.momentum !== null) {
            const m = this.momentum;
            rm.mul_(1 - m).add_(bm, m);
            rv.mul_(1 - m).add_(bv, m);
          } else {
            // cumulative average: momentum 1/num_batches_tracked, a device scalar
            const m = tracked.reciprocal(), keep = ops.sub(1, m);
            rm.copy_(rm.mul(keep).add(bm.mul(m)));
            rv.copy_(rv.mul(keep).add(bv.mul(m)));
          }
        });
      }
    } else {
      mean = this.running_mean!.reshape(bshape);
      variance = this.running_var!.reshape(bshape);
    }
    let y = x.sub(mean).mul(variance.add(this.eps).rsqrt());
    if (this.weight) y = y.mul(this.weight.reshape(bshape));
    if (this.bias) y = y.add(this.bias.reshape(bshape));
    return y;
  }
}

/**
 * BatchNorm2d: y = (x − mean)/√(var + eps)·weight + bias per channel of [N, C, H, W].
 * Training mode normalises with the batch's statistics (biased variance) and
 * updates running_mean and running_var (unbiased variance) with `momentum`;
 * eval mode normalises with the running statistics.
 *
 * @example
 * const bn = new wg.nn.BatchNorm2d(3);
 * bn.forward(wg.randn([4, 3, 5, 5])).shape; // [4, 3, 5, 5]
 * Object.keys(bn.stateDict()); // ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts, "BatchNorm2d");
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new Error(`BatchNorm2d: input must be [N, ${this.numFeatures}, H, W], got ${shapeStr(x.shape)}`);
    }
    return this.normalize(x, "BatchNorm2d");
  }
}

/**
 * BatchNorm1d: BatchNorm2d's normalisation per channel of [N, C] or [N, C, L]
 * (statistics over N, or over N and L), with the same state-dict names and running statistics.
 *
 * @example
 * const bn = new wg.nn.BatchNorm1d(3);
 * bn.forward(wg.randn([4, 3])).shape; // [4, 3]
 * bn.forward(wg.randn([4, 3, 7])).shape; // [4, 3, 7]
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts, "BatchNorm1d");
  }
  forward(x: Tensor): Tensor {
    if ((x.rank !== 2 && x.rank !== 3) || x.shape[1] !== this.numFeatures) {
      throw new Error(`BatchNorm1d: input must be [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L], got ${shapeStr(x.shape)}`);
    }
    return this.normalize(x, "BatchNorm1d");
  }
}
