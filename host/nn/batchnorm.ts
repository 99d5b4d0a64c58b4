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
export class BatchNorm2d extends Module {
  weight: Tensor | null;
  bias: Tensor | null;
  running_mean!: Tensor | null;
  running_var!: Tensor | null;
  num_batches_tracked!: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;
  constructor(readonly numFeatures: number, opts: BatchNormOptions = {}) {
    super();
    checkInt("BatchNorm2d", "numFeatures", numFeatures, 1);
    checkOptions("BatchNorm2d", opts, ["eps", "momentum", "affine", "trackRunningStats"]);
    if (opts.eps !== undefined) checkNumber("BatchNorm2d", "eps", opts.eps, 0);
    if (opts.momentum !== undefined && opts.momentum !== null) checkNumber("BatchNorm2d", "momentum", opts.momentum, 0, 1);
    checkBool("BatchNorm2d", "affine", opts.affine);
    checkBool("BatchNorm2d", "trackRunningStats", opts.trackRunningStats);
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

  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.numFeatures) {
      throw new Error(`BatchNorm2d: input must be [N, ${this.numFeatures}, H, W], got ${shapeStr(x.shape)}`);
    }
    const C = this.numFeatures;
    const useBatch = this.training || !this.running_mean;
    let mean: Tensor, variance: Tensor;
    if (useBatch) {
      const n = x.size / C;
      if (n <= 1 && this.training) throw new Error(`BatchNorm2d: expected more than 1 value per channel when training, got input ${shapeStr(x.shape)}`);
      mean = x.mean([0, 2, 3], true);
      variance = x.sub(mean).square().mean([0, 2, 3], true);
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
      mean = this.running_mean!.reshape(1, C, 1, 1);
      variance = this.running_var!.reshape(1, C, 1, 1);
    }
    let y = x.sub(mean).mul(variance.add(this.eps).rsqrt());
    if (this.weight) y = y.mul(this.weight.reshape(1, C, 1, 1));
    if (this.bias) y = y.add(this.bias.reshape(1, C, 1, 1));
    return y;
  }
}
