// Kernel family: rope. See docs/KERNELS.md for the ABI.
//
// Rotary position embeddings in Hugging Face's "rotate half" layout: feature i
// and feature i + D/2 of each head vector are the pair rotated by position s's
// angle for frequency i. x and y are [rows, S, D] (rows: the leading dims,
// batch × heads), cos and sin [S, D/2], so the host splits rows over threads.
//
// Each pair is loaded before either half is stored, and no pair shares an
// element with another, so y may equal x: a KV cache rotates its keys in place.
// The backward of a rotation is the rotation by −angle, the same kernel with
// sign = −1 (the tail runs the same arithmetic per lane as the 4-wide body, so a
// pair's value never depends on D's remainder mod 4).

// @ts-ignore: decorator
@inline function at(base: usize, i: i32): usize {
  return base + (<usize>i << 2);
}

/**
 * y[i] = x[i]·cos[i] − x[i+h]·sign·sin[i], y[i+h] = x[i+h]·cos[i] + x[i]·sign·sin[i]
 * (h = D/2, cos/sin of the vector's position), for rows × S vectors of D.
 * Example (host): rope_f32(q, cos, sin, q, 32, 1, 64, 1) rotates 32 heads of one position in place.
 */
export function rope_f32(x: usize, cos: usize, sin: usize, y: usize, rows: i32, S: i32, D: i32, sign: f32): void {
  const h = D >> 1;
  const vsign = f32x4.splat(sign);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < S; s++) {
      const o = (r * S + s) * D;
      const x1 = at(x, o), x2 = at(x, o + h), y1 = at(y, o), y2 = at(y, o + h);
      const c = at(cos, s * h), sn = at(sin, s * h);
      let i = 0;
      for (; i + 4 <= h; i += 4) {
        const a = v128.load(at(x1, i)), b = v128.load(at(x2, i));
        const cv = v128.load(at(c, i)), sv = f32x4.mul(v128.load(at(sn, i)), vsign);
        v128.store(at(y1, i), f32x4.sub(f32x4.mul(a, cv), f32x4.mul(b, sv)));
        v128.store(at(y2, i), f32x4.add(f32x4.mul(b, cv), f32x4.mul(a, sv)));
      }
      for (; i < h; i++) {
        const a = load<f32>(at(x1, i)), b = load<f32>(at(x2, i));
        const cv = load<f32>(at(c, i)), sv = load<f32>(at(sn, i)) * sign;
        store<f32>(at(y1, i), a * cv - b * sv);
        store<f32>(at(y2, i), b * cv + a * sv);
      }
    }
  }
}
