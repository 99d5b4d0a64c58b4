// A strict JSON reader for headers that come from outside (safetensors,
// checkpoint metadata). JSON.parse cannot be told to refuse what a hostile
// header relies on: it keeps the last of two equal keys without a word, and
// a caller that copies its result into a plain object lets "__proto__"
// replace that object's prototype. This reader makes every object with a
// null prototype, refuses duplicate keys at any depth, bounds the nesting
// (deep arrays would otherwise overflow the stack with a raw RangeError) and
// counts the members of the top-level object as it goes, so a header of a
// million tensors is refused when the limit is reached, not after it is all
// built. Everything else is RFC 8259: string escapes and numbers are decoded
// by JSON.parse on the one token, so they mean exactly what JSON says.

export interface StrictJsonLimits {
  /** Most members the top-level object may hold. */
  maxTopLevelKeys?: number;
  /** Deepest nesting of arrays and objects. */
  maxDepth?: number;
}

/** A JSON object as this reader gives it: no prototype, so no inherited names. */
export type JsonObject = { [key: string]: unknown };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SPACE = /[ \t\n\r]*/y;

/**
 * Parses `text` as JSON with the rules above; errors say what and where (`who: ...`).
 * @example parseStrictJson('{"a": [1, 2]}', "header").a; // [1, 2]
 */
export function parseStrictJson(text: string, who: string, limits: StrictJsonLimits = {}): unknown {
  const maxKeys = limits.maxTopLevelKeys ?? Infinity, maxDepth = limits.maxDepth ?? 64;
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${who}: ${what} at character ${i}`);
  };
  const space = () => {
    SPACE.lastIndex = i;
    SPACE.exec(text);
    i = SPACE.lastIndex;
  };
  const token = (re: RegExp, what: string): string => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) fail(`expected ${what}`);
    i = re.lastIndex;
    return m![0];
  };
  // a loop, not a regular expression: a backtracking regexp over a megabyte string can overflow its stack
  const string = (what: string): string => {
    const start = i;
    if (text[i] !== '"') fail(`expected ${what}`);
    for (i++; ; i++) {
      const c = text.charCodeAt(i);
      if (c !== c) fail("unterminated string");
      if (c === 0x22) break;
      if (c === 0x5c) i++;
      else if (c < 0x20) fail("control character in a string");
    }
    i++;
    return JSON.parse(text.slice(start, i)); // the escapes, decoded (and checked) as JSON defines them
  };
  const value = (depth: number): unknown => {
    space();
    const c = text[i];
    if (c === "{" || c === "[") {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      i++;
      space();
      if (c === "[") {
        const arr: unknown[] = [];
        if (text[i] === "]") return i++, arr;
        for (;;) {
          arr.push(value(depth + 1));
          space();
          if (text[i] === ",") i++;
          else if (text[i] === "]") return i++, arr;
          else fail("expected , or ]");
        }
      }
      const obj: JsonObject = Object.create(null);
      let n = 0;
      if (text[i] === "}") return i++, obj;
      for (;;) {
        space();
        const key = string("a string key");
        if (Object.hasOwn(obj, key)) fail(`duplicate key ${JSON.stringify(key)}`);
        if (depth === 0 && ++n > maxKeys) fail(`more than ${maxKeys} entries`);
        space();
        if (text[i++] !== ":") fail("expected :");
        obj[key] = value(depth + 1);
        space();
        if (text[i] === ",") i++;
        else if (text[i] === "}") return i++, obj;
        else fail("expected , or }");
      }
    }
    if (c === '"') return string("a string");
    if (text.startsWith("true", i)) return (i += 4), true;
    if (text.startsWith("false", i)) return (i += 5), false;
    if (text.startsWith("null", i)) return (i += 4), null;
    return JSON.parse(token(NUMBER, "a value"));
  };
  try {
    const v = value(0);
    space();
    if (i !== text.length) fail("unexpected text after the value");
    return v;
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.startsWith(`${who}: `) ? msg : `${who}: ${msg} at character ${i}`); // a bad escape or number, named
  }
}

/** True for what parseStrictJson gives as an object (not an array, not null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
