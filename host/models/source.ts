// Where a Hugging Face model folder's files come from: a folder on disk (Node,
// Deno, Bun through node:fs), a URL base (http(s):, file:), a browser
// FileSystemDirectoryHandle (a picked folder, or OPFS), or the File objects of
// an <input webkitdirectory>. One small interface, one implementation per
// kind; large files are read by byte range where the kind allows it, so a
// safetensors file is never held whole only to decode one tensor at a time.

import { nodeImport } from "../backends/node-import.js";
import { parseStrictJson } from "../io/strict-json.js";

/** The files of a model folder, by name ("config.json", "model-00001-of-00002.safetensors"). */
export interface ModelSource {
  /** What the source is, for error messages: a path, a URL, "a directory handle". */
  readonly description: string;
  has(name: string): Promise<boolean>;
  readBytes(name: string): Promise<Uint8Array>;
  readJson(name: string): Promise<unknown>;
  /** A file's size and a reader of its byte ranges, where the source can read part of a file. */
  openRange?(name: string): Promise<{ size: number; read: (start: number, end: number) => Promise<Uint8Array> }>;
}

/** Anything loadPretrained accepts as a model folder. */
export type ModelSourceLike = string | URL | ModelSource | FileSystemDirectoryHandleLike | Record<string, BlobLike> | Iterable<BlobLike>;

/** The part of a browser FileSystemDirectoryHandle read here (a fake with these methods works too). */
export interface FileSystemDirectoryHandleLike {
  kind: "directory";
  name?: string;
  getFileHandle(name: string): Promise<{ getFile(): Promise<BlobLike> }>;
  getDirectoryHandle?(name: string): Promise<FileSystemDirectoryHandleLike>;
}

/** A Blob or File (an <input webkitdirectory> gives Files whose webkitRelativePath names their folder). */
export interface BlobLike {
  size: number;
  arrayBuffer(): Promise<ArrayBuffer>;
  slice(start?: number, end?: number): BlobLike;
  name?: string;
  webkitRelativePath?: string;
}

function checkName(name: string): string[] {
  const parts = name.split("/");
  if (!name || parts.some((p) => !p || p === "." || p === "..")) throw new Error(`model source: ${JSON.stringify(name)} is not a file name inside the model folder`);
  return parts;
}

abstract class BaseSource implements ModelSource {
  abstract readonly description: string;
  abstract has(name: string): Promise<boolean>;
  abstract readBytes(name: string): Promise<Uint8Array>;
  async readJson(name: string): Promise<unknown> {
    const bytes = await this.readBytes(name);
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new Error(`${this.description}: ${name} is not UTF-8 text`);
    }
    try {
      return parseStrictJson(text.replace(/^\uFEFF/, ""), name, { maxDepth: 64 });
    } catch (e) {
      throw new Error(`${this.description}: ${name} is not valid JSON (${(e as Error).message})`);
    }
  }
  protected missing(name: string): Error {
    return new Error(`${this.description}: no ${name} in the model folder`);
  }
}

/** A folder on disk, through node:fs (Node, Deno, Bun). */
class FolderSource extends BaseSource {
  constructor(readonly dir: string) {
    super();
  }
  get description(): string {
    return this.dir;
  }
  private async path(name: string): Promise<string> {
    const { join } = await nodeImport<typeof import("node:path")>("node:path");
    return join(this.dir, ...checkName(name));
  }
  async has(name: string): Promise<boolean> {
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    try {
      return (await fs.stat(await this.path(name))).isFile();
    } catch {
      return false;
    }
  }
  async readBytes(name: string): Promise<Uint8Array> {
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    try {
      return new Uint8Array(await fs.readFile(await this.path(name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw this.missing(name);
      throw e;
    }
  }
  async openRange(name: string): Promise<{ size: number; read: (start: number, end: number) => Promise<Uint8Array> }> {
    const fs = await nodeImport<typeof import("node:fs/promises")>("node:fs/promises");
    const path = await this.path(name);
    let size: number;
    try {
      size = (await fs.stat(path)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw this.missing(name);
      throw e;
    }
    // one open per range: no handle outlives a load that failed half way
    const read = async (start: number, end: number) => {
      const fh = await fs.open(path, "r");
      try {
        const out = new Uint8Array(end - start);
        let at = 0;
        while (at < out.length) {
          const { bytesRead } = await fh.read(out, at, out.length - at, start + at);
          if (bytesRead === 0) break;
          at += bytesRead;
        }
        return out.subarray(0, at);
      } finally {
        await fh.close();
      }
    };
    return { size, read };
  }
}

/** A URL base: `${base}/config.json` and so on, by fetch (http(s): and, where the runtime fetches them, file: URLs). */
class UrlSource extends BaseSource {
  readonly base: string;
  constructor(base: string) {
    super();
    this.base = base.endsWith("/") ? base : base + "/";
  }
  get description(): string {
    return this.base;
  }
  private url(name: string): string {
    return new URL(checkName(name).map(encodeURIComponent).join("/"), this.base).href;
  }
  /** The response, or null for a 404. */
  private async get(name: string): Promise<Response | null> {
    const res = await fetch(this.url(name));
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`${this.description}: fetching ${name} gave HTTP ${res.status} ${res.statusText}`);
    return res;
  }
  async has(name: string): Promise<boolean> {
    const file = await this.fileFallback();
    if (file) return file.has(name);
    const url = this.url(name);
    const res = await fetch(url, { method: "HEAD" }).catch(() => null);
    if (res && res.ok) return true;
    if (res && res.status === 404) return false;
    // a server without HEAD: ask for the file's first byte
    const got = await fetch(url, { headers: { range: "bytes=0-0" } }).catch(() => null);
    await got?.body?.cancel().catch(() => {});
    return !!got?.ok;
  }
  async readBytes(name: string): Promise<Uint8Array> {
    const file = await this.fileFallback();
    if (file) return file.readBytes(name);
    const res = await this.get(name);
    if (!res) throw this.missing(name);
    return new Uint8Array(await res.arrayBuffer());
  }
  override async readJson(name: string): Promise<unknown> {
    const file = await this.fileFallback();
    return file ? file.readJson(name) : super.readJson(name);
  }
  async openRange(name: string): Promise<{ size: number; read: (start: number, end: number) => Promise<Uint8Array> }> {
    const file = await this.fileFallback();
    if (file) return file.openRange(name);
    // a server that announces byte ranges is read a tensor at a time; any other is read once and sliced
    const url = this.url(name);
    const head = await fetch(url, { method: "HEAD" }).catch(() => null);
    const size = Number(head?.headers.get("content-length") ?? NaN);
    if (head?.ok && head.headers.get("accept-ranges") === "bytes" && Number.isSafeInteger(size) && !head.headers.get("content-encoding")) {
      const read = async (start: number, end: number) => {
        if (end <= start) return new Uint8Array(0);
        const res = await fetch(url, { headers: { range: `bytes=${start}-${end - 1}` } });
        if (res.status === 206) return new Uint8Array(await res.arrayBuffer());
        if (!res.ok) throw new Error(`${this.description}: fetching bytes ${start}..${end} of ${name} gave HTTP ${res.status} ${res.statusText}`);
        return new Uint8Array(await res.arrayBuffer()).subarray(start, end); // the server sent the whole file after all
      };
      return { size, read };
    }
    const bytes = await this.readBytes(name);
    return { size: bytes.length, read: async (s, e) => bytes.subarray(s, e) };
  }
  private fallback: FolderSource | null | undefined;
  /** file: URLs in Node and Bun: the same folder through node:fs. */
  private async fileFallback(): Promise<FolderSource | null> {
    if (this.fallback !== undefined) return this.fallback;
    this.fallback = null;
    if (this.base.startsWith("file:") && typeof (globalThis as any).process?.versions?.node === "string") {
      const { fileURLToPath } = await nodeImport<typeof import("node:url")>("node:url");
      this.fallback = new FolderSource(fileURLToPath(this.base));
    }
    return this.fallback;
  }
}

/** Files reached through Blob-like objects: a directory handle's or a file list's. */
abstract class BlobSource extends BaseSource {
  protected abstract blob(name: string): Promise<BlobLike | null>;
  async has(name: string): Promise<boolean> {
    return (await this.blob(name)) !== null;
  }
  async readBytes(name: string): Promise<Uint8Array> {
    const b = await this.blob(name);
    if (!b) throw this.missing(name);
    return new Uint8Array(await b.arrayBuffer());
  }
  async openRange(name: string): Promise<{ size: number; read: (start: number, end: number) => Promise<Uint8Array> }> {
    const b = await this.blob(name);
    if (!b) throw this.missing(name);
    return { size: b.size, read: async (s, e) => new Uint8Array(await b.slice(s, e).arrayBuffer()) };
  }
}

/** A browser FileSystemDirectoryHandle: showDirectoryPicker(), or OPFS's navigator.storage.getDirectory(). */
class DirectoryHandleSource extends BlobSource {
  constructor(readonly handle: FileSystemDirectoryHandleLike) {
    super();
  }
  get description(): string {
    return `the directory handle ${JSON.stringify(this.handle.name ?? "")}`;
  }
  protected async blob(name: string): Promise<BlobLike | null> {
    const parts = checkName(name);
    try {
      let dir = this.handle;
      for (const p of parts.slice(0, -1)) {
        if (!dir.getDirectoryHandle) return null;
        dir = await dir.getDirectoryHandle(p);
      }
      return await (await dir.getFileHandle(parts[parts.length - 1])).getFile();
    } catch (e) {
      if ((e as { name?: string })?.name === "NotFoundError" || (e as { name?: string })?.name === "TypeMismatchError") return null;
      throw e;
    }
  }
}

/** Files by name: an object { "config.json": file, … } or the FileList of an <input webkitdirectory>. */
class FileMapSource extends BlobSource {
  private readonly files = new Map<string, BlobLike>();
  constructor(files: Record<string, BlobLike> | Iterable<BlobLike>) {
    super();
    if (isIterable(files)) {
      for (const f of files) {
        // "model/config.json" from webkitdirectory: the path below the picked folder
        const rel = f.webkitRelativePath || f.name;
        if (!rel) throw new Error("model source: a file in the list has no name");
        this.files.set(rel.includes("/") ? rel.slice(rel.indexOf("/") + 1) : rel, f);
      }
    } else {
      for (const [k, f] of Object.entries(files)) {
        if (!isBlobLike(f)) throw new Error(`model source: ${JSON.stringify(k)} is not a File or Blob`);
        this.files.set(k, f);
      }
    }
  }
  get description(): string {
    return `the ${this.files.size} files given`;
  }
  protected async blob(name: string): Promise<BlobLike | null> {
    checkName(name);
    return this.files.get(name) ?? null;
  }
}

function isIterable(x: unknown): x is Iterable<BlobLike> {
  return typeof (x as Iterable<unknown>)?.[Symbol.iterator] === "function";
}

function isBlobLike(x: unknown): x is BlobLike {
  return typeof (x as BlobLike)?.arrayBuffer === "function" && typeof (x as BlobLike)?.slice === "function" && typeof (x as BlobLike)?.size === "number";
}

function isModelSource(x: unknown): x is ModelSource {
  const s = x as ModelSource;
  return typeof s?.readBytes === "function" && typeof s?.readJson === "function" && typeof s?.has === "function";
}

/**
 * The ModelSource for a folder path, a URL (string or URL object), a
 * FileSystemDirectoryHandle, Files by name or a FileList, or a ModelSource
 * (returned as it is). A string with a scheme (http:, https:, file:, blob:) is a URL, any
 * other string a folder path.
 * @example
 * const src = wg.models.modelSource({ "config.json": new Blob(['{"model_type": "llama"}']) });
 * await src.readJson("config.json"); // { model_type: "llama" }
 * await src.has("tokenizer.json"); // false
 */
export function modelSource(source: ModelSourceLike): ModelSource {
  if (typeof source === "string") {
    if (/^(https?|file|blob):/i.test(source)) return new UrlSource(source);
    if (typeof (globalThis as any).process?.versions?.node !== "string") {
      throw new Error(`model source: the folder path ${JSON.stringify(source)} needs Node, Deno or Bun; in a browser pass a URL base, a FileSystemDirectoryHandle or the picked Files`);
    }
    return new FolderSource(source);
  }
  if (source instanceof URL) return new UrlSource(source.href);
  if (isModelSource(source)) return source;
  if ((source as FileSystemDirectoryHandleLike)?.kind === "directory" && typeof (source as FileSystemDirectoryHandleLike).getFileHandle === "function") {
    return new DirectoryHandleSource(source as FileSystemDirectoryHandleLike);
  }
  if (source && typeof source === "object") return new FileMapSource(source as Record<string, BlobLike>);
  throw new Error(`model source: expected a folder path, a URL, a FileSystemDirectoryHandle or Files by name, got ${source === null ? "null" : typeof source}`);
}
