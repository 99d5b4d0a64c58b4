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
  if (typeof s !== "number" || !Number.isInteger(s)) throw new Error(`manualSeed: the seed must be an integer, got ${String(s)}`);
  seed = s >>> 0;
  offset = 0;
}

/** Where the global stream stands: what a checkpoint saves so that a resumed run draws what the uninterrupted one would. */
export interface RngState {
  seed: number;
  offset: number;
}

/**
 * The global stream's position (dropout masks, initialisers and shuffles without a seed draw from it).
 * @example const s = wg.getRngState(); wg.randn([2]); wg.setRngState(s); // the next randn([2]) repeats
 */
export function getRngState(): RngState {
  return { seed, offset };
}

/**
 * Puts the global stream back where getRngState() found it.
 * @example wg.setRngState({ seed: 42, offset: 0 }); // as wg.manualSeed(42)
 */
export function setRngState(s: RngState): void {
  if (typeof s !== "object" || s === null) throw new Error("setRngState: expected {seed, offset}");
  if (!Number.isInteger(s.seed) || s.seed < 0 || s.seed > 0xffffffff) throw new Error(`setRngState: seed must be an integer in 0..2^32-1, got ${JSON.stringify(s.seed)}`);
  if (!Number.isInteger(s.offset) || s.offset < 0 || s.offset > 0x7fffffff) throw new Error(`setRngState: offset must be an integer in 0..2^31-1, got ${JSON.stringify(s.offset)}`);
  seed = s.seed;
  offset = s.offset;
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
