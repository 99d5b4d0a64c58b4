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
