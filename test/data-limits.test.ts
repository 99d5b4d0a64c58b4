// The readers against hostile inputs, one repro per finding of issue 13: PNGs
// that declare more pixels than they hold (or none), JPEGs that declare more
// blocks than their bytes can code, gzip bombs and empty images in IDX files,
// nested ANSI codes that once took quadratic time, NUL in a vocabulary's text.
// Each must end in a named error (or a correct result), quickly.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { deflateSync, gzipSync } from "node:zlib";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import * as data from "../host/data/index.js";
import { pngOf } from "./fuzz-cases.js";

const rejects = async (f: () => Promise<unknown>, re: RegExp, ms = 1000) => {
  const t0 = performance.now();
  try {
    await f();
  } catch (e) {
    assert.match((e as Error).message, re);
    assert.ok(performance.now() - t0 < ms, `took ${performance.now() - t0} ms`);
    return;
  }
  assert.unreachable(`expected an error matching ${re}`);
};

test("PNG: 2147483647×1 (68 bytes) is refused by the pixel limit, not by a zlib abort", async () => {
  const bytes = pngOf(2147483647, 1, [deflateSync(new Uint8Array(4))]);
  assert.ok(bytes.length < 80);
  await rejects(() => data.decodeImage(bytes, "huge.png"), /huge\.png is a malformed PNG \(declares 2147483647×1 = .* over the limit of 33554432 \(raise maxPixels/);
});

test("PNG: 4000×4000 from 16 bytes of pixel data, no IDAT, 0×5 and too much data are refused; a raised limit reads a big image", async () => {
  await rejects(() => data.decodeImage(pngOf(4000, 4000, [deflateSync(new Uint8Array(8))]), "short.png"), /short\.png .*inflates to 8 bytes, 4000×4000 needs 48004000/);
  await rejects(() => data.decodeImage(pngOf(2, 2, []), "empty.png"), /no IDAT chunk/);
  await rejects(() => data.decodeImage(pngOf(0, 5, [deflateSync(new Uint8Array(1))]), "zero.png"), /declares 0×5 pixels/);
  await rejects(() => data.decodeImage(pngOf(1, 1, [deflateSync(new Uint8Array(40))]), "long.png"), /inflates to more than the 4 bytes 1×1 needs/);
  await rejects(() => data.decodeImage(pngOf(1, 1, [deflateSync(new Uint8Array(4))], 3), "pal.png"), /without a PLTE/);
  const bytes = PNG.sync.write(new PNG({ width: 300, height: 200 }));
  await rejects(() => data.decodeImage(bytes, "big.png", { maxPixels: 50000 }), /300×200 = 60000 pixels, over the limit of 50000/);
  const img = await data.decodeImage(bytes, "big.png", { maxPixels: 60000 });
  assert.is(img.width * img.height, 60000);
  await rejects(() => data.decodeImage(bytes, "x.png", { maxPixel: 1 } as any), /unknown option "maxPixel"/);
});

test("JPEG: 9000×9000 declared by a 600-byte file is refused at once; a good JPEG still decodes", async () => {
  const jpg = new Uint8Array(jpeg.encode({ width: 8, height: 8, data: Buffer.alloc(256, 128) }, 90).data);
  const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
  const bad = new Uint8Array(600);
  bad.set(jpg.subarray(0, Math.min(600, jpg.length)));
  bad[sof + 5] = 9000 >> 8, bad[sof + 6] = 9000 & 255, bad[sof + 7] = 9000 >> 8, bad[sof + 8] = 9000 & 255;
  await rejects(() => data.decodeImage(bad, "huge.jpg", { maxPixels: 1e8 }), /huge\.jpg is a malformed JPEG \(declares 9000×9000 pixels \(1265625 blocks of 8×8\), more than a 600-byte file can hold/, 200);
  await rejects(() => data.decodeImage(bad, "huge.jpg"), /over the limit/, 200);
  const ok = await data.decodeImage(jpg, "ok.jpg");
  assert.is(ok.width, 8);
});

/** An IDX file: magic 0x00 0x00 0x08 nd, big-endian dims, then the bytes. */
function idx(dims: number[], values: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length), dv = new DataView(out.buffer);
  dv.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  out.set(values, 4 + 4 * dims.length);
  return out;
}

test("IDX: a gzip bomb stops at the output cap; images of H or W = 0 are refused", async () => {
  const n = 4000, bomb = gzipSync(idx([n, 28, 28], new Uint8Array(n * 784))), labels = gzipSync(idx([n], new Uint8Array(n)));
  assert.ok(bomb.length < 100_000);
  await rejects(() => data.parseIdxPair(bomb, labels, ["bomb", "labels"], { maxBytes: 1 << 20 }), /gunzip: bomb inflates to more than 1048576 bytes \(raise maxBytes/);
  const set = await data.parseIdxPair(bomb, labels, ["bomb", "labels"], { maxBytes: 4 << 20 });
  assert.is(set.count, n);
  await rejects(() => data.parseIdxPair(idx([3, 0, 28], new Uint8Array(0)), idx([3], new Uint8Array(3))), /images of 0×28 pixels/);
  await rejects(() => data.parseIdxPair(idx([3, 28, 0], new Uint8Array(0)), idx([3], new Uint8Array(3))), /images of 28×0 pixels/);
});

/** stripAnsi as it was: the regular expressions applied until nothing changes (the reference the scanner must agree with). */
function stripAnsiByFixpoint(text: string): string {
  const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
  for (let before = ""; before !== text; ) [before, text] = [text, text.replace(ANSI, "")];
  return text.replace(/\x1b\[[0-?]*[ -/]*|\x1b/g, "");
}

test("stripAnsi: agrees with the fixpoint of the old regular expressions on 20,000 random strings, and is linear on deep nesting", () => {
  // no "]" but in "ESC ]": an OSC that only forms once an inner code has gone (ESC ESC 7 ] ...) is
  // where the two part ways, and no terminal writes one
  const alphabet = ["\x1b", "\x1b", "\x1b[", "\x1b]", "[", "\\", ";", "1", "m", "A", "x", " ", "/", "\x07", "\n", "天", "~", "@", "?", "7"];
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 8);
  for (let k = 0; k < 20000; k++) {
    let t = "";
    for (let n = next() % 24; n > 0; n--) t += alphabet[next() % alphabet.length];
    assert.is(JSON.stringify(data.stripAnsi(t)), JSON.stringify(stripAnsiByFixpoint(t)), JSON.stringify(t));
  }
  const deep = "\x1b[;".repeat(47000) + "m".repeat(47000); // 188 KiB
  const t0 = performance.now();
  assert.is(data.stripAnsi(deep + "ok"), "ok");
  assert.ok(performance.now() - t0 < 200, `${performance.now() - t0} ms`);
  const osc = "\x1b]title ".repeat(30000);
  const t1 = performance.now();
  assert.is(data.stripAnsi(osc), "title ".repeat(30000)); // unterminated OSCs: ESC ] goes, their text stays
  assert.ok(performance.now() - t1 < 200, `${performance.now() - t1} ms`);
});

test("CharVocab: a text holding NUL encodes and decodes itself; with UNK, NUL is unknown", () => {
  const t = "a\0b\0";
  const v = data.CharVocab.fromText(t);
  assert.equal(v.chars, ["\0", "a", "b"]);
  assert.is(v.decode(v.encode(t)), t);
  const u = data.CharVocab.fromText(t, { unk: true });
  assert.equal(Array.from(u.encode(t)), [1, 0, 2, 0]);
  assert.throws(() => data.CharVocab.fromText(t, { minCount: 0 }), /minCount must be a positive integer/);
  assert.throws(() => data.CharVocab.fromText(t, { min: 2 } as any), /unknown option "min"/);
});

test("fortunes: a % line with trailing white space of any kind separates records (the fuzzer found \"%\\v\" left as a lone %)", () => {
  assert.equal(data.parseFortunes("ok\n%\v\nnext\n%\f\n"), ["ok", "next"]);
});

test.run();
