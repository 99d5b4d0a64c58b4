// The wasm backend's hand-written schedules: the kernels whose thread splits,
// packing and scratch do not fit the manifest's split/batch rules (kernels/*.mjs
// marks them wasm: "custom"). The ops call them through `kernels` like any other.
import { GemmFlags, type WasmExports, type GemmF32Args, type Conv2dDirectF32Args, type Conv2dWgradF32Args, type ReduceF32Args, type EmbeddingF32Args, type AttentionF32Args, type AttentionBackwardF32Args,
  type GatherDimB32Args, type ScatterDimF32Args, type IndexSelectB32Args, type SortF32Args,
  type QuantizeRowsU7Args, type GemmI8Args, type GemvI8Args } from "../abi.generated.js";
import type { WasmSchedules } from "./kernels.generated.js";
import type { WasmRunner, ExportName } from "./runner.js";
import { splitRange } from "../threads.js";

/** What a schedule needs of its backend besides the exports and the runner. */
export interface ScheduleContext {
  /** Scratch bytes for one kernel call, from the backend's one reused block. */
  scratch(bytes: number): number;
  /** Synchronous int32 view (index checks before a kernel runs). */
  i32(ptr: number, n: number): Int32Array;
  f32(ptr: number, n: number): Float32Array;
  /**
   * The relaxed-SIMD binary: its fused madd leaves registers for the 5-row tiles
   * over packed operands (gemm_packed_pa_f32, conv2d_direct_pw_f32); on the plain
   * SIMD binary the mul+add temporaries make those tiles spill and run slower
   * than 4-row ones.
   */
  readonly fusedMadd: boolean;
}

/**
 * C this wide (4 panels of 8 columns) or wider takes the packed-A kernel: each A block
 * is packed once and read once per panel, so narrower C would spend a large share
 * packing (S1's 10-wide classifier keeps the in-place kernel).
 */
const PACK_A_MIN_N = 32;
const align16 = (x: number) => (x + 15) & ~15;
/** Rows of C up to which a product with B stored n×k runs as GEMV (W streamed once, x rows from L1). */
const GEMV_MAX_M = 4;
const { TRANS_A, TRANS_B } = GemmFlags;

/**
 * How many output channels conv2d_direct_pw_f32 runs in 5-channel tiles: the most
 * groups of 5 that leave a multiple of 4 (4-channel tiles) — a lone channel runs in
 * the slow 1-row tile, so 16 channels stay 4 × 4 and 64 become 12 × 5 + 4.
 */
export function fiveChannelGroups(cout: number): number {
  for (let g = Math.floor(cout / 5); g > 0; g--) if ((cout - 5 * g) % 4 === 0) return g;
  return 0;
}

/**
 * Winograd for a 3×3 stride-1 convolution (conv2d_direct_f32's schedule; the rule and
 * the figures behind it are in docs/speed-notes.md, "Winograd convolution"): 0 for the
 * direct kernel, else the output tile m (4: F(4×4, 3×3)). It pays when the α² GEMMs are
 * deep enough (C ≥ 4: at C = 3 their 3-step k loops are all tile overhead), the output
 * has more than one channel (Cout ≥ 2), and there are enough tiles (≥ 128) and work
 * (≥ 2^23 direct flops) to repay transforming the weights. F(2×2, 3×3) (m = 2, in the
 * kernels and tested) is never faster on the layers that reach this schedule (OW ≥ 8):
 * 8×8 images run F(4×4) 1.6× and F(2×2) 1.3× the direct kernel.
 */
export function winogradTile(N: number, C: number, OH: number, OW: number, Cout: number, KH: number, KW: number): 0 | 2 | 4 {
  if (KH !== 3 || KW !== 3 || C < 4 || Cout < 2) return 0;
  if (N * Math.ceil(OH / 4) * Math.ceil(OW / 4) < 128 || 2 * N * Cout * OH * OW * C * 9 < 1 << 23) return 0;
  return 4;
}
/**
 * Winograd for conv2d_wgrad_f32 (3×3, all output channels in one call): F(4×4) when
 * winogradTile would pick it for the forward of this layer and C ≥ 8. Its GEMMs reduce over every
 * tile (k = N·tiles), so they are deep whatever C is, but n = C: at C = 3 (conv (b)) the
 * 8-column panels run 3/8 full and writing the 36 planes of the transformed dy costs more
 * than the direct kernel (fwd+bwd 12.8 → 15.0 ms); C = 4..7 is not measured, so not taken.
 */
export function winogradWgrad(N: number, C: number, OH: number, OW: number, Cout: number, KH: number, KW: number): boolean {
  return C >= 8 && winogradTile(N, C, OH, OW, Cout, KH, KW) === 4;
}
/** Tiles per Winograd chunk: its V and M planes stay in L2 (12–40 measured within noise on conv (c); 16 and 32 were slower before the planes got a line of padding). */
const WINOGRAD_CHUNK = 20;

export function wasmSchedules(E: WasmExports, R: WasmRunner, ctx: ScheduleContext): WasmSchedules {
  /**
   * One product on raw pointers, split over threads along rows of C (B packed
   * once) or, when C is wide and short, along its columns (each thread packs its
   * own panels). Either split keeps every element's sum in the same order, so
   * results do not depend on the thread count.
   */
  function gemm(a: number, b: number, c: number, m: number, n: number, k: number, lda: number, ldb: number, ldc: number, flags: number): void {
    if (m === 0 || n === 0) return;
    const t = R.threads;
    const flops = 2 * m * n * k;
    // A few rows times a weight stored n×k (nn.Linear's layout, decoding's x·Wᵀ): stream W once
    // in place. Packing it for the 4×8 tiles reads W, writes a copy and reads that: 1536×576 at
    // m = 1 ran 7.2 GB/s of W (1 thread) through gemm_f32, see assembly/gemv.ts.
    if (m <= GEMV_MAX_M && (flags & TRANS_B) && !(flags & TRANS_A) && k > 0) {
      const acc = flags & GemmFlags.ACCUMULATE ? 1 : 0;
      R.split("gemv_f32", n, flops, (s, e) => [a, b + s * ldb * 4, 0, c + s * 4, m, e - s, k, lda, ldb, ldc, acc], 4);
      return;
    }
    // relaxed wasm: 5×8 tiles over A packed per block (gemm_packed_pa_f32, same bits, ~5% faster)
    // once C has enough 8-column panels to repay packing A. Not on the plain SIMD
    // binary: without fused madd its 10 chains need temporaries and it runs
    // 41 GFLOPS where the 4×8 kernel runs 46–48 (512³, 1000³, 512×768×3072, best of 8, one process)
    const packA = ctx.fusedMadd && n >= PACK_A_MIN_N && m >= 5 && k > 0;
    if (t === 1 || flops < 1 << 20) {
      if (!packA) {
        E.gemm_f32(a, b, c, m, n, k, lda, ldb, ldc, flags, ctx.scratch(E.gemm_packed_b_bytes(k, n)));
        return;
      }
      const bBytes = align16(E.gemm_packed_b_bytes(k, n));
      const packed = ctx.scratch(bBytes + E.gemm_packed_a_bytes());
      E.gemm_pack_b_f32(b, ldb, k, n, flags, packed);
      E.gemm_packed_pa_f32(a, lda, packed, c, ldc, m, n, k, flags, packed + bBytes);
      return;
    }
    if (m >= 16 * t || m * 4 >= n) {
      const bBytes = align16(E.gemm_packed_b_bytes(k, n));
      const ranges = splitRange(m, t, 4);
      const packed = ctx.scratch(bBytes + (packA ? ranges.length * E.gemm_packed_a_bytes() : 0));
      // panels packed in parallel too: at 1024³ a serial pack is ~4% of the threaded time
      R.split("gemm_pack_b_panels_f32", (n + 7) >> 3, 2 * k * n, (s, e) => [b, ldb, k, n, flags, packed, s, e]);
      const aStep = flags & TRANS_A ? 4 : lda * 4;
      if (packA) {
        // one A block buffer per thread
        const aBytes = E.gemm_packed_a_bytes();
        R.parallel("gemm_packed_pa_f32", ranges.map(([s, e], i) =>
          [a + s * aStep, lda, packed, c + s * ldc * 4, ldc, e - s, n, k, flags, packed + bBytes + i * aBytes]), flops);
        return;
      }
      R.split("gemm_packed_f32", m, flops, (s, e) => [a + s * aStep, lda, packed, c + s * ldc * 4, ldc, e - s, n, k, flags], 4);
      return;
    }
    // wide and short: split columns, one packed panel set per thread
    const ranges = splitRange(n, t, 8);
    const per = E.gemm_packed_b_bytes(k, ranges[0][1] - ranges[0][0]) + 64;
    const base = ctx.scratch(per * ranges.length);
    const bStep = flags & TRANS_B ? ldb * 4 : 4;
    R.parallel("gemm_f32", ranges.map(([s, e], i) => [a, b + s * bStep, c + s * 4, m, e - s, k, lda, ldb, ldc, flags, base + i * per]));
  }

  /**
   * A batch of small products (a convolution's per-image GEMMs) spread over threads
   * in one dispatch, each thread's calls sharing one packing scratch; a batch of
   * batch shorter than the threads runs its products in turn, each split over threads.
   */
  function gemmBatch($: GemmF32Args, batch: number): void {
    const sa = ($.strideA ?? 0) * 4, sb = ($.strideB ?? 0) * 4, sc = ($.strideC ?? 0) * 4;
    const flops = 2 * $.m * $.n * $.k;
    if (R.threads === 1 || batch < R.threads) {
      for (let i = 0; i < batch; i++) gemm($.a + i * sa, $.b + i * sb, $.c + i * sc, $.m, $.n, $.k, $.lda, $.ldb, $.ldc, $.flags);
      return;
    }
    const per = E.gemm_packed_b_bytes($.k, $.n) + 64;
    const ranges = splitRange(batch, R.threads);
    const base = ctx.scratch(per * ranges.length);
    // R.parallel deals calls to threads in these same contiguous ranges, so range i owns scratch slot i
    const calls = ranges.flatMap(([s, e], r) => Array.from({ length: e - s }, (_, j) => {
      const i = s + j;
      return [$.a + i * sa, $.b + i * sb, $.c + i * sc, $.m, $.n, $.k, $.lda, $.ldb, $.ldc, $.flags, base + r * per];
    }));
    R.parallel("gemm_f32", calls, flops * batch);
  }

  /** Calls an attention kernel over BH split into one range per thread, each with its own scratch. */
  function splitHeads(kernel: ExportName, BH: number, perCall: number, flops: number, args: (s: number, e: number, scratchPtr: number) => number[]): void {
    const t = flops < 1 << 18 ? 1 : R.threads;
    const ranges = splitRange(BH, t);
    if (ranges.length === 0) return;
    const per = perCall + 64;
    const base = ctx.scratch(per * ranges.length);
    R.parallel(kernel, ranges.map(([s, e], i) => args(s, e, base + i * per)), ranges.length > 1 ? Infinity : 0);
  }

  /** An int32 index out of [0, len) is an error before anything is written (the GPU's kernels read NaN / write nothing instead). */
  function checkIndices(op: string, idx: number, n: number, len: number, what: string): void {
    const iv = ctx.i32(idx, n);
    for (let i = 0; i < n; i++) {
      if (iv[i] < 0 || iv[i] >= len) throw new Error(`${op}: index ${iv[i]} at position ${i} is out of range for ${what} of size ${len}`);
    }
  }

  /**
   * conv2d_direct_f32 (3×3) as Winograd F(m×m, 3×3): the weights transformed and packed
   * once (calling thread), then chunks of WINOGRAD_CHUNK tiles split over threads, each
   * thread with its own V/M scratch. Tiles are independent, so the bits do not depend
   * on the thread count.
   */
  function runWinograd(xp: number, w: number, bias: number, y: number, N: number, C: number, Hp: number, Wp: number, Cout: number, m: number, flops: number): void {
    const planes = (m + 2) * (m + 2), T = WINOGRAD_CHUNK;
    const OH = Hp - 2, OW = Wp - 2;
    const tiles = N * Math.ceil(OH / m) * Math.ceil(OW / m), chunks = Math.ceil(tiles / T);
    const packA = ctx.fusedMadd && Cout >= PACK_A_MIN_N ? 1 : 0;
    const uBytes = planes * E.gemm_packed_b_bytes(C, Cout), tmpBytes = align16(E.winograd_weights_tmp_bytes(C, Cout, m));
    const per = align16(E.winograd_scratch_bytes(C, Cout, m, T, packA));
    const ranges = splitRange(chunks, flops < 1 << 22 ? 1 : R.threads);
    const u = ctx.scratch(uBytes + tmpBytes + per * ranges.length);
    E.winograd_weights_f32(w, Cout, C, m, u + uBytes, u);
    const base = u + uBytes + tmpBytes;
    R.parallel("winograd_conv_f32", ranges.map(([s, e], i) =>
      [xp, u, bias, y, C, Hp, Wp, Cout, m, s * T, Math.min(e * T, tiles), T, packA, base + i * per]), flops);
  }

  /**
   * conv2d_wgrad_f32 (3×3) as Winograd F(4×4, 3×3): the input and output-gradient
   * transforms of every tile (split over tiles), one GEMM per plane over all tiles
   * (split over the 36 planes, each thread with its own packing scratch), then
   * dw = Gᵀ S G on the calling thread. Every sum runs in one order for any thread count.
   */
  function runWinogradWgrad(xp: number, dy: number, dw: number, N: number, C: number, Hp: number, Wp: number, Cout: number, flops: number): void {
    const OH = Hp - 2, OW = Wp - 2;
    const tiles = N * Math.ceil(OH / 4) * Math.ceil(OW / 4), ld = (tiles + 3) & ~3;
    const vStep = C * ld * 4 + 64, zStep = Cout * ld * 4 + 64, sStep = Cout * C * 4;
    const t = flops < 1 << 22 ? 1 : R.threads;
    const tRanges = splitRange(tiles, t, 4), pRanges = splitRange(36, t);
    const tBytes = align16(E.winograd_transform_scratch_bytes()), gBytes = align16(E.gemm_packed_b_bytes(tiles, C) + 64);
    const V = ctx.scratch(36 * vStep + 36 * zStep + 36 * sStep + Math.max(tRanges.length * tBytes, pRanges.length * gBytes) + 64);
    const Z = V + 36 * vStep, S = Z + 36 * zStep, work = align16(S + 36 * sStep);
    R.parallel("winograd_input_f32", tRanges.map(([s, e], i) => [xp, V, C, Hp, Wp, s, e, ld, work + i * tBytes]), Infinity);
    R.parallel("winograd_grad_f32", tRanges.map(([s, e], i) => [dy, Z, Cout, OH, OW, s, e, ld, work + i * tBytes]), Infinity);
    // R.parallel deals calls to threads in these same contiguous ranges, so range r owns scratch slot r
    R.parallel("gemm_f32", pRanges.flatMap(([s, e], r) => Array.from({ length: e - s }, (_, j) => {
      const q = s + j;
      return [Z + q * zStep, V + q * vStep, S + q * sStep, Cout, C, tiles, ld, ld, C, TRANS_B, work + r * gBytes];
    })), Infinity);
    E.winograd_wgrad_finish_f32(S, dw, Cout, C);
  }

  return {
    conv2d_wgrad_f32($: Conv2dWgradF32Args) {
      const { xp, dy, dw, N, C, Hp, Wp, KH, KW, O, Otot } = $;
      const OH = Hp - KH + 1, OW = Wp - KW + 1;
      const flops = 2 * N * O * OH * OW * C * KH * KW;
      if (O === Otot && winogradWgrad(N, C, OH, OW, O, KH, KW)) {
        runWinogradWgrad(xp, dy, dw, N, C, Hp, Wp, O, flops);
        return;
      }
      R.split("conv2d_wgrad_f32", O, flops, (s, e) => [xp, dy + s * OH * OW * 4, dw + s * C * KH * KW * 4, N, C, Hp, Wp, KH, KW, e - s, Otot]);
    },

    gemm_f32($) {
      const batch = $.batch ?? 1;
      if (batch === 1) gemm($.a, $.b, $.c, $.m, $.n, $.k, $.lda, $.ldb, $.ldc, $.flags);
      else if (batch > 1) gemmBatch($, batch);
    },

    conv2d_direct_f32($: Conv2dDirectF32Args) {
      const { xp, w, y, N, C, Hp, Wp, KH, KW, Cout } = $;
      const bias = $.bias ?? 0;
      const P = (Hp - KH + 1) * (Wp - KW + 1), CKK = C * KH * KW;
      const flops = 2 * N * Cout * P * CKK;
      const m = winogradTile(N, C, Hp - KH + 1, Wp - KW + 1, Cout, KH, KW);
      if (m) {
        runWinograd(xp, w, bias, y, N, C, Hp, Wp, Cout, m, flops);
        return;
      }
      const groups = fiveChannelGroups(Cout);
      if (ctx.fusedMadd && groups > 0) {
        // relaxed wasm: 5×8 tiles over weights packed 5 channels per tap, the bias fused in
        // (conv 32×32×32×32→64: 25.5 → 24.4 ms alone, one thread, CPU time; see docs/speed-notes.md)
        const w5 = ctx.scratch(groups * 5 * CKK * 4);
        E.conv_pack_w5_f32(w, groups, CKK, w5);
        R.split("conv2d_direct_pw_f32", N, flops, (s, e) =>
          [xp + s * C * Hp * Wp * 4, w, w5, bias, y + s * Cout * P * 4, e - s, C, Hp, Wp, KH, KW, Cout, groups]);
        return;
      }
      R.split("conv2d_direct_f32", N, flops, (s, e) => [xp + s * C * Hp * Wp * 4, w, y + s * Cout * P * 4, e - s, C, Hp, Wp, KH, KW, Cout]);
      if (bias) E.bias_add_channels_f32(y, bias, N, Cout, P);
    },

    reduce_f32($: ReduceF32Args) {
      const { op, x, y, outer, len, inner } = $;
      if (outer === 1 && inner === 1 && (op === 0 || op === 1)) {
        // a whole tensor: one pairwise pass over contiguous memory
        const s = E.sum_all_f32(x, len);
        ctx.f32(y, 1)[0] = op === 1 ? s / len : s;
        return;
      }
      R.split("reduce_f32", outer, outer * len * inner, (s, e) => [op, x + s * len * inner * 4, y + s * inner * 4, e - s, len, inner]);
    },

    embedding_f32($: EmbeddingF32Args) {
      const { table, idx, y, n, dim, rows } = $;
      // linear memory is readable here: an index out of range is an error before anything is written
      // (the GPU's kernel gives such a row NaNs instead, which shows as a NaN loss; docs/WEBGPU.md)
      const iv = ctx.i32(idx, n);
      for (let i = 0; i < n; i++) {
        if (iv[i] < 0 || iv[i] >= rows) throw new Error(`embedding: index ${iv[i]} at position ${i} is out of range for a table of ${rows} rows`);
      }
      R.split("embedding_f32", n, n * dim, (s, e) => [table, idx + s * 4, y + s * dim * 4, e - s, dim, rows]);
    },

    gather_dim_b32($: GatherDimB32Args) {
      const { x, idx, y, outer, lenX, lenI, inner } = $;
      checkIndices("gather", idx, outer * lenI * inner, lenX, "a dim");
      const m = lenI * inner;
      R.split("gather_dim_b32", outer, outer * m, (s, e) => [x + s * lenX * inner * 4, idx + s * m * 4, y + s * m * 4, e - s, lenX, lenI, inner]);
    },

    scatter_dim_f32($: ScatterDimF32Args) {
      const { src, idx, y, outer, lenY, lenI, inner, accumulate } = $;
      checkIndices(accumulate ? "scatterAdd" : "scatter", idx, outer * lenI * inner, lenY, "a dim");
      const m = lenI * inner;
      // rows of outer are disjoint in y; within one, j runs in order (the same bits for any split)
      R.split("scatter_dim_f32", outer, outer * m, (s, e) => [src + s * m * 4, idx + s * m * 4, y + s * lenY * inner * 4, e - s, lenY, lenI, inner, accumulate]);
    },

    index_select_b32($: IndexSelectB32Args) {
      const { x, idx, y, outer, lenX, n, inner } = $;
      checkIndices("indexSelect", idx, n, lenX, "a dim");
      R.split("index_select_b32", outer, outer * n * inner, (s, e) => [x + s * lenX * inner * 4, idx, y + s * n * inner * 4, e - s, lenX, n, inner]);
    },

    sort_f32($: SortF32Args) {
      const { x, values, indices, outer, len, inner, k, descending } = $;
      if (outer === 0 || len === 0 || inner === 0) return;
      // outer rows are independent: each thread's call gets its own 16·len bytes of pairs
      splitHeads("sort_f32", outer, 16 * len + 8, outer * inner * len * Math.max(1, Math.log2(len)) * 4, (s, e, sc) =>
        [x + s * len * inner * 4, values + s * k * inner * 4, indices + s * k * inner * 4, e - s, len, inner, k, descending, sc]);
    },

    // int8 inference (kernels/quant.mjs): rows go to threads in groups of 4 (the
    // quantised activations' layout); a short, wide product splits 8-channel panels
    quantize_rows_u7($: QuantizeRowsU7Args) {
      const { x, q, scale, zero, m, k, ldx, trans } = $;
      const lda = ((k + 3) >> 2) * 4;
      R.split("quantize_rows_u7", m, 4 * m * k, (s, e) =>
        [x + (trans ? s : s * ldx) * 4, q + s * lda, scale + s * 4, zero + s * 4, e - s, k, ldx, trans], 4);
    },

    gemm_i8($: GemmI8Args) {
      const { a, sa, za, w, sw, wsum, y, m, n, k, ldy, relu } = $;
      const bias = $.bias ?? 0;
      if (m === 0 || n === 0) return;
      const t = R.threads, macs = m * n * k;
      const K4 = (k + 3) >> 2, lda = K4 * 4;
      if (t === 1 || macs < 1 << 19 || m >= 16 * t || m * 2 >= n) {
        R.split("gemm_i8", m, macs, (s, e) => [a + s * lda, sa + s * 4, za + s * 4, w, sw, wsum, bias, y + s * ldy * 4, e - s, n, k, ldy, relu], 4);
        return;
      }
      // panel p of the packed weights starts at p·K4·32 weights (bytes per weight: this binary's)
      const wb = E.quant_packed_w_bytes(8, 4) / 32;
      R.parallel("gemm_i8", splitRange(n, t, 8).map(([s, e]) =>
        [a, sa, za, w + s * K4 * 4 * wb, sw + s * 4, wsum + s * 4, bias ? bias + s * 4 : 0, y + s * 4, m, e - s, k, ldy, relu]), macs);
    },

    // Both split kv heads (each with its whole group of query heads), so a range
    // starts at a kv head and the kernel's ⌊bh / group⌋ is relative to it; the
    // backward sums each kv head's dk/dv over its group inside one call.
    /** Ranges of output channels over threads, each thread quantising x into its own scratch (rows are independent). */
    gemv_i8($: GemvI8Args) {
      const { x, w, scales, bias, y, m, n, k, group, ldy } = $;
      if (n === 0 || m === 0) return;
      const G = group ? Math.ceil(k / group) : 1;
      const ranges = splitRange(n, 2 * m * n * k < 1 << 18 ? 1 : R.threads);
      const per = align16(E.gemv_i8_scratch_bytes(k));
      const base = ctx.scratch(per * ranges.length);
      R.parallel("gemv_i8", ranges.map(([s, e], i) =>
        [x, w + s * k, scales + s * G * 4, bias ? bias + s * 4 : 0, y + s * 4, m, e - s, k, group, ldy, base + i * per]), 2 * m * n * k);
    },

    attention_f32($: AttentionF32Args) {
      const { q, k, v, o, lse, BH, Sq, Sk, D, scale, causal } = $;
      const G = Math.max($.group, 1), KS = $.kvStride || Sk;
      const qs = G * Sq * D * 4, ks = KS * D * 4;
      splitHeads("attention_f32", Math.floor(BH / G), E.attention_scratch_bytes(Sq, Sk, D), 4 * BH * Sq * Sk * D, (s, e, sc) =>
        [q + s * qs, k + s * ks, v + s * ks, o + s * qs, lse + s * G * Sq * 4, (e - s) * G, Sq, Sk, D, scale, causal, sc, G, KS]);
    },

    attention_backward_f32($: AttentionBackwardF32Args) {
      const { q, k, v, o, lse, dO, dq, dk, dv, BH, Sq, Sk, D, scale, causal } = $;
      const G = Math.max($.group, 1);
      const qs = G * Sq * D * 4, ks = Sk * D * 4;
      splitHeads("attention_backward_f32", Math.floor(BH / G), E.attention_backward_scratch_bytes(Sq, Sk, D), 8 * BH * Sq * Sk * D, (s, e, sc) =>
        [q + s * qs, k + s * ks, v + s * ks, o + s * qs, lse + s * G * Sq * 4, dO + s * qs,
         dq + s * qs, dk + s * ks, dv + s * ks, (e - s) * G, Sq, Sk, D, scale, causal, sc, G]);
    },
  };
}
