// The WebGPU backend's hand-written plans: kernels whose GPU form is more than
// one twin dispatch (kernels/*.mjs marks them gpu: "custom").
import type { GpuSchedules, GpuTwins } from "./kernels.generated.js";

export function gpuSchedules(T: GpuTwins): GpuSchedules {
  return {
    // the direct convolution, then the bias (the wasm backend fuses it where its tiles can)
    conv2d_direct_f32($) {
      const { bias = 0, ...twin } = $;
      T.conv2d_direct_f32(twin);
      if (bias) T.bias_add_channels_f32({ y: $.y, bias, n: $.N, c: $.Cout, inner: ($.Hp - $.KH + 1) * ($.Wp - $.KW + 1) });
    },
  };
}
