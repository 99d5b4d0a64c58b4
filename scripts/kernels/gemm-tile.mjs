// Template of the GEMM micro-kernels: an R×8 tile of C (R = 1..5 rows, 8 columns
// as two v128 per row, 2R accumulators), for one layout of A. Every variant runs
// the same arithmetic, step for step, as the hand-written kernels it replaced
// (test/gemm-conv-tiles.test.ts holds them to their bits):
//   per k step: two v128 loads of the packed B panel (b0, b1), then for each row
//   r in order: s = row r's A value broadcast, c_r0 = madd(s, b0, c_r0),
//   c_r1 = madd(s, b1, c_r1). So each element of C is one madd chain over k in
//   order, whatever the tile height: a row computed in any tile has the same bits.
// The k loop is not unrolled on purpose (see assembly/gemm.ts: unrolled bodies
// spill under TurboFan).
//
// A layouts (the `a` parameter):
//   normal      op(A) = A row-major: row r walks its own pointer p_r, 4 bytes per k.
//   transposed  A stored k×m (TRANS_A): the R values of one k are adjacent, read
//               at q + 4r, and q steps lda4 bytes per k.
//   packed      A packed R floats per k (gemm.ts's packA5): rows 0..3 of each
//               group of four come from ONE v128 load, lanes broadcast by
//               i32x4.shuffle (pure, so TurboFan does not hoist it and the tile
//               fits the registers); rows past the last full four are splat loads.

const LAYOUTS = {
  normal: "A row-major",
  transposed: "A stored k×m (TRANS_A)",
  packed: "A packed per k (rows 0..3 from one v128 load, lanes broadcast by shuffles)",
};

/** The AssemblyScript name of the R×8 tile for layout `a`, e.g. gemm_f32_4x8_a_normal. */
export const gemmTileName = (R, a) => `gemm_f32_${R}x8_a_${a}`;

/** AssemblyScript source of the R×8 GEMM tile for A layout `a` (normal | transposed | packed). */
export function gemmTile(R, a) {
  if (!LAYOUTS[a]) throw new Error(`gemm tile: unknown A layout ${a}`);
  const rows = Array.from({ length: R }, (_, r) => r);
  const each = (f) => rows.map(f);
  const fullGroups = a === "packed" ? R >> 2 : 0; // groups of four rows read by one v128 load
  const aValue = (r) => {
    if (a === "normal") return `v128.load32_splat(p${r}, 0)`;
    if (r < 4 * fullGroups) { const g = r >> 2, l = r & 3; return `i32x4.shuffle(av${g}, av${g}, ${l}, ${l}, ${l}, ${l})`; }
    return `v128.load32_splat(q, ${4 * r})`;
  };
  const aParams = a === "packed" ? "a: usize" : "a: usize, lda4: usize";
  return [
    `/** ${R}×8 tile of C (${2 * R} v128 accumulators), ${LAYOUTS[a]}. */`,
    `export function ${gemmTileName(R, a)}(${aParams}, b: usize, kc: i32, b2: usize, kc2: i32, c: usize, ldc4: usize, nr: i32, load: bool): void {`,
    ...each((r) => (r === 0 ? `  const r0 = c;` : `  const r${r} = c + ${r} * ldc4;`)),
    ...each((r) => `  let c${r}0 = f32x4.splat(0), c${r}1 = f32x4.splat(0);`),
    `  if (load) {`,
    ...each((r) => `    c${r}0 = loadN(r${r}, nr); c${r}1 = loadN(r${r} + 16, nr - 4);`),
    `  }`,
    ...(a === "normal" ? each((r) => (r === 0 ? `  let p0 = a;` : `  let p${r} = a + ${r} * lda4;`)) : [`  let q = a;`]),
    `  let bp = b;`,
    `  let kk = kc;`,
    `  let b0: v128, b1: v128, s: v128;`,
    `  // the k range is up to two KC blocks: this panel's rows in block k0, then in block k0 + KC`,
    `  for (let seg = 0; seg < 2; seg++) {`,
    `    if (seg == 1) { bp = b2; kk = kc2; }`,
    `    while (kk > 0) {`,
    `      b0 = v128.load(bp, 0); b1 = v128.load(bp, 16);`,
    ...Array.from({ length: fullGroups }, (_, g) => `      const av${g} = v128.load(q, ${16 * g});`),
    ...each((r) => `      s = ${aValue(r)}; c${r}0 = madd(s, b0, c${r}0); c${r}1 = madd(s, b1, c${r}1);`),
    ...(a === "normal"
      ? [`      bp += 32;`, `      ${each((r) => `p${r} += 4;`).join(" ")}`]
      : [`      q += ${a === "packed" ? 4 * R : "lda4"};`, `      bp += 32;`]),
    `      kk--;`,
    `    }`,
    `  }`,
    `  if (nr == 8) {`,
    ...each((r) => `    v128.store(r${r}, c${r}0); v128.store(r${r}, c${r}1, 16);`),
    `  } else {`,
    ...each((r) => `    storeN(r${r}, c${r}0, nr); storeN(r${r} + 16, c${r}1, nr - 4);`),
    `  }`,
    `}`,
  ].join("\n");
}
