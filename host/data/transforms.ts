// Image transforms on plain Float32Arrays (CPU side, before a batch becomes a tensor).

import { rng } from "../random.js";
import { checkOptions, checkNumber, checkInt } from "../ops/util.js";

export interface AffineAugment {
  /** Max rotation in degrees (uniform in ±degrees). */
  degrees?: number;
  /** Scale range, e.g. [0.9, 1.1]. */
  scale?: [number, number];
  /** Max shift as a fraction of the size (uniform in ±translate). */
  translate?: number;
}

/**
 * Random rotation, scaling and shift of one H×W image (bilinear, zero fill),
 * like torchvision's RandomAffine. Writes into `out`.
 * @example
 * const img = new Float32Array(28 * 28).fill(1), out = new Float32Array(28 * 28);
 * randomAffine(img, out, 28, 28, { degrees: 10, scale: [0.9, 1.1], translate: 0.1 }, Math.random);
 */
export function randomAffine(src: Float32Array, out: Float32Array, h: number, w: number, a: AffineAugment, random: () => number): void {
  checkAffine(a);
  const deg = ((random() * 2 - 1) * (a.degrees ?? 0) * Math.PI) / 180;
  const [s0, s1] = a.scale ?? [1, 1];
  const s = s0 + random() * (s1 - s0);
  const tx = (random() * 2 - 1) * (a.translate ?? 0) * w;
  const ty = (random() * 2 - 1) * (a.translate ?? 0) * h;
  // inverse map: output pixel → source position
  const cos = Math.cos(deg) / s, sin = Math.sin(deg) / s;
  const cx = (w - 1) / 2, cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const dx = x - cx - tx, dy = y - cy - ty;
      const sx = cos * dx + sin * dy + cx;
      const sy = -sin * dx + cos * dy + cy;
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const fx = sx - x0, fy = sy - y0;
      let v = 0;
      if (x0 >= -1 && x0 < w && y0 >= -1 && y0 < h) {
        const p = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[yy * w + xx] : 0);
        v = (p(y0, x0) * (1 - fx) + p(y0, x0 + 1) * fx) * (1 - fy) + (p(y0 + 1, x0) * (1 - fx) + p(y0 + 1, x0 + 1) * fx) * fy;
      }
      out[y * w + x] = v;
    }
  }
}

/** randomAffine's options: known names, degrees and translate ≥ 0, a scale range [lo ≤ hi] of positive numbers. */
function checkAffine(a: AffineAugment): void {
  checkOptions("randomAffine", a, ["degrees", "scale", "translate"]);
  if (a === undefined) throw new Error("randomAffine: options { degrees, scale, translate } are required");
  if (a.degrees !== undefined) checkNumber("randomAffine", "degrees", a.degrees, 0);
  if (a.translate !== undefined) checkNumber("randomAffine", "translate", a.translate, 0);
  if (a.scale !== undefined) {
    const s = a.scale;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((v) => typeof v === "number" && Number.isFinite(v) && v > 0) || s[0] > s[1]) {
      throw new Error(`randomAffine: scale must be [lo, hi] with 0 < lo ≤ hi, got ${JSON.stringify(s)}`);
    }
  }
}

/** (x − mean) / std in place. @example normalize(new Float32Array([0.5, 1.5]), 0.5, 2); // Float32Array [0, 0.5] */
export function normalize(data: Float32Array, mean: number, std: number): Float32Array {
  checkNumber("normalize", "mean", mean);
  checkNumber("normalize", "std", std, 0, Infinity, true); // 0 or NaN would fill the batch with Infinity or NaN
  const inv = 1 / std;
  for (let i = 0; i < data.length; i++) data[i] = (data[i] - mean) * inv;
  return data;
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). @example shuffled(5, 42); // e.g. [3, 0, 4, 1, 2] */
export function shuffled(n: number, seed: number): Int32Array {
  const r = rng(seed);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Mirrors a C×H×W image left to right in place (torchvision's horizontal
 * flip); used with probability 0.5 for augmentation.
 * @example
 * hflip(new Float32Array([1, 2, 3, 4, 5, 6]), 1, 2, 3); // Float32Array [3, 2, 1, 6, 5, 4]
 * // for augmentation: if (Math.random() < 0.5) hflip(img, 3, 32, 32);
 */
export function hflip(img: Float32Array, c: number, h: number, w: number): Float32Array {
  for (let r = 0; r < c * h; r++) {
    const row = img.subarray(r * w, r * w + w);
    row.reverse();
  }
  return img;
}

/**
 * Random crop with zero padding (torchvision's RandomCrop(size, padding)):
 * pads a C×H×W image by `pad` on every side and cuts an H×W window at a
 * uniformly random offset, i.e. a shift of up to ±pad pixels. Writes into `out`.
 * @example
 * const img = new Float32Array(3 * 32 * 32).fill(1), out = new Float32Array(3 * 32 * 32);
 * randomCropPad(img, out, 3, 32, 32, 4, Math.random).length; // 3072
 */
export function randomCropPad(src: Float32Array, out: Float32Array, c: number, h: number, w: number, pad: number, random: () => number): Float32Array {
  checkInt("randomCropPad", "pad", pad, 0);
  const dy = Math.floor(random() * (2 * pad + 1)) - pad, dx = Math.floor(random() * (2 * pad + 1)) - pad;
  out.fill(0);
  const x0 = Math.max(0, -dx), x1 = Math.min(w, w - dx);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h || x1 <= x0) continue;
      const o = (ch * h + y) * w, s = (ch * h + sy) * w + dx;
      out.set(src.subarray(s + x0, s + x1), o + x0);
    }
  }
  return out;
}

/**
 * Bilinear resize of a C×H×W image to C×outH×outW, sampling at pixel centres
 * as PyTorch's interpolate(mode="bilinear", align_corners=False) does
 * (no antialiasing; for large downscales resize in steps).
 * @example
 * const small = resizeBilinear(new Float32Array(3 * 64 * 64).fill(0.5), 3, 64, 64, 32, 32);
 * [small.length, small[0]]; // [3072, 0.5]
 */
export function resizeBilinear(src: Float32Array, c: number, h: number, w: number, outH: number, outW: number): Float32Array {
  if (src.length !== c * h * w) throw new Error(`resizeBilinear: ${src.length} values are not a ${c}×${h}×${w} image`);
  if (!(outH >= 1 && outW >= 1)) throw new Error(`resizeBilinear: output size ${outH}×${outW} must be ≥ 1×1`);
  const out = new Float32Array(c * outH * outW);
  const sy = h / outH, sx = w / outW;
  const xs0 = new Int32Array(outW), xs1 = new Int32Array(outW), fxs = new Float32Array(outW);
  for (let x = 0; x < outW; x++) {
    const fx = Math.max(0, (x + 0.5) * sx - 0.5);
    xs0[x] = Math.min(w - 1, Math.floor(fx));
    xs1[x] = Math.min(w - 1, xs0[x] + 1);
    fxs[x] = fx - xs0[x];
  }
  for (let y = 0; y < outH; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(h - 1, Math.floor(fy)), y1 = Math.min(h - 1, y0 + 1), ty = fy - y0;
    for (let ch = 0; ch < c; ch++) {
      const r0 = (ch * h + y0) * w, r1 = (ch * h + y1) * w, o = (ch * outH + y) * outW;
      for (let x = 0; x < outW; x++) {
        const tx = fxs[x];
        const top = src[r0 + xs0[x]] * (1 - tx) + src[r0 + xs1[x]] * tx;
        const bot = src[r1 + xs0[x]] * (1 - tx) + src[r1 + xs1[x]] * tx;
        out[o + x] = top * (1 - ty) + bot * ty;
      }
    }
  }
  return out;
}

/**
 * Interleaved 8-bit pixels (H×W×channels, e.g. RGBA from a PNG decoder or a
 * canvas) to a C×H×W float image in [0, 1] (torchvision's ToTensor), keeping
 * the first `outChannels` channels; a 1-channel source is repeated into 3.
 * @example
 * const rgba = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255]); // two pixels, 1×2
 * toTensorChw(rgba, 1, 2, 4, 3); // Float32Array [1, 0, 0, 1, 0, 0]
 */
export function toTensorChw(pixels: Uint8Array | Uint8ClampedArray, h: number, w: number, channels: number, outChannels = 3): Float32Array {
  if (pixels.length !== h * w * channels) throw new Error(`toTensorChw: ${pixels.length} bytes are not ${h}×${w}×${channels} pixels`);
  const out = new Float32Array(outChannels * h * w), px = h * w;
  for (let c = 0; c < outChannels; c++) {
    const from = channels === 1 ? 0 : Math.min(c, channels - 1);
    for (let i = 0; i < px; i++) out[c * px + i] = pixels[i * channels + from] / 255;
  }
  return out;
}

/**
 * Per-channel (x − mean[c]) / std[c] in place over a batch of C×H×W images
 * (torchvision's Normalize); C is mean.length, H·W is `pixels`.
 * @example normalizeChannels(new Float32Array([0, 1, 0.5, 0.5]), [0.5, 0.5], [0.5, 0.25], 2); // Float32Array [-1, 1, 0, 0]
 */
export function normalizeChannels(data: Float32Array, mean: number[], std: number[], pixels: number): Float32Array {
  const c = mean.length;
  mean.forEach((m, i) => checkNumber("normalizeChannels", `mean[${i}]`, m));
  std.forEach((s, i) => checkNumber("normalizeChannels", `std[${i}]`, s, 0, Infinity, true));
  if (std.length !== c || data.length % (c * pixels) !== 0) throw new Error(`normalizeChannels: ${data.length} values are not images of ${c}×${pixels} pixels (${mean.length} means, ${std.length} stds)`);
  for (let at = 0; at < data.length; at += pixels) {
    const ch = (at / pixels) % c, m = mean[ch], inv = 1 / std[ch];
    for (let i = at; i < at + pixels; i++) data[i] = (data[i] - m) * inv;
  }
  return data;
}
