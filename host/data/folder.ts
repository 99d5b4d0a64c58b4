// Image folders as torchvision's ImageFolder reads them: one sub-folder per
// class (classes sorted by name, label = position), PNG and JPEG images in
// each. Node decodes with pngjs and jpeg-js; other runtimes with
// createImageBitmap + OffscreenCanvas. Every image becomes a C×H×W float
// image in [0, 1], resized (bilinear) to one size, so a folder turns into one
// ArrayDataset. Also a writer that makes such a folder from Fashion-MNIST
// (the S5 recipe's data when the user gives no folder).

import { resizeBilinear, toTensorChw } from "./transforms.js";
import { ArrayDataset } from "./loader.js";
import { checkPng, checkJpeg, maxPixelsOf, type ImageLimits } from "./image-check.js";
import { checkOptions } from "../ops/util.js";

function checkFolderOptions(who: string, opts: ImageFolderOptions): void {
  checkOptions(who, opts, ["size", "channels", "limitPerClass", "maxPixels"]);
  if (opts.size !== undefined && !(Array.isArray(opts.size) && opts.size.length === 2 && opts.size.every((d) => Number.isSafeInteger(d) && d >= 1))) {
    throw new Error(`${who}: size must be [height, width] of positive integers, got ${JSON.stringify(opts.size)}`);
  }
  if (opts.channels !== undefined && opts.channels !== 1 && opts.channels !== 3) throw new Error(`${who}: channels must be 1 or 3, got ${JSON.stringify(opts.channels)}`);
  if (opts.limitPerClass !== undefined && !(Number.isSafeInteger(opts.limitPerClass) && opts.limitPerClass >= 1)) throw new Error(`${who}: limitPerClass must be a positive integer, got ${opts.limitPerClass}`);
  maxPixelsOf(opts, who);
}
import { loadFashionMnist, FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, type ImageSet } from "./mnist.js";
import { nodeImport } from "../backends/node-import.js";

/** Decoded 8-bit pixels, interleaved H×W×channels. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** A folder of labelled images as one block of C×H×W floats in [0, 1]. */
export interface LabelledImages {
  images: Float32Array;
  labels: Int32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** Class names (the sub-folder names), by label. */
  classes: string[];
  /** Each image's path, by index. */
  files: string[];
}

const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isNode = () => typeof process !== "undefined" && !!process.versions?.node;

let decoders: { PNG: typeof import("pngjs").PNG; jpeg: typeof import("jpeg-js"); inflateSync: (b: Uint8Array, o: { maxOutputLength: number }) => Uint8Array } | null = null;
async function nodeDecoders() {
  if (!decoders) {
    const [png, jpeg, zlib] = await Promise.all([nodeImport<typeof import("pngjs")>("pngjs"), nodeImport<typeof import("jpeg-js")>("jpeg-js"), nodeImport<typeof import("node:zlib")>("node:zlib")]);
    decoders = { PNG: png.PNG ?? (png as any).default.PNG, jpeg: (jpeg as any).default ?? jpeg, inflateSync: zlib.inflateSync };
  }
  return decoders;
}

/**
 * Decodes a PNG or JPEG (told apart by their magic numbers, not the file
 * name) to RGBA pixels. Node: pngjs / jpeg-js; elsewhere: createImageBitmap
 * and an OffscreenCanvas. The header is checked first (host/data/image-check.ts):
 * at most `maxPixels` pixels (default 2^25), no empty image, and a pixel
 * stream as long as the header says. Corrupt, truncated or over-limit bytes
 * throw an error naming `name`.
 * @example const img = await decodeImage(bytes, "cat.png"); img.width; // 4
 */
export async function decodeImage(bytes: Uint8Array, name = "image", opts: ImageLimits = {}): Promise<DecodedImage> {
  if (!(bytes instanceof Uint8Array)) throw new Error(`decodeImage: ${name}: bytes must be a Uint8Array`);
  checkOptions("decodeImage", opts, ["maxPixels"]);
  const maxPixels = maxPixelsOf(opts, "decodeImage");
  const png = isPng(bytes), jpg = isJpeg(bytes);
  if (!png && !jpg) throw new Error(`decodeImage: ${name} is neither PNG nor JPEG (starts with ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ") || "nothing"})`);
  let out: DecodedImage, size: { width: number; height: number };
  try {
    if (isNode()) {
      const { PNG, jpeg, inflateSync } = await nodeDecoders();
      if (png) {
        size = checkPng(bytes, opts, inflateSync);
        const p = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
        out = { width: p.width, height: p.height, channels: 4, data: new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength) };
      } else {
        size = checkJpeg(bytes, opts);
        const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.max(64, Math.ceil((maxPixels * 16) / 2 ** 20)) });
        out = { width: j.width, height: j.height, channels: 4, data: j.data };
      }
    } else {
      size = png ? checkPng(bytes, opts) : checkJpeg(bytes, opts);
      const g = globalThis as any;
      if (!g.createImageBitmap || !g.OffscreenCanvas) throw new Error("this runtime has neither node:fs decoders nor createImageBitmap + OffscreenCanvas");
      const bitmap = await g.createImageBitmap(new Blob([bytes as BlobPart], { type: png ? "image/png" : "image/jpeg" }));
      const canvas = new g.OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(bitmap, 0, 0);
      const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
      out = { width: d.width, height: d.height, channels: 4, data: d.data };
    }
  } catch (e) {
    throw new Error(`decodeImage: ${name} is a malformed ${png ? "PNG" : "JPEG"} (${(e as Error).message})`);
  }
  // what the decoder gave must be what the header declared, whole
  if (out.width !== size.width || out.height !== size.height || out.data.length !== out.width * out.height * 4) {
    throw new Error(`decodeImage: ${name}: the decoder gave ${out.width}×${out.height} (${out.data.length} bytes) for a ${size.width}×${size.height} image`);
  }
  return out;
}

export interface ImageFolderOptions {
  /** Every image is resized (bilinear) to this [height, width]; default: the first image's size. */
  size?: [number, number];
  /** Channels kept: 3 (RGB, default; gray images are repeated) or 1 (the first channel). */
  channels?: 1 | 3;
  /** Read only the first `limit` images of each class (sorted by name): quick runs and tests. */
  limitPerClass?: number;
  /** Most pixels one image may have (default 2^25); see decodeImage. */
  maxPixels?: number;
}

const IMAGE_EXT = /\.(png|jpe?g)$/i;

/**
 * Reads a folder with one sub-folder per class (torchvision's ImageFolder
 * layout; classes sorted by name, files sorted by name). Node, Deno, Bun.
 * @example
 * import { mkdirSync, writeFileSync } from "node:fs";
 * for (const c of ["cat", "dog"]) { mkdirSync(`data/train/${c}`, { recursive: true }); writeFileSync(`data/train/${c}/1.png`, bytes); }
 * const train = await readImageFolder("data/train", { size: [32, 32] });
 * train.classes; // ["cat", "dog"]
 * imageFolderDataset(train).sampleShape; // [3, 32, 32]
 */
export async function readImageFolder(dir: string, opts: ImageFolderOptions = {}): Promise<LabelledImages> {
  checkFolderOptions("readImageFolder", opts);
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`readImageFolder: cannot read ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const classes = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  if (classes.length === 0) throw new Error(`readImageFolder: ${dir} has no class sub-folders (expected ${dir}/<class>/<image>.png)`);
  const files: string[] = [], labels: number[] = [];
  for (let c = 0; c < classes.length; c++) {
    let names = (await fs.readdir(`${dir}/${classes[c]}`)).filter((n) => IMAGE_EXT.test(n)).sort();
    if (names.length === 0) throw new Error(`readImageFolder: class folder ${dir}/${classes[c]} holds no .png or .jpg images`);
    if (opts.limitPerClass !== undefined) names = names.slice(0, opts.limitPerClass);
    for (const n of names) {
      files.push(`${dir}/${classes[c]}/${n}`);
      labels.push(c);
    }
  }
  return imagesFromFiles(files, labels, classes, (p) => fs.readFile(p).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)), opts);
}

/**
 * Decodes, resizes and stacks labelled image files read by `read` (a
 * fetch-based reader in browsers, where folders cannot be listed).
 * @example
 * // in a browser, read = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer())
 * const read = async (name: string) => bytes; // here: the same small PNG for every name
 * const set = await imagesFromFiles(["cat/1.png", "dog/1.png"], [0, 1], ["cat", "dog"], read, { size: [32, 32] });
 * set.count; // 2
 */
export async function imagesFromFiles(files: string[], labels: number[], classes: string[], read: (file: string) => Promise<Uint8Array>,
                                      opts: ImageFolderOptions = {}): Promise<LabelledImages> {
  checkFolderOptions("imagesFromFiles", opts);
  if (files.length !== labels.length) throw new Error(`imagesFromFiles: ${files.length} files but ${labels.length} labels`);
  const channels = opts.channels ?? 3;
  let [h, w] = opts.size ?? [0, 0];
  let images = new Float32Array(0);
  const batch = 64; // read a few files at once: the reads overlap the decoding
  for (let i = 0; i < files.length; i += batch) {
    const bytes = await Promise.all(files.slice(i, i + batch).map(read));
    for (let k = 0; k < bytes.length; k++) {
      const img = await decodeImage(bytes[k], files[i + k], { maxPixels: opts.maxPixels });
      if (!h) {
        [h, w] = [img.height, img.width];
      }
      if (images.length === 0) images = new Float32Array(files.length * channels * h * w);
      let chw = toTensorChw(img.data, img.height, img.width, img.channels, channels);
      if (img.height !== h || img.width !== w) chw = resizeBilinear(chw, channels, img.height, img.width, h, w);
      images.set(chw, (i + k) * channels * h * w);
    }
  }
  return { images, labels: Int32Array.from(labels), count: files.length, channels, height: h, width: w, classes, files };
}

/**
 * An ArrayDataset of [C, H, W] images and class labels.
 * @example
 * const set = await imagesFromFiles(["a.png"], [0], ["a"], async () => bytes, { size: [8, 8] });
 * imageFolderDataset(set).length; // 1
 */
export function imageFolderDataset(set: LabelledImages): ArrayDataset {
  return new ArrayDataset(set.images, [set.channels, set.height, set.width], set.labels);
}

/** Folder names for Fashion-MNIST's classes: the label first, so that sorting keeps label order. */
export const FASHION_FOLDER_CLASSES = FASHION_MNIST_CLASSES.map((n, i) => `${i}-${n.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`);

/**
 * The default cache folder for the Fashion-MNIST image folder:
 * $WEBGRAD_CACHE, else $XDG_CACHE_HOME/webgrad, else ~/.cache/webgrad, else
 * the system temp folder; then fashion-mnist-folder-<size>.
 * @example await defaultFashionFolder(32); // e.g. "/home/me/.cache/webgrad/fashion-mnist-folder-32"
 */
export async function defaultFashionFolder(size = 32): Promise<string> {
  const os = await nodeImport<typeof import("node:os")>("node:os");
  const env = process.env;
  const home = os.homedir?.();
  const base = env.WEBGRAD_CACHE ?? (env.XDG_CACHE_HOME ? `${env.XDG_CACHE_HOME}/webgrad` : home ? `${home}/.cache/webgrad` : `${os.tmpdir()}/webgrad`);
  return `${base}/fashion-mnist-folder-${size}`;
}

export interface FashionFolderOptions {
  /** Side of the square images written (default 32). */
  size?: number;
  /** Folder holding Fashion-MNIST's IDX files (default Debian's). */
  idxDir?: string;
  /** Write only the first n training and test images (tests). */
  limit?: number;
  /** Called with the number of images written so far. */
  onProgress?: (written: number, total: number) => void;
}

/** The file that marks a folder as webgrad's cache: only a folder holding it (or an empty or new one) is written into and cleared. */
export const CACHE_MARKER = ".webgrad-cache";

/**
 * Makes `out` webgrad's to write: a new or empty folder is created and
 * marked; a marked one is ours already; anything else belongs to the user
 * and is refused, so that a mistyped --cache can never clear it.
 */
async function claimCacheFolder(out: string): Promise<void> {
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  let names: string[];
  try {
    names = await fs.readdir(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw new Error(`writeFashionMnistFolder: cannot use ${out} as the cache folder (${code ?? (e as Error).message})`);
    await fs.mkdir(out, { recursive: true });
    names = [];
  }
  if (names.includes(CACHE_MARKER)) {
    if (!(await fs.stat(`${out}/${CACHE_MARKER}`)).isFile()) throw new Error(`writeFashionMnistFolder: ${out}/${CACHE_MARKER} is not webgrad's marker file`);
    return;
  }
  if (names.length) {
    throw new Error(`writeFashionMnistFolder: ${out} holds files webgrad did not write (it has no ${CACHE_MARKER} marker), so it is neither written into nor cleared; give an empty or new folder`);
  }
  await fs.writeFile(`${out}/${CACHE_MARKER}`, "This folder is a webgrad cache: webgrad may delete and rewrite what it holds.\n", { flag: "wx" });
}

/**
 * Writes Fashion-MNIST as an image folder: `out/train/<class>/<n>.png` and
 * `out/test/<class>/<n>.png`, each image resized (bilinear) from 28×28 to
 * size×size and stored as 3-channel (RGB) PNG, as the S5 seed's folder of
 * 32×32 colour images expects. A `complete.json` written last marks a
 * finished folder; a folder that has one is left as it is (the cache), so a
 * crash mid-write only costs a rewrite. `out` must be new, empty, or a
 * folder this function made (it holds a .webgrad-cache marker): any other
 * folder is refused, never cleared.
 * @example
 * const dir = await writeFashionMnistFolder("fashion-32", { limit: 100 }); // usually writeFashionMnistFolder(await defaultFashionFolder())
 * (await readImageFolder(`${dir}/train`)).classes.length; // 10
 */
export async function writeFashionMnistFolder(out: string, opts: FashionFolderOptions = {}): Promise<string> {
  checkOptions("writeFashionMnistFolder", opts, ["size", "idxDir", "limit", "onProgress"]);
  if (opts.size !== undefined && !(Number.isSafeInteger(opts.size) && opts.size >= 1 && opts.size <= 4096)) throw new Error(`writeFashionMnistFolder: size must be an integer in 1..4096, got ${opts.size}`);
  if (opts.limit !== undefined && !(Number.isSafeInteger(opts.limit) && opts.limit >= 0)) throw new Error(`writeFashionMnistFolder: limit must be a non-negative integer, got ${opts.limit}`);
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  const size = opts.size ?? 32;
  const marker = `${out}/complete.json`;
  const want = { size, limit: opts.limit ?? null, classes: FASHION_FOLDER_CLASSES };
  try {
    const have = JSON.parse(await fs.readFile(marker, "utf8"));
    if (have.size === want.size && have.limit === want.limit) return out;
  } catch { /* no finished folder yet */ }
  await claimCacheFolder(out);
  const { PNG } = await nodeDecoders();
  const { train, test } = await loadFashionMnist(opts.idxDir ?? FASHION_MNIST_DIR);
  const parts: [string, ImageSet][] = [["train", train], ["test", test]];
  const total = parts.reduce((a, [, s]) => a + Math.min(s.count, opts.limit ?? Infinity), 0);
  let written = 0;
  // only what this writer makes, in a folder it marked as its own
  await fs.rm(marker, { force: true });
  for (const split of ["train", "test"]) await fs.rm(`${out}/${split}`, { recursive: true, force: true });
  for (const [split, set] of parts) {
    for (const c of FASHION_FOLDER_CLASSES) await fs.mkdir(`${out}/${split}/${c}`, { recursive: true });
    const n = Math.min(set.count, opts.limit ?? Infinity), px = set.height * set.width;
    const rgba = Buffer.alloc(size * size * 4);
    for (let i = 0; i < n; i++) {
      const small = resizeBilinear(set.images.subarray(i * px, (i + 1) * px), 1, set.height, set.width, size, size);
      for (let p = 0; p < size * size; p++) {
        const v = Math.round(Math.min(1, Math.max(0, small[p])) * 255);
        rgba[4 * p] = rgba[4 * p + 1] = rgba[4 * p + 2] = v;
        rgba[4 * p + 3] = 255;
      }
      const png = new PNG({ width: size, height: size, colorType: 2, inputHasAlpha: true });
      rgba.copy(png.data);
      const bytes = PNG.sync.write(png, { colorType: 2, inputHasAlpha: true });
      await fs.writeFile(`${out}/${split}/${FASHION_FOLDER_CLASSES[set.labels[i]]}/${String(i).padStart(5, "0")}.png`, bytes);
      if (++written % 5000 === 0) opts.onProgress?.(written, total);
    }
  }
  await fs.writeFile(marker, JSON.stringify({ ...want, train: Math.min(train.count, opts.limit ?? Infinity), test: Math.min(test.count, opts.limit ?? Infinity) }));
  return out;
}
