// The WebGPU backend's launch plans: which WGSL entry point runs a kernel and
// how many workgroups it gets, where that depends on the arguments or the
// device. The manifests (kernels/*.mjs) name these in their `gpu` entries and
// kernels.generated.ts calls them. A number is a count of invocations of a
// 1-D kernel of 256-wide groups; a triple is workgroups.

export type Grid = number | [number, number, number];

/** What the device lets a twin use beyond core WGSL (see WebGpuBackendOptions). */
export interface GpuCaps {
  /** The adapter has `subgroups` and it is not turned off: variants in `<family>.subgroups.wgsl` may run. */
  subgroups: boolean;
  /** The adapter has `shader-f16` and it is not turned off. */
  f16: boolean;
  /** The user asked for f16 GEMM products (init's matmulPrecision "f16"). */
  matmulF16: boolean;
  /** WGSL has the packed_4x8_integer_dot_product language feature (dot4I8Packed): variants in `<family>.packed4x8.wgsl` may run. */
  packedDot4?: boolean;
}

/** gemm_i8's entry point: dot4I8Packed where the device's WGSL has it, else bytes unpacked by shifts (issue 16 item 2). */
export const gemmI8Entry = (caps: GpuCaps): string => (caps.packedDot4 ? "gemm_i8_dot4" : "gemm_i8");


/** `count` workgroups of one item each, as a 2-D grid when past `maxX` (the 65535 limit of one dimension). */
export const groups2d = (count: number, maxX = 65535): [number, number, number] =>
  count <= 0 ? [0, 1, 1] : count <= maxX ? [count, 1, 1] : [maxX, Math.ceil(count / maxX), 1];
/** Workgroups of 64 for `count` invocations (2-D past 65535 groups). */
export const groups64 = (count: number): [number, number, number] => groups2d(Math.ceil(count / 64));

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

/** A row kernel over `rows` rows of `cols` columns: one invocation per row below workgroupFromCols, else one workgroup per row. */
export const rowEntry = (name: string, cols: number, caps: GpuCaps): string =>
  cols < ROW_REDUCTION.workgroupFromCols ? name : `${name}_${caps.subgroups ? "subgroup" : "workgroup"}`;
export const rowGrid = (rows: number, cols: number): Grid => (cols < ROW_REDUCTION.workgroupFromCols ? rows : rowGroups(rows));

/** reduce_f32 / argmax / argmin over [outer, len, inner]: per output column, or per row (as rowEntry) when inner is 1. */
export const reductionEntry = (name: string, outer: number, len: number, inner: number, caps: GpuCaps): string =>
  inner === 1 ? rowEntry(name, len, caps) : name;
export const reductionGrid = (outer: number, len: number, inner: number): Grid =>
  inner === 1 && len >= ROW_REDUCTION.workgroupFromCols ? rowGroups(outer) : outer * inner;

/** The element count of a shape read from a descriptor's CPU copy (negative dims count as 0). */
export const shapeSize = (shape: Int32Array): number => shape.reduce((s, d) => s * Math.max(d, 0), 1);

/**
 * gemm_f32_small's shapes: a 64×64 tile of a product with m or n under 32 is
 * mostly padding, and one or two workgroups would walk all of k alone (the S1
 * linear layer at batch 64: 64×10×2704, a single workgroup); with k under 16
 * there is little for workgroup memory to reuse. Settable for tests.
 */
export const GEMM_SMALL = { belowMN: 32, belowK: 16 };

/** Which GEMM kernel runs an m×n×k product on this device. */
export function gemmEntry(m: number, n: number, k: number, caps: GpuCaps): string {
  // thin products one invocation per element of C, unless f16 products were asked for
  if (!caps.matmulF16 && (m < GEMM_SMALL.belowMN || n < GEMM_SMALL.belowMN || k < GEMM_SMALL.belowK)) return "gemm_f32_small";
  // 128×128 tiles when both m and n fill one (more work per workgroup-memory read), else 64×64;
  // with matmulPrecision "f16" the same tilings from shaders/gemm.f16.wgsl (f16 tiles and products, f32 sums)
  return (m >= 128 && n >= 128 ? "gemm_f32_128" : "gemm_f32") + (caps.matmulF16 ? "_f16" : "");
}
/** gemmEntry's launch: one invocation per element of C, or one workgroup per tile. */
export function gemmGrid(m: number, n: number, k: number, caps: GpuCaps): Grid {
  if (!caps.matmulF16 && (m < GEMM_SMALL.belowMN || n < GEMM_SMALL.belowMN || k < GEMM_SMALL.belowK)) return m * n;
  const tile = m >= 128 && n >= 128 ? 128 : 64;
  return [Math.ceil(n / tile), Math.ceil(m / tile), 1];
}

/**
 * The tiled kernels of conv and attention (shaders/conv.wgsl conv2d_igemm_f32 and
 * the tiled conv2d_wgrad_f32; shaders/attention.wgsl's 64-row blocks with K/V tiles
 * in workgroup memory). Settings, not constants, so the bench can time the
 * untiled kernels they replaced in the same process (an A/B of one build) and
 * tests can run both: off, conv runs one invocation per output element
 * (conv2d_direct_f32's twin, then bias_add_channels_f32) and one workgroup per
 * weight-gradient element, attention one invocation per query (or key) row.
 */
export const GPU_TILING = { conv: true, attention: true };

/** The tiled attention kernels keep a query row (and its accumulators) in registers: up to ACC = 128 floats. */
export const attentionTiled = (D: number): boolean => GPU_TILING.attention && D <= 128;

/**
 * Where the tiled conv kernels run (GPU_TILING.conv on), by shape, as GEMM_SMALL
 * does for the GEMM: a tile of output channels is padding past Cout, and a short
 * K (C·KH·KW) leaves little for workgroup memory to reuse against its barriers.
 * - forward: Cout fills at least `minRowFill` of its tiles (64 rows, or 32 rows for
 *   32 channels or fewer) and C·KH·KW ≥ minK. Measured on SwiftShader (2 cores, CPU
 *   time, tiled vs per-output in one process): conv (c) 32×32×32×32→64 (K = 288)
 *   1.09–1.18× faster tiled; conv (b) 64×3×32×32→32 (K = 27: two slices, one
 *   mostly padding, for two barriers each) 0.38× in 64-row tiles and 0.40× in
 *   32-row ones, so K decides, not the padded rows: minK 64 sits between the two
 *   (a guess where nothing was measured); S1's 1→16 layer (K = 9) stays per output.
 * - weight gradient: the tiled reduction has one workgroup per 64×64 block of dw and
 *   walks all N·OH·OW positions in it, so a layer with fewer blocks than the device
 *   has cores to fill runs on a few of them; below `wgradMinTiles` blocks the
 *   per-element reduction (one workgroup per dw element, a tree sum) runs instead.
 *   On SwiftShader's 2 cores, conv (c)'s 5 blocks: fwd+bwd 1.68× less CPU tiled;
 *   conv (b)'s one block: 0.31× (one core walks all 65536 positions). 4 is set
 *   there; a large GPU wants about its SM count (split-K, a second pass over
 *   partial sums, would serve the layers with few blocks: not done).
 * Settings so tests can send every shape through either kernel.
 */
export const CONV_TILES = { minRowFill: 0.75, minK: 64, wgradMinTiles: 4 };

/** The forward's tile rows (64 or 32), or 0 for the per-output kernel. */
export function convForwardTiled(Cout: number, CKK: number): 0 | 32 | 64 {
  if (!GPU_TILING.conv || CKK < CONV_TILES.minK || Cout < 1) return 0;
  const rows = Cout <= 32 ? 32 : 64;
  return Cout >= CONV_TILES.minRowFill * Math.ceil(Cout / rows) * rows ? rows : 0;
}
export function convWgradTiled(O: number, CKK: number): boolean {
  return GPU_TILING.conv && Math.ceil(O / 64) * Math.ceil(CKK / 64) >= CONV_TILES.wgradMinTiles;
}
