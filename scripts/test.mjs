// Runs the uvu suites over the compiled tests in two steps and ends with the one
// plain line CI reads: `N passed, M failed, K skipped`.
//
//   1. unit (test/*.test.ts): tests that call the library in-process. Each file
//      is its own process; os.availableParallelism() of them run at a time,
//      each one's output held back and printed whole when it ends, so logs do
//      not interleave. Files that took longest last time start first
//      (dist/test/.durations.json), so one long file does not start last.
//   2. e2e (test/e2e/*.test.ts): tests that drive the built package or a whole
//      program from outside: the CLI, the bench, Node/Deno/Bun/Chromium,
//      bundlers, workerd, npm pack. They spawn runtimes and browsers of their
//      own, so they run one at a time, their output live.
//
// `node scripts/test.mjs [--unit | --e2e] [substring]`: --unit or --e2e runs one
// step only (npm run test:unit / test:e2e); the substring picks the files, in
// both steps, whose name holds it.
//
// Relaxed SIMD needs a V8 flag on Node 20; it is switched on here (and in the
// CLI) so the relaxed binary is tested too. Newer runtimes have it on already.
//
// System packages: some tests read files that come from Debian packages, not
// npm. Before running, the runner looks for them; when some are missing and it
// can install them (root, or passwordless sudo, and apt-get), it does; what is
// still missing then skips the test files that need it, each named with the
// reason and the command that installs it. WEBGRAD_NO_APT=1 stops the install;
// WEBGRAD_PRETEND_MISSING=pkg,pkg treats packages as absent (to test this).
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const filter = args.find((a) => !a.startsWith("--")) ?? "";
const only = args.includes("--unit") ? "unit" : args.includes("--e2e") ? "e2e" : null;

/** A step's test files: dist/<dir>/*.test.js whose source <dir>/*.test.ts still exists
 * (tsc never deletes, so a test moved or removed leaves a stale .js behind that must not run). */
const list = (dir) => existsSync(join(root, "dist", dir))
  ? readdirSync(join(root, "dist", dir))
    .filter((f) => f.endsWith(".test.js") && f.includes(filter) && existsSync(join(root, dir, f.replace(/\.js$/, ".ts"))))
    .sort()
    .map((name) => ({ name, dir, shown: join(dir, name).slice("test/".length) }))
  : [];
const STEPS = [
  { step: "unit", dir: "test", jobs: availableParallelism() },
  { step: "e2e", dir: join("test", "e2e"), jobs: 1 },
].filter((s) => !only || s.step === only).map((s) => ({ ...s, files: list(s.dir) }));
const files = STEPS.flatMap((s) => s.files.map((f) => f.name));

const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
/** The Debian packages tests read, what for, and which test files need them. */
const SYSTEM = [
  {
    pkg: "chromium", have: () => existsSync("/usr/bin/chromium") && existsSync(SWIFTSHADER),
    why: "headless Chromium (runtimes test) and its SwiftShader Vulkan driver, the software GPU of the WebGPU tests",
    // a caller who points Vulkan at a GPU of their own (VK_ICD_FILENAMES) needs no SwiftShader for the WebGPU tests
    needs: (f) => f.startsWith("runtimes.") || f.startsWith("webgpu-runtimes.") || f.startsWith("demo.") || f.startsWith("llm-browser.") || (f.startsWith("webgpu") && !process.env.VK_ICD_FILENAMES),
  },
  {
    pkg: "mesa-vulkan-drivers", have: () => existsSync("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"),
    why: "Mesa's lavapipe Vulkan driver, the one software GPU with shader-f16",
    needs: (f) => f.startsWith("webgpu-f16."),
  },
  {
    pkg: "dataset-fashion-mnist", have: () => existsSync("/usr/share/datasets/fashion-mnist"),
    why: "Fashion-MNIST's IDX files (zoo data)",
    needs: (f) => f.startsWith("zoo-data.") || f.startsWith("zoo-layers.") || f.startsWith("zoo-webgpu."),
  },
  {
    pkg: "fortunes-zh", have: () => existsSync("/usr/share/games/fortunes/chinese") && existsSync("/usr/share/games/fortunes/tang300"),
    why: "the Chinese fortunes corpus (GPT, LSTM and Llama zoo data)",
    needs: (f) => f.startsWith("gpt.") || f.startsWith("zoo-layers.") || f.startsWith("zoo-webgpu.") || f.startsWith("zoo-llama."),
  },
];
const pretend = new Set((process.env.WEBGRAD_PRETEND_MISSING ?? "").split(",").filter(Boolean));
const missingNow = () => SYSTEM.filter((s) => (pretend.has(s.pkg) || !s.have()) && files.some(s.needs));

/** Installs Debian packages with apt-get when this process may (root, or sudo without a password). */
function aptInstall(pkgs) {
  if (process.env.WEBGRAD_NO_APT === "1" || process.platform !== "linux") return false;
  if (spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status !== 0) return false;
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0;
  if (!root && !sudo) return false;
  const run = (args) => {
    const cmd = sudo ? ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", ...args] : ["apt-get", ...args];
    console.log(`$ ${cmd.join(" ")}`);
    return spawnSync(cmd[0], cmd.slice(1), { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }).status === 0;
  };
  return run(["update"]) && run(["install", "-y", "--no-install-recommends", ...pkgs]);
}

let missing = missingNow();
const installable = missing.filter((s) => !pretend.has(s.pkg));
if (installable.length) {
  console.log(`tests read files from Debian packages that are not installed: ${installable.map((s) => s.pkg).join(", ")}`);
  if (!aptInstall(installable.map((s) => s.pkg))) console.log("(not installed: this needs apt-get and root or passwordless sudo; the tests that need them are skipped)");
  missing = missingNow();
}
/** Why a test file is skipped, or null to run it. */
const skipReason = (f) => {
  const lack = missing.filter((s) => s.needs(f));
  return lack.length ? lack.map((s) => `${s.pkg} (${s.why})`).join("; ") : null;
};
/** How many tests a skipped file holds: its test(...) call sites (a test made in a loop counts once). */
const countTests = (f) => (readFileSync(join(root, "dist", f.dir, f.name), "utf8").match(/^\s*test(\.only)?\(/gm) ?? []).length;

// WebGPU in Node is Dawn (the `webgpu` package), which needs a Vulkan driver.
// With no GPU, Debian's chromium ships SwiftShader and a libvulkan.so.1 next to
// it; the loader reads these variables once, at process start, so the WebGPU
// test files are started with them (unless the caller set them). With them,
// no adapter means a failing file, never a skipped one; without chromium (and
// no VK_ICD_FILENAMES of the caller's) the WebGPU files are skipped, saying why.
function envFor(f) {
  const env = { ...process.env, FORCE_COLOR: "0" };
  if (f.includes("webgpu") && !env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) {
    env.VK_ICD_FILENAMES = SWIFTSHADER;
    env.LD_LIBRARY_PATH = ["/usr/lib/chromium", env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  }
  return env;
}

/** One test file in a process of its own: its counts, exit code and (when not live) its output. */
function runFile(f, live) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [
      "--experimental-wasm-relaxed-simd", "--expose-gc",
      join(root, "node_modules", "uvu", "bin.js"), join("dist", f.dir), `^${f.name.replace(/\./g, "\\.")}$`,
    ], { cwd: root, stdio: ["ignore", "pipe", live ? "inherit" : "pipe"], env: envFor(f.name) });
    const t0 = performance.now();
    let out = "";
    const held = []; // [stream, chunk] in the order they came, printed when the file ends
    child.stdout.on("data", (d) => { out += d; if (live) process.stdout.write(d); else held.push([process.stdout, d]); });
    child.stderr?.on("data", (d) => held.push([process.stderr, d]));
    child.on("close", (code) => {
      const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
      const total = plain.match(/Total:\s+(\d+)/), pass = plain.match(/Passed:\s+(\d+)/), skip = plain.match(/Skipped:\s+(\d+)/);
      const r = { code, held, ms: performance.now() - t0, passed: 0, failed: 0, skipped: 0 };
      if (total && pass) {
        const t = +total[1], p = +pass[1], s = skip ? +skip[1] : 0;
        // uvu's Total leaves test.skip() out (its Skipped counts those), so the failures are Total − Passed
        r.passed = p; r.skipped = s; r.failed = Math.max(t - p, code === 0 ? 0 : 1);
      } else r.failed = 1; // the file died before reporting: count it as a failure
      resolve(r);
    });
  });
}

// How long each file took last time: the unit pool starts the longest first.
const TIMES = join(root, "dist", "test", ".durations.json");
let times = {};
try { times = JSON.parse(readFileSync(TIMES, "utf8")); } catch { /* first run: alphabetical */ }

const plural = (n, w) => `${n} ${w}${n === 1 ? "" : "s"}`;
const counts = (c) => `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`;
const all = { passed: 0, failed: 0, skipped: 0 };
const failedFiles = [], skippedFiles = [];
// One process per file: a crash or a hung runtime in one file cannot take the others down,
// and each file's memory starts fresh.
for (const { step, dir, jobs, files } of STEPS) {
  const n = Math.min(jobs, files.length) || 1;
  console.log(`\n=== ${step} tests (${dir}): ${plural(files.length, "file")}${filter ? ` matching "${filter}"` : ""}, ${n === 1 ? "one at a time" : `${n} at a time`}`);
  const c = { passed: 0, failed: 0, skipped: 0 };
  const t0 = performance.now();
  const queue = [];
  for (const f of files) {
    const reason = skipReason(f.name);
    if (!reason) { queue.push(f); continue; }
    const k = countTests(f);
    c.skipped += k;
    skippedFiles.push(`  ${f.shown} (${plural(k, "test")}): needs ${reason}`);
    console.log(`\n${f.shown}: skipped, needs ${reason}`);
  }
  if (n > 1) queue.sort((a, b) => (times[b.shown] ?? Infinity) - (times[a.shown] ?? Infinity));
  const worker = async () => {
    for (let f; (f = queue.shift());) {
      const r = await runFile(f, n === 1);
      for (const [stream, d] of r.held) stream.write(d);
      times[f.shown] = Math.round(r.ms);
      c.passed += r.passed; c.failed += r.failed; c.skipped += r.skipped;
      if (r.code !== 0) failedFiles.push(f.shown);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  console.log(`\n${step}: ${counts(c)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  all.passed += c.passed; all.failed += c.failed; all.skipped += c.skipped;
}
try { writeFileSync(TIMES, JSON.stringify(times, null, 1) + "\n"); } catch { /* a read-only dist: no ordering next time */ }
if (skippedFiles.length) {
  console.log(`\nskipped files (install with: apt-get install ${missing.map((s) => s.pkg).join(" ")}):\n${skippedFiles.join("\n")}`);
}
if (failedFiles.length) console.log(`\nfailing files: ${failedFiles.join(", ")}`);
console.log(`\n${counts(all)}`);
process.exit(all.failed ? 1 : 0);
