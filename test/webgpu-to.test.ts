// Tensors know their backend and move between the two with t.to(): with
// WebGPU current a wasm backend is kept beside it; an op given a tensor of the
// other backend throws an error naming both; wg.withBackend runs ops on wasm
// tensors. No adapter FAILS this file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as wg from "../host/index.js";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

test("t.to('wasm') and back, t.backend, mixed-backend ops throw naming both, withBackend", async () => {
  await wg.init({ backend: "webgpu", verbose: false });
  try {
    const g = wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([[1], [-1]])); // on the GPU
    assert.is(g.backend, "webgpu");
    assert.throws(() => g.toArray(), /tensor lives on webgpu/);
    const c = await g.to("wasm");
    assert.is(c.backend, "wasm");
    assert.equal(c.toArray(), [[-1], [-1]], "sync reads work on the wasm copy");
    assert.is(await g.to("webgpu"), g, "to() the backend it is on returns the tensor itself");
    // an op on the current (webgpu) backend given a wasm tensor
    assert.throws(() => g.add(c), /op on the webgpu backend was given a float32 tensor of shape \[2,1\] that lives on wasm: move it with await t\.to\("webgpu"\)/);
    assert.throws(() => c.relu(), /lives on wasm/);
    // ops on wasm tensors run on wasm inside withBackend; the result comes back to the GPU
    const s = wg.withBackend("wasm", () => c.mul(c).sum());
    assert.is(s.backend, "wasm");
    assert.is(s.item(), 2);
    assert.is(wg.backend().name, "webgpu", "withBackend switches back");
    const back = await s.to("webgpu");
    assert.is(back.backend, "webgpu");
    assert.is(await back.add(g.sum()).itemAsync(), 0, "2 + (−2) on the GPU");
    // int32 data keeps its bits both ways
    const ids = wg.tensor(Int32Array.of(-5, 7, 2147483647), { dtype: "int32" });
    const idsCpu = await ids.to("wasm");
    assert.equal(Array.from(idsCpu.dataSync()), [-5, 7, 2147483647]);
    assert.equal(Array.from(await (await idsCpu.to("webgpu")).data()), [-5, 7, 2147483647]);
    let err = "";
    await g.to("cuda" as any).catch((e: Error) => (err = e.message));
    assert.match(err, /to: unknown backend "cuda"/);
  } finally {
    wg.shutdown();
  }
});

test("on wasm alone: to('wasm') is the tensor, to('webgpu') says how to start WebGPU; tensors of a shut-down backend say so", async () => {
  await wg.init({ backend: "wasm", threads: 1, verbose: false });
  const t = wg.tensor([1, 2]);
  assert.is(t.backend, "wasm");
  assert.is(await t.to("wasm"), t);
  let err = "";
  await t.to("webgpu").catch((e: Error) => (err = e.message));
  assert.match(err, /to\("webgpu"\): no webgpu backend is running \(the current one is wasm\); start it with await wg\.init\(\{ backend: "webgpu" \}\)/);
  wg.shutdown();
  await wg.init({ backend: "webgpu", verbose: false });
  assert.throws(() => t.add(1), /belongs to a wasm backend that was shut down/);
  wg.shutdown();
});

test("the CLI's --backend webgpu starts the engine on the GPU; a bad name is refused", () => {
  const cli = fileURLToPath(new URL("../host/cli.js", import.meta.url));
  const out = execFileSync(process.execPath, [cli, "info", "--backend", "webgpu"], { encoding: "utf8" });
  assert.match(out, /"backend": "webgpu"/);
  let err = "";
  try {
    execFileSync(process.execPath, [cli, "info", "--backend", "cuda"], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    err = String((e as { stderr?: string }).stderr);
  }
  assert.match(err, /--backend must be wasm, webgpu or auto, got "cuda"/);
});

test.run();
