// The WebGPU backend's hand-written plans: kernels whose GPU form is more than
// one twin dispatch (kernels/*.mjs marks them gpu: "custom"), or a dispatch of
// a WGSL entry point with its own arguments (conv2d_igemm_f32).
import type { GpuSchedules, GpuTwins } from "./kernels.generated.js";
import type { Launcher } from "./launcher.js";
import { groups2d, convForwardTiled } from "./plans.js";

/**
 * The arguments of conv2d_igemm_f32 (shaders/conv.wgsl, `ConvIgemmArgs`, the same
 * order): y [N, Cout, OH, OW] = conv(x [N, C, H, W], w [Cout, C, KH, KW]) with any
 * stride, padding and dilation, plus bias[Cout] when `bias` is not 0, then ReLU
 * when `relu` is set. Byte offsets, as every kernel takes them.
 */
export interface ConvIgemmArgs {
  x: number; w: number; bias: number; y: number;
  N: number; C: number; H: number; W: number; KH: number; KW: number;
  SH: number; SW: number; PH: number; PW: number; DH: number; DW: number; OH: number; OW: number; Cout: number;
  relu?: boolean;
  /** Output channels per tile: 64 (the default) or 32 (for layers of 32 channels or fewer). */
  rows?: 32 | 64;
}

/** conv2d_igemm_f32's launch: 64×64 tiles of [Cout, N·OH·OW], column blocks in x (and y past 65535), channel blocks in z. */
export function convIgemmGrid(N: number, OH: number, OW: number, Cout: number, rows = 64): [number, number, number] {
  const NP = N * OH * OW;
  if (NP === 0 || Cout === 0) return [0, 1, 1];
  const [gx, gy] = groups2d(Math.ceil(NP / 64));
  return [gx, gy, Math.ceil(Cout / rows)];
}

/** One dispatch of the tiled implicit-GEMM convolution (bias and ReLU fused). */
export function convIgemm(L: Launcher, $: ConvIgemmArgs): void {
  const k = "conv2d_igemm_f32";
  const rows = $.rows ?? 64;
  L.run(k, convIgemmGrid($.N, $.OH, $.OW, $.Cout, rows), (u, _f, o) => {
    u[o + 0] = L.ptr($.x, k, "x"); u[o + 1] = L.ptr($.w, k, "w"); u[o + 2] = $.bias ? L.ptr($.bias, k, "bias") : 0; u[o + 3] = L.ptr($.y, k, "y");
    const dims = [$.N, $.C, $.H, $.W, $.KH, $.KW, $.SH, $.SW, $.PH, $.PW, $.DH, $.DW, $.OH, $.OW, $.Cout];
    for (let i = 0; i < dims.length; i++) u[o + 4 + i] = dims[i]; // i32 slots: a negative never occurs (padding ≥ 0)
    u[o + 19] = ($.bias ? 1 : 0) | ($.relu ? 2 : 0);
  }, rows === 64 ? undefined : { CONV_RI: rows / 16 });
}

export function gpuSchedules(T: GpuTwins, L: Launcher): GpuSchedules {
  return {
    // The stride-1 direct convolution over the padded input, as a tiled implicit
    // GEMM with the bias fused where plans.ts convForwardTiled says it pays: one
    // dispatch instead of a per-output gather (every output re-reading its
    // C·KH·KW inputs and weights from memory) and a second pass for the bias.
    // Thin layers (few output channels, or few taps) keep the twin + bias.
    conv2d_direct_f32($) {
      const rows = convForwardTiled($.Cout, $.C * $.KH * $.KW);
      if (!rows) {
        const { bias = 0, ...twin } = $;
        T.conv2d_direct_f32(twin);
        if (bias) T.bias_add_channels_f32({ y: $.y, bias, n: $.N, c: $.Cout, inner: ($.Hp - $.KH + 1) * ($.Wp - $.KW + 1) });
        return;
      }
      const OH = $.Hp - $.KH + 1, OW = $.Wp - $.KW + 1;
      convIgemm(L, { x: $.xp, w: $.w, bias: $.bias ?? 0, y: $.y, N: $.N, C: $.C, H: $.Hp, W: $.Wp, KH: $.KH, KW: $.KW,
        SH: 1, SW: 1, PH: 0, PW: 0, DH: 1, DW: 1, OH, OW, Cout: $.Cout, rows });
    },
  };
}
