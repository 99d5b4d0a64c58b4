// How each kernel's wasm signature maps onto its WGSL twin's dispatch.
//
// `args` has one letter per argument of the wasm export, in order: p = byte
// offset (passed to the shader as an element index, so it must be 4-aligned),
// i = integer, f = f32 (bitcast into its uniform slot), _ = not used on the GPU
// (e.g. gemm's packing scratch). `grid` gives the dispatch: a number is a count
// of invocations for a 1-D kernel of 256-wide groups; a triple is workgroups.

/** What the device lets a twin use beyond core WGSL (see WebGpuBackendOptions). */
export interface GpuCaps {
  /** The adapter has `subgroups` and it is not turned off: variants in `<family>.subgroups.wgsl` may run. */
  subgroups: boolean;
  /** The adapter has `shader-f16` and it is not turned off. */
  f16: boolean;
  /** The user asked for f16 GEMM products (init's matmulPrecision "f16"). */
  matmulF16: boolean;
}

export interface Twin {
  args: string;
  /** The WGSL entry point when it depends on the arguments or the device (default: the kernel's name). */
  entry?(a: number[], caps: GpuCaps): string;
  grid(a: number[], shadow: (ptr: number, n: number) => Int32Array, caps: GpuCaps): number | [number, number, number];
}

/** `count` workgroups of one item each, as a 2-D grid when past `maxX` (the 65535 limit of one dimension). */
const groups2d = (count: number, maxX = 65535): [number, number, number] =>
  count <= 0 ? [0, 1, 1] : count <= maxX ? [count, 1, 1] : [maxX, Math.ceil(count / maxX), 1];
/** Workgroups of 64 for `count` invocations (2-D past 65535 groups). */
const groups64 = (count: number): [number, number, number] => groups2d(Math.ceil(count / 64));
const n1 = (i: number): Twin["grid"] => (a) => a[i];

/**
 * Row reductions (softmax, layer norm, contiguous reduce / argmax): below
 * `workgroupFromCols` columns one invocation walks each row (kernel `<name>`):
 * a short row is a few dozen loads, and a 128-wide workgroup per row would
 * leave most of its invocations idle and pay its barriers for nothing, while
 * many short rows already fill the GPU one per invocation. From there on, one
 * workgroup per row (`<name>_subgroup` where the device has subgroups, else
 * `<name>_workgroup`): the row's loads are spread over 128 invocations and
 * coalesce, instead of one invocation walking a 50k-entry vocabulary row.
 * Settings (not constants) so tests can send every width through the
 * workgroup kernels, and reach the 2-D grid (row = x + y·groups in x) with a
 * few hundred rows instead of 65536 workgroups, which take SwiftShader half a
 * minute; see docs/WEBGPU.md, "Row reductions".
 */
export const ROW_REDUCTION = { workgroupFromCols: 32, maxGroupsX: 65535 };

/** One workgroup per row: a 2-D grid past maxGroupsX rows (the kernels skip the rows past the end). */
const rowGroups = (rows: number) => groups2d(rows, ROW_REDUCTION.maxGroupsX);

const rowEntry = (name: string, cols: number, caps: GpuCaps): string =>
  cols < ROW_REDUCTION.workgroupFromCols ? name : `${name}_${caps.subgroups ? "subgroup" : "workgroup"}`;

/** A kernel over `a[rows]` rows of `a[cols]` columns: per-row invocations or one workgroup per row. */
const rowReduction = (name: string, args: string, rows: number, cols: number): Twin => ({
  args,
  entry: (a, caps) => rowEntry(name, a[cols], caps),
  grid: (a) => (a[cols] < ROW_REDUCTION.workgroupFromCols ? a[rows] : rowGroups(a[rows])),
});

/** reduce_f32 / argmax / argmin over [outer, len, inner]: per output column, or per row when inner is 1. */
const contiguousReduction = (name: string, args: string, outer: number, len: number, inner: number): Twin => ({
  args,
  entry: (a, caps) => (a[inner] === 1 ? rowEntry(name, a[len], caps) : name),
  grid: (a) => (a[inner] === 1 && a[len] >= ROW_REDUCTION.workgroupFromCols ? rowGroups(a[outer]) : a[outer] * a[inner]),
});

/**
 * gemm_f32_small's shapes: a 64×64 tile of a product with m or n under 32 is
 * mostly padding, and one or two workgroups would walk all of k alone (the S1
 * linear layer at batch 64: 64×10×2704, a single workgroup); with k under 16
 * there is little for workgroup memory to reuse. Settable for tests.
 */
export const GEMM_SMALL = { belowMN: 32, belowK: 16 };

/** Which GEMM kernel runs a product of gemm_f32's arguments `a`, and its launch. */
function gemmPlan(a: number[], caps: GpuCaps): { entry: string; grid: number | [number, number, number] } {
  const m = a[3], n = a[4], k = a[5];
  // thin products one invocation per element of C, unless f16 products were asked for
  if (!caps.matmulF16 && (m < GEMM_SMALL.belowMN || n < GEMM_SMALL.belowMN || k < GEMM_SMALL.belowK)) return { entry: "gemm_f32_small", grid: m * n };
  // 128×128 tiles when both m and n fill one (more work per workgroup-memory read), else 64×64;
  // with matmulPrecision "f16" the same tilings from shaders/gemm.f16.wgsl (f16 tiles and products, f32 sums)
  const tile = m >= 128 && n >= 128 ? 128 : 64;
  return { entry: (tile === 128 ? "gemm_f32_128" : "gemm_f32") + (caps.matmulF16 ? "_f16" : ""), grid: [Math.ceil(n / tile), Math.ceil(m / tile), 1] };
}

export const TWINS: Record<string, Twin> = {
  // gemm (gemmPlan above)
  gemm_f32: { args: "pppiiiiiii_", entry: (a, caps) => gemmPlan(a, caps).entry, grid: (a, _, caps) => gemmPlan(a, caps).grid },
  // elementwise
  unary_f32: { args: "ippi", grid: n1(3) },
  unary_backward_f32: { args: "ippppi", grid: n1(5) },
  binary_f32: { args: "ipppi", grid: n1(4) },
  binary_scalar_f32: { args: "ipfpii", grid: n1(4) },
  binary_strided_f32: {
    args: "ipppip",
    // the output size is in the descriptor the host just wrote: read its CPU copy
    grid: (a, shadow) => shadow(a[5], a[4]).reduce((s, d) => s * Math.max(d, 0), 1),
  },
  axpy_f32: { args: "ppif", grid: n1(2) },
  scale_f32: { args: "ppif", grid: n1(2) },
  fill_f32: { args: "pif", grid: n1(1) },
  transpose_f32: { args: "ppiiii", grid: (a) => (a[2] <= 0 || a[3] <= 0 || a[4] <= 0 || a[5] <= 0 ? 0 : a[2] * a[3] * a[4] * a[5]) },
  cast_i32_f32: { args: "ppi", grid: n1(2) },
  cast_f32_i32: { args: "ppi", grid: n1(2) },
  where_f32: { args: "ppppi", grid: n1(4) },
  clamp_f32: { args: "ppiff", grid: n1(2) },
  clamp_backward_f32: { args: "pppiff", grid: n1(3) },
  // optim
  sgd_f32: { args: "pppiffffii", grid: n1(3) },
  adam_f32: { args: "ppppifffffffffi", grid: n1(4) },
  // pool: forward per output element, backward per plane (see shaders/pool.wgsl)
  maxpool2d_f32: { args: "pppiiiiiiiiiii", grid: (a) => a[3] * a[12] * a[13] },
  maxpool2d_backward_f32: { args: "pppiiiii", grid: n1(3) },
  maxpool2d_relu_backward_f32: {
    args: "ppppiiiiii",
    // disjoint 2×2 windows: a gather per input element; else per plane as maxpool2d_backward_f32
    entry: (a) => (a[9] ? "maxpool2d_relu_backward_tiled_f32" : "maxpool2d_relu_backward_f32"),
    grid: (a) => (a[9] ? a[4] * a[5] * a[6] : a[4]),
  },
  avgpool2d_f32: { args: "ppiiiiiiiiiiii", grid: (a) => a[2] * a[11] * a[12] },
  avgpool2d_backward_f32: { args: "ppiiiiiiiiiiii", grid: n1(2) },
  // softmax: per row, one invocation or one workgroup (rowReduction below)
  softmax_f32: rowReduction("softmax_f32", "ppii", 2, 3),
  log_softmax_f32: rowReduction("log_softmax_f32", "ppii", 2, 3),
  softmax_backward_f32: rowReduction("softmax_backward_f32", "pppii", 3, 4),
  log_softmax_backward_f32: rowReduction("log_softmax_backward_f32", "pppii", 3, 4),
  softmax_xent_f32: rowReduction("softmax_xent_f32", "ppppii", 4, 5),
  // no sum over the row: one invocation per element
  softmax_xent_backward_f32: { args: "pppipiif", grid: (a) => a[5] * a[6] },
  // reduce: per output column; when the reduced axis is contiguous (inner 1) per row as softmax
  // (sum_all_f32 returns its value: the host uses reduce_f32 on WebGPU)
  reduce_f32: contiguousReduction("reduce_f32", "ippiii", 3, 4, 5),
  argmax_f32: contiguousReduction("argmax_f32", "ppiii", 2, 3, 4),
  argmin_f32: contiguousReduction("argmin_f32", "ppiii", 2, 3, 4),
  reduce_max_backward_f32: { args: "ppppiii", grid: (a) => a[4] * a[6] },
  // conv: gathers (see shaders/conv.wgsl); the weight gradient runs one workgroup per dw element
  im2col_f32: { args: "pp" + "i".repeat(14), grid: (a) => a[2] * a[5] * a[6] * a[13] * a[14] },
  col2im_f32: { args: "pp" + "i".repeat(14), grid: (a) => a[2] * a[3] * a[4] },
  bias_add_channels_f32: { args: "ppiii", grid: (a) => a[2] * a[3] * a[4] },
  pad2d_f32: { args: "ppiiiii", grid: (a) => a[2] * (a[3] + 2 * a[5]) * (a[4] + 2 * a[6]) },
  conv2d_direct_f32: { args: "pppiiiiiii", grid: (a) => a[3] * a[9] * (a[5] - a[7] + 1) * (a[6] - a[8] + 1) },
  conv2d_wgrad_f32: { args: "pppiiiiiiii", grid: (a) => groups2d(a[9] * a[4] * a[7] * a[8]) },
  // random: the wasm twin's counter-based generator (same bits)
  rand_uniform_f32: { args: "piiiff", grid: n1(1) },
  rand_normal_f32: { args: "piiiff", grid: n1(1) },
  dropout_mask_f32: { args: "piiif", grid: n1(1) },
  // norm: forward and input gradient per row (rowReduction), parameter gradient per column
  layernorm_f32: rowReduction("layernorm_f32", "ppppppiif", 6, 7),
  layernorm_backward_f32: rowReduction("layernorm_backward_f32", "ppppppii", 6, 7),
  layernorm_param_grad_f32: { args: "ppppppii", grid: n1(7) },
  // embed: gather per float; the scatter-add backward per table column
  embedding_f32: { args: "pppiii", grid: (a) => a[3] * a[4] },
  embedding_backward_f32: { args: "pppiii", grid: n1(4) },
  // attention: 64-wide groups, one invocation per query row (and per key row in the backward)
  attention_f32: { args: "pppppiiiifi_", grid: (a) => groups64(a[5] * a[6]) },
  attention_backward_f32: { args: "pppppppppiiiifi_", grid: (a) => groups64(a[9] * (a[10] + a[11])) },
  // backend helper (no wasm twin): word copy inside the heap, for scope escapes
  copy_words: { args: "ppi", grid: n1(2) },
};

/** Kernels whose return value the host reads and that only compute sizes: the wasm instance answers them. */
export const QUERIES = new Set(["gemm_packed_b_bytes", "attention_scratch_bytes", "attention_backward_scratch_bytes"]);
