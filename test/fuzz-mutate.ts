// The fuzzer's mutations (test/fuzz-lib.ts runs them): byte-level edits that
// know nothing of the format, and format-aware ones that get past the first
// check a reader makes (a JSON header that still parses, a PNG whose CRCs
// still match) to reach the checks behind it.

import { crc32 } from "node:zlib";

const INTERESTING = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** Byte-level mutations, a few stacked per input. */
export function mutateBytes(src: Uint8Array, r: () => number, others: Uint8Array[]): Uint8Array {
  let b = src.slice();
  const pick = (n: number) => Math.floor(r() * n);
  for (let m = 1 + pick(3); m > 0; m--) {
    const at = pick(Math.max(1, b.length));
    switch (pick(9)) {
      case 0: if (b.length) b[at] ^= 1 << pick(8); break;
      case 1: if (b.length) b[at] = INTERESTING[pick(INTERESTING.length)] & 0xff; break;
      case 2: { // a 4-byte integer, either endianness
        if (b.length < 4) break;
        const dv = new DataView(b.buffer), p = pick(b.length - 3);
        dv.setUint32(p, INTERESTING[pick(INTERESTING.length)] >>> 0, r() < 0.5);
        break;
      }
      case 3: b = b.slice(0, pick(b.length + 1)); break; // cut
      case 4: { // delete a range
        const n = 1 + pick(16);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]);
        break;
      }
      case 5: { // duplicate a range
        const n = 1 + pick(64);
        b = Uint8Array.from([...b.subarray(0, at + n), ...b.subarray(at, at + n), ...b.subarray(at + n)]);
        break;
      }
      case 6: { // insert random bytes
        const ins = Array.from({ length: 1 + pick(8) }, () => pick(256));
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
        break;
      }
      case 7: { // splice with another seed
        const o = others[pick(others.length)];
        b = Uint8Array.from([...b.subarray(0, at), ...o.subarray(pick(o.length + 1))]);
        break;
      }
      default: { // append junk
        b = Uint8Array.from([...b, ...Array.from({ length: 1 + pick(32) }, () => pick(256))]);
      }
    }
  }
  return b;
}

const ODD_VALUES: unknown[] = [-1, 0, 1, 3, 1.5, 2 ** 31, 2 ** 32 + 4, 2 ** 53, 1e308, -0, "abc", "", "F32", "I64", "BOOL", "U8", "F16", "{", "NaN", [], [0], [1, 2], [0, 1e9], ["F32"], {}, { a: 1 }, null, true];
/** A fresh copy of one odd value: the header edits write into arrays, and must not write into these. */
const odd = (i: number): unknown => structuredClone(ODD_VALUES[i]);
const ODD_NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty", "__metadata__", "", "x", "model.0.weight", "optimizer.state.0.__proto__", "optimizer.state.0.exp_avg", "state.00.exp_avg"];

/** Header-aware mutation of a safetensors file: edit the JSON (values, names, entries), keep the body. */
export function mutateSafetensorsHeader(src: Uint8Array, r: () => number): Uint8Array {
  const hlen = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(src.subarray(8, 8 + hlen)));
  let body = src.subarray(8 + hlen);
  const pick = (n: number) => Math.floor(r() * n);
  const names = Object.keys(header);
  for (let m = 1 + pick(2); m > 0; m--) {
    const name = names[pick(names.length)];
    const e = header[name];
    switch (pick(7)) {
      case 0: { // one field of one entry
        if (e && typeof e === "object") {
          const ks = Object.keys(e);
          const k = ks[pick(ks.length)];
          if (k !== undefined) e[k] = odd(pick(ODD_VALUES.length));
        }
        break;
      }
      case 1: { // one number inside shape / data_offsets
        const arr = e?.[["shape", "data_offsets"][pick(2)]];
        if (Array.isArray(arr) && arr.length) arr[pick(arr.length)] = odd(pick(9));
        break;
      }
      case 2: { // rename an entry
        const to = ODD_NAMES[pick(ODD_NAMES.length)];
        Object.defineProperty(header, to, { value: e, enumerable: true, configurable: true, writable: true });
        if (to !== name) delete header[name];
        break;
      }
      case 3: delete header[name]; break;
      case 4: { // a metadata string that is itself JSON (checkpoints): edit inside it
        const md = header.__metadata__;
        if (md && typeof md === "object") {
          const k = Object.keys(md)[pick(Object.keys(md).length)];
          try {
            const inner = JSON.parse(md[k]);
            if (inner && typeof inner === "object") {
              const ks = Object.keys(inner);
              inner[ks[pick(ks.length)] ?? "x"] = odd(pick(ODD_VALUES.length));
              md[k] = JSON.stringify(inner);
            } else md[k] = String(odd(pick(ODD_VALUES.length)));
          } catch {
            md[k] = String(odd(pick(ODD_VALUES.length)));
          }
        }
        break;
      }
      case 5: body = body.subarray(0, Math.max(0, body.length - 1 - pick(8))); break;
      default: header[name] = odd(pick(ODD_VALUES.length));
    }
  }
  let text = JSON.stringify(header);
  if (pick(8) === 0) text = text.replace(/^\{/, `{${JSON.stringify(names[0])}:{},`); // a duplicate key
  const h = new TextEncoder().encode(text), out = new Uint8Array(8 + h.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(body, 8 + h.length);
  return out;
}

/** PNG-aware mutation: change IHDR fields or a chunk's bytes, then fix every CRC so pngjs's checksum is no shield. */
export function mutatePng(src: Uint8Array, r: () => number, others: Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(r() * n);
  let b: Uint8Array = src.slice();
  const dv = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (r() < 0.5) {
    // IHDR starts at 8: length, "IHDR", width@16, height@20, depth@24, colour@25, ..., interlace@28
    const field = pick(5);
    if (field < 2) dv().setUint32(16 + 4 * field, [0, 1, 2, 5, 4000, 65535, 0x7fffffff, 0xffffffff, 3, 33][pick(10)]);
    else b[[24, 25, 28][field - 2]] = [0, 1, 2, 3, 4, 6, 8, 16, 255][pick(9)];
  } else b = mutateBytes(b, r, others);
  // fix the CRC of every chunk that still parses
  for (let at = 8; at + 12 <= b.length; ) {
    const len = dv().getUint32(at);
    if (len > b.length - at - 12) break;
    dv().setUint32(at + 8 + len, crc32(b.subarray(at + 4, at + 8 + len)));
    at += 12 + len;
  }
  return b;
}
