// What an image file claims, checked before a decoder is handed it. The
// decoders trust the header: pngjs allocates whatever IHDR declares (a 68-byte
// PNG claiming 2147483647×1 pixels aborted Node inside zlib), pads a short
// pixel stream with zeros (4000×4000 from 16 bytes) and decodes a PNG with no
// IDAT as a black image; jpeg-js works through every declared block of a
// 9000×9000 frame before it notices that a 600-byte file has no data for
// them. So: dimensions are read here and held to a pixel limit the caller can
// raise; a PNG's pixel stream is inflated with an output cap and must be
// exactly as long as its header says; a JPEG must be big enough to hold
// at least one bit per 8×8 block of the frame it declares (the least any
// encoder can spend on a block: one Huffman code for its DC difference).

/** Limits on a decoded image. */
export interface ImageLimits {
  /** Most pixels (width × height) an image may have; default 2^25 (about 33.5 million: 8192×4096). */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 2 ** 25;

/** The pixel limit from options, checked. */
export function maxPixelsOf(opts: ImageLimits, who: string): number {
  const v = opts.maxPixels;
  if (v === undefined) return DEFAULT_MAX_PIXELS;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new Error(`${who}: maxPixels must be a positive integer, got ${String(v)}`);
  return v;
}

function checkSize(width: number, height: number, maxPixels: number): void {
  if (width === 0 || height === 0) throw new Error(`declares ${width}×${height} pixels: an image has at least one`);
  if (width * height > maxPixels) throw new Error(`declares ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels} (raise maxPixels for images you trust)`);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
// Adam7: [x start, y start, x step, y step] of each pass
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]];

/**
 * Checks a PNG's chunks and header and returns its size, or throws saying
 * what is wrong. With `inflate` (node:zlib's inflateSync), also inflates the
 * pixel stream under a cap and checks its length against the header.
 * @example
 * import { inflateSync } from "node:zlib";
 * checkPng(bytes, { maxPixels: 1e6 }, inflateSync); // { width: 4, height: 4 }
 */
export function checkPng(bytes: Uint8Array, opts: ImageLimits, inflate?: (b: Uint8Array, o: { maxOutputLength: number }) => Uint8Array): { width: number; height: number } {
  const maxPixels = maxPixelsOf(opts, "decodeImage");
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8, ihdr: { width: number; height: number; depth: number; color: number; interlace: number } | null = null;
  let palette = false, ended = false;
  const idat: Uint8Array[] = [];
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new Error(`chunk at byte ${at} is cut short`);
    const len = dv.getUint32(at), type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (len > bytes.length - at - 12) throw new Error(`chunk ${JSON.stringify(type)} at byte ${at} declares ${len} bytes, past the end of the file`);
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (!ihdr && type !== "IHDR") throw new Error(`the first chunk is ${JSON.stringify(type)}, not IHDR`);
    if (type === "IHDR") {
      if (ihdr) throw new Error("two IHDR chunks");
      if (len !== 13) throw new Error(`IHDR of ${len} bytes, not 13`);
      const d = new DataView(data.buffer, data.byteOffset, 13);
      ihdr = { width: d.getUint32(0), height: d.getUint32(4), depth: data[8], color: data[9], interlace: data[12] };
      if (ihdr.width > 0x7fffffff || ihdr.height > 0x7fffffff) throw new Error(`declares ${ihdr.width}×${ihdr.height} pixels, over PNG's 2^31-1`);
      checkSize(ihdr.width, ihdr.height, maxPixels);
      if (!DEPTHS[ihdr.color]?.includes(ihdr.depth)) throw new Error(`colour type ${ihdr.color} with bit depth ${ihdr.depth} is not a PNG format`);
      if (data[10] !== 0 || data[11] !== 0 || ihdr.interlace > 1) throw new Error("unknown compression, filter or interlace method");
    } else if (type === "PLTE") palette = true;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") {
      ended = true;
      break;
    }
    at += 12 + len;
  }
  if (!ihdr) throw new Error("no IHDR chunk");
  if (!idat.length) throw new Error("no IDAT chunk: the file holds no pixels");
  if (!ended) throw new Error("no IEND chunk: the file is cut short");
  if (ihdr.color === 3 && !palette) throw new Error("a palette image without a PLTE chunk");
  if (inflate) {
    const { width: w, height: h, depth, color, interlace } = ihdr;
    const bpp = CHANNELS[color] * depth;
    const rowsBytes = (pw: number, ph: number) => (pw && ph ? ph * (1 + Math.ceil((pw * bpp) / 8)) : 0);
    const expected = interlace
      ? ADAM7.reduce((a, [xs, ys, dx, dy]) => a + rowsBytes(Math.max(0, Math.ceil((w - xs) / dx)), Math.max(0, Math.ceil((h - ys) / dy))), 0)
      : rowsBytes(w, h);
    const all = new Uint8Array(idat.reduce((a, d) => a + d.length, 0));
    idat.reduce((o, d) => (all.set(d, o), o + d.length), 0);
    let raw: Uint8Array;
    try {
      raw = inflate(all, { maxOutputLength: expected + 1 }); // one byte over is enough to know there is too much
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw new Error(`the pixel stream inflates to more than the ${expected} bytes ${w}×${h} needs`);
      throw new Error(`the pixel stream is not a complete zlib stream (${(e as Error).message})`);
    }
    if (raw.length !== expected) throw new Error(`the pixel stream inflates to ${raw.length} bytes, ${w}×${h} needs ${raw.length > expected ? "only " : ""}${expected}`);
  }
  return { width: ihdr.width, height: ihdr.height };
}

/**
 * Checks a JPEG's frame header (SOF) against the limits and the file's size;
 * returns its size or throws saying what is wrong.
 * @example
 * import jpeg from "jpeg-js";
 * const jpg = jpeg.encode({ data: new Uint8Array(640 * 480 * 4), width: 640, height: 480 }, 90).data;
 * checkJpeg(jpg, {}); // { width: 640, height: 480 }
 */
export function checkJpeg(bytes: Uint8Array, opts: ImageLimits): { width: number; height: number } {
  const maxPixels = maxPixelsOf(opts, "decodeImage");
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new Error(`expected a marker at byte ${at}, found 0x${bytes[at].toString(16)}`);
    const m = bytes[at + 1];
    if (m === 0xff) {
      at++; // fill byte
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      at += 2;
      continue;
    }
    if (m === 0xd9 || m === 0xda) break; // end of image, or entropy-coded data before any frame header
    const len = (bytes[at + 2] << 8) | bytes[at + 3];
    if (len < 2 || at + 2 + len > bytes.length) throw new Error(`marker 0x${m.toString(16)} at byte ${at} declares ${len} bytes, past the end of the file`);
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (len < 8) throw new Error(`frame header of ${len} bytes is cut short`);
      const height = (bytes[at + 5] << 8) | bytes[at + 6], width = (bytes[at + 7] << 8) | bytes[at + 8];
      if (height === 0) throw new Error("declares its height in a DNL marker, which is not supported");
      checkSize(width, height, maxPixels);
      const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
      if (blocks > bytes.length * 8) throw new Error(`declares ${width}×${height} pixels (${blocks} blocks of 8×8), more than a ${bytes.length}-byte file can hold`);
      return { width, height };
    }
    at += 2 + len;
  }
  throw new Error("no frame header (SOF) before the image data");
}
