// Readers for IDX files, image folders and fortune/text corpora (including
// truncated, corrupt and mislabelled files written into a temp folder), the
// image transforms against hand-computed values, and the DataLoader's async
// prefetch.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { rmSync, mkdtempSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import * as wg from "../host/index.js";
import * as data from "../host/data/index.js";

await wg.init({ threads: 1, verbose: false });

const tmp = mkdtempSync(join(tmpdir(), "webgrad-data-"));

/** An IDX file: magic 0x00 0x00 0x08 nd, big-endian dims, then the bytes. */
function idx(dims: number[], values: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

const throwsLike = async (f: () => Promise<unknown>, re: RegExp) => {
  try {
    await f();
  } catch (e) {
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected an error matching ${re}`);
};

test("IDX: raw and gzipped image/label pairs read the same; values scaled to [0, 1]", async () => {
  const im = idx([2, 2, 3], [0, 255, 51, 102, 0, 0, 1, 2, 3, 4, 5, 6]);
  const lb = idx([2], [7, 3]);
  for (const [a, b] of [[im, lb], [new Uint8Array(gzipSync(im)), new Uint8Array(gzipSync(lb))]]) {
    const s = await data.parseIdxPair(a, b);
    assert.is(s.count, 2);
    assert.is(s.height, 2);
    assert.is(s.width, 3);
    assert.equal([...s.labels], [7, 3]);
    assert.ok(Math.abs(s.images[1] - 1) < 1e-7 && Math.abs(s.images[2] - 0.2) < 1e-7);
  }
});

test("IDX: wrong magic, truncated header, truncated data, extra bytes, mismatched labels and broken gzip all fail clearly", async () => {
  const im = idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), lb = idx([2], [0, 1]);
  const badMagic = im.slice();
  badMagic[2] = 0x0d; // float data type
  await throwsLike(() => data.parseIdxPair(badMagic, lb, ["im", "lb"]), /im: parseIdx: bad magic 0xd03/);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]);
  await throwsLike(() => data.parseIdxPair(png, lb, ["im", "lb"]), /bad magic/);
  await throwsLike(() => data.parseIdxPair(im.subarray(0, 6), lb), /too short/);
  await throwsLike(() => data.parseIdxPair(im.subarray(0, 10), lb), /header truncated/);
  await throwsLike(() => data.parseIdxPair(im.subarray(0, im.length - 1), lb), /need 8 bytes of data, file has 7/);
  await throwsLike(() => data.parseIdxPair(new Uint8Array([...im, 0]), lb), /need 8 bytes of data, file has 9/);
  await throwsLike(() => data.parseIdxPair(im, idx([3], [0, 1, 2]), ["im", "lb"]), /lb: dims \[3\], expected \[2\]/);
  await throwsLike(() => data.parseIdxPair(lb, lb, ["im", "lb"]), /im: dims \[2\], expected N×H×W/);
  const gz = new Uint8Array(gzipSync(im));
  await throwsLike(() => data.parseIdxPair(gz.subarray(0, gz.length - 6), lb, ["im.gz", "lb"]), /gunzip: im\.gz is not a complete gzip stream/);
  await throwsLike(() => data.loadIdx(join(tmp, "nope.gz"), join(tmp, "nope2.gz")), /cannot read .*nope\.gz \(ENOENT\)/);
});

test("loadFashionMnist: finds gzipped or raw files in a folder and names a missing one", async () => {
  const dir = join(tmp, "fmnist");
  mkdirSync(dir);
  const im = idx([3, 28, 28], Array.from({ length: 3 * 784 }, (_, i) => i % 256)), lb = idx([3], [9, 0, 4]);
  writeFileSync(join(dir, "train-images-idx3-ubyte.gz"), gzipSync(im));
  writeFileSync(join(dir, "train-labels-idx1-ubyte"), lb);
  writeFileSync(join(dir, "t10k-images-idx3-ubyte"), im);
  await throwsLike(() => data.loadFashionMnist(dir), /t10k-labels-idx1-ubyte\.gz nor .*t10k-labels-idx1-ubyte exists/);
  writeFileSync(join(dir, "t10k-labels-idx1-ubyte.gz"), gzipSync(lb));
  const { train, test: t } = await data.loadFashionMnist(dir);
  assert.is(train.count, 3);
  assert.equal([...t.labels], [9, 0, 4]);
  assert.ok(Math.abs(train.images[300] - 44 / 255) < 1e-7);
});

test("loadFashionMnist: Debian's files hold 60,000 + 10,000 labelled 28×28 images", async () => {
  if (!existsSync(data.FASHION_MNIST_DIR)) return; // dataset-fashion-mnist not installed
  const { train, test: t } = await data.loadFashionMnist();
  assert.is(train.count, 60000);
  assert.is(t.count, 10000);
  const counts = new Array(10).fill(0);
  for (const l of t.labels) counts[l]++;
  assert.equal(counts, new Array(10).fill(1000));
});

test("transforms: flip, crop with padding, bilinear resize (torch's align_corners=False), to-tensor, per-channel normalise", () => {
  const img = Float32Array.from([1, 2, 3, 4, 5, 6]); // 1×2×3
  assert.equal([...data.hflip(img.slice(), 1, 2, 3)], [3, 2, 1, 6, 5, 4]);
  const out = new Float32Array(6);
  assert.equal([...data.randomCropPad(img, out, 1, 2, 3, 0, Math.random)], [1, 2, 3, 4, 5, 6]);
  // random() = 0 picks offset −pad on both axes: the image moves down and right by pad
  assert.equal([...data.randomCropPad(img, out, 1, 2, 3, 1, () => 0)], [0, 0, 0, 0, 1, 2]);
  assert.equal([...data.randomCropPad(img, out, 1, 2, 3, 1, () => 0.999)], [5, 6, 0, 0, 0, 0]);
  // torch.nn.functional.interpolate([[0,1],[2,3]], size=4, mode="bilinear", align_corners=False)
  const up = data.resizeBilinear(Float32Array.from([0, 1, 2, 3]), 1, 2, 2, 4, 4);
  assert.equal([...up.subarray(0, 4)], [0, 0.25, 0.75, 1]);
  assert.equal([...up.subarray(4, 8)], [0.5, 0.75, 1.25, 1.5]);
  assert.equal([...up.subarray(12, 16)], [2, 2.25, 2.75, 3]);
  const same = Float32Array.from({ length: 12 }, (_, i) => i);
  assert.equal([...data.resizeBilinear(same, 1, 3, 4, 3, 4)], [...same]);
  assert.throws(() => data.resizeBilinear(same, 2, 3, 4, 3, 4), /12 values are not a 2×3×4 image/);
  const rgba = Uint8Array.from([255, 0, 51, 9, 0, 102, 255, 9]); // 1×2 RGBA
  assert.equal([...data.toTensorChw(rgba, 1, 2, 4, 3)].map((v) => Math.round(v * 255)), [255, 0, 0, 102, 51, 255]);
  assert.equal([...data.toTensorChw(Uint8Array.from([0, 255]), 1, 2, 1, 3)], [0, 1, 0, 1, 0, 1]);
  const batch = Float32Array.from([1, 3, 10, 30, 1, 3, 10, 30]); // 2 images × 2 channels × 2 pixels
  assert.equal([...data.normalizeChannels(batch, [2, 20], [1, 10], 2)], [-1, 1, -1, 1, -1, 1, -1, 1]);
});

function pngBytes(w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const p = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const [r, g, b] = rgb(x, y);
    p.data.set([r, g, b, 255], 4 * (y * w + x));
  }
  return PNG.sync.write(p);
}

test("image folder: classes sorted by name, PNG and JPEG decoded, resized to one size, CHW floats", async () => {
  const dir = join(tmp, "folder");
  for (const c of ["cat", "ant", "dog"]) mkdirSync(join(dir, c), { recursive: true });
  writeFileSync(join(dir, "cat", "a.png"), pngBytes(4, 4, () => [255, 0, 0]));
  writeFileSync(join(dir, "ant", "b.png"), pngBytes(2, 2, (x) => [x * 255, 0, 255]));
  const rgba = Buffer.alloc(8 * 8 * 4, 0);
  for (let i = 0; i < 64; i++) rgba.set([0, 200, 0, 255], 4 * i);
  writeFileSync(join(dir, "dog", "c.jpg"), jpeg.encode({ width: 8, height: 8, data: rgba }, 95).data);
  writeFileSync(join(dir, "dog", "notes.txt"), "not an image");
  const set = await data.readImageFolder(dir, { size: [4, 4] });
  assert.equal(set.classes, ["ant", "cat", "dog"]);
  assert.equal([...set.labels], [0, 1, 2]);
  assert.is(set.count, 3);
  assert.is(set.images.length, 3 * 3 * 16);
  const at = (i: number, c: number, y: number, x: number) => set.images[((i * 3 + c) * 4 + y) * 4 + x];
  assert.is(at(1, 0, 2, 2), 1); // the red cat
  assert.is(at(1, 1, 2, 2), 0);
  assert.is(at(0, 0, 0, 0), 0); // ant: red ramps 0 → 1 left to right after upscaling 2 → 4
  assert.is(at(0, 0, 0, 1), 0.25);
  assert.is(at(0, 0, 0, 3), 1);
  assert.ok(Math.abs(at(2, 1, 3, 3) - 200 / 255) < 0.03, `jpeg green ${at(2, 1, 3, 3)}`);
  const ds = data.imageFolderDataset(set);
  assert.equal(ds.sampleShape, [3, 4, 4]);
  const gray = await data.readImageFolder(dir, { size: [2, 2], channels: 1 });
  assert.is(gray.images.length, 3 * 4);
});

test("image folder: truncated PNG, corrupt JPEG, non-images, empty class and missing folders fail naming the file", async () => {
  const mk = (name: string, files: Record<string, Uint8Array | string>) => {
    const dir = join(tmp, name);
    for (const [f, b] of Object.entries(files)) {
      mkdirSync(join(dir, f.split("/")[0]), { recursive: true });
      writeFileSync(join(dir, f), b);
    }
    return dir;
  };
  const good = pngBytes(4, 4, () => [1, 2, 3]);
  const trunc = mk("trunc", { "a/ok.png": good, "b/bad.png": good.subarray(0, good.length - 20) });
  await throwsLike(() => data.readImageFolder(trunc), /decodeImage: .*b\/bad\.png is a malformed PNG/);
  const corrupt = good.slice();
  corrupt.fill(7, 40, 60); // inside the IHDR/IDAT chunks: CRC or inflate fails
  await throwsLike(() => data.readImageFolder(mk("crc", { "a/x.png": corrupt })), /x\.png is a malformed PNG/);
  const jpg = jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256, 128) }, 90).data;
  await throwsLike(() => data.readImageFolder(mk("jpg", { "a/y.jpg": jpg.subarray(0, 30) })), /y\.jpg is a malformed JPEG/);
  await throwsLike(() => data.readImageFolder(mk("txt", { "a/z.png": "hello, world" })), /z\.png is neither PNG nor JPEG \(starts with 68 65 6c 6c\)/);
  const empty = mk("empty", { "a/ok.png": good });
  mkdirSync(join(empty, "b"));
  await throwsLike(() => data.readImageFolder(empty), /class folder .*empty\/b holds no \.png or \.jpg images/);
  const flat = join(tmp, "flat");
  mkdirSync(flat);
  writeFileSync(join(flat, "loose.png"), good);
  await throwsLike(() => data.readImageFolder(flat), /has no class sub-folders/);
  await throwsLike(() => data.readImageFolder(join(tmp, "missing")), /cannot read .*missing \(ENOENT\)/);
});

test("writeFashionMnistFolder: 32×32 RGB PNGs in train/test class folders that read back as the resized images", async () => {
  if (!existsSync(data.FASHION_MNIST_DIR)) return;
  const out = join(tmp, "fashion-folder");
  await data.writeFashionMnistFolder(out, { limit: 30 });
  const back = await data.readImageFolder(join(out, "test"), { size: [32, 32] });
  assert.is(back.count, 30);
  assert.equal(back.classes, data.FASHION_FOLDER_CLASSES);
  const png = PNG.sync.read(Buffer.from(await (await import("node:fs/promises")).readFile(back.files[0])));
  assert.is(png.width, 32);
  const { test: src } = await data.loadFashionMnist();
  // back.files are sorted by class then index; find the source image by the file's number
  const n = Number(back.files[5].match(/(\d+)\.png$/)![1]);
  assert.is(back.labels[5], src.labels[n]);
  const want = data.resizeBilinear(src.images.subarray(n * 784, (n + 1) * 784), 1, 28, 28, 32, 32);
  let worst = 0;
  for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) worst = Math.max(worst, Math.abs(back.images[(5 * 3 + c) * 1024 + p] - want[p]));
  assert.ok(worst <= 0.5 / 255 + 1e-6, `max difference ${worst}`);
  // a finished folder is kept (the cache): a second call rewrites nothing
  const stamp = (await import("node:fs")).statSync(back.files[0]).mtimeMs;
  await data.writeFashionMnistFolder(out, { limit: 30 });
  assert.is((await import("node:fs")).statSync(back.files[0]).mtimeMs, stamp);
});

test("writeFashionMnistFolder: a folder the user owns is refused and left as it was, never cleared", async () => {
  const mine = join(tmp, "my-precious");
  mkdirSync(join(mine, "photos"), { recursive: true });
  writeFileSync(join(mine, "photos", "cat.txt"), "keep me");
  await throwsLike(() => data.writeFashionMnistFolder(mine, { limit: 2, idxDir: join(tmp, "no-idx") }), /my-precious holds files webgrad did not write .*neither written into nor cleared/);
  assert.ok(existsSync(join(mine, "photos", "cat.txt")));
  // a new folder is made and marked before anything else happens
  const fresh = join(tmp, "fresh-cache");
  await throwsLike(() => data.writeFashionMnistFolder(fresh, { limit: 2, idxDir: join(tmp, "no-idx") }), /neither .*no-idx/);
  assert.ok(existsSync(join(fresh, ".webgrad-cache")));
});

test("fortunes: records split on % lines, ANSI colours stripped, CRLF handled; binary and empty files rejected", async () => {
  const text = "first\r\nline two\r\n%\r\n\x1b[33m  -- \x1b[32mauthor\x1b[m\n%\n%\n\nthird\n\n";
  assert.equal(data.parseFortunes(text), ["first\nline two", "  -- author", "third"]);
  assert.is(data.stripAnsi("\x1b[1;31mred\x1b[0m \x1b]0;title\x07ok"), "red ok");
  assert.is(data.stripAnsi("a\x1b[;\x1b[34;1mmb"), "ab"); // a code nested in another, as three of fortunes-zh's records have it
  assert.is(data.stripAnsi("a\x1b[;"), "a"); // a code cut short at the end
  assert.throws(() => data.parseFortunes("%\n%\n", "x"), /x holds no records/);
  assert.throws(() => data.parseFortunes("a\0b", "x.dat"), /x\.dat holds NUL bytes/);
  writeFileSync(join(tmp, "bad-utf8"), Uint8Array.from([0x61, 0xff, 0xfe]));
  await throwsLike(() => data.readFortunes(join(tmp, "bad-utf8")), /not valid UTF-8/);
  await throwsLike(() => data.readText(join(tmp, "nothing.txt")), /readText: cannot read .*ENOENT/);
  const zh = "/usr/share/games/fortunes/chinese";
  if (existsSync(zh)) {
    const recs = await data.readFortunes(zh);
    assert.ok(recs.length > 5000, `${recs.length} records`);
    assert.ok(recs.every((r) => !r.includes("\x1b") && !/^%$/m.test(r)));
  }
});

test("CharVocab: code points (CJK, emoji) round-trip; unknown characters and ids fail clearly", () => {
  const text = "今天天气很好，阳光明媚。😀ab";
  const v = data.CharVocab.fromText(text);
  assert.is(v.size, [...new Set(text)].length);
  const ids = v.encode("天气😀");
  assert.instance(ids, Int32Array);
  assert.is(ids.length, 3);
  assert.is(v.decode(ids), "天气😀");
  assert.is(v.decode(v.encode(text)), text);
  assert.equal(data.CharVocab.fromText("bca").chars, ["a", "b", "c"]);
  assert.throws(() => v.encode("天x"), /character "x" \(U\+78\) at 1 is not in the vocabulary/);
  assert.throws(() => v.decode([0, v.size]), new RegExp(`id ${v.size} at 1 is outside 0\\.\\.${v.size - 1}`));
});

test("DataLoader: the async iterator yields the sync iterator's batches, with the next one assembled before it is asked for", async () => {
  const n = 10, x = Float32Array.from({ length: n * 2 }, (_, i) => i), y = Int32Array.from({ length: n }, (_, i) => i);
  const ds = new data.ArrayDataset(x, [2], y);
  const transform = (s: Float32Array, r: () => number) => { s[0] += r(); };
  const a = new data.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 5, transform });
  const b = new data.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 5, transform });
  const plain = [...a].map((t) => [[...t.x.dataSync()], [...t.y.dataSync()]]);
  const got: number[][][] = [];
  let i = 0;
  for await (const t of b) {
    got.push([[...t.x.dataSync()], [...t.y.dataSync()]]);
    await new Promise((r) => setTimeout(r, 0)); // a step that awaits: the prefetch runs meanwhile
    assert.is(b.assembled, Math.min(4, i + 2), `batch ${i}`);
    i++;
  }
  assert.equal(got, plain);
  assert.is(got.length, 4);
});

// the temporary folder goes when the tests are done, passed or failed
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
