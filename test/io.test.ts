// safetensors and checkpoints: round trips, the dtypes other writers use
// (F16, BF16, I64) from hand-made bytes, malformed and hostile files rejected
// with a reason, and a resumed run whose losses equal the uninterrupted run's.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as wg from "../host/index.js";

await wg.init({ threads: 1, verbose: false });
const dir = mkdtempSync(join(tmpdir(), "webgrad-io-"));

/** A safetensors file from a header object and a body. */
function file(header: unknown, body: number[] | Uint8Array = []): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

test("round trip: a model's state dict, int32 tensors and metadata come back bit for bit", () => {
  wg.manualSeed(1);
  const net = new wg.nn.Sequential(new wg.nn.Linear(3, 4), new wg.nn.ReLU(), new wg.nn.Linear(4, 2));
  const bytes = wg.io.serializeSafetensors({ ...net.stateDict(), ids: wg.tensor([5, -7], { dtype: "int32" }) }, { note: "héllo" });
  assert.is(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8, 0, "the buffer starts 8-aligned");
  const { tensors, metadata } = wg.io.parseSafetensors(bytes);
  assert.equal(metadata, { note: "héllo" });
  assert.equal(Array.from(tensors.ids.data), [5, -7]);
  assert.is(tensors.ids.dtype, "int32");
  for (const [k, t] of Object.entries(net.stateDict())) {
    assert.equal(tensors[k].shape, [...t.shape], k);
    assert.equal(Array.from(tensors[k].data), Array.from(t.dataSync()), k);
  }
  const net2 = new wg.nn.Sequential(new wg.nn.Linear(3, 4), new wg.nn.ReLU(), new wg.nn.Linear(4, 2));
  const { ids, ...weights } = tensors;
  net2.loadStateDict(weights);
  assert.equal(Array.from(net2.stateDict()["2.weight"].dataSync()), Array.from(net.stateDict()["2.weight"].dataSync()));
});

test("other writers' dtypes: F16, BF16, I64 and F64, read from hand-made bytes", () => {
  const body = [0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f, 0x00, 0xc0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...new Uint8Array(new Float64Array([0.1]).buffer)];
  const { tensors } = wg.io.parseSafetensors(file({
    h: { dtype: "F16", shape: [2], data_offsets: [0, 4] },
    b: { dtype: "BF16", shape: [2], data_offsets: [4, 8] },
    i: { dtype: "I64", shape: [1], data_offsets: [8, 16] },
    d: { dtype: "F64", shape: [], data_offsets: [16, 24] },
  }, body));
  assert.equal(Array.from(tensors.h.data), [1, -2]);
  assert.equal(Array.from(tensors.b.data), [1, -2]);
  assert.equal(Array.from(tensors.i.data), [-3]);
  assert.equal(Array.from(tensors.d.data), [Math.fround(0.1)]);
});

test("malformed and hostile files are rejected with the reason", () => {
  const bad: [Uint8Array, RegExp][] = [
    [new Uint8Array(5), /too short/],
    [(() => { const f = file({}); new DataView(f.buffer).setBigUint64(0, 1n << 40n, true); return f; })(), /does not fit/],
    [(() => { const f = file({}); f[8] = 0x7b; f[9] = 0x22; return f; })(), /not valid UTF-8 JSON/],
    [file([1, 2]), /not a JSON object/],
    [file({ a: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, [0]), /unsupported dtype "Q4"/],
    [file({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /bad shape/],
    [file({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4000] } }, [0, 0, 0, 0]), /outside the 4-byte buffer/],
    [file({ a: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /needs 8 bytes, its range holds 4/],
    [file({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [2, 6] } }, [0, 0, 0, 0, 0, 0]), /overlaps/],
    [file({ __metadata__: { k: 1 } }), /metadata k is not a string/],
  ];
  for (const [bytes, re] of bad) assert.throws(() => wg.io.parseSafetensors(bytes), re, String(re));
});

/** Trains a small MLP for `steps` steps from the current state; returns the losses. */
function run(net: wg.nn.Module, opt: wg.optim.Optimizer, steps: number, from: number): number[] {
  const losses: number[] = [];
  for (let s = from; s < from + steps; s++) {
    losses.push(wg.scope(() => {
      const x = wg.randn([16, 6], { seed: 100 + s }), y = wg.tensor(Array.from({ length: 16 }, (_, i) => (i + s) % 3), { dtype: "int32" });
      opt.zeroGrad();
      const l = wg.nn.crossEntropy(net.forward(x), y);
      l.backward();
      opt.step();
      return l.item();
    }));
  }
  return losses;
}

const mlp = () => {
  wg.manualSeed(3);
  return new wg.nn.Sequential(new wg.nn.Linear(6, 8), new wg.nn.Tanh(), new wg.nn.Linear(8, 3));
};

for (const [name, make] of [
  ["Adam", (p: wg.Tensor[]) => new wg.optim.Adam(p, { lr: 0.01 })],
  ["SGD momentum", (p: wg.Tensor[]) => new wg.optim.SGD(p, { lr: 0.05, momentum: 0.9, nesterov: true })],
] as const) {
  test(`checkpoint and resume (${name}): the losses after resuming equal the uninterrupted run's, bit for bit`, async () => {
    const a = mlp(), oa = make(a.parameters());
    const straight = run(a, oa, 12, 0);
    const b = mlp(), ob = make(b.parameters());
    const first = run(b, ob, 6, 0);
    const path = join(dir, `ckpt-${name.replace(" ", "-")}.safetensors`);
    await wg.io.saveCheckpoint(path, { model: b, optimizer: ob, step: 6, extra: { note: "half way" } });
    const c = mlp(), oc = make(c.parameters());
    const { step, extra } = await wg.io.loadCheckpoint(path, { model: c, optimizer: oc });
    assert.is(step, 6);
    assert.equal(extra, { note: "half way" });
    assert.equal([...first, ...run(c, oc, 6, 6)], straight);
  });
}

test("checkpoints are written atomically and checked when read", async () => {
  const net = mlp();
  await wg.io.saveCheckpoint(join(dir, "a.safetensors"), { model: net });
  assert.not.ok(readdirSync(dir).some((f) => f.includes(".tmp-")), "no temporary file left behind");
  await wg.io.saveSafetensors(join(dir, "plain.safetensors"), net.stateDict());
  await assert.not.throws(() => wg.io.loadSafetensors(join(dir, "plain.safetensors")));
  try {
    await wg.io.loadCheckpoint(join(dir, "plain.safetensors"), { model: net });
    assert.unreachable("a plain weights file is not a checkpoint");
  } catch (e) {
    assert.match((e as Error).message, /not a webgrad checkpoint/);
  }
  writeFileSync(join(dir, "broken.safetensors"), new Uint8Array(3));
  try {
    await wg.io.loadSafetensors(join(dir, "broken.safetensors"));
    assert.unreachable("a 3-byte file");
  } catch (e) {
    assert.match((e as Error).message, /broken\.safetensors: .*too short/);
  }
});

// the temporary folder goes when the tests are done, passed or failed
test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
