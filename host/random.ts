// Seeded randomness. Kernels draw from a counter-based generator (element i
// depends only on (seed, offset + i)), so the same seed gives the same
// tensor on any thread count. The host keeps one global stream: each draw
// takes the next `offset` range, so a run repeats exactly after manualSeed().

let seed = 0x9e3779b9 >>> 0;
let offset = 0;

/**
 * Resets the global random stream (initialisers, dropout, shuffling).
 * @example wg.manualSeed(42); const a = wg.randn([2]); wg.manualSeed(42); // next randn([2]) equals a
 */
export function manualSeed(s: number): void {
  seed = s >>> 0;
  offset = 0;
}

/** Takes `n` counters from the global stream (or from an explicit seed). */
export function draw(n: number, explicitSeed?: number): { seed: number; offset: number } {
  if (explicitSeed !== undefined) return { seed: explicitSeed >>> 0, offset: 0 };
  const r = { seed, offset };
  // keep offsets exact in the kernels' 32-bit counter space: start a new sub-seed on wrap
  offset += n;
  if (offset > 0x7fffffff) {
    seed = (Math.imul(seed ^ (seed >>> 16), 0x45d9f3b) + 1) >>> 0;
    offset = 0;
  }
  return r;
}

/** A small seeded JS generator (mulberry32) for host-side choices such as shuffling. */
export function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
