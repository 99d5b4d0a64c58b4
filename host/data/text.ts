// Text corpora: fortune files (records separated by lines holding only "%",
// as strfile(1) reads them; Debian's fortunes-zh colours its attributions
// with ANSI escape codes, which are stripped) and plain text files, plus a
// character vocabulary for character-level language models.
import { nodeImport } from "../backends/node-import.js";

import { checkOptions, checkBool } from "../ops/util.js";

const TEXT = 0, ESC = 1, CSI_PARAM = 2, CSI_INTER = 3, OSC = 4;

/**
 * Removes terminal colour and cursor codes from text: CSI (ESC [ params
 * intermediates final), OSC (ESC ] ... BEL or ESC \\) and two-byte ESC codes.
 * A few of fortunes-zh's records nest one code inside another
 * ("ESC[;ESC[34;1mm"): the inner code goes and the outer one with it, so no
 * stray "m" is left; what is left of a broken code (a CSI cut short, a lone
 * ESC) goes too. One pass with a stack of the codes still open: the
 * regular expressions applied until nothing changed, which this replaces,
 * took quadratic time on deep nesting (188 KiB: 32 s). The two agree
 * (test/data-limits.test.ts compares them) except where an OSC only forms
 * once a code between its ESC and its "]" has gone, which no terminal writes.
 * @example stripAnsi("\x1b[33m-- Li Bai\x1b[m"); // "-- Li Bai"
 */
export function stripAnsi(text: string): string {
  const n = text.length, stack: number[] = [];
  let out = "", i = 0, state = TEXT, oscStart = 0;
  const done = () => stack.pop() ?? TEXT; // a code ended: the one it interrupted goes on
  for (;;) {
    if (state === TEXT) {
      const j = text.indexOf("\x1b", i);
      if (j < 0) return out + text.slice(i);
      out += text.slice(i, j);
      i = j + 1;
      state = ESC;
      continue;
    }
    if (i >= n) {
      if (state !== OSC) return out; // a code cut short by the end: dropped
      // an OSC with no terminator is the two-byte code ESC ] and its text is text
      state = done();
      i = oscStart;
      continue;
    }
    const c = text.charCodeAt(i);
    if (state === OSC) {
      if (c === 0x07) (i++, (state = done()));
      else if (c === 0x1b && text.charCodeAt(i + 1) === 0x5c) ((i += 2), (state = done()));
      else if (c === 0x1b) ((state = done()), (i = oscStart)); // as at the end: ESC ] alone, then its text
      else i++;
    } else if (c === 0x1b) {
      stack.push(state); // a code inside an unfinished one
      state = ESC;
      i++;
    } else if (state === ESC) {
      if (c === 0x5b) ((state = CSI_PARAM), i++);
      else if (c === 0x5d) ((state = OSC), (oscStart = ++i));
      else if ((c >= 0x40 && c <= 0x5a) || (c >= 0x5c && c <= 0x5f)) (i++, (state = done()));
      else ((stack.length = 0), (state = TEXT)); // a lone ESC: it and the codes around it are dropped, c is text
    } else if (state === CSI_PARAM && c >= 0x30 && c <= 0x3f) i++;
    else if (c >= 0x20 && c <= 0x2f) ((state = CSI_INTER), i++);
    else if (c >= 0x40 && c <= 0x7e) (i++, (state = done()));
    else ((stack.length = 0), (state = TEXT)); // a CSI broken by c: dropped, c is text
  }
}

/**
 * Splits the text of a fortune file into its records (lines holding only
 * `%` separate them), with ANSI codes stripped, trailing blank lines
 * trimmed and empty records dropped. Throws on text holding no record or a
 * NUL byte (a binary file such as the .dat index).
 * @example parseFortunes("one\n%\ntwo\n"); // ["one", "two"]
 */
export function parseFortunes(text: string, name = "fortune text"): string[] {
  if (text.includes("\0")) throw new Error(`parseFortunes: ${name} holds NUL bytes: not a fortune text file (a .dat index?)`);
  const records = stripAnsi(text.replace(/\r\n?/g, "\n"))
    .split(/^%[^\S\n]*$/m) // trailing white space of any kind, as the trim below removes it: a "%\v" line must not end up a lone "%" in a record
    .map((r) => r.replace(/^\n+|\s+$/g, ""))
    .filter((r) => r.length > 0);
  if (records.length === 0) throw new Error(`parseFortunes: ${name} holds no records`);
  return records;
}

async function readUtf8(path: string, who: string): Promise<string> {
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (e) {
    throw new Error(`${who}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${who}: ${path} is not valid UTF-8 text`);
  }
}

/**
 * The records of a fortune file (e.g. Debian's /usr/share/games/fortunes/chinese). Node, Deno, Bun.
 * @example const poems = await readFortunes("/usr/share/games/fortunes/tang300"); poems.length;
 */
export async function readFortunes(path: string): Promise<string[]> {
  return parseFortunes(await readUtf8(path, "readFortunes"), path);
}

/**
 * A plain UTF-8 text file, line endings made "\n". Node, Deno, Bun.
 * @example
 * import { writeFileSync } from "node:fs";
 * writeFileSync("corpus.txt", "one\r\ntwo\r\n");
 * await readText("corpus.txt"); // "one\ntwo\n"
 */
export async function readText(path: string): Promise<string> {
  return (await readUtf8(path, "readText")).replace(/\r\n?/g, "\n");
}

/**
 * A character vocabulary, id = position in `chars`. Code points, not UTF-16
 * units, so CJK and emoji are one token each. Built from a text, the
 * characters are sorted (the same text always gives the same ids); with
 * `minCount` > 1 (or `unk: true`) id 0 is CharVocab.UNK, which every
 * character seen fewer than minCount times, or never, encodes to. Without
 * UNK an unknown character is an error.
 * @example
 * const vocab = CharVocab.fromText("hello");
 * vocab.decode(vocab.encode("hell")); // "hell"
 * const lm = CharVocab.fromText("abcab", { minCount: 2 }); // chars [UNK, "a", "b"]
 * lm.encode("abz"); // Int32Array [1, 2, 0]
 */
export class CharVocab {
  /** The stand-in for unknown characters (id 0 where the vocabulary has one); decodes to "\ufffd". */
  static readonly UNK = "\u0000";
  private readonly index = new Map<string, number>();
  /** The id unknown characters encode to, or undefined when they are an error. */
  readonly unkId: number | undefined;
  /**
   * `unk` says whether CharVocab.UNK in `chars` is the unknown stand-in (the
   * default) or the NUL character itself, as in the vocabulary of a text that holds NUL.
   */
  constructor(readonly chars: string[], opts: { unk?: boolean } = {}) {
    checkOptions("CharVocab", opts, ["unk"]);
    checkBool("CharVocab", "unk", opts.unk);
    if (!Array.isArray(chars) || !chars.every((c) => typeof c === "string" && [...c].length === 1)) throw new Error("CharVocab: chars must be an array of single characters");
    chars.forEach((c, i) => {
      if (this.index.has(c)) throw new Error(`CharVocab: character ${JSON.stringify(c)} appears twice`);
      this.index.set(c, i);
    });
    this.unkId = opts.unk === false ? undefined : this.index.get(CharVocab.UNK);
  }

  /**
   * The vocabulary of `text`: characters seen at least `minCount` times (default 1), sorted, after UNK when it has one.
   * @example CharVocab.fromText("abca").size; // 3
   */
  static fromText(text: string, opts: { minCount?: number; unk?: boolean } = {}): CharVocab {
    if (typeof text !== "string") throw new Error(`CharVocab.fromText: text must be a string, got ${typeof text}`);
    checkOptions("CharVocab.fromText", opts, ["minCount", "unk"]);
    checkBool("CharVocab.fromText", "unk", opts.unk);
    const minCount = opts.minCount ?? 1;
    if (!Number.isSafeInteger(minCount) || minCount < 1) throw new Error(`CharVocab.fromText: minCount must be a positive integer, got ${String(opts.minCount)}`);
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    const unk = opts.unk ?? minCount > 1;
    // without UNK, NUL is a character like any other (UNK's spelling must not make a text unencodable)
    const kept = [...counts].filter(([c, n]) => n >= minCount && (!unk || c !== CharVocab.UNK)).map(([c]) => c).sort();
    return new CharVocab(unk ? [CharVocab.UNK, ...kept] : kept, { unk });
  }

  /** Number of distinct characters (UNK included). */
  get size(): number {
    return this.chars.length;
  }

  /** Ids of the characters of `s`; an unknown character is UNK's id, or an error without one. @example CharVocab.fromText("abc").encode("ab"); // Int32Array [0, 1] */
  encode(s: string): Int32Array {
    const cps = [...s], out = new Int32Array(cps.length);
    for (let i = 0; i < cps.length; i++) {
      const id = this.index.get(cps[i]) ?? this.unkId;
      if (id === undefined) throw new Error(`CharVocab.encode: character ${JSON.stringify(cps[i])} (U+${cps[i].codePointAt(0)!.toString(16).toUpperCase()}) at ${i} is not in the vocabulary of ${this.size}`);
      out[i] = id;
    }
    return out;
  }

  /** The text of `ids` (UNK as "\ufffd"). @example CharVocab.fromText("abc").decode([0, 1]); // "ab" */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) throw new Error(`CharVocab.decode: id ${ids[i]} at ${i} is outside 0..${this.size - 1}`);
      s += ids[i] === this.unkId ? "\ufffd" : c;
    }
    return s;
  }
}
