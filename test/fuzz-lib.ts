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
// The mutations are in test/fuzz-mutate.ts, the seeds and hand-made cases in
// test/fuzz-cases.ts. test/fuzz.test.ts runs a bounded set in `npm test`;
// `npm run fuzz -- --inputs N` runs more.

import { mkdtempSync, writeFileSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as wg from "../host/index.js";
import * as data from "../host/data/index.js";
import { rng } from "../host/random.js";
import { mutateBytes, mutateSafetensorsHeader, mutatePng } from "./fuzz-mutate.js";
import { safetensorsSeeds, safetensorsHandMade, checkpointHandMade, idxFile, pngSeeds, PNG_HAND_MADE, jpegSeeds, jpegHandMade, TEXT_SEEDS, TEXT_HAND_MADE, TEXT_ALPHABET } from "./fuzz-cases.js";

export type Verdict = "ok" | "named" | "crash" | "hang" | "corruption" | "garbage" | "partial";
export type Tally = Record<Verdict, number> & { inputs: number; slowestMs: number; examples: string[] };
export const FAMILIES = ["safetensors", "checkpoint", "idx", "idx-gzip", "png", "jpeg", "text"] as const;
export type Family = (typeof FAMILIES)[number];

const HANG_MS = 1000;

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
