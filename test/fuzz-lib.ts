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
import { gzipSync, crc32 } from "node:zlib";
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
          if (k !== undefined) e[k] = ODD_VALUES[pick(ODD_VALUES.length)];
        }
        break;
      }
      case 1: { // one number inside shape / data_offsets
        const arr = e?.[["shape", "data_offsets"][pick(2)]];
        if (Array.isArray(arr) && arr.length) arr[pick(arr.length)] = ODD_VALUES[pick(9)];
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
              inner[ks[pick(ks.length)] ?? "x"] = ODD_VALUES[pick(ODD_VALUES.length)];
              md[k] = JSON.stringify(inner);
            } else md[k] = String(ODD_VALUES[pick(ODD_VALUES.length)]);
          } catch {
            md[k] = String(ODD_VALUES[pick(ODD_VALUES.length)]);
          }
        }
        break;
      }
      case 5: body = body.subarray(0, Math.max(0, body.length - 1 - pick(8))); break;
      default: header[name] = ODD_VALUES[pick(ODD_VALUES.length)];
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

// ---------------------------------------------------------------- seeds

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
  out.set(Array.from(values), 4 + 4 * dims.length);
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
      for (let k = 0; k < opts.inputs; k++) {
        const input = fam.next();
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
    const state = () => [...net.parameters().map(bitsOf), ...Object.values(opt.stateDict().tensors).map(bitsOf), Buffer.from(JSON.stringify([opt.stateDict().meta, wg.getRngState()]))];
    let ref = state();
    const path = join(dir, "input.safetensors");
    return {
      named: family === "checkpoint" ? /^\/.*input\.safetensors: / : /^(safetensors|loadStateDict): /,
      next: () => {
        const s = seeds[pick(seeds.length)];
        return r() < 0.5 ? mutateSafetensorsHeader(s, r) : mutateBytes(s, r, seeds);
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
    let last: [Uint8Array, Uint8Array] = [images, labels];
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
        last = [im, lb];
        const out = new Uint8Array(8 + im.length + lb.length);
        new DataView(out.buffer).setUint32(0, im.length);
        out.set(im, 8);
        out.set(lb, 8 + im.length);
        return out;
      },
      async run() {
        const [im, lb] = last;
        const set = await data.parseIdxPair(im, lb, ["images", "labels"]);
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
      for (const rec of recs) if (rec.includes("\x1b") || /^%[ \t]*$/m.test(rec) || !rec.length) return `record ${JSON.stringify(rec).slice(0, 80)}`;
      const all = recs.join("\n");
      const v = data.CharVocab.fromText(all);
      if (v.decode(v.encode(all)) !== all) return "the vocabulary does not round-trip its own text";
      return null;
    },
  };
}
