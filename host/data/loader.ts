// Datasets held as flat typed arrays, and a DataLoader that turns them into
// batches of tensors: seeded shuffling (a new order each epoch), drop-last,
// and an optional per-sample transform (augmentation) applied on the host
// before the batch becomes a tensor.

import { tensor } from "../ops/creation.js";
import type { Tensor } from "../tensor.js";
import { shuffled } from "./transforms.js";
import { rng } from "../random.js";
import { checkOptions } from "../ops/util.js";

/**
 * N samples of one shape (x) with one target each (y: class indices as int32,
 * or float targets), as flat arrays.
 *
 * @example
 * const images = new Float32Array(10 * 28 * 28), labels = new Int32Array(10);
 * const ds = new wg.data.ArrayDataset(images, [1, 28, 28], labels);
 * const [train, val] = ds.split([0.9, 0.1], 42);
 * [train.length, val.length]; // [9, 1]
 */
export class ArrayDataset {
  readonly length: number;
  readonly sampleSize: number;
  constructor(
    readonly x: Float32Array,
    readonly sampleShape: number[],
    readonly y: Int32Array | Float32Array,
    /** Shape of one target: [] for a class index or a scalar, [k] for k values. */
    readonly targetShape: number[] = [],
  ) {
    this.sampleSize = sampleShape.reduce((a, b) => a * b, 1);
    const ty = targetShape.reduce((a, b) => a * b, 1);
    if (!this.sampleSize || x.length % this.sampleSize !== 0) {
      throw new Error(`ArrayDataset: ${x.length} values do not split into samples of shape [${sampleShape}]`);
    }
    this.length = x.length / this.sampleSize;
    if (y.length !== this.length * ty) throw new Error(`ArrayDataset: ${this.length} samples but ${y.length} target values (target shape [${targetShape}])`);
  }

  /** A new dataset holding the samples at `idx`, in that order. */
  subset(idx: ArrayLike<number>): ArrayDataset {
    const s = this.sampleSize, t = this.y.length / this.length;
    const x = new Float32Array(idx.length * s), y = new (this.y.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(idx.length * t);
    for (let i = 0; i < idx.length; i++) {
      const j = idx[i];
      if (!(j >= 0 && j < this.length)) throw new Error(`ArrayDataset.subset: index ${j} out of range for ${this.length} samples`);
      x.set(this.x.subarray(j * s, j * s + s), i * s);
      y.set(this.y.subarray(j * t, j * t + t), i * t);
    }
    return new ArrayDataset(x, this.sampleShape, y, this.targetShape);
  }

  /**
   * Splits into parts of the given fractions (summing to 1) after a seeded shuffle.
   * @example
   * const ds = new ArrayDataset(new Float32Array(10), [1], new Int32Array(10));
   * const [train, val, test] = ds.split([0.8, 0.1, 0.1], 0);
   * [train.length, val.length, test.length]; // [8, 1, 1]
   */
  split(fractions: number[], seed = 0): ArrayDataset[] {
    const total = fractions.reduce((a, b) => a + b, 0);
    if (Math.abs(total - 1) > 1e-9 || fractions.some((f) => f < 0)) throw new Error(`ArrayDataset.split: fractions [${fractions}] must be ≥ 0 and sum to 1`);
    const order = shuffled(this.length, seed);
    const out: ArrayDataset[] = [];
    let start = 0;
    fractions.forEach((f, i) => {
      const end = i === fractions.length - 1 ? this.length : start + Math.round(f * this.length);
      out.push(this.subset(order.subarray(start, end)));
      start = end;
    });
    return out;
  }
}

export interface DataLoaderOptions {
  batchSize?: number;
  /** A new seeded order every epoch (default false). */
  shuffle?: boolean;
  seed?: number;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Called on each sample's values (a copy) before batching: augmentation. */
  transform?: (sample: Float32Array, random: () => number) => void;
}

interface HostBatch {
  x: Float32Array;
  y: Int32Array | Float32Array;
  size: number;
}

export interface Batch {
  x: Tensor;
  y: Tensor;
  size: number;
}

/**
 * Batches of tensors from an ArrayDataset. Iterate it once per epoch; the
 * tensors are temporaries (make them inside wg.scope, as fit() does).
 *
 * @example
 * const train = new wg.data.ArrayDataset(new Float32Array(100 * 4), [4], new Int32Array(100));
 * const loader = new wg.data.DataLoader(train, { batchSize: 64, shuffle: true });
 * for (const { x, y } of loader) console.log(x.shape, y.shape); // prints [64, 4] [64], then [36, 4] [36]
 * loader.length; // 2
 */
export class DataLoader {
  readonly batchSize: number;
  private epoch = 0;
  constructor(readonly dataset: ArrayDataset, readonly opts: DataLoaderOptions = {}) {
    checkOptions("DataLoader", opts, ["batchSize", "shuffle", "seed", "dropLast", "transform"]);
    this.batchSize = opts.batchSize ?? 32;
    // 2.5 once made batches of 2 and a length of 0.8 per sample
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) throw new Error(`DataLoader: batchSize must be an integer ≥ 1, got ${opts.batchSize}`);
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new Error(`DataLoader: seed must be an integer, got ${opts.seed}`);
    if (opts.transform !== undefined && typeof opts.transform !== "function") throw new Error("DataLoader: transform must be a function");
  }

  /** Batches in one epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.opts.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const plan = this.plan();
    for (let b = 0; b < this.length; b++) yield this.toTensors(this.assemble(plan, b));
  }

  /**
   * The same batches as the plain iterator (same order, same augmentation),
   * with the next batch's host arrays assembled (gather + transform) in a
   * macrotask queued when the current batch is handed out: an async double
   * buffer. It overlaps the assembly with whatever the training step awaits
   * (a WebGPU readback, a file read, a browser frame); a step that never
   * awaits runs first and the assembly right after it, as without prefetch.
   *
   * @example
   * for await (const { x, y } of loader) { // the same batches as a for…of, with an await between them
   *   await new Promise((resolve) => setTimeout(resolve, 0));
   * }
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const plan = this.plan(), n = this.length;
    let next: Promise<HostBatch> | null = n > 0 ? Promise.resolve(this.assemble(plan, 0)) : null;
    for (let b = 0; b < n; b++) {
      const cur = await next!;
      next = b + 1 < n ? new Promise((resolve, reject) => setTimeout(() => {
        try {
          resolve(this.assemble(plan, b + 1));
        } catch (e) {
          reject(e);
        }
      }, 0)) : null;
      next?.catch(() => {}); // surfaced by the await above on the next turn
      yield this.toTensors(cur);
    }
  }

  /** Batches assembled so far (host arrays), for tests and progress. */
  assembled = 0;

  /** One epoch's order and augmentation stream; each call starts a new epoch. */
  private plan(): { order: Int32Array | null; random: () => number } {
    const seed = (this.opts.seed ?? 0) * 1000 + this.epoch++;
    return { order: this.opts.shuffle ? shuffled(this.dataset.length, seed) : null, random: rng(seed + 7) };
  }

  /** Gathers (and transforms) batch b's samples into fresh host arrays. */
  private assemble(plan: { order: Int32Array | null; random: () => number }, b: number): HostBatch {
    const ds = this.dataset, n = ds.length, s = ds.sampleSize, t = ds.y.length / n;
    const from = b * this.batchSize, to = Math.min(n, from + this.batchSize), size = to - from;
    const x = new Float32Array(size * s), y = new (ds.y.constructor as Int32ArrayConstructor | Float32ArrayConstructor)(size * t);
    for (let i = 0; i < size; i++) {
      const j = plan.order ? plan.order[from + i] : from + i;
      const sample = x.subarray(i * s, i * s + s);
      sample.set(ds.x.subarray(j * s, j * s + s));
      this.opts.transform?.(sample, plan.random);
      y.set(ds.y.subarray(j * t, j * t + t), i * t);
    }
    this.assembled++;
    return { x, y, size };
  }

  private toTensors(h: HostBatch): Batch {
    const ds = this.dataset;
    return {
      x: tensor(h.x, { shape: [h.size, ...ds.sampleShape] }),
      y: tensor(h.y, { shape: [h.size, ...ds.targetShape], dtype: h.y instanceof Int32Array ? "int32" : "float32" }),
      size: h.size,
    };
  }
}
