// Runs the uvu suites over the compiled tests and ends with the one plain line
// CI reads: `N passed, M failed, K skipped`.
// Relaxed SIMD needs a V8 flag on Node 20; it is switched on here (and in the
// CLI) so the relaxed binary is tested too. Newer runtimes have it on already.
import { spawn } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const filter = process.argv[2] ?? "";
const files = readdirSync(join(root, "dist", "test"))
  .filter((f) => f.endsWith(".test.js") && f.includes(filter))
  .sort();

// WebGPU in Node is Dawn (the `webgpu` package), which needs a Vulkan driver.
// With no GPU, Debian's chromium ships SwiftShader and a libvulkan.so.1 next to
// it; the loader reads these variables once, at process start, so the WebGPU
// test files are started with them (unless the caller set them). No adapter
// then means a failing file, never a skipped one.
const SWIFTSHADER = "/usr/lib/chromium/vk_swiftshader_icd.json";
function envFor(f) {
  const env = { ...process.env, FORCE_COLOR: "0" };
  if (f.includes("webgpu") && !env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) {
    env.VK_ICD_FILENAMES = SWIFTSHADER;
    env.LD_LIBRARY_PATH = ["/usr/lib/chromium", env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  }
  return env;
}

let passed = 0, failed = 0, skipped = 0;
const failedFiles = [];
// One process per file: a crash or a hung runtime in one file cannot take the others down,
// and each file's memory starts fresh.
for (const f of files) {
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [
      "--experimental-wasm-relaxed-simd", "--expose-gc",
      join(root, "node_modules", "uvu", "bin.js"), join("dist", "test"), `^${f.replace(/\./g, "\\.")}$`,
    ], { cwd: root, stdio: ["ignore", "pipe", "inherit"], env: envFor(f) });
    let out = "";
    child.stdout.on("data", (d) => { out += d; process.stdout.write(d); });
    child.on("close", (c) => {
      const plain = out.replace(/\x1b\[[0-9;]*m/g, "");
      const total = plain.match(/Total:\s+(\d+)/), pass = plain.match(/Passed:\s+(\d+)/), skip = plain.match(/Skipped:\s+(\d+)/);
      if (total && pass) {
        const t = +total[1], p = +pass[1], s = skip ? +skip[1] : 0;
        passed += p; skipped += s; failed += Math.max(t - p - s, c === 0 ? 0 : 1);
      } else failed += 1; // the file died before reporting: count it as a failure
      resolve(c);
    });
  });
  if (code !== 0) failedFiles.push(f);
}
if (failedFiles.length) console.log(`\nfailing files: ${failedFiles.join(", ")}`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed ? 1 : 0);
