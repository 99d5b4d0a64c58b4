// torchvision's ResNet BasicBlock: two 3×3 convolutions with batch norm and
// an identity (or 1×1-convolution) shortcut; state-dict names as torchvision's.

import { Tensor } from "../tensor.js";
import { Module } from "./module.js";
import { Conv2d, Sequential } from "./layers.js";
import { BatchNorm2d } from "./batchnorm.js";
import { checkOptions, checkInt, checkBool } from "../ops/util.js";

/**
 * out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)). When the stride
 * is not 1 or the channel count changes, the shortcut is `downsample`
 * (Conv2d 1×1 with the stride, no bias, then BatchNorm2d), named "downsample.0"
 * and "downsample.1" as in torchvision; pass `downsample: true` to force it.
 *
 * @example
 * const block = new wg.nn.BasicBlock(16, 32, 2);
 * block.forward(wg.randn([2, 16, 8, 8])).shape; // [2, 32, 4, 4]
 */
export class BasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d;
  bn1: BatchNorm2d;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;
  constructor(readonly inPlanes: number, readonly planes: number, readonly stride = 1, opts: { downsample?: boolean } = {}) {
    super();
    checkOptions("BasicBlock", opts, ["downsample"]);
    checkInt("BasicBlock", "stride", stride, 1);
    checkBool("BasicBlock", "downsample", opts.downsample);
    this.conv1 = new Conv2d(inPlanes, planes, 3, stride, 1, { bias: false });
    this.bn1 = new BatchNorm2d(planes);
    this.conv2 = new Conv2d(planes, planes, 3, 1, 1, { bias: false });
    this.bn2 = new BatchNorm2d(planes);
    const need = opts.downsample ?? (stride !== 1 || inPlanes !== planes);
    this.downsample = need ? new Sequential(new Conv2d(inPlanes, planes, 1, stride, 0, { bias: false }), new BatchNorm2d(planes)) : null;
  }
  forward(x: Tensor): Tensor {
    const h = this.bn1.forward(this.conv1.forward(x)).relu();
    const y = this.bn2.forward(this.conv2.forward(h));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    if (identity.shape.join() !== y.shape.join()) {
      throw new Error(`BasicBlock: shortcut [${identity.shape}] does not match the residual [${y.shape}]; give a downsample for stride ${this.stride} or ${this.inPlanes}→${this.planes} channels`);
    }
    return y.add(identity).relu();
  }
}
