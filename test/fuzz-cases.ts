// The fuzzer's starting points (test/fuzz-lib.ts): valid files of every
// family, made here so the run needs nothing on disk, and the hand-made
// repros of issue 13, which every run tries before its mutations.

import { deflateSync, crc32 } from "node:zlib";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import * as wg from "../host/index.js";

/** A safetensors file from a header given as text (so it may hold duplicate keys) and a body. */
function rawSafetensors(header: object | string, body: ArrayLike<number>): Uint8Array {
  const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header)), out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(Array.from(body), 8 + h.length);
  return out;
}

export function safetensorsHandMade(): Uint8Array[] {
  const f32 = (o: number) => ({ dtype: "F32", shape: [1], data_offsets: [o, o + 4] });
  const one = wg.io.serializeSafetensors(Object.assign(Object.create(null), { ["__proto__"]: { dtype: "float32", shape: [1], data: new Float32Array([1]) } }));
  const big = new Uint8Array(8 + (16 << 20) + 1).fill(0x20); // a header one byte over the default limit
  new DataView(big.buffer).setBigUint64(0, BigInt((16 << 20) + 1), true);
  return [
    one,
    rawSafetensors({ a: { dtype: ["F32"], shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
    rawSafetensors({ a: { dtype: 5, shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
    rawSafetensors({ a: f32(0), b: f32(8) }, new Uint8Array(12)),
    rawSafetensors({ a: f32(0) }, new Uint8Array(7)),
    rawSafetensors(`{"a":${JSON.stringify(f32(0))},"a":${JSON.stringify(f32(0))}}`, new Uint8Array(4)),
    rawSafetensors({ __metadata__: ["x"] }, []),
    rawSafetensors({ __metadata__: null }, []),
    rawSafetensors({ __metadata__: "x" }, []),
    big,
  ];
}

/** The checkpoint repros, made from a good checkpoint by editing its tensors and metadata. */
export function checkpointHandMade(good: Uint8Array): Uint8Array[] {
  const edit = (fn: (t: Record<string, any>, m: Record<string, string>) => void) => {
    const { tensors, metadata } = wg.io.parseSafetensors(good);
    const t: Record<string, any> = Object.create(null), m: Record<string, string> = { ...metadata };
    for (const k of Object.keys(tensors)) t[k] = tensors[k];
    fn(t, m);
    return wg.io.serializeSafetensors(t, m);
  };
  const copy = (t: Record<string, any>, to: string) => (t[to] = t["optimizer.state.0.exp_avg"]);
  return [
    edit((t) => copy(t, "optimizer.state.0.__proto__")),
    edit((t) => copy(t, "optimizer.state.0.constructor")),
    edit((t) => copy(t, "optimizer.state.0.toString")),
    edit((t, m) => { delete m.optimizer; for (const k of Object.keys(t)) if (k.startsWith("optimizer.")) delete t[k]; }),
    edit((t, m) => { m.optimizer = m.optimizer.replace(/"lr":[^,}]+/, '"lr":"abc"'); }),
    edit((t, m) => { m.step = "abc"; }),
    edit((t, m) => { m.extra = "{"; }),
    edit((t) => { t["model.0.bias"] = { dtype: "float32", shape: [3], data: new Float32Array(3) }; }),
  ];
}

/** One PNG chunk with its CRC. */
function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length), dv = new DataView(out.buffer);
  dv.setUint32(0, body.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(body, 8);
  dv.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/** A PNG from its parts: 8-bit, colour type `colour` (2: RGB), of the given size, with these IDAT bodies and IEND. */
export function pngOf(width: number, height: number, idats: Uint8Array[], colour = 2): Uint8Array {
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, colour, 0, 0, 0], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk("IHDR", ihdr), ...idats.map((d) => pngChunk("IDAT", d)), pngChunk("IEND", new Uint8Array(0))];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

export const PNG_HAND_MADE = () => [
  pngOf(2147483647, 1, [new Uint8Array(deflateSync(new Uint8Array(4)))]), // 68 bytes: aborted Node inside zlib
  pngOf(4000, 4000, [new Uint8Array(deflateSync(new Uint8Array(8)))]), // 16 bytes of pixel data
  pngOf(2, 2, []), // no IDAT
  pngOf(0, 5, [new Uint8Array(deflateSync(new Uint8Array(1)))]),
];

export function jpegHandMade(seed: Uint8Array): Uint8Array[] {
  const sof = seed.findIndex((b, i) => b === 0xff && seed[i + 1] === 0xc0);
  const bad = new Uint8Array(600);
  bad.set(seed.subarray(0, 600));
  bad[sof + 5] = 9000 >> 8, bad[sof + 6] = 9000 & 255, bad[sof + 7] = 9000 >> 8, bad[sof + 8] = 9000 & 255;
  return [bad];
}

export const TEXT_HAND_MADE = () => [
  "\x1b[;".repeat(47000) + "m".repeat(47000) + "\n%\nok\n", // 188 KiB of nesting: 32 s before
  "\x1b]title ".repeat(20000) + "\n",
  "a\0b\n%\nc\n",
].map((t) => new TextEncoder().encode(t));

export function safetensorsSeeds(): Uint8Array[] {
  const t = (dtype: "float32" | "int32", shape: number[], vals: number[]) => ({ dtype, shape, data: dtype === "float32" ? Float32Array.from(vals) : Int32Array.from(vals) });
  return [
    wg.io.serializeSafetensors({ "0.weight": t("float32", [2, 3], [1, 2, 3, 4, 5, 6]), "0.bias": t("float32", [2], [0.5, -1]), ids: t("int32", [3], [1, -2, 3]) }, { note: "seed" }),
    wg.io.serializeSafetensors({ a: t("float32", [], [3]), b: t("int32", [0], []) }),
    rawSafetensors({ h: { dtype: "F16", shape: [2], data_offsets: [0, 4] }, b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] }, i: { dtype: "I64", shape: [1], data_offsets: [8, 16] },
          u: { dtype: "U8", shape: [2], data_offsets: [16, 18] }, z: { dtype: "BOOL", shape: [2], data_offsets: [18, 20] }, __metadata__: { k: "v" } },
        [0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0xc0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 250, 0, 1]),
  ];
}

export function idxFile(dims: number[], values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length), dv = new DataView(out.buffer);
  dv.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  out.set(values instanceof Uint8Array ? values : Uint8Array.from(values), 4 + 4 * dims.length);
  return out;
}

export function pngSeeds(): Uint8Array[] {
  const mk = (w: number, h: number, colorType: number, inputHasAlpha = true) => {
    const p = new PNG({ width: w, height: h, colorType: colorType as any, inputHasAlpha });
    for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 37) & 255;
    return new Uint8Array(PNG.sync.write(p, { colorType: colorType as any, inputHasAlpha }));
  };
  return [mk(4, 3, 6), mk(5, 5, 2), mk(3, 7, 0), mk(2, 2, 4), mk(9, 1, 6)];
}

export function jpegSeeds(): Uint8Array[] {
  const mk = (w: number, h: number, q: number) => {
    const d = Buffer.alloc(w * h * 4);
    for (let i = 0; i < d.length; i++) d[i] = (i * 13) & 255;
    return new Uint8Array(jpeg.encode({ width: w, height: h, data: d }, q).data);
  };
  return [mk(8, 8, 90), mk(16, 9, 50), mk(17, 17, 75)];
}

export const TEXT_SEEDS = [
  "first\r\nline two\r\n%\r\n\x1b[33m  -- \x1b[32mauthor\x1b[m\n%\n今天天气很好😀\n%\n",
  "a\x1b[;\x1b[34;1mmb\n%\n\x1b]0;title\x07ok\n%\nplain\n",
  "one\n%\ntwo\n%\nthree\n",
];
export const TEXT_ALPHABET = ["\x1b", "\x1b[", "\x1b]", "[", "]", "m", ";", "1", "%", "\n", "\r", "\x07", "\0", "\\", "天", "😀", "\ud800", " ", "a"];
