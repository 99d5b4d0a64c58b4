// init({ wasm }): the kernel binary handed in by hosts that forbid compiling at
// run time (a WebAssembly.Module), or as bytes, a URL, a fetch Response, or
// several keyed by variant. init must know what it was given: every binary
// names its variant in a "webgrad" custom section; a plain binary runs one
// thread whatever was asked (and says why); mislabelled, unnamed or unknown
// variants are refused with a message that says what to pass. Also the
// "webgrad/wasm-inline" module for hosts with neither fetch nor files.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as wg from "../host/index.js";

const file = (v: string) => new URL(`../host/backends/webgrad-${v}.wasm`, import.meta.url);
const bytes = (v: string) => new Uint8Array(readFileSync(fileURLToPath(file(v))));

/** The binary without its "webgrad" custom section (walks the sections: id, LEB128 size, payload). */
function unnamed(b: Uint8Array): Uint8Array {
  const keep: number[][] = [[0, 8]];
  for (let at = 8; at < b.length;) {
    const start = at++;
    let size = 0, shift = 0, x: number;
    do {
      x = b[at++];
      size |= (x & 0x7f) << shift;
      shift += 7;
    } while (x & 0x80);
    const end = at + size;
    const nameLen = b[at];
    const name = b[start] === 0 ? new TextDecoder().decode(b.subarray(at + 1, at + 1 + nameLen)) : "";
    if (name !== "webgrad") keep.push([start, end]);
    at = end;
  }
  // copied section by section: spreading a ~120 KB code section into push() overflows the call stack
  const out = new Uint8Array(keep.reduce((n, [s, e]) => n + e - s, 0));
  let to = 0;
  for (const [s, e] of keep) {
    out.set(b.subarray(s, e), to);
    to += e - s;
  }
  return out;
}

async function rejects(fn: () => Promise<unknown>, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match(String((e as Error).message), re);
    return;
  }
  assert.unreachable(`expected a rejection matching ${re}`);
}

const matmul = () => wg.tensor([[1, 2], [3, 4]]).matmul(wg.tensor([[5], [6]])).toArray();

test.after(() => wg.shutdown());

test("a Module: its variant is read from the binary; a plain one runs one thread and says why", async () => {
  const simd = new WebAssembly.Module(bytes("simd"));
  const info = await wg.init({ wasm: simd, threads: 2, verbose: false });
  assert.is(info.kernels, "simd");
  assert.is(info.threads, 1);
  assert.match(info.summary, /simd binary, which has no threads/);
  assert.equal(matmul(), [[17], [39]]);
});

test("bytes of a threads binary run on 2 threads", async () => {
  const info = await wg.init({ wasm: bytes("relaxed-threads"), threads: 2, verbose: false });
  assert.is(info.kernels, "relaxed-threads");
  assert.is(info.threads, 2);
  const a = wg.randn([64, 256], { seed: 1 }), b = wg.randn([256, 64], { seed: 2 });
  const c = a.matmul(b).dataSync(), A = a.dataSync(), B = b.dataSync();
  let err = 0;
  for (let i = 0; i < 64; i++) for (let j = 0; j < 64; j++) {
    let s = 0;
    for (let k = 0; k < 256; k++) s += A[i * 256 + k] * B[k * 64 + j];
    err = Math.max(err, Math.abs(s - c[i * 64 + j]));
  }
  assert.ok(err < 1e-3, `the worker-split matmul matches (max err ${err})`);
});

test("a file URL, and a fetch Response (compileStreaming)", async () => {
  assert.is((await wg.init({ wasm: file("simd"), threads: 1, verbose: false })).kernels, "simd");
  assert.equal(matmul(), [[17], [39]]);
  const res = new Response(bytes("relaxed"), { headers: { "content-type": "application/wasm" } });
  assert.is((await wg.init({ wasm: res, threads: 1, verbose: false })).kernels, "relaxed");
  assert.equal(matmul(), [[17], [39]]);
});

test("keyed by variant: the best one allowed is picked, and only its function is called", async () => {
  const called: string[] = [];
  const lazy = (v: string) => () => (called.push(v), bytes(v));
  const wasm = { simd: lazy("simd"), relaxed: lazy("relaxed"), "simd-threads": lazy("simd-threads"), "relaxed-threads": lazy("relaxed-threads") };
  assert.is((await wg.init({ wasm, threads: 1, verbose: false })).kernels, "relaxed");
  assert.is((await wg.init({ wasm, threads: 2, verbose: false })).kernels, "relaxed-threads");
  assert.is((await wg.init({ wasm, threads: 1, isa: "simd", verbose: false })).kernels, "simd");
  assert.equal(called, ["relaxed", "relaxed-threads", "simd"]);
  // only a threads binary given, one thread asked: it runs, on shared memory
  const info = await wg.init({ wasm: { "simd-threads": bytes("simd-threads") }, threads: 1, verbose: false });
  assert.is(info.kernels, "simd-threads");
  assert.is(info.threads, 1);
  assert.equal(matmul(), [[17], [39]]);
});

test("refused: a binary that does not name its variant, an unknown key, a mislabelled binary, null", async () => {
  await rejects(() => wg.init({ wasm: unnamed(bytes("simd")), verbose: false }), /no "webgrad" section naming its variant: pass it keyed by variant/);
  await rejects(() => wg.init({ wasm: { fast: bytes("simd") } as any, verbose: false }), /unknown variant "fast" \(known: simd, relaxed, simd-threads, relaxed-threads\)/);
  await rejects(() => wg.init({ wasm: { relaxed: bytes("simd") }, threads: 1, verbose: false }), /wasm\.relaxed is the simd binary/);
  await rejects(() => wg.init({ wasm: null as any, verbose: false }), /wasm must be a WebAssembly\.Module/);
  await rejects(() => wg.init({ wasm: new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 9]), verbose: false }), /could not load the given kernel binary/);
  // the engine still starts afterwards
  assert.is((await wg.init({ threads: 1, verbose: false })).backend, "wasm");
  assert.equal(matmul(), [[17], [39]]);
});

test('"webgrad/wasm-inline": the binaries as base64, decoded when picked', async () => {
  const { wasm } = await import("../host/backends/inline.js");
  const info = await wg.init({ wasm, threads: 1, verbose: false });
  assert.is(info.kernels, "relaxed");
  assert.equal(matmul(), [[17], [39]]);
});

test.run();
