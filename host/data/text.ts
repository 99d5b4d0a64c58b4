// Text corpora: fortune files (records separated by lines holding only "%",
// as strfile(1) reads them; Debian's fortunes-zh colours its attributions
// with ANSI escape codes, which are stripped) and plain text files, plus a
// character vocabulary for character-level language models.

/** Whole ANSI/VT100 escape sequences: CSI (ESC [ … final byte), OSC (ESC ] … BEL/ST) and two-byte ESC codes. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
/** What is left of broken sequences: a CSI cut short, a lone ESC. */
const ANSI_LEFTOVER = /\x1b\[[0-?]*[ -/]*|\x1b/g;

/**
 * Removes terminal colour and cursor codes from text. A few of fortunes-zh's
 * records nest one code inside another ("ESC[;ESC[34;1mm"): the inner code
 * goes first and the outer one with it on the next pass, so no stray "m" is
 * left in the text.
 * @example stripAnsi("\x1b[33m-- Li Bai\x1b[m"); // "-- Li Bai"
 */
export function stripAnsi(text: string): string {
  for (let before = ""; before !== text; ) [before, text] = [text, text.replace(ANSI, "")];
  return text.replace(ANSI_LEFTOVER, "");
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
    .split(/^%[ \t]*$/m)
    .map((r) => r.replace(/^\n+|\s+$/g, ""))
    .filter((r) => r.length > 0);
  if (records.length === 0) throw new Error(`parseFortunes: ${name} holds no records`);
  return records;
}

async function readUtf8(path: string, who: string): Promise<string> {
  const fs = await import("node:fs/promises");
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
 * @example const text = await readText("corpus.txt");
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
  constructor(readonly chars: string[]) {
    chars.forEach((c, i) => {
      if (this.index.has(c)) throw new Error(`CharVocab: character ${JSON.stringify(c)} appears twice`);
      this.index.set(c, i);
    });
    this.unkId = this.index.get(CharVocab.UNK);
  }

  /**
   * The vocabulary of `text`: characters seen at least `minCount` times (default 1), sorted, after UNK when it has one.
   * @example CharVocab.fromText("abca").size; // 3
   */
  static fromText(text: string, opts: { minCount?: number; unk?: boolean } = {}): CharVocab {
    const minCount = opts.minCount ?? 1;
    const counts = new Map<string, number>();
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    const kept = [...counts].filter(([c, n]) => n >= minCount && c !== CharVocab.UNK).map(([c]) => c).sort();
    return new CharVocab(opts.unk ?? minCount > 1 ? [CharVocab.UNK, ...kept] : kept);
  }

  /** Number of distinct characters (UNK included). */
  get size(): number {
    return this.chars.length;
  }

  /** Ids of the characters of `s`; an unknown character is UNK's id, or an error without one. @example vocab.encode("ab"); // Int32Array [0, 1] */
  encode(s: string): Int32Array {
    const cps = [...s], out = new Int32Array(cps.length);
    for (let i = 0; i < cps.length; i++) {
      const id = this.index.get(cps[i]) ?? this.unkId;
      if (id === undefined) throw new Error(`CharVocab.encode: character ${JSON.stringify(cps[i])} (U+${cps[i].codePointAt(0)!.toString(16).toUpperCase()}) at ${i} is not in the vocabulary of ${this.size}`);
      out[i] = id;
    }
    return out;
  }

  /** The text of `ids` (UNK as "\ufffd"). @example vocab.decode([0, 1]); // "ab" */
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
