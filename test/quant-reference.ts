// Plain references for the int8 kernels (kernels/quant.mjs): the 7-bit row
// quantiser, the per-channel weight quantiser and the integer product with its
// epilogue, spelled out in JavaScript numbers (exact integers, f32 rounding
// with Math.fround at each step the kernels round).

const f = Math.fround;
/** wasm's f32.nearest: round half to even. */
export function nearestEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}
/** trunc_sat of a float already integral: NaN → 0. */
const sat = (x: number) => (Number.isNaN(x) ? 0 : x);

/** Byte offset of A_q[i, j] in quantize_rows_u7's layout (groups of 4 rows, 4 k side by side). */
export const aIndex = (i: number, j: number, k: number) => {
  const lda = Math.ceil(k / 4) * 4;
  return (i >> 2) * 4 * lda + (j >> 2) * 16 + (i & 3) * 4 + (j & 3);
};
/** Element offset of W_q[o, j] in quantize_weights_i8's panels (in weights: bytes on relaxed, int16 on plain). */
export const wIndex = (o: number, j: number, k: number) => ((o >> 3) * Math.ceil(k / 4) + (j >> 2)) * 32 + (o & 7) * 4 + (j & 3);

export interface QuantRows { q: Uint8Array; scale: Float32Array; zero: Int32Array }

/** quantize_rows_u7 of m×k row-major x. */
export function quantizeRowsRef(x: Float32Array, m: number, k: number): QuantRows {
  const q = new Uint8Array(Math.ceil(m / 4) * 4 * Math.ceil(k / 4) * 4), scale = new Float32Array(m), zero = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let lo = 0, hi = 0;
    for (let j = 0; j < k; j++) { lo = Math.min(lo, x[i * k + j]); hi = Math.max(hi, x[i * k + j]); }
    const range = f(hi - lo), inv = f(127 / range);
    scale[i] = f(range / 127);
    const z = Math.max(0, Math.min(127, sat(nearestEven(f(-lo * inv)))));
    zero[i] = z;
    for (let j = 0; j < k; j++) q[aIndex(i, j, k)] = Math.max(0, Math.min(127, sat(nearestEven(f(x[i * k + j] * inv))) + z));
  }
  return { q, scale, zero };
}

/** quantize_weights_i8 of n×k row-major w: W_q [n×k], scales, wsum. */
export function quantizeWeightsRef(w: Float32Array, n: number, k: number): { wq: Int8Array; scales: Float32Array; wsum: Int32Array } {
  const wq = new Int8Array(n * k), scales = new Float32Array(n), wsum = new Int32Array(n);
  for (let o = 0; o < n; o++) {
    let mx = 0;
    for (let j = 0; j < k; j++) mx = Math.max(mx, Math.abs(w[o * k + j]));
    const s = mx > 0 ? f(mx / 127) : 1;
    scales[o] = s;
    for (let j = 0; j < k; j++) {
      const v = Math.max(-127, Math.min(127, nearestEven(f(w[o * k + j] / s))));
      wq[o * k + j] = v;
      wsum[o] += v;
    }
  }
  return { wq, scales, wsum };
}

/** gemm_i8's result from the integer operands: exact i32 sums, then the f32 epilogue in the kernels' order. */
export function gemmI8Ref(a: QuantRows, w: { wq: Int8Array; scales: Float32Array; wsum: Int32Array }, bias: Float32Array | null,
                          m: number, n: number, k: number, relu: boolean): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let o = 0; o < n; o++) {
    let acc = 0;
    for (let j = 0; j < k; j++) acc += w.wq[o * k + j] * a.q[aIndex(i, j, k)];
    let v = f(f(f(f(acc - a.zero[i] * w.wsum[o]) * a.scale[i]) * w.scales[o]) + (bias ? bias[o] : 0));
    if (relu) v = Math.max(v, 0);
    y[i * n + o] = v;
  }
  return y;
}
