// Where checkpoint and weight bytes live: the file system in Node, Deno and
// Bun (node:fs), and in browsers the Origin Private File System when the page
// has it, else IndexedDB. Every write is atomic — a crash or a closed tab
// mid-write leaves the previous file intact:
//  - node:fs: a uniquely named temporary file in the same folder, fsynced,
//    then rename() and an fsync of the folder (see writeFsAtomic);
//  - OPFS: createWritable() writes to a swap file that replaces the file only
//    when close() succeeds (the File System Access spec's guarantee);
//  - IndexedDB: one put() in one transaction, which commits whole or not at all.
import { nodeImport } from "../backends/node-import.js";

/** "fs" (node:fs), "opfs" (navigator.storage.getDirectory()), "indexeddb", or "auto" to pick the first that exists. */
export type FileStore = "auto" | "fs" | "opfs" | "indexeddb";

const IDB_NAME = "webgrad", IDB_STORE = "files";

function hasNodeFs(): boolean {
  // Node, Bun and Deno (whose node: compatibility layer includes node:fs) all set process.versions.node
  return typeof (globalThis as any).process?.versions?.node === "string";
}

function hasOpfs(): boolean {
  return typeof (globalThis as any).navigator?.storage?.getDirectory === "function";
}

/** The store "auto" resolves to in this runtime. */
export function defaultStore(): Exclude<FileStore, "auto"> {
  if (hasNodeFs()) return "fs";
  if (hasOpfs()) return "opfs";
  if (typeof (globalThis as any).indexedDB !== "undefined") return "indexeddb";
  throw new Error("webgrad io: this runtime has no file system, OPFS or IndexedDB to keep files in");
}

const STORES: FileStore[] = ["auto", "fs", "opfs", "indexeddb"];

/** A store option: one of the four names, or absent (a misspelt one must not fall through to some other place). */
export function checkStore(who: string, store: unknown): void {
  if (store !== undefined && !STORES.includes(store as FileStore)) throw new Error(`${who}: store must be ${STORES.map((s) => JSON.stringify(s)).join(" | ")}, got ${JSON.stringify(store) ?? String(store)}`);
}

function resolveStore(store: FileStore | undefined): Exclude<FileStore, "auto"> {
  checkStore("webgrad io", store);
  const s = store ?? "auto";
  if (s === "auto") return defaultStore();
  if (s === "fs" && !hasNodeFs()) throw new Error(`webgrad io: store "fs" needs Node, Deno or Bun`);
  if (s === "opfs" && !hasOpfs()) throw new Error(`webgrad io: store "opfs" needs navigator.storage.getDirectory() (a secure browser context)`);
  if (s === "indexeddb" && typeof (globalThis as any).indexedDB === "undefined") throw new Error(`webgrad io: store "indexeddb" needs indexedDB`);
  return s;
}

/** OPFS: walks "a/b/c.safetensors" to c's directory handle, creating folders when asked. */
async function opfsDir(path: string, create: boolean): Promise<{ dir: any; name: string }> {
  const parts = path.split("/").filter((p) => p && p !== ".");
  if (!parts.length || parts.includes("..")) throw new Error(`webgrad io: "${path}" is not a file path inside the origin's private file system`);
  let dir = await (globalThis as any).navigator.storage.getDirectory();
  for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create });
  return { dir, name: parts[parts.length - 1] };
}

function idbOpen(): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = (globalThis as any).indexedDB.open(IDB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(IDB_STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new Error(`webgrad io: IndexedDB "${IDB_NAME}" would not open: ${req.error?.message}`));
  });
}

async function idb<T>(mode: "readonly" | "readwrite", op: (store: any) => any): Promise<T> {
  const db = await idbOpen();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(IDB_STORE, mode);
      const req = op(tx.objectStore(IDB_STORE));
      let result: T;
      req.onsuccess = () => (result = req.result);
      tx.oncomplete = () => resolve(result);
      tx.onerror = tx.onabort = () => reject(new Error(`webgrad io: IndexedDB ${mode} failed: ${tx.error?.message ?? "aborted"}`));
    });
  } finally {
    db.close();
  }
}

let tmpCounter = 0;

/**
 * node:fs: a temporary file named for this process, a counter and random bits
 * (two saves to one path in the same millisecond must not share it), written
 * and fsynced, then renamed over `path`, then the folder fsynced so the
 * rename itself survives a power cut. A failed save removes its temporary
 * file; temporaries that killed processes left beside `path` are removed by
 * the next save to it.
 */
async function writeFsAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  const { dirname, basename, join } = await nodeImport<typeof import("node:path")>("node:path");
  const pid = (globalThis as any).process?.pid ?? 0;
  const rand = Math.floor(Math.random() * 2 ** 32).toString(16);
  const tmp = `${path}.tmp-${pid}-${(tmpCounter++).toString(36)}-${rand}`;
  // the folder is made as the OPFS store makes it: writeFileAtomic("runs/model.bin") once worked there and not here
  await fs.mkdir(dirname(path), { recursive: true });
  try {
    const fh = await fs.open(tmp, "wx");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  const dir = dirname(path);
  try {
    const dh = await fs.open(dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch { /* Windows cannot open a folder to fsync it; its renames are durable on their own terms */ }
  await removeStaleTemporaries(dir, basename(path), join);
}

/** Removes `<name>.tmp-<pid>-...` files whose writer process is gone (never another live writer's). */
async function removeStaleTemporaries(dir: string, name: string, join: (...p: string[]) => string): Promise<void> {
  const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  const proc = (globalThis as any).process;
  for (const n of names) {
    if (!n.startsWith(`${name}.tmp-`)) continue;
    // <pid>-<counter>-<random>, or <pid>-<time> as saves before this one named them
    const m = /^\.tmp-(\d+)-[0-9a-z]+(?:-[0-9a-z]+)?$/.exec(n.slice(name.length));
    if (!m || +m[1] === proc?.pid) continue;
    let alive = true;
    try {
      proc.kill(+m[1], 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === "EPERM"; // EPERM: alive, someone else's
    }
    if (!alive) await fs.rm(join(dir, n), { force: true }).catch(() => {});
  }
}

/**
 * Writes bytes to `path` atomically in the chosen store (default: the runtime's own).
 * @example await wg.io.writeFileAtomic("runs/model.bin", new Uint8Array([1, 2, 3]));
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array, store?: FileStore): Promise<void> {
  const s = resolveStore(store);
  if (s === "fs") {
    await writeFsAtomic(path, bytes);
  } else if (s === "opfs") {
    const { dir, name } = await opfsDir(path, true);
    const file = await dir.getFileHandle(name, { create: true });
    const w = await file.createWritable();
    try {
      await w.write(bytes);
      await w.close();
    } catch (e) {
      await w.abort?.().catch(() => {});
      throw e;
    }
  } else {
    await idb("readwrite", (st) => st.put(bytes.slice(), path));
  }
}

/**
 * Reads the bytes at `path` from the chosen store; a missing file is a clear error.
 * @example
 * await wg.io.writeFileAtomic("runs/model.bin", new Uint8Array([1, 2, 3]));
 * await wg.io.readFileBytes("runs/model.bin"); // Uint8Array [1, 2, 3]
 */
export async function readFileBytes(path: string, store?: FileStore): Promise<Uint8Array> {
  const s = resolveStore(store);
  if (s === "fs") {
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    return new Uint8Array(await fs.readFile(path));
  }
  if (s === "opfs") {
    try {
      const { dir, name } = await opfsDir(path, false);
      const file = await (await dir.getFileHandle(name)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch (e: any) {
      if (e?.name === "NotFoundError") throw new Error(`no such file in the origin private file system: ${path}`);
      throw e;
    }
  }
  const v = await idb<Uint8Array | undefined>("readonly", (st) => st.get(path));
  if (!v) throw new Error(`no such file in IndexedDB "${IDB_NAME}": ${path}`);
  return new Uint8Array(v);
}

/**
 * Deletes `path` from the chosen store (no error when it is absent).
 * @example
 * await wg.io.writeFileAtomic("runs/model.bin", new Uint8Array([1, 2, 3]));
 * await wg.io.removeFile("runs/model.bin");
 * await wg.io.readFileBytes("runs/model.bin"); // throws
 */
export async function removeFile(path: string, store?: FileStore): Promise<void> {
  const s = resolveStore(store);
  if (s === "fs") {
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    await fs.rm(path, { force: true });
  } else if (s === "opfs") {
    try {
      const { dir, name } = await opfsDir(path, false);
      await dir.removeEntry(name);
    } catch (e: any) {
      if (e?.name !== "NotFoundError") throw e;
    }
  } else {
    await idb("readwrite", (st) => st.delete(path));
  }
}
