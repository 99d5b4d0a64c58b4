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
  assert.equal({ ...metadata }, { note: "héllo" });
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
  const plain = await wg.io.loadSafetensors(join(dir, "plain.safetensors")); // must resolve (a rejection fails the test)
  assert.equal(Object.keys(plain.tensors).sort(), Object.keys(net.stateDict()).sort(), "a plain weights file loads with every tensor");
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

test("safetensors: __proto__ and other inherited names are ordinary tensor names, written and read", () => {
  const t = { dtype: "float32" as const, shape: [1], data: new Float32Array([7]) };
  const named = Object.create(null);
  for (const k of ["__proto__", "constructor", "toString"]) named[k] = t;
  const { tensors } = wg.io.parseSafetensors(wg.io.serializeSafetensors(named));
  assert.equal(Object.keys(tensors).sort(), ["__proto__", "constructor", "toString"]);
  assert.is(Object.getPrototypeOf(tensors), null, "the result has no prototype to replace");
  assert.equal(Array.from(tensors["__proto__"].data), [7]);
});

test("safetensors: non-string dtypes, duplicate names, holes, trailing bytes, bad metadata and over-limit headers are refused", () => {
  const f32 = (o: number) => ({ dtype: "F32", shape: [1], data_offsets: [o, o + 4] });
  const dup = (() => {
    const h = new TextEncoder().encode(`{"a":${JSON.stringify(f32(0))},"a":${JSON.stringify(f32(0))}}`);
    const out = new Uint8Array(8 + h.length + 4);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    return out;
  })();
  const bad: [Uint8Array, RegExp][] = [
    [file({ a: { dtype: ["F32"], shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), /unsupported dtype \["F32"\]/],
    [file({ a: { dtype: "toString", shape: [1], data_offsets: [0, 1] } }, [0]), /unsupported dtype "toString"/],
    [dup, /duplicate key "a"/],
    [file({ a: f32(0), b: f32(8) }, new Uint8Array(12)), /belong to no tensor/],
    [file({ a: f32(0) }, new Uint8Array(5)), /1 trailing bytes/],
    [file({ __metadata__: ["x"] }), /__metadata__ is not an object/],
    [file({ __metadata__: null }), /__metadata__ is not an object/],
    [file({ a: { ...f32(0), extra: 1 } }, new Uint8Array(4)), /unknown field "extra"/],
    [file({ a: { dtype: "BOOL", shape: [1], data_offsets: [0, 1] } }, [2]), /not a BOOL/],
    [file(Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`t${i}`, { dtype: "U8", shape: [1], data_offsets: [i, i + 1] }])), new Uint8Array(11)), /more than 10 tensors/],
  ];
  for (const [bytes, re] of bad) assert.throws(() => wg.io.parseSafetensors(bytes, { maxTensors: 10 }), re, String(re));
  assert.throws(() => wg.io.parseSafetensors(file({ a: f32(0) }, new Uint8Array(4)), { maxHeaderBytes: 8 }), /over the limit of 8 \(raise maxHeaderBytes/);
  assert.throws(() => wg.io.parseSafetensors(file({}), { maxTensor: 1 } as any), /unknown option "maxTensor"/);
  // a deep header is refused by name, not by a stack overflow
  const deep = new TextEncoder().encode("[".repeat(100000));
  const f = new Uint8Array(8 + deep.length);
  new DataView(f.buffer).setBigUint64(0, BigInt(deep.length), true);
  f.set(deep, 8);
  assert.throws(() => wg.io.parseSafetensors(f), /nesting deeper/);
});

/** The bytes of every tensor the engine holds through `keep`, to show a failed load left them alone. */
const snapshot = (ts: wg.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

test("loadStateDict: longer or shorter data, inherited names and wrong dtypes are refused before anything is written", () => {
  const net = mlp(), canary = wg.randn([64], { seed: 9 }).keep();
  const before = snapshot([...net.parameters(), canary]);
  const sd = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, { shape: [...t.shape], data: new Float32Array(t.size).fill(1) }]));
  const long = { ...sd, "2.bias": { shape: [3], data: new Float32Array(3 + 64).fill(5) } };
  assert.throws(() => net.loadStateDict(long), /2\.bias has 67 values for shape \[3\]/);
  const short = { ...sd, "2.bias": { shape: [3], data: [1] } };
  assert.throws(() => net.loadStateDict(short), /2\.bias has 1 values/);
  // the first entries were fine: all or nothing means they were not written either
  assert.equal(snapshot([...net.parameters(), canary]), before);
  assert.throws(() => net.loadStateDict({ ...sd, constructor: sd["0.bias"] }), /unexpected \["constructor"\]/);
  const { "0.bias": _, ...noBias } = sd;
  assert.throws(() => net.loadStateDict({ ...noBias, toString: sd["0.bias"] } as any), /missing \["0.bias"\]/);
  assert.throws(() => net.loadStateDict({ ...sd, "0.bias": wg.tensor([1, 2, 3, 4, 5, 6, 7, 8], { dtype: "int32" }) }), /0\.bias is int32/);
  assert.equal(snapshot([...net.parameters(), canary]), before);
  canary.dispose();
});

test("optimizer.loadStateDict: __proto__/constructor keys, long data, bad lr/step/counts and missing state are refused before anything is written", () => {
  const net = mlp(), opt = new wg.optim.Adam(net.parameters(), { lr: 0.01 });
  run(net, opt, 1, 0);
  const canary = wg.randn([64], { seed: 9 }).keep();
  const { tensors, meta } = opt.stateDict();
  const plain = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { shape: [...t.shape], data: t.dataSync().slice() }]));
  const before = snapshot([...net.parameters(), ...Object.values(tensors), canary]);
  const cases: [Record<string, any>, any, RegExp][] = [
    [{ ...plain, "state.0.__proto__": plain["state.0.exp_avg"] }, meta, /unexpected entry "state\.0\.__proto__"/],
    [{ ...plain, "state.0.constructor": plain["state.0.exp_avg"] }, meta, /unexpected entry "state\.0\.constructor"/],
    [{ ...plain, "state.0.toString": plain["state.0.exp_avg"] }, meta, /unexpected entry/],
    [{ ...plain, "state.00.exp_avg": plain["state.0.exp_avg"] }, meta, /unexpected entry/],
    [{ ...plain, "state.3.exp_avg": { shape: [3], data: new Float32Array(3 + 64).fill(9) } }, meta, /has 67 values/],
    [plain, { ...meta, lr: "abc" }, /lr must be a finite number/],
    [plain, { ...meta, lr: NaN }, /lr must be a finite number/],
    [plain, { ...meta, stepCount: NaN }, /stepCount must be a non-negative integer/],
    [plain, { ...meta, counts: [1, 1, 1, "x"] }, /counts must be/],
    [Object.fromEntries(Object.entries(plain).filter(([k]) => k !== "state.1.exp_avg_sq")), meta, /state\.1\.exp_avg_sq is missing/],
  ];
  for (const [t, m, re] of cases) assert.throws(() => opt.loadStateDict(t, m), re, String(re));
  assert.equal(snapshot([...net.parameters(), ...Object.values(tensors), canary]), before);
  assert.is(opt.lr, 0.01);
  canary.dispose();
});

/** Rewrites one checkpoint's metadata (or tensors) and saves it under a new name. */
async function tampered(from: string, to: string, edit: (t: Record<string, any>, m: Record<string, string>) => void): Promise<string> {
  const { tensors, metadata } = await wg.io.loadSafetensors(from);
  const t = { ...tensors }, m = { ...metadata };
  edit(t, m);
  await wg.io.saveSafetensors(to, t, m);
  return to;
}

test("loadCheckpoint: a bad optimizer section, step, extra or rng fails before the model is touched", async () => {
  const net = mlp(), opt = new wg.optim.Adam(net.parameters(), { lr: 0.01 });
  run(net, opt, 2, 0);
  const good = join(dir, "good.safetensors");
  await wg.io.saveCheckpoint(good, { model: net, optimizer: opt, step: 2 });
  const fresh = mlp(), fopt = new wg.optim.Adam(fresh.parameters(), { lr: 0.01 });
  const canary = wg.randn([64], { seed: 9 }).keep();
  const before = snapshot([...fresh.parameters(), canary]), rng = wg.getRngState();
  const cases: [(t: Record<string, any>, m: Record<string, string>) => void, RegExp][] = [
    [(t, m) => { delete m.optimizer; for (const k of Object.keys(t)) if (k.startsWith("optimizer.")) delete t[k]; }, /holds no optimizer state/],
    [(t, m) => { m.optimizer = m.optimizer.replace(/"lr":[^,}]+/, '"lr":"abc"'); }, /lr must be a finite number/],
    [(t, m) => { m.step = "abc"; }, /step "abc" is not a non-negative integer/],
    [(t, m) => { m.extra = "{"; }, /metadata extra is not JSON/],
    [(t, m) => { m.rng = '{"seed":1}'; }, /metadata rng: .*offset/],
    [(t, m) => { m.optimizer = "{"; }, /metadata optimizer/],
    [(t) => { t["optimizer.state.0.__proto__"] = t["optimizer.state.0.exp_avg"]; }, /unexpected entry "state\.0\.__proto__"/],
    [(t) => { t["other.x"] = t["optimizer.state.0.exp_avg"]; }, /neither model\.\* nor optimizer\.\*/],
    [(t) => { t["model.0.bias"] = { dtype: "float32", shape: [9], data: new Float32Array(9) }; }, /0\.bias has shape \[9\]/],
  ];
  for (const [i, [edit, re]] of cases.entries()) {
    const p = await tampered(good, join(dir, `bad-${i}.safetensors`), edit);
    try {
      await wg.io.loadCheckpoint(p, { model: fresh, optimizer: fopt });
      assert.unreachable(String(re));
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
  assert.equal(snapshot([...fresh.parameters(), canary]), before, "the model was not touched");
  assert.equal(wg.getRngState(), rng, "nor the random stream");
  assert.is(fopt.stepCount, 0);
  canary.dispose();
});

test("checkpoint and resume with Dropout: the random stream is saved, and the resumed losses are bit for bit the uninterrupted run's", async () => {
  const make = () => {
    wg.manualSeed(5);
    const net = new wg.nn.Sequential(new wg.nn.Linear(6, 32), new wg.nn.ReLU(), new wg.nn.Dropout(0.5), new wg.nn.Linear(32, 3));
    return { net, opt: new wg.optim.Adam(net.parameters(), { lr: 0.01 }) };
  };
  const a = make();
  const straight = run(a.net, a.opt, 8, 0);
  const b = make();
  const first = run(b.net, b.opt, 4, 0);
  const path = join(dir, "dropout.safetensors");
  await wg.io.saveCheckpoint(path, { model: b.net, optimizer: b.opt, step: 4 });
  wg.randn([1000]); // draws in between move the stream; the checkpoint puts it back
  const c = make();
  await wg.io.loadCheckpoint(path, { model: c.net, optimizer: c.opt });
  assert.equal([...first, ...run(c.net, c.opt, 4, 4)], straight);
});

test("saves: two at once to one path both finish with one file and no leftovers; stale temporaries of dead writers are removed", async () => {
  const net = mlp(), p = join(dir, "twice.safetensors");
  writeFileSync(`${p}.tmp-999999999-0-dead`, "left by a killed save");
  writeFileSync(`${p}.tmp-999999998-1733400000000`, "left by a killed save of an older version");
  writeFileSync(`${p}.tmp-${process.pid}-zz-mine`, "this process's own: not touched while it may be writing");
  await Promise.all([wg.io.saveCheckpoint(p, { model: net, step: 1 }), wg.io.saveCheckpoint(p, { model: net, step: 2 })]);
  assert.is(readdirSync(dir).filter((f) => f.startsWith("twice.")).sort().join(), `twice.safetensors,twice.safetensors.tmp-${process.pid}-zz-mine`);
  const { step } = await wg.io.loadCheckpoint(p, { model: mlp() });
  assert.ok(step === 1 || step === 2);
});

test("writeFileAtomic makes the folders of its path, as the OPFS store does (runs/model.bin once failed in Node with ENOENT)", async () => {
  const path = join(dir, "runs", "deep", "model.bin");
  await wg.io.writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.equal(Array.from(await wg.io.readFileBytes(path)), [1, 2, 3]);
  assert.equal(readdirSync(join(dir, "runs", "deep")), ["model.bin"], "no temporary file is left beside it");
});

// the temporary folder goes when the tests are done, passed or failed
test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
