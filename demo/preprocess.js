// A drawing to a 28x28 MNIST-style digit, the way MNIST's digits were made
// (LeCun et al.): the ink's bounding box is scaled, keeping its aspect ratio,
// so that its longer side is 20 pixels (anti-aliased: each output pixel is the
// average of the input pixels it covers), then placed in a 28x28 field so that
// its centre of mass falls on the field's centre. Pure functions over arrays,
// no DOM: the page and test/e2e/demo.test.ts run the same code.

/** Ink below this (0..1) is background when the bounding box is found. */
const INK = 0.05;

/**
 * @param {ArrayLike<number>} gray  width·height ink values in [0, 1], row-major (1 = ink)
 * @param {number} width
 * @param {number} height
 * @returns {Float32Array | null} 784 values in [0, 1] (the brightest pixel is 1), or null when nothing is drawn
 * @example toMnist(inkOfCanvas, 280, 280) // Float32Array(784), ready for normalisation
 */
export function toMnist(gray, width, height) {
  // 1. bounding box of the ink
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (gray[y * width + x] > INK) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;

  // 2. the box scaled into at most 20x20, aspect ratio kept: box filter (area average)
  const s = 20 / Math.max(bw, bh);
  const ow = Math.max(1, Math.round(bw * s)), oh = Math.max(1, Math.round(bh * s));
  const small = new Float32Array(ow * oh);
  for (let oy = 0; oy < oh; oy++) {
    const sy0 = y0 + oy / s, sy1 = y0 + (oy + 1) / s;
    for (let ox = 0; ox < ow; ox++) {
      const sx0 = x0 + ox / s, sx1 = x0 + (ox + 1) / s;
      small[oy * ow + ox] = areaMean(gray, width, height, sx0, sy0, sx1, sy1);
    }
  }

  // 3. into 28x28 with the centre of mass at the centre (14, 14), shifted by whole pixels as MNIST did
  let mass = 0, mx = 0, my = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const v = small[y * ow + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const dx = Math.round(14 - mx / mass), dy = Math.round(14 - my / mass);
  const out = new Float32Array(784);
  let max = 0;
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      const tx = x + dx, ty = y + dy;
      if (tx < 0 || ty < 0 || tx >= 28 || ty >= 28) continue;
      out[ty * 28 + tx] = small[y * ow + x];
      max = Math.max(max, small[y * ow + x]);
    }
  }
  // MNIST's strokes are saturated; a thin or faint drawing is brought up to the same range
  if (max > 0) for (let i = 0; i < 784; i++) out[i] = Math.min(1, out[i] / max);
  return out;
}

/** Mean of `gray` over the rectangle [x0, x1) × [y0, y1) in pixel units, partial pixels weighted by their overlap. */
function areaMean(gray, width, height, x0, y0, x1, y1) {
  let sum = 0, area = 0;
  for (let y = Math.floor(y0); y < Math.min(height, Math.ceil(y1)); y++) {
    const wy = Math.min(y + 1, y1) - Math.max(y, y0);
    if (wy <= 0) continue;
    for (let x = Math.floor(x0); x < Math.min(width, Math.ceil(x1)); x++) {
      const wx = Math.min(x + 1, x1) - Math.max(x, x0);
      if (wx <= 0) continue;
      sum += gray[y * width + x] * wx * wy;
      area += wx * wy;
    }
  }
  return area > 0 ? sum / area : 0;
}

/**
 * Ink of RGBA pixels drawn in white on black (the page's canvas): the red channel, in [0, 1].
 * @param {Uint8ClampedArray} rgba
 */
export function inkOf(rgba) {
  const out = new Float32Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4] / 255;
  return out;
}
