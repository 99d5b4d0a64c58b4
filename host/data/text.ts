// Text corpora: fortune files (records separated by lines holding only "%",
// as strfile(1) reads them; Debian's fortunes-zh colours its attributions
// with ANSI escape codes, which are stripped) and plain text files, plus a
// character vocabulary for character-level language models.

/**
 * ANSI/VT100 escape sequences: CSI (ESC [ … final letter, or cut short by the
 * next ESC, as a few of fortunes-zh's records have it), OSC (ESC ] … BEL/ST)
 * and two-byte ESC codes.
 */
const ANSI = /\x1b\[[0-?]*[ -/]*(?:[@-~]|(?=\x1b)|$)|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/**
 * Removes terminal colour and cursor codes from text.
 * @example stripAnsi("\x1b[33m-- Li Bai\x1b[m"); // "-- Li Bai"
 */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
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
 * A character vocabulary: every distinct code point of a text (sorted, so the
 * same text always gives the same ids), id = position. Code points, not
 * UTF-16 units, so CJK and emoji are one token each.
 * @example
 * const vocab = CharVocab.fromText("hello");
 * vocab.decode(vocab.encode("hell")); // "hell"
 */
export class CharVocab {
  private readonly index = new Map<string, number>();
  constructor(readonly chars: string[]) {
    chars.forEach((c, i) => {
      if (this.index.has(c)) throw new Error(`CharVocab: character ${JSON.stringify(c)} appears twice`);
      this.index.set(c, i);
    });
  }

  /** The vocabulary of every character in `text`. @example CharVocab.fromText("abca").size; // 3 */
  static fromText(text: string): CharVocab {
    return new CharVocab([...new Set(text)].sort());
  }

  /** Number of distinct characters. */
  get size(): number {
    return this.chars.length;
  }

  /** Ids of the characters of `s`; a character outside the vocabulary throws. @example vocab.encode("ab"); // Int32Array [0, 1] */
  encode(s: string): Int32Array {
    const cps = [...s], out = new Int32Array(cps.length);
    for (let i = 0; i < cps.length; i++) {
      const id = this.index.get(cps[i]);
      if (id === undefined) throw new Error(`CharVocab.encode: character ${JSON.stringify(cps[i])} (U+${cps[i].codePointAt(0)!.toString(16).toUpperCase()}) at ${i} is not in the vocabulary of ${this.size}`);
      out[i] = id;
    }
    return out;
  }

  /** The text of `ids`. @example vocab.decode([0, 1]); // "ab" */
  decode(ids: ArrayLike<number>): string {
    let s = "";
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]];
      if (c === undefined) throw new Error(`CharVocab.decode: id ${ids[i]} at ${i} is outside 0..${this.size - 1}`);
      s += c;
    }
    return s;
  }
}
