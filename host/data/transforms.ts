// Image transforms on plain Float32Arrays (CPU side, before a batch becomes a tensor).

import { rng } from "../random.js";

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
 * @example randomAffine(img, out, 28, 28, { degrees: 10, scale: [0.9, 1.1], translate: 0.1 }, Math.random);
 */
export function randomAffine(src: Float32Array, out: Float32Array, h: number, w: number, a: AffineAugment, random: () => number): void {
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

/** (x − mean) / std in place. @example normalize(batch, 0.1307, 0.3081); */
export function normalize(data: Float32Array, mean: number, std: number): Float32Array {
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
