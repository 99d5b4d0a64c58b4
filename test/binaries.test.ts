// The built binaries really hold what their names promise: SIMD in every
// variant, f32x4.relaxed_madd in the relaxed ones, shared memory in the
// threaded ones, read-only static data below the host's first page, and
// each .wasm under 200 KB.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import initWabt from "wabt";

const wabt = await initWabt();
const path = (v: string) => fileURLToPath(new URL(`../../build/webgrad-${v}.wasm`, import.meta.url));

function wat(v: string): string {
  const mod = wabt.readWasm(readFileSync(path(v)), { readDebugNames: false, simd: true, threads: true, relaxed_simd: true } as any);
  try {
    return mod.toText({});
  } finally {
    mod.destroy();
  }
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

for (const v of ["simd", "relaxed", "simd-threads", "relaxed-threads"]) {
  test(`${v}: SIMD, memory and size`, () => {
    const text = wat(v);
    const size = readFileSync(path(v)).length;
    const simd = count(text, /\bf32x4\.(mul|add|sub|max|min)\b/g);
    const loads = count(text, /\bv128\.(load|store)\b/g);
    const madd = count(text, /\bf32x4\.relaxed_madd\b/g);
    console.log(`  ${v}: ${size} bytes, ${simd} f32x4 arithmetic, ${loads} v128 loads/stores, ${madd} relaxed_madd`);
    assert.ok(simd > 100, `${v} holds f32x4 arithmetic (${simd})`);
    assert.ok(loads > 100, `${v} holds v128 loads/stores (${loads})`);
    if (v.startsWith("relaxed")) assert.ok(madd > 20, `${v} holds f32x4.relaxed_madd (${madd})`);
    else assert.is(madd, 0, `${v} holds no relaxed instructions`);
    const mem = text.match(/\(import "env" "memory" \(memory [^\n]*\)\)/)?.[0] ?? "";
    assert.ok(mem, "memory is imported");
    assert.is(/shared/.test(mem), v.endsWith("threads"), `shared memory only in threaded variants: ${mem}`);
    for (const m of text.matchAll(/\(data \(;\d+;\) \(i32\.const (\d+)\) "((?:[^"\\]|\\.)*)"\)/g)) {
      const bytes = m[2].replace(/\\[0-9a-f]{2}/g, "x").replace(/\\./g, "x").length;
      assert.ok(+m[1] + bytes <= 65536, `static data ends below 64 KiB (${+m[1] + bytes})`);
    }
    assert.not.match(text, /\(global[^)]*\(mut/, "no mutable globals");
    assert.ok(size <= 200 * 1024, `${v} is ${size} bytes, over 200 KB`);
  });
}

test.run();
