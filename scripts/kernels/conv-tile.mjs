// Template of the direct-convolution tiles: R output channels × 8 adjacent output
// columns of one output row (2R v128 accumulators), straight over a padded image
// (stride 1, no dilation; assembly/conv.ts). Every variant runs the arithmetic of
// the hand-written tiles it replaced, step for step (test/gemm-conv-tiles.test.ts
// holds them to their bits):
//   each chain starts from its channel's bias (or 0 with bias = 0); then per tap
//   r = (c·KH + kh)·KW + kw in order: two v128 loads of 8 input floats (b0, b1),
//   and for each channel o in order: s = its weight of tap r broadcast,
//   c_o0 = madd(s, b0, c_o0), c_o1 = madd(s, b1, c_o1).
// This is the GEMM micro-kernel's chain (scripts/kernels/gemm-tile.mjs) with the
// image as B, so every output has the bits gemm_f32 would give over im2col columns.
//
// Weight layouts (the `w` parameter):
//   splat   weights [Cout, C·KH·KW] as given: channel o's weight is a splat load
//           CKK4 bytes after channel o − 1's.
//   packed  weights packed R floats per tap (conv_pack_w5_f32 for R = 5): channels
//           0..3 of each four from one v128 load broadcast by i32x4.shuffle,
//           the rest splat loads, as the packed GEMM tile reads A.

const LAYOUTS = {
  splat: "weights [Cout, C·KH·KW] as given (one splat load per channel and tap)",
  packed: "weights packed per tap (channels 0..3 from one v128 load, lanes broadcast by shuffles)",
};

/** The AssemblyScript name of the R-channel × 8-column tile for weight layout `w`, e.g. conv2d_f32_4x8_w_splat. */
export const convTileName = (R, w) => `conv2d_f32_${R}x8_w_${w}`;

/** AssemblyScript source of the R×8 direct-conv tile for weight layout `w` (splat | packed). */
export function convTile(R, w) {
  if (!LAYOUTS[w]) throw new Error(`conv tile: unknown weight layout ${w}`);
  const rows = Array.from({ length: R }, (_, r) => r);
  const each = (f) => rows.map(f);
  const fullGroups = w === "packed" ? R >> 2 : 0;
  const weight = (r) => {
    if (w === "splat") return r === 0 ? `v128.load32_splat(wp)` : r === 1 ? `v128.load32_splat(wp + CKK4)` : `v128.load32_splat(wp + ${r} * CKK4)`;
    if (r < 4 * fullGroups) { const g = r >> 2, l = r & 3; return `i32x4.shuffle(av${g}, av${g}, ${l}, ${l}, ${l}, ${l})`; }
    return `v128.load32_splat(wp, ${4 * r})`;
  };
  const at = (r, base, step) => (r === 0 ? base : r === 1 ? `${base} + ${step}` : `${base} + ${r} * ${step}`);
  const wParams = w === "splat" && R > 1 ? "w: usize, CKK4: usize" : "w: usize";
  return [
    `/** ${R} output channel${R > 1 ? "s" : ""} × 8 columns at xrow / y, ${LAYOUTS[w]}; bias: ${R} float${R > 1 ? "s" : ""}, or 0 for none. */`,
    `// @ts-ignore: decorator`,
    `@inline export function ${convTileName(R, w)}(xrow: usize, ${wParams}, y: usize, P4: usize, C: i32, KH: i32, KW: i32, plane4: usize, Wp4: usize, bias: usize): void {`,
    `  let ${each((r) => (r === 0 ? "c00 = f32x4.splat(0)" : `c${r}0 = c00`)).join(", ")};`,
    `  if (bias) {`,
    `    ${each((r) => `c${r}0 = ${r === 0 ? "v128.load32_splat(bias)" : `v128.load32_splat(bias, ${4 * r})`};`).join(" ")}`,
    `  }`,
    `  let ${each((r) => `c${r}1 = c${r}0`).join(", ")};`,
    `  let wp = w;`,
    `  for (let c = 0; c < C; c++) {`,
    `    let rp = xrow + <usize>c * plane4;`,
    `    for (let kh = 0; kh < KH; kh++) {`,
    `      for (let kw = 0; kw < KW; kw++) {`,
    `        const q = rp + (<usize>kw << 2);`,
    `        const b0 = v128.load(q), b1 = v128.load(q, 16);`,
    ...Array.from({ length: fullGroups }, (_, g) => `        const av${g} = v128.load(wp${g ? `, ${16 * g}` : ""});`),
    ...each((r) => `        ${r === 0 ? "let s" : "s"} = ${weight(r)}; c${r}0 = madd(s, b0, c${r}0); c${r}1 = madd(s, b1, c${r}1);`),
    `        wp += ${w === "packed" ? 4 * R : 4};`,
    `      }`,
    `      rp += Wp4;`,
    `    }`,
    `  }`,
    ...each((r) => `  v128.store(${at(r, "y", "P4")}, c${r}0); v128.store(${at(r, "y", "P4")}, c${r}1, 16);`),
    `}`,
  ].join("\n");
}
