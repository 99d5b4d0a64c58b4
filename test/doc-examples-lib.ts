// Doc examples as tests: every `@example` block in host/**/*.ts is pulled out of
// its JSDoc comment, its `expr; // value` lines become assertions, and it runs in
// a fresh async function whose scope holds `wg`, the named exports of its own
// module (so an example of a module-internal helper may use the bare name, as a
// Rust doctest uses its crate) and the fixtures of test/doc-prelude.ts it names.
// Used by doc-examples.test.ts (in a worker, with a time limit per example) and
// webgpu-doc-examples.test.ts (in-process, on SwiftShader).

import { readFileSync, readdirSync, statSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";

/** The repository root (this file runs from dist/test/). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

// ---------------------------------------------------------------- extraction

export interface Example {
  /** "host/ops/elementwise.ts" */
  file: string;
  /** The source line of `@example`. */
  line: number;
  /** The code lines, each with the source line it came from. */
  code: { text: string; line: number }[];
}

function walk(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts") && !p.endsWith(".generated.ts")) out.push(p);
  }
  return out;
}

/**
 * Every `@example` of every JSDoc comment under host/: the code after the tag up
 * to the next `@tag` line or the end of the comment (a one-line `/** … @example code *\/` too).
 */
export function extractExamples(root = ROOT): Example[] {
  const out: Example[] = [];
  for (const path of walk(join(root, "host"))) {
    const file = relative(root, path).split("\\").join("/");
    const src = readFileSync(path, "utf8");
    const re = /\/\*\*([\s\S]*?)\*\//g;
    for (let m; (m = re.exec(src)); ) {
      const first = src.slice(0, m.index).split("\n").length;
      const lines = m[1].split("\n").map((t, i) => ({ text: i === 0 ? t : t.replace(/^\s*\* ?/, ""), line: first + i }));
      for (let i = 0; i < lines.length; i++) {
        const k = lines[i].text.search(/@example\b/);
        if (k < 0) continue;
        const code: Example["code"] = [];
        const rest = lines[i].text.slice(k + "@example".length).trim();
        if (rest) code.push({ text: rest, line: lines[i].line });
        for (let j = i + 1; j < lines.length && !/^\s*@\w/.test(lines[j].text); j++) code.push({ text: lines[j].text.trimEnd(), line: lines[j].line });
        while (code.length && !code[code.length - 1].text.trim()) code.pop();
        // the common indentation goes (a multi-line example keeps its own nesting)
        const indent = Math.min(...code.filter((c) => c.text.trim()).map((c) => c.text.match(/^ */)![0].length));
        out.push({ file, line: lines[i].line, code: code.map((c) => ({ text: c.text.slice(Number.isFinite(indent) ? indent : 0), line: c.line })) });
      }
    }
  }
  return out;
}

// ------------------------------------------------------- comment literals

/** A value a comment claims: the parsed literal, kept as text where the text matters. */
export type Lit =
  | { k: "num"; text: string; prefix: boolean }
  | { k: "str"; v: string }
  | { k: "const"; v: "true" | "false" | "null" | "undefined" }
  | { k: "arr"; items: Lit[]; open: boolean }
  | { k: "typed"; ctor: string; items: Lit[]; open: boolean }
  | { k: "obj"; entries: [string, Lit][]; open: boolean };

const TYPED = ["Float32Array", "Float64Array", "Int32Array", "Int16Array", "Int8Array", "Uint32Array", "Uint16Array", "Uint8Array", "Uint8ClampedArray"];

/**
 * Parses a literal at the start of `s`: a number (a trailing `…` makes it a prefix),
 * a string, an array or object of literals (a last `…` entry: "and more"),
 * `Int32Array [0, 1]`, true/false/null/undefined. Returns the value and where it
 * ended, or null when `s` does not start with one.
 */
export function parseLiteral(s: string): { lit: Lit; end: number } | null {
  let i = 0;
  const ws = () => { while (i < s.length && /\s/.test(s[i])) i++; };
  const ellipsis = () => {
    if (s.startsWith("…", i)) { i += 1; return true; }
    if (s.startsWith("...", i)) { i += 3; return true; }
    return false;
  };
  const value = (): Lit | null => {
    ws();
    const num = /^[+-]?(?:Infinity|NaN|(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s.slice(i));
    if (num && !/^[\w$]/.test(s.slice(i + num[0].length).replace(/^(…|\.\.\.)/, ""))) {
      i += num[0].length;
      return { k: "num", text: num[0].replace(/_/g, ""), prefix: ellipsis() };
    }
    const c = s[i];
    if (c === '"' || c === "'" || c === "`") {
      let v = "";
      for (i++; i < s.length && s[i] !== c; i++) {
        if (s[i] !== "\\") { v += s[i]; continue; }
        const e = s[++i];
        if (e === "n") v += "\n";
        else if (e === "t") v += "\t";
        else if (e === "r") v += "\r";
        else if (e === "0") v += "\0";
        else if (e === "x") { v += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16)); i += 2; }
        else if (e === "u" && s[i + 1] === "{") { const j = s.indexOf("}", i); v += String.fromCodePoint(parseInt(s.slice(i + 2, j), 16)); i = j; }
        else if (e === "u") { v += String.fromCharCode(parseInt(s.slice(i + 1, i + 5), 16)); i += 4; }
        else v += e;
      }
      if (s[i] !== c) return null;
      i++;
      return { k: "str", v };
    }
    if (c === "[") {
      i++;
      const items: Lit[] = [];
      let open = false;
      for (;;) {
        ws();
        if (s[i] === "]") { i++; return { k: "arr", items, open }; }
        if (open) return null;
        if (ellipsis()) { open = true; ws(); if (s[i] === ",") i++; continue; }
        const v = value();
        if (!v) return null;
        items.push(v);
        ws();
        if (s[i] === ",") i++;
        else if (s[i] !== "]") return null;
      }
    }
    if (c === "{") {
      i++;
      const entries: [string, Lit][] = [];
      let open = false;
      for (;;) {
        ws();
        if (s[i] === "}") { i++; return { k: "obj", entries, open }; }
        if (open) return null;
        if (ellipsis()) { open = true; ws(); if (s[i] === ",") i++; continue; }
        let key: string;
        const id = /^[A-Za-z_$][\w$]*/.exec(s.slice(i));
        if (id) { key = id[0]; i += key.length; }
        else {
          const k = value();
          if (!k || k.k !== "str") return null;
          key = k.v;
        }
        ws();
        if (s[i] !== ":") return null;
        i++;
        const v = value();
        if (!v) return null;
        entries.push([key, v]);
        ws();
        if (s[i] === ",") i++;
        else if (s[i] !== "}") return null;
      }
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(s.slice(i))?.[0];
    if (word && ["true", "false", "null", "undefined"].includes(word)) {
      i += word.length;
      return { k: "const", v: word as "true" };
    }
    if (word && TYPED.includes(word)) {
      i += word.length;
      const arr = value();
      if (!arr || arr.k !== "arr") return null;
      return { k: "typed", ctor: word, items: arr.items, open: arr.open };
    }
    return null;
  };
  const lit = value();
  return lit ? { lit, end: i } : null;
}

/**
 * What a `// comment` after an expression claims: a value (the whole comment a
 * literal, or a literal and a note in parentheses), that it throws (with the
 * quoted part of the message, if any), prose (nothing to check), or a comment
 * that starts as a value and goes on (an error: it cannot be checked, so it could lie).
 */
export function classifyComment(c: string):
  | { kind: "value"; lit: Lit }
  | { kind: "throws"; message?: string }
  | { kind: "prose" }
  | { kind: "ambiguous"; why: string } {
  const t = c.trim();
  if (/^throws\b/.test(t)) {
    const q = /[`"“]([^`"”]+)[`"”]/.exec(t);
    return { kind: "throws", message: q?.[1]?.replace(/\s*…$/, "") };
  }
  const p = parseLiteral(t);
  if (!p) return { kind: "prose" };
  const rest = t.slice(p.end).trim();
  if (!rest || /^\([^)]*\)$/.test(rest)) return { kind: "value", lit: p.lit };
  return { kind: "ambiguous", why: `the comment starts with a value and goes on (${JSON.stringify(rest.slice(0, 40))}): write \`// value\`, \`// value (note)\` or \`// e.g. …\`` };
}

// ---------------------------------------------------------- comparison

const show = (v: unknown) => {
  const s = inspect(v, { depth: 4, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 });
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
};

/** Why `actual` is not what `lit` says, or null when it is (floats to a relative 1e-5; integers and shapes exactly). */
export function mismatch(actual: unknown, lit: Lit, exact = false, path = ""): string | null {
  const at = path ? ` at ${path}` : "";
  switch (lit.k) {
    case "num": {
      if (typeof actual !== "number") return `${show(actual)}${at} is not a number (the comment says ${lit.text})`;
      if (lit.prefix) {
        // "0.693…": the printed value starts with these digits
        return String(actual).startsWith(lit.text) ? null : `${actual}${at} does not start with ${lit.text}`;
      }
      const e = Number(lit.text);
      if (Number.isNaN(e)) return Number.isNaN(actual) ? null : `${actual}${at} is not NaN`;
      if (!Number.isFinite(e) || exact || (Number.isInteger(e) && Number.isInteger(actual) && !/[.eE]/.test(lit.text))) {
        return actual === e || (e === 0 && actual === 0) ? null : `${actual}${at} is not ${lit.text}`;
      }
      return Math.abs(actual - e) <= 1e-5 * Math.max(Math.abs(e), Math.abs(actual)) + 1e-6 ? null : `${actual}${at} is not ${lit.text} (to a relative 1e-5)`;
    }
    case "str":
      return actual === lit.v ? null : `${show(actual)}${at} is not ${JSON.stringify(lit.v)}`;
    case "const": {
      const e = { true: true, false: false, null: null, undefined: undefined }[lit.v];
      return actual === e ? null : `${show(actual)}${at} is not ${lit.v}`;
    }
    case "arr":
    case "typed": {
      if (lit.k === "arr" && !Array.isArray(actual)) {
        const what = ArrayBuffer.isView(actual) ? `a ${actual.constructor.name} (write \`${actual.constructor.name} [...]\`)` : show(actual);
        return `${what}${at} is not an array`;
      }
      if (lit.k === "typed" && (!ArrayBuffer.isView(actual) || actual.constructor.name !== lit.ctor)) {
        return `${show(actual)}${at} is not a ${lit.ctor}`;
      }
      const a = Array.from(actual as ArrayLike<unknown>);
      if (lit.open ? a.length < lit.items.length : a.length !== lit.items.length) {
        return `${show(actual)}${at} has ${a.length} elements, the comment ${lit.open ? "at least " : ""}${lit.items.length}`;
      }
      for (let i = 0; i < lit.items.length; i++) {
        const m = mismatch(a[i], lit.items[i], exact, `${path}[${i}]`);
        if (m) return m;
      }
      return null;
    }
    case "obj": {
      if (typeof actual !== "object" || actual === null) return `${show(actual)}${at} is not an object`;
      const keys = lit.entries.map(([k]) => k);
      if (!lit.open) {
        const extra = Object.keys(actual).filter((k) => !keys.includes(k));
        if (extra.length) return `${show(actual)}${at} has keys the comment does not (${extra.join(", ")})`;
      }
      for (const [k, v] of lit.entries) {
        if (!(k in actual)) return `${show(actual)}${at} has no key ${k}`;
        const m = mismatch((actual as any)[k], v, exact, `${path}.${k}`);
        if (m) return m;
      }
      return null;
    }
  }
}

// ---------------------------------------------------------- transformation

export interface Check {
  line: number;
  /** The expression (or variable) whose value is checked. */
  expr: string;
  kind: "value" | "throws";
  lit?: Lit;
  message?: string;
  /** `.shape` values compare exactly. */
  exact: boolean;
}

export interface Prepared {
  example: Example;
  /** The example as JavaScript: `async function __example() {...}`, closing over the scope's names. */
  js: string;
  checks: Check[];
  /** The prelude fixtures it names (made fresh for it). */
  fixtures: string[];
  /** A reason it cannot run as written (an unverifiable comment, a syntax error), or null. */
  error: string | null;
}

/** Splits a line into code and a trailing `//` comment (outside strings, template literals and regexes after `(`/`,`/`=`). */
export function splitComment(line: string): { code: string; comment: string | null } {
  let q: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") q = c;
    else if (c === "/" && line[i + 1] === "/") return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 2).trim() };
  }
  return { code: line, comment: null };
}

/** The statements of one line of code, split at top-level semicolons. */
function statements(code: string): string[] {
  const out: string[] = [];
  let depth = 0, q: string | null = null, start = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (q) {
      if (c === "\\") i++;
      else if (c === q) q = null;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") q = c;
    else if ("([{".includes(c)) depth++;
    else if (")]}".includes(c)) depth--;
    else if (c === ";" && depth === 0) {
      out.push(code.slice(start, i));
      start = i + 1;
    }
  }
  out.push(code.slice(start));
  return out.filter((s) => s.trim());
}

/** `import … from "m"` as a dynamic import through the scope's `__import` ("webgrad" is the built package). */
function rewriteImport(line: string): string | null {
  const m = /^\s*import\s+(type\s+)?(.+?)\s+from\s+(["'][^"']+["']);?\s*$/.exec(line);
  if (!m) return /^\s*import\s+["']/.test(line) ? line.replace(/import\s+(["'][^"']+["'])/, "await __import($1)") : null;
  if (m[1]) return "";
  const what = m[2].trim(), from = m[3];
  const ns = /^\*\s+as\s+([\w$]+)$/.exec(what);
  if (ns) return `const ${ns[1]} = await __import(${from});`;
  const named = /^(?:([\w$]+)\s*,\s*)?\{([^}]*)\}$/.exec(what);
  if (named) {
    const names = named[2].split(",").map((s) => s.trim()).filter((s) => s && !s.startsWith("type "))
      .map((s) => s.replace(/\s+as\s+/, ": "));
    const def = named[1] ? `default: ${named[1]}, ` : "";
    return `const { ${def}${names.join(", ")} } = await __import(${from});`;
  }
  if (/^[\w$]+$/.test(what)) return `const { default: ${what} } = await __import(${from});`;
  return null;
}

const KEYWORD = /^(for|if|while|do|return|throw|class|function|import|export|switch|try|let|const|var|async\s+function)\b/;

/**
 * Turns an example into runnable JavaScript: imports become dynamic imports, and the
 * last statement of each line whose comment is a literal becomes a check of that value
 * (`// throws …`: a check that it throws). `transpile` is TypeScript → JavaScript (esbuild's).
 */
export function prepare(example: Example, fixtureNames: string[], transpile: (ts: string) => string): Prepared {
  const checks: Check[] = [];
  const body: string[] = [];
  let error: string | null = null;
  for (const { text, line } of example.code) {
    const imp = rewriteImport(text);
    if (imp !== null) { body.push(imp); continue; }
    const { code, comment } = splitComment(text);
    const c = comment === null ? { kind: "prose" as const } : classifyComment(comment);
    if (c.kind === "prose" || !code.trim()) { body.push(text); continue; }
    if (c.kind === "ambiguous") { error ??= `line ${line}: ${c.why}`; body.push(text); continue; }
    const stmts = statements(code);
    const last = stmts.pop()!.trim();
    const before = stmts.map((s) => s + ";").join("");
    const k = checks.length;
    const decl = /^(?:const|let|var)\s+([\w$]+)\s*(?::[^=]+)?=\s*([\s\S]+)$/.exec(last);
    if (c.kind === "throws") {
      if (decl || KEYWORD.test(last)) { error ??= `line ${line}: "// throws" after a statement that is not an expression`; body.push(text); continue; }
      checks.push({ line, expr: last, kind: "throws", message: c.message, exact: false });
      body.push(`${before} await __throws(${k}, async () => (${last}));`);
      continue;
    }
    const exact = /\.shape$/.test(decl ? decl[2].trim() : last);
    if (decl) {
      checks.push({ line, expr: decl[1], kind: "value", lit: c.lit, exact });
      body.push(`${before} ${last}; __check(${k}, ${decl[1]});`);
    } else if (KEYWORD.test(last)) {
      error ??= `line ${line}: a value comment after a statement that is not an expression (${last.slice(0, 40)}…)`;
      body.push(text);
    } else {
      checks.push({ line, expr: last, kind: "value", lit: c.lit, exact });
      body.push(`${before} __check(${k}, (${last}));`);
    }
  }
  const src = body.join("\n");
  // a fixture is made when the example names it and does not declare it itself
  const fixtures = fixtureNames.filter((n) => new RegExp(`(?<![\\w$.])${n}(?![\\w$])`).test(src)
    && !new RegExp(`(?:const|let|var|class|function)\\s+${n}(?![\\w$])|(?:const|let|var)\\s*[[{][^\\]}=]*(?<![\\w$:])${n}(?![\\w$:])[^\\]}=]*[\\]}]\\s*=`).test(src));
  let js = "";
  try {
    // the inner block lets the example declare a name the scope already has
    js = transpile(`async function __example() {\n"use strict";\n{\n${src}\n}\n}`);
  } catch (e) {
    error ??= `does not compile: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`;
  }
  return { example, js, checks, fixtures, error };
}

// ---------------------------------------------------------------- running

export interface RunResult {
  ok: boolean;
  error?: string;
  /** The checks that ran and held. */
  checked: number;
  logs: string[];
  ms: number;
}

/** The dist/ module an example's source file compiles to. */
export const moduleOf = (file: string) => join(ROOT, "dist", file.replace(/\.ts$/, ".js"));

/** Modules whose import does something (the CLI runs its main()): their exports are not put in scope. */
const NO_IMPORT = new Set(["host/cli.ts"]);

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as FunctionConstructor;

/**
 * Runs one prepared example here, in this thread: fixtures made fresh, the module's
 * exports in scope, console output kept (shown when it fails), fetch refused.
 */
export async function runPrepared(p: { file: string; js: string; checks: Check[]; fixtures: string[] }): Promise<RunResult> {
  const t0 = performance.now();
  const logs: string[] = [];
  const wg = await import(pathToFileURL(join(ROOT, "dist", "host", "index.js")).href);
  const prelude = await import(pathToFileURL(join(ROOT, "dist", "test", "doc-prelude.js")).href);
  const own = NO_IMPORT.has(p.file) ? {} : await import(pathToFileURL(moduleOf(p.file)).href);
  const scope: Record<string, unknown> = {};
  // an export named by a reserved word (stats.ts's `var`, reached as wg.var) cannot be a parameter name
  const RESERVED = new Set(["var", "default", "delete", "new", "in", "do", "if", "for", "function", "class", "return", "switch", "this", "typeof", "void", "with", "const", "let"]);
  for (const [k, v] of Object.entries(own)) if (/^[A-Za-z_$][\w$]*$/.test(k) && !RESERVED.has(k)) scope[k] = v;
  let checked = 0;
  const fail = (k: number, why: string) => {
    const c = p.checks[k];
    return new Error(`line ${c.line}: \`${c.expr}\`: ${why}`);
  };
  scope.__check = (k: number, v: unknown) => {
    const c = p.checks[k];
    const m = mismatch(v, c.lit!, c.exact);
    if (m) throw fail(k, m);
    checked++;
  };
  scope.__throws = async (k: number, f: () => Promise<unknown>) => {
    const c = p.checks[k];
    try {
      await f();
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      // a name the example forgot to define is not the error its comment promises
      if (e instanceof ReferenceError || e instanceof SyntaxError) throw fail(k, `threw ${e.name}: ${msg}`);
      if (c.message && !msg.includes(c.message)) throw fail(k, `threw ${JSON.stringify(msg)}, which does not say ${JSON.stringify(c.message)}`);
      checked++;
      return;
    }
    throw fail(k, "did not throw");
  };
  // "webgrad" is the built package; "./x.js" is a module beside the example's own
  scope.__import = (m: string) => import(m === "webgrad" ? pathToFileURL(join(ROOT, "dist", "host", "index.js")).href
    : m.startsWith(".") ? new URL(m, pathToFileURL(moduleOf(p.file))).href : m);
  const con = { log: console.log, info: console.info, warn: console.warn, error: console.error };
  const keep = (...a: unknown[]) => { logs.push(a.map((x) => (typeof x === "string" ? x : show(x))).join(" ")); };
  const realFetch = globalThis.fetch;
  try {
    for (const n of p.fixtures) scope[n] = await prelude.fixtures[n](scope);
    scope.wg = wg;
    console.log = console.info = console.warn = console.error = keep;
    globalThis.fetch = (async (u: unknown) => { throw new Error(`doc examples may not use the network (fetch ${String(u)})`); }) as typeof fetch;
    const names = Object.keys(scope);
    const factory = new AsyncFunction(...names, `${p.js}\nreturn __example();`);
    await factory(...names.map((n) => scope[n]));
    return { ok: true, checked, logs, ms: performance.now() - t0 };
  } catch (e) {
    // the message alone: a stack into the generated function names no line of the source
    return { ok: false, error: String((e as Error)?.message ?? e), checked, logs, ms: performance.now() - t0 };
  } finally {
    Object.assign(console, con);
    globalThis.fetch = realFetch;
  }
}

/** A fresh temporary working directory, and a function that leaves and removes it. */
export function tempCwd(): () => void {
  const prev = process.cwd();
  const dir = mkdtempSync(join(tmpdir(), "webgrad-doc-"));
  process.chdir(dir);
  return () => {
    process.chdir(prev);
    rmSync(dir, { recursive: true, force: true });
  };
}

// ---------------------------------------------------------------- policy

/** An example that needs WebGPU: it starts the WebGPU backend (run by webgpu-doc-examples.test.ts). */
export const needsWebGpu = (e: Example) => e.code.some((c) => /backend:\s*"webgpu"|WebGpuBackend\b/.test(c.text));

/** The examples that cannot run here, each with why. Kept small: most examples are made to run instead. */
export const SKIP: { file: string; includes: string; reason: string }[] = [
  { file: "host/cli.ts", includes: "num(", reason: "a private helper of the CLI, whose module runs the CLI when imported (its rules are tested by cli.test.ts)" },
];

export const skipReason = (e: Example): string | null =>
  SKIP.find((s) => s.file === e.file && e.code.some((c) => c.text.includes(s.includes)))?.reason ?? null;
