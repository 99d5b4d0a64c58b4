// Native PyTorch in the bench (bench/torch.ts, bench/engines/torch-child.py): the
// parts that can be checked without a clock.
//   - the Python input generator (bench/engines/torch_inputs.py) gives the bytes
//     bench/workloads.ts gives, so torch computes on the very numbers the wasm
//     engines do (needs python3 and numpy);
//   - the torch child speaks engine-child.ts's protocol and its first results pass
//     the bench's float64 checks on tiny workloads of every kind (needs torch);
//   - the parent's side (decoding, checking, saying why torch is absent) everywhere.
// Where python3, numpy or torch are missing (CI has no torch) the tests that need
// them are skipped, each saying what is missing. Nothing here looks at a time.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { input, modelInit, type Workload } from "../bench/workloads.js";
import { TORCH_INPUTS, checkTorchReply, decodeF32, python, pythonLacks, torchCommand, torchUnavailable } from "../bench/torch.js";

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");

test("decodeF32 reads the child's little-endian base64 float32 bytes back exactly", () => {
  const a = Float32Array.from([0, -0, 1.5, -3.25e-39, 3.4028234663852886e38, Math.PI, NaN, -Infinity]);
  const back = decodeF32(b64(a));
  assert.equal(new Uint32Array(back.buffer), new Uint32Array(a.buffer));
});

test("checkTorchReply: a right result passes the float64 check, a wrong one fails, the result is dropped from the reply", () => {
  const w: Workload = { kind: "gemm", m: 3, n: 4, k: 5 };
  const a = input(15, 1), b = input(20, 2), c = new Float32Array(12);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) for (let p = 0; p < 5; p++) c[i * 4 + j] += a[i * 5 + p] * b[p * 4 + j];
  const good = checkTorchReply(w, { ok: true, result: b64(c), firstMs: 1, warmMs: 1 });
  assert.ok(good.ok, good.check?.detail);
  assert.is(good.result, undefined);
  assert.is(good.warmMs, 1);
  c[7] += 0.01;
  const bad = checkTorchReply(w, { ok: true, result: b64(c), firstMs: 1 });
  assert.not.ok(bad.ok);
  assert.match(bad.check.detail, /C\[1,3\]/);
  // errors and unsupported workloads pass through untouched
  assert.equal(checkTorchReply(w, { ok: false, error: "boom" }), { ok: false, error: "boom" });
});

test("without a usable python the bench is told why (one line naming the interpreter)", () => {
  const saved = process.env.WEBGRAD_BENCH_PYTHON;
  process.env.WEBGRAD_BENCH_PYTHON = "/nonexistent/python3-for-webgrad-test";
  try {
    const why = torchUnavailable();
    assert.ok(why && why.includes("/nonexistent/python3-for-webgrad-test") && !why.includes("\n"), String(why));
    assert.match(why!, /python3-torch/);
  } finally {
    if (saved === undefined) delete process.env.WEBGRAD_BENCH_PYTHON;
    else process.env.WEBGRAD_BENCH_PYTHON = saved;
  }
});

const noNumpy = pythonLacks(["numpy"]);
if (noNumpy) {
  test.skip(`torch_inputs.py is bit-equal to bench/workloads.ts (skipped: ${noNumpy})`, () => {});
} else {
  test("torch_inputs.py: input(), modelInit() (scaled), the conv weights and labels are bit-equal to bench/workloads.ts", () => {
    // sizes around SIMD and chunk edges, seeds the workloads use, and the largest 32-bit seed
    const specs = ["1:1", "7:0", "1000:1", "4099:12", "65537:3", "5:4294967295"];
    const r = spawnSync(python(), [TORCH_INPUTS, ...specs], { encoding: "utf8", maxBuffer: 64 << 20 });
    assert.is(r.status, 0, r.stderr);
    const py = JSON.parse(r.stdout);
    const same = (a: Float32Array, b: string, what: string) => {
      const got = decodeF32(b);
      assert.is(got.length, a.length, `${what}: length`);
      const i = new Uint32Array(got.buffer).findIndex((v, k) => v !== new Uint32Array(a.buffer, a.byteOffset, a.length)[k]);
      assert.is(i, -1, `${what}: first differing bits at ${i} (python ${got[i]}, TypeScript ${a[i]})`);
    };
    for (const spec of specs) {
      const [n, seed] = spec.split(":").map(Number);
      same(input(n, seed), py.input[spec], `input(${n}, ${seed})`);
    }
    for (const model of ["s1", "mlp"] as const) {
      const ts = modelInit(model);
      assert.equal(Object.keys(py.model[model]).sort(), Object.keys(ts).sort(), `${model}: parameter names`);
      for (const [name, p] of Object.entries(ts)) same(p.data, py.model[model][name], `${model} ${name}`);
    }
    same(input(333, 2).map((v) => v * 0.2), py.conv_weight, "conv weights input(333, 2)·0.2");
    assert.equal(py.labels, Array.from({ length: 23 }, (_, i) => i % 10));
  });
}

const noTorch = noNumpy ?? torchUnavailable();
if (noTorch) {
  test.skip(`torch child protocol on tiny workloads (skipped: ${noTorch})`, () => {});
} else {
  test("torch child: info, then prepare/run/dispose on a tiny workload of every kind; every first result passes the bench's float64 check", async () => {
    const { cmd, args, env } = torchCommand(1);
    const proc = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env });
    let stderr = "";
    proc.stderr.on("data", (d) => (stderr += d));
    const lines = createInterface({ input: proc.stdout });
    const replies: ((m: any) => void)[] = [];
    lines.on("line", (l) => replies.shift()?.(JSON.parse(l)));
    const ask = (m: unknown) => new Promise<any>((resolve) => {
      replies.push(resolve);
      proc.stdin.write(JSON.stringify(m) + "\n");
    });
    try {
      const info = await ask({ op: "info" });
      assert.ok(info.ok, stderr);
      assert.is(info.threads, 1, "torch.set_num_threads(1)");
      assert.equal(info.env, { OMP_NUM_THREADS: "1", MKL_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" });
      assert.type(info.mkldnn.enabled, "boolean");
      assert.ok(info.blas.kind && info.blas.path, "the BLAS is reported");
      if (process.env.GLIBC_TUNABLES === undefined) assert.match(info.allocator, /GLIBC_TUNABLES=glibc\.malloc\.mmap_max=0/);
      const tiny: Workload[] = [
        { kind: "gemm", m: 13, n: 9, k: 7 },
        { kind: "conv", n: 2, c: 3, h: 7, w: 6, oc: 5, kh: 3, kw: 3, pad: 1, backward: false },
        { kind: "conv", n: 2, c: 3, h: 7, w: 6, oc: 5, kh: 3, kw: 3, pad: 0, backward: true },
        { kind: "attention", b: 1, h: 2, s: 9, d: 8, causal: true, backward: false },
        { kind: "attention", b: 2, h: 1, s: 7, d: 4, causal: false, backward: true },
        { kind: "adam", n: 1001 },
        { kind: "train", model: "s1", batch: 3 },
        { kind: "train", model: "mlp", batch: 5 },
      ];
      for (const w of tiny) {
        const raw = await ask({ op: "prepare", workload: w, warmLimitMs: 50 });
        assert.ok(raw.ok && typeof raw.result === "string", `${JSON.stringify(w)}: ${raw.error ?? ""}`);
        assert.ok(raw.firstMs >= 0 && raw.warmMs >= 0 && raw.warmRounds >= 1, "warm-up reported");
        const r = checkTorchReply(w, raw);
        assert.ok(r.ok, `${JSON.stringify(w)}: ${r.check.detail}`);
        const run = await ask({ op: "run", reps: 3 });
        assert.is(run.ms?.length, 3, JSON.stringify(run));
        assert.equal(await ask({ op: "dispose" }), { ok: true });
      }
      const bad = await ask({ op: "prepare", workload: { kind: "no-such-kind" } });
      assert.ok(bad.unsupported, "an unknown workload is unsupported, not a crash");
      const err = await ask({ op: "run", reps: 1 });
      assert.is(err.ok, false, "run with nothing prepared is an error reply");
    } finally {
      proc.stdin.end();
    }
    const code = await new Promise((resolve) => proc.on("close", resolve));
    assert.is(code, 0, stderr);
  });
}

test.run();
