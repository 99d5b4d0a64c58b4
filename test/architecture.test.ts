// The house rules DESIGN.md states, checked on the sources: data flows one way
// (user → Tensor → op → backend → kernel), so no module of host/ imports
// itself back through others. Type-only imports do not count (they vanish
// from the JavaScript); every other import, static or re-export, does.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, dirname, resolve, relative } from "node:path";

const HOST = fileURLToPath(new URL("../../host", import.meta.url));

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** The host files a source file imports at run time (relative specifiers; `import type` and all-type lists skipped). */
function runtimeImports(file: string, files: Set<string>): string[] {
  const src = readFileSync(file, "utf8");
  const deps: string[] = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\s+([^;]*?)\s*from\s+"(\.[^"]+)"/gms)) {
    const clause = m[1].trim();
    if (/^type\s/.test(clause)) continue;
    const braces = /^\{([^}]*)\}$/.exec(clause);
    if (braces && braces[1].split(",").map((x) => x.trim()).filter(Boolean).every((x) => x.startsWith("type "))) continue;
    deps.push(resolve(dirname(file), m[2].replace(/\.js$/, ".ts")));
  }
  for (const m of src.matchAll(/^\s*import\s+"(\.[^"]+)"/gm)) deps.push(resolve(dirname(file), m[1].replace(/\.js$/, ".ts")));
  return deps.filter((d) => files.has(d));
}

/** Strongly connected components with more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let n = 0;
  const index = new Map<string, number>(), low = new Map<string, number>(), stack: string[] = [], on = new Set<string>(), out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) out.push(c);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

test("host/ has no import cycle", () => {
  const files = sources(HOST);
  assert.ok(files.length > 50, `found the sources (${files.length} files)`);
  const set = new Set(files);
  const graph = new Map(files.map((f) => [f, runtimeImports(f, set)]));
  assert.ok(graph.get(join(HOST, "ops", "elementwise.ts"))!.some((d) => d.endsWith("tape.ts")), "the scanner sees imports");
  const found = cycles(graph).map((c) => c.map((f) => relative(HOST, f)).sort().join(" → "));
  assert.equal(found, [], `import cycles:\n${found.join("\n")}`);
});

test("the scanner finds a cycle when there is one", () => {
  const g = new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]);
  assert.equal(cycles(g).map((c) => c.sort()), [["a", "b", "c"]]);
});

/** The host files under `dir` with every line that matches one of `patterns` (comments skipped). */
function offenders(dir: string, patterns: RegExp[]): string[] {
  const out: string[] = [];
  for (const f of sources(join(HOST, dir))) {
    readFileSync(f, "utf8").split("\n").forEach((line, i) => {
      if (/^\s*(\/\/|\*|\/\*)/.test(line)) return;
      if (patterns.some((p) => p.test(line))) out.push(`${relative(HOST, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  return out;
}

test("ops, optimizers and layers hold no backend checks and no scheduling: they call the backend's typed kernels", () => {
  const patterns = [/\.name\s*[!=]==\s*"(wasm|webgpu)"/, /splitRange|\bthreads\.js"|\.parallel\(|\.split\("[a-z_0-9]+"/, /\bbe\.k\.|backend\(\)\.k\b|\.exports\b/, /\.hostMemory\b|\.variant\.startsWith/];
  for (const dir of ["ops", "optim", "nn"]) assert.equal(offenders(dir, patterns), [], `${dir}/ reaches past the kernel seam`);
  // the check itself works
  assert.ok(patterns[0].test(`if (be.name === "wasm") {`) && patterns[1].test(`import { splitRange } from "../backends/threads.js";`));
});

test("engine objects are not patched: no `as any` in engine.ts or the backends", () => {
  for (const f of ["engine.ts", join("backends", "wasm", "backend.ts"), join("backends", "webgpu", "backend.ts")]) {
    const src = readFileSync(join(HOST, f), "utf8");
    assert.not.match(src, /\)\s+as any\)\.(_\w+)/, `${f} sets a private field through as any`);
  }
  assert.not.match(readFileSync(join(HOST, "engine.ts"), "utf8"), /as any/, "engine.ts has no as any");
});

test.run();
