// Seeded mutation fuzzing of every reader that takes bytes from outside:
// safetensors, checkpoints, IDX (raw and gzipped), PNG, JPEG and text. Each
// family starts from valid files made here, mutates them (bit flips,
// interesting integers, cuts, splices, duplicated and deleted ranges, and
// header-aware edits: JSON values and names, PNG chunk fields with their CRCs
// fixed so the change reaches past the checksum) and feeds each input to the
// reader. Every input must end as a correct load or a named error, within
// 1 s, with the engine's other tensors unchanged (a canary) and, for
// checkpoints and state dicts, the model and optimizer either fully loaded or
// untouched. The verdicts:
//   crash      - a raw TypeError/RangeError/SyntaxError, or an error that does not name the reader
//   hang       - over 1 s
//   corruption - the canary tensor changed
//   garbage    - accepted, but what came back does not agree with the input
//   partial    - rejected, but the model, optimizer or random stream changed
// test/fuzz.test.ts runs a bounded set in `npm test`; `npm run fuzz -- --inputs N` runs more.

import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, deflateSync, crc32 } from "node:zlib";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import * as wg from "../host/index.js";
import * as data from "../host/data/index.js";
import { rng } from "../host/random.js";

export type Verdict = "ok" | "named" | "crash" | "hang" | "corruption" | "garbage" | "partial";
export type Tally = Record<Verdict, number> & { inputs: number; slowestMs: number; examples: string[] };
export const FAMILIES = ["safetensors", "checkpoint", "idx", "idx-gzip", "png", "jpeg", "text"] as const;
export type Family = (typeof FAMILIES)[number];

const HANG_MS = 1000;
const INTERESTING = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** Byte-level mutations, a few stacked per input. */
function mutateBytes(src: Uint8Array, r: () => number, others: Uint8Array[]): Uint8Array {
  let b = src.slice();
  const pick = (n: number) => Math.floor(r() * n);
  for (let m = 1 + pick(3); m > 0; m--) {
    const at = pick(Math.max(1, b.length));
    switch (pick(9)) {
      case 0: if (b.length) b[at] ^= 1 << pick(8); break;
      case 1: if (b.length) b[at] = INTERESTING[pick(INTERESTING.length)] & 0xff; break;
      case 2: { // a 4-byte integer, either endianness
        if (b.length < 4) break;
        const dv = new DataView(b.buffer), p = pick(b.length - 3);
        dv.setUint32(p, INTERESTING[pick(INTERESTING.length)] >>> 0, r() < 0.5);
        break;
      }
      case 3: b = b.slice(0, pick(b.length + 1)); break; // cut
      case 4: { // delete a range
        const n = 1 + pick(16);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]);
        break;
      }
      case 5: { // duplicate a range
        const n = 1 + pick(64);
        b = Uint8Array.from([...b.subarray(0, at + n), ...b.subarray(at, at + n), ...b.subarray(at + n)]);
        break;
      }
      case 6: { // insert random bytes
        const ins = Array.from({ length: 1 + pick(8) }, () => pick(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 7: { // splice with another seed
        const o = others[pick(others.length)];
        b = Uint8Array.from([...b.subarray(0, at), ...o.subarray(pick(o.length + 1))]);
        break;
      }
      default: { // append junk
        b = Uint8Array.from([...b, ...Array.from({ length: 1 + pick(32) }, () => pick(256))]);
      }
    }
  }
  return b;
}

const ODD_VALUES: unknown[] = [-1, 0, 1, 3, 1.5, 2 ** 31, 2 ** 32 + 4, 2 ** 53, 1e308, -0, "abc", "", "F32", "I64", "BOOL", "U8", "F16", "{", "NaN", [], [0], [1, 2], [0, 1e9], ["F32"], {}, { a: 1 }, null, true];
/** A fresh copy of one odd value: the header edits write into arrays, and must not write into these. */
const odd = (i: number): unknown => structuredClone(ODD_VALUES[i]);
const ODD_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "__metadata__", "", "x", "model.0.weight", "optimizer.state.0.__proto__", "optimizer.state.0.exp_avg", "state.00.exp_avg"];

/** Header-aware mutation of a safetensors file: edit the JSON (values, names, entries), keep the body. */
function mutateSafetensorsHeader(src: Uint8Array, r: () => number): Uint8Array {
  const hlen = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + hlen)));
  let body = src.subarray(8 + hlen);
  const pick = (n: number) => Math.floor(r() * n);
  const names = Object.keys(header);
  for (let m = 1 + pick(2); m > 0; m--) {
    const name = names[pick(names.length)];
    const e = header[name];
    switch (pick(7)) {
      case 0: { // one field of one entry
        if (e && typeof e === "object") {
          const ks = Object.keys(e);
          const k = ks[pick(ks.length)];
          if (k !== undefined) e[k] = odd(pick(ODD_VALUES.length));
        }
        break;
      }
      case 1: { // one number inside shape / data_offsets
        const arr = e?.[["shape", "data_offsets"][pick(2)]];
        if (Array.isArray(arr) && arr.length) arr[pick(arr.length)] = odd(pick(9));
        break;
      }
      case 2: { // rename an entry
        const to = ODD_NAMES[pick(ODD_NAMES.length)];
        Object.defineProperty(header, to, { value: e, enumerable: true, configurable: true, writable: true });
        if (to !== name) delete header[name];
        break;
      }
      case 3: delete header[name]; break;
      case 4: { // a metadata string that is itself JSON (checkpoints): edit inside it
        const md = header.__metadata__;
        if (md && typeof md === "object") {
          const k = Object.keys(md)[pick(Object.keys(md).length)];
          try {
            const inner = JSON.parse(md[k]);
            if (inner && typeof inner === "object") {
              const ks = Object.keys(inner);
              inner[ks[pick(ks.length)] ?? "x"] = odd(pick(ODD_VALUES.length));
              md[k] = JSON.stringify(inner);
            } else md[k] = String(odd(pick(ODD_VALUES.length)));
          } catch {
            md[k] = String(odd(pick(ODD_VALUES.length)));
          }
        }
        break;
      }
      case 5: body = body.subarray(0, Math.max(0, body.length - 1 - pick(8))); break;
      default: header[name] = odd(pick(ODD_VALUES.length));
    }
  }
  let text = JSON.stringify(header);
  if (pick(8) === 0) text = text.replace(/^\{/, `{${JSON.stringify(names[0])}:{},`); // a duplicate key
  const h = new TextEncoder().encode(text), out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/** PNG-aware mutation: change IHDR fields or a chunk's bytes, then fix every CRC so pngjs's checksum is no shield. */
function mutatePng(src: Uint8Array, r: () => number, others: Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(r() * n);
  let b: Uint8Array = src.slice();
  const dv = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (r() < 0.5) {
    // IHDR starts at 8: length, "IHDR", width@16, height@20, depth@24, colour@25, ..., interlace@28
    const field = pick(5);
    if (field < 2) dv().setUint32(16 + 4 * field, [0, 1, 2, 5, 4000, 65535, 0x7fffffff, 0xffffffff, 3, 33][pick(10)]);
    else b[[24, 25, 28][field - 2]] = [0, 1, 2, 3, 4, 6, 8, 16, 255][pick(9)];
  } else b = mutateBytes(b, r, others);
  // fix the CRC of every chunk that still parses
  for (let at = 8; at + 12 <= b.length; ) {
    const len = dv().getUint32(at);
    if (len > b.length - at - 12) break;
    dv().setUint32(at + 8 + len, crc32(b.subarray(at + 4, at + 8 + len)));
    at += 12 + len;
  }
  return b;
}

// ---------------------------------------------------------------- seeds and hand-made cases

/** A safetensors file from a header given as text (so it may hold duplicate keys) and a body. */
function rawSafetensors(header: object | string, body: ArrayLike<number>): Uint8Array {
  const h = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header)), out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(Array.from(body), 8 + h.length);
  return out;
}

function safetensorsHandMade(): Uint8Array[] {
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
function checkpointHandMade(good: Uint8Array): Uint8Array[] {
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

/** An 8-bit RGB PNG of the given size with these IDAT bodies. */
function pngOf(width: number, height: number, idats: Uint8Array[]): Uint8Array {
  const ihdr = new Uint8Array(13), dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk("IHDR", ihdr), ...idats.map((d) => pngChunk("IDAT", d)), pngChunk("IEND", new Uint8Array(0))];
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

const PNG_HAND_MADE = () => [
  pngOf(2147483647, 1, [new Uint8Array(deflateSync(new Uint8Array(4)))]), // 68 bytes: aborted Node inside zlib
  pngOf(4000, 4000, [new Uint8Array(deflateSync(new Uint8Array(8)))]), // 16 bytes of pixel data
  pngOf(2, 2, []), // no IDAT
  pngOf(0, 5, [new Uint8Array(deflateSync(new Uint8Array(1)))]),
];

function jpegHandMade(seed: Uint8Array): Uint8Array[] {
  const sof = seed.findIndex((b, i) => b === 0xff && seed[i + 1] === 0xc0);
  const bad = new Uint8Array(600);
  bad.set(seed.subarray(0, 600));
  bad[sof + 5] = 9000 >> 8, bad[sof + 6] = 9000 & 255, bad[sof + 7] = 9000 >> 8, bad[sof + 8] = 9000 & 255;
  return [bad];
}

const TEXT_HAND_MADE = () => [
  "\x1b[;".repeat(47000) + "m".repeat(47000) + "\n%\nok\n", // 188 KiB of nesting: 32 s before
  "\x1b]title ".repeat(20000) + "\n",
  "a\0b\n%\nc\n",
].map((t) => new TextEncoder().encode(t));

function safetensorsSeeds(): Uint8Array[] {
  const t = (dtype: "float32" | "int32", shape: number[], vals: number[]) => ({ dtype, shape, data: dtype === "float32" ? Float32Array.from(vals) : Int32Array.from(vals) });
  const raw = (header: object, body: number[]) => {
    const h = new TextEncoder().encode(JSON.stringify(header)), out = new Uint8Array(8 + h.length + body.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(body, 8 + h.length);
    return out;
  };
  return [
    wg.io.serializeSafetensors({ "0.weight": t("float32", [2, 3], [1, 2, 3, 4, 5, 6]), "0.bias": t("float32", [2], [0.5, -1]), ids: t("int32", [3], [1, -2, 3]) }, { note: "seed" }),
    wg.io.serializeSafetensors({ a: t("float32", [], [3]), b: t("int32", [0], []) }),
    raw({ h: { dtype: "F16", shape: [2], data_offsets: [0, 4] }, b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] }, i: { dtype: "I64", shape: [1], data_offsets: [8, 16] },
          u: { dtype: "U8", shape: [2], data_offsets: [16, 18] }, z: { dtype: "BOOL", shape: [2], data_offsets: [18, 20] }, __metadata__: { k: "v" } },
        [0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0xc0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 7, 250, 0, 1]),
  ];
}

function idxFile(dims: number[], values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + values.length), dv = new DataView(out.buffer);
  dv.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  out.set(values instanceof Uint8Array ? values : Uint8Array.from(values), 4 + 4 * dims.length);
  return out;
}

function pngSeeds(): Uint8Array[] {
  const mk = (w: number, h: number, colorType: number, inputHasAlpha = true) => {
    const p = new PNG({ width: w, height: h, colorType: colorType as any, inputHasAlpha });
    for (let i = 0; i < p.data.length; i++) p.data[i] = (i * 37) & 255;
    return new Uint8Array(PNG.sync.write(p, { colorType: colorType as any, inputHasAlpha }));
  };
  return [mk(4, 3, 6), mk(5, 5, 2), mk(3, 7, 0), mk(2, 2, 4), mk(9, 1, 6)];
}

function jpegSeeds(): Uint8Array[] {
  const mk = (w: number, h: number, q: number) => {
    const d = Buffer.alloc(w * h * 4);
    for (let i = 0; i < d.length; i++) d[i] = (i * 13) & 255;
    return new Uint8Array(jpeg.encode({ width: w, height: h, data: d }, q).data);
  };
  return [mk(8, 8, 90), mk(16, 9, 50), mk(17, 17, 75)];
}

const TEXT_SEEDS = [
  "first\r\nline two\r\n%\r\n\x1b[33m  -- \x1b[32mauthor\x1b[m\n%\n今天天气很好😀\n%\n",
  "a\x1b[;\x1b[34;1mmb\n%\n\x1b]0;title\x07ok\n%\nplain\n",
  "one\n%\ntwo\n%\nthree\n",
];
const TEXT_ALPHABET = ["\x1b", "\x1b[", "\x1b]", "[", "]", "m", ";", "1", "%", "\n", "\r", "\x07", "\0", "\\", "天", "😀", "\ud800", " ", "a"];

// ---------------------------------------------------------------- the run

export interface FuzzOptions {
  /** Inputs per family. */
  inputs: number;
  seed?: number;
  families?: readonly Family[];
  /** Called after each family with its tally. */
  onFamily?: (f: Family, t: Tally) => void;
}

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Buffer.compare(Buffer.from(new Float32Array(Array.from(a)).buffer), Buffer.from(new Float32Array(Array.from(b)).buffer)) === 0;
const bitsOf = (t: wg.Tensor) => Buffer.from(t.dataSync().slice().buffer);

/** Runs the fuzzer; returns a tally per family. */
export async function runFuzz(opts: FuzzOptions): Promise<Record<string, Tally>> {
  await wg.init({ threads: 1, verbose: false });
  const dir = mkdtempSync(join(tmpdir(), "webgrad-fuzz-"));
  const canary = wg.randn([4096], { seed: 77 }).keep(), canaryBits = bitsOf(canary);
  const out: Record<string, Tally> = {};
  try {
    for (const family of opts.families ?? FAMILIES) {
      const tally: Tally = { inputs: 0, ok: 0, named: 0, crash: 0, hang: 0, corruption: 0, garbage: 0, partial: 0, slowestMs: 0, examples: [] };
      const r = rng((opts.seed ?? 1) * 7919 + FAMILIES.indexOf(family));
      const fam = await makeFamily(family, dir, r);
      for (let k = 0; k < opts.inputs + fam.handMade.length; k++) {
        const input = k < fam.handMade.length ? fam.handMade[k] : fam.next();
        const t0 = performance.now();
        let verdict: Verdict;
        let note = "";
        try {
          const bad = await fam.run(input);
          verdict = bad ? "garbage" : "ok";
          note = bad ?? "";
        } catch (e) {
          const err = e as Error;
          const named = err instanceof Error && err.constructor === Error && fam.named.test(err.message);
          verdict = named ? "named" : "crash";
          note = `${err?.constructor?.name}: ${err?.message}`;
          if (named) {
            const untouched = fam.untouched();
            if (untouched) (verdict = "partial"), (note = untouched);
          }
        }
        const ms = performance.now() - t0;
        tally.slowestMs = Math.max(tally.slowestMs, ms);
        if (ms > HANG_MS) verdict = "hang";
        if (Buffer.compare(bitsOf(canary), canaryBits) !== 0) {
          verdict = "corruption";
          canary.dispose();
          throw new Error(`fuzz ${family}: input ${k} changed the canary tensor (${note})`);
        }
        tally.inputs++;
        tally[verdict]++;
        if (!["ok", "named"].includes(verdict) && tally.examples.length < 5) {
          const file = join(tmpdir(), `webgrad-fuzz-${family}-${k}.bin`);
          writeFileSync(file, input);
          tally.examples.push(`${verdict}: ${note.slice(0, 200)} (input kept in ${file})`);
        }
        if (verdict === "ok") fam.accepted();
      }
      out[family] = tally;
      opts.onFamily?.(family, tally);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    canary.dispose();
  }
  return out;
}

interface FamilyRun {
  next(): Uint8Array;
  /** Loads the input; returns a description of what is wrong with an accepted result, or null. */
  run(input: Uint8Array): Promise<string | null>;
  /** After a named error: a description of what the failed load changed, or null. */
  untouched(): string | null;
  /** After a correct load: the new state becomes the reference. */
  accepted(): void;
  named: RegExp;
  /** The issue's own repros for this family, tried before the mutations. */
  handMade: Uint8Array[];
}

async function makeFamily(family: Family, dir: string, r: () => number): Promise<FamilyRun> {
  const pick = (n: number) => Math.floor(r() * n);
  const nothing = { untouched: () => null, accepted: () => {} };
  if (family === "safetensors" || family === "checkpoint") {
    // a model (and for checkpoints an optimizer) that loads must load whole or not at all
    wg.manualSeed(11);
    const net = new wg.nn.Sequential(new wg.nn.Linear(3, 2), new wg.nn.Tanh(), new wg.nn.Linear(2, 2));
    const opt = new wg.optim.Adam(net.parameters(), { lr: 0.01 });
    let seeds: Uint8Array[];
    if (family === "checkpoint") {
      const x = wg.randn([4, 3], { seed: 1 });
      opt.zeroGrad();
      net.forward(x).square().mean().backward();
      opt.step();
      await wg.io.saveCheckpoint(join(dir, "seed.safetensors"), { model: net, optimizer: opt, step: 3, extra: { note: "seed" } });
      seeds = [new Uint8Array(readFileSync(join(dir, "seed.safetensors")))];
    } else {
      const sd = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, { dtype: "float32" as const, shape: [...t.shape], data: new Float32Array(t.size).fill(0.25) }]));
      seeds = [...safetensorsSeeds(), wg.io.serializeSafetensors(sd)];
    }
    const handMade = family === "checkpoint" ? checkpointHandMade(seeds[0]) : safetensorsHandMade();
    const state = () => [...net.parameters().map(bitsOf), ...Object.values(opt.stateDict().tensors).map(bitsOf), Buffer.from(JSON.stringify([opt.stateDict().meta, wg.getRngState()]))];
    let ref = state();
    const path = join(dir, "input.safetensors");
    return {
      named: family === "checkpoint" ? /^\/.*input\.safetensors: / : /^(safetensors|loadStateDict): /,
      handMade,
      next: () => {
        const s = seeds[pick(seeds.length)], u = r();
        if (u < 0.2) {
          // values only: a valid file with other numbers (NaN and Inf bit patterns included) must load exactly
          const b = s.slice(), start = 8 + Number(new DataView(b.buffer).getBigUint64(0, true));
          for (let m = 1 + pick(4); m > 0 && b.length > start; m--) b[start + pick(b.length - start)] ^= 1 << pick(8);
          return b;
        }
        return u < 0.6 ? mutateSafetensorsHeader(s, r) : mutateBytes(s, r, seeds);
      },
      async run(input) {
        if (family === "checkpoint") {
          writeFileSync(path, input);
          const { step } = await wg.io.loadCheckpoint(path, { model: net, optimizer: opt });
          if (!Number.isSafeInteger(step) || step < 0) return `step ${step}`;
          // a correct load: the model holds exactly the file's tensors
          const { tensors } = wg.io.parseSafetensors(input);
          for (const [k, t] of Object.entries(net.stateDict())) if (!same(t.dataSync(), tensors[`model.${k}`].data)) return `model ${k} differs from the file`;
          if (!(opt.lr >= 0 && Number.isFinite(opt.lr))) return `lr ${opt.lr}`;
          return null;
        }
        const { tensors } = wg.io.parseSafetensors(input);
        for (const [k, t] of Object.entries(tensors)) {
          if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) return `${k}: ${t.data.length} values for [${t.shape}]`;
        }
        // the same tensors must survive a write and a read (the parse is a function of the file)
        const again = wg.io.parseSafetensors(wg.io.serializeSafetensors(tensors));
        for (const k of Object.keys(tensors)) if (!again.tensors[k] || !same(again.tensors[k].data, tensors[k].data)) return `${k} does not round-trip`;
        net.loadStateDict(tensors, { strict: false });
        return null;
      },
      untouched: () => {
        const now = state();
        return now.every((b, i) => Buffer.compare(b, ref[i]) === 0) ? null : "a failed load changed the model, optimizer or random stream";
      },
      accepted: () => void (ref = state()),
    };
  }
  if (family === "idx" || family === "idx-gzip") {
    const images = idxFile([3, 4, 5], Array.from({ length: 60 }, (_, i) => (i * 41) & 255)), labels = idxFile([3], [1, 2, 3]);
    const seeds = [images, labels, idxFile([2, 1, 1], [0, 255]), idxFile([2], [9, 8])];
    const pair = (im: Uint8Array, lb: Uint8Array) => {
      const out = new Uint8Array(8 + im.length + lb.length);
      new DataView(out.buffer).setUint32(0, im.length);
      out.set(im, 8);
      out.set(lb, 8 + im.length);
      return out;
    };
    const n = 20000; // a gzip bomb in small: 15.7 MB of pixels from a few kB, loaded whole under the default cap
    const handMade = [pair(idxFile([3, 0, 28], []), idxFile([3], [1, 2, 3])), pair(idxFile([3, 28, 0], []), idxFile([3], [1, 2, 3])),
                      pair(new Uint8Array(gzipSync(idxFile([n, 28, 28], new Uint8Array(n * 784)))), new Uint8Array(gzipSync(idxFile([n], new Uint8Array(n)))))];
    return {
      ...nothing,
      named: /^(images|labels): |^gunzip: /,
      next: () => {
        const which = pick(2);
        let [im, lb] = pick(3) === 0 ? [seeds[2], seeds[3]] : [images, labels];
        const target = which ? lb : im;
        let m: Uint8Array;
        if (family === "idx-gzip") m = r() < 0.5 ? new Uint8Array(gzipSync(mutateBytes(target, r, seeds))) : mutateBytes(new Uint8Array(gzipSync(target)), r, seeds);
        else m = mutateBytes(target, r, seeds);
        if (which) lb = m;
        else im = m;
        return pair(im, lb);
      },
      handMade,
      async run(input) {
        const split = new DataView(input.buffer, input.byteOffset).getUint32(0);
        const im = input.subarray(8, 8 + split), lb = input.subarray(8 + split);
        // a cap far below the default: the seeds inflate to bytes, the hand-made bomb to 15.7 MB
        const set = await data.parseIdxPair(im, lb, ["images", "labels"], { maxBytes: 1 << 20 });
        if (set.height < 1 || set.width < 1) return `accepted ${set.height}×${set.width} images`;
        if (set.images.length !== set.count * set.height * set.width || set.labels.length !== set.count) return "sizes disagree";
        if (im[0] !== 0x1f) for (let i = 0; i < set.images.length; i++) if (set.images[i] !== Math.fround(im[16 + i] / 255)) return `pixel ${i} is not the file's`;
        return null;
      },
    };
  }
  if (family === "png" || family === "jpeg") {
    const seeds = family === "png" ? pngSeeds() : jpegSeeds();
    return {
      ...nothing,
      handMade: family === "png" ? PNG_HAND_MADE() : jpegHandMade(seeds[2]),
      named: /^decodeImage: /,
      next: () => {
        const s = seeds[pick(seeds.length)];
        return family === "png" ? mutatePng(s, r, seeds) : mutateBytes(s, r, seeds);
      },
      async run(input) {
        const img = await data.decodeImage(input, "input");
        if (!(img.width >= 1 && img.height >= 1) || img.data.length !== img.width * img.height * 4) return `${img.width}×${img.height} with ${img.data.length} bytes`;
        const chw = data.toTensorChw(img.data, img.height, img.width, 4, 3);
        for (const v of chw) if (!(v >= 0 && v <= 1)) return `pixel value ${v}`;
        return null;
      },
    };
  }
  // text: a file read as a fortune file, then a character vocabulary of its records
  const seeds = TEXT_SEEDS.map((t) => new TextEncoder().encode(t));
  const path = join(dir, "input.txt");
  return {
    ...nothing,
    handMade: TEXT_HAND_MADE(),
    named: /^(readFortunes|parseFortunes): /,
    next: () => {
      if (r() < 0.5) return mutateBytes(seeds[pick(seeds.length)], r, seeds);
      let t = TEXT_SEEDS[pick(TEXT_SEEDS.length)];
      for (let m = 1 + pick(6); m > 0; m--) {
        const at = pick(t.length + 1), piece = Array.from({ length: 1 + pick(6) }, () => TEXT_ALPHABET[pick(TEXT_ALPHABET.length)]).join("");
        t = t.slice(0, at) + piece.repeat(1 + pick(3)) + t.slice(at);
      }
      return new TextEncoder().encode(t);
    },
    async run(input) {
      writeFileSync(path, input);
      const recs = await data.readFortunes(path);
      for (const rec of recs) if (rec.includes("\x1b") || /^%[^\S\n]*$/m.test(rec) || !rec.length) return `record ${JSON.stringify(rec).slice(0, 80)}`;
      const all = recs.join("\n");
      const v = data.CharVocab.fromText(all);
      if (v.decode(v.encode(all)) !== all) return "the vocabulary does not round-trip its own text";
      return null;
    },
  };
}
