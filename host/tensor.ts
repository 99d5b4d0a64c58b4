// Tensor: (storage, shape, dtype) plus its place on the tape.
//
// A tensor never caches a typed-array view: memory.grow detaches old views,
// so views are made on demand from the storage offset. Every tensor is
// contiguous and row-major; reshape shares storage, everything else copies.

import { backend, backendNamed, type Backend } from "./engine.js";
import type { Storage, Lifetime } from "./memory/manager.js";
import type { Node } from "./tape.js";
import "./ambient.js"; // global types the declarations need (Symbol.dispose, WebAssembly)
import { formatTensor } from "./print.js";

const INSPECT_NODE: unique symbol = Symbol.for("nodejs.util.inspect.custom");
const INSPECT_DENO: unique symbol = Symbol.for("Deno.customInspect");

export type DType = "float32" | "int32";
export type Shape = readonly number[];
/** Nested arrays of numbers, as `toArray()` returns and `tensor()` takes. */
export type NestedArray = number | NestedArray[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: Shape, what: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`${what}: shape [${shape}] must hold non-negative integers`);
  }
}

export class Tensor {
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** @internal */ _s: Storage;
  requiresGrad = false;
  /** Accumulated gradient (leaves only), persistent like the tensor it belongs to. */
  grad: Tensor | null = null;
  /** @internal the tape node that made this tensor */ _node: Node | null = null;
  /** @internal the backend whose memory holds the storage */ readonly _be: Backend;

  /** @internal Use wg.tensor(), wg.zeros() and the ops; this wraps existing storage (of `be`, default the current backend). */
  constructor(storage: Storage, shape: Shape, dtype: DType, be: Backend = backend()) {
    this._be = be;
    this._s = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
  }

  /** @internal allocates an uninitialised tensor. */
  static empty(shape: Shape, dtype: DType = "float32", what = "tensor", lifetime: Lifetime = "temp"): Tensor {
    checkShape(shape, what);
    const n = sizeOf(shape);
    return new Tensor(backend().mm.alloc(n * 4, lifetime, what), shape, dtype);
  }

  /**
   * The backend whose memory holds this tensor: "wasm" or "webgpu".
   *
   * @example
   * await wg.init({ backend: "webgpu" });
   * wg.zeros([2]).backend; // "webgpu"
   */
  get backend(): "wasm" | "webgpu" {
    return this._be.name;
  }

  /**
   * A copy on backend `target` ("wasm" or "webgpu"), or this tensor when it is there
   * already. Both backends are alive when WebGPU is current (a wasm one is kept beside
   * it), so a GPU tensor can come to wasm for host-side reads (toArray(), item(), …) and
   * back. Ops run on the current backend: an op given a tensor of the other one throws,
   * naming both; wg.withBackend("wasm", fn) runs ops on wasm tensors. The copy is a temporary
   * of the target backend (keep() it to hold it), with no tape history.
   *
   * @example
   * await wg.init({ backend: "webgpu" });
   * const y = wg.tensor([[1, 2]]).matmul(wg.tensor([[3], [4]]));
   * const cpu = await y.to("wasm");
   * cpu.toArray(); // [[11]]
   * (await cpu.to("webgpu")).backend; // "webgpu"
   */
  async to(target: "wasm" | "webgpu"): Promise<Tensor> {
    if (target !== "wasm" && target !== "webgpu") throw new Error(`to: unknown backend "${target}" (have: "wasm", "webgpu")`);
    this.checkAlive();
    if (this._be.name === target) return this;
    const dst = backendNamed(target);
    if (!dst) throw new Error(`to("${target}"): no ${target} backend is running (the current one is ${backend().name}); start it with await wg.init({ backend: "${target}" })`);
    const bytes = await this._be.read(this._be.mm.touch(this._s), this.size * 4);
    const t = new Tensor(dst.mm.alloc(this.size * 4, "temp", "to"), this.shape, this.dtype, dst);
    if (this.size) dst.write(t._s.offset, new Uint8Array(bytes));
    return t;
  }

  private checkAlive(): void {
    if (this._s.released) {
      throw new Error(`webgrad: this ${this.dtype} tensor of shape [${this.shape}] was released: ${this._s.whyReleased()}`);
    }
    const live = backendNamed(this._be.name);
    if (live !== this._be) {
      throw new Error(`webgrad: this ${this.dtype} tensor of shape [${this.shape}] belongs to a ${this._be.name} backend that was shut down (init() restarted): its memory is gone`);
    }
  }

  /** Byte offset of the data in linear memory (throws if the tensor was released, or lives on another backend than the current one). */
  get ptr(): number {
    const s = this._s;
    const cur = backend();
    if (this._be !== cur) {
      this.checkAlive();
      throw new Error(`webgrad: an op on the ${cur.name} backend was given a ${this.dtype} tensor of shape [${this.shape}] that lives on ${this._be.name}: ` +
        `move it with await t.to("${cur.name}"), or run the op on ${this._be.name} with wg.withBackend("${this._be.name}", () => …)`);
    }
    if (s.released) {
      throw new Error(`webgrad: this ${this.dtype} tensor of shape [${this.shape}] was released: ${s.whyReleased()}`);
    }
    return cur.mm.touch(s);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True once dispose() or an automatic rule gave its memory back. */
  get isReleased(): boolean {
    return this._s.released;
  }

  /** A live typed-array view (valid until the next allocation may grow memory: copy it if you keep it). */
  view(): Float32Array | Int32Array {
    const v = this.peek();
    if (!v) throw new Error(`webgrad: tensor lives on ${this._be.name}: use await t.data() (or t.itemAsync(), t.toArrayAsync(), t.to("wasm")) to read it`);
    return v;
  }

  /**
   * A live view of the data where the host can read it without waiting (the wasm
   * backend), else null (WebGPU: use `await t.data()`).
   *
   * @example
   * wg.tensor([1, 2]).peek(); // e.g. Float32Array [1, 2] (null on WebGPU)
   */
  peek(): Float32Array | Int32Array | null {
    this.checkAlive();
    const b = this._be;
    const s = this._s;
    // a spilled tensor is read (and written) where it lies, in the JavaScript heap
    const host = s.host;
    if (host) return this.dtype === "int32" ? new Int32Array(host.buffer, host.byteOffset, this.size) : new Float32Array(host.buffer, host.byteOffset, this.size);
    const mem = b.hostMemory;
    if (!mem) return null;
    const ptr = b.mm.touch(s);
    const v = this.dtype === "int32" ? mem.i32(ptr, this.size) : mem.f32(ptr, this.size);
    b.mm.maybeSweep(); // a read is a safe point: no kernel is waiting on an offset
    return v;
  }

  /**
   * A copy of the data as a typed array.
   *
   * @example
   * wg.tensor([1, 2, 3]).dataSync(); // Float32Array [1, 2, 3]
   */
  dataSync(): Float32Array | Int32Array {
    return this.view().slice();
  }

  /**
   * A copy of the data, on every backend (the WebGPU one reads it back once the
   * kernels that make it have run).
   *
   * @example
   * await wg.tensor([1, 2, 3]).data(); // Float32Array [1, 2, 3]
   */
  async data(): Promise<Float32Array | Int32Array> {
    const b = this._be;
    if (b.hostMemory) return this.dataSync();
    this.checkAlive();
    const bytes = await b.read(b.mm.touch(this._s), this.size * 4);
    return this.dtype === "int32" ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /**
   * The data as nested arrays.
   *
   * @example
   * wg.tensor([[1, 2], [3, 4]]).toArray(); // [[1, 2], [3, 4]]
   */
  toArray(): NestedArray {
    return this.nest(Array.from(this.view()));
  }

  /**
   * The data as nested arrays, on every backend: toArray() for a tensor that may
   * live on the GPU (read back once the kernels that make it have run).
   *
   * @example
   * await wg.tensor([[1, 2], [3, 4]]).toArrayAsync(); // [[1, 2], [3, 4]]
   */
  async toArrayAsync(): Promise<NestedArray> {
    return this.nest(Array.from(await this.data()));
  }

  /**
   * The single value of a one-element tensor, on every backend: item() for a
   * tensor that may live on the GPU. On wasm it resolves at once.
   *
   * @example
   * const loss = await wg.tensor([0.25]).itemAsync(); // 0.25
   */
  async itemAsync(): Promise<number> {
    if (this.size !== 1) throw new Error(`itemAsync: tensor has shape [${this.shape}], not one element`);
    return (await this.data())[0];
  }

  private nest(flat: number[]): NestedArray {
    if (this.rank === 0) return flat[0];
    const build = (dim: number, off: number): NestedArray[] => {
      const n = this.shape[dim];
      if (dim === this.rank - 1) return flat.slice(off, off + n);
      const stride = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }

  /**
   * The single value of a one-element tensor.
   *
   * @example
   * wg.tensor([[3]]).item(); // 3
   */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has shape [${this.shape}], not one element`);
    return this.view()[0];
  }

  /**
   * Gives the memory back now; later use throws. Safe to call twice. The tape
   * keeps its place: a backward() that needs this tensor's values says so,
   * one that does not (it only passes gradients through) still runs.
   *
   * @example
   * const t = wg.ones([1024]);
   * t.dispose();
   * t.isReleased; // true
   */
  dispose(): void {
    this._be.mm.free(this._s);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Makes this tensor persistent: it survives its scope and the automatic
   * release of step temporaries (see docs/MEMORY.md). Returns this.
   *
   * @example
   * const best = net.forward(x).keep();
   */
  keep(): this {
    this._be.mm.keep(this._s);
    return this;
  }

  /** A tensor sharing this one's data with no tape history. */
  detach(): Tensor {
    return new Tensor(this._s, this.shape, this.dtype, this._be);
  }


  /**
   * PyTorch's printed form, with shape and dtype; summarised with `...` above 1000 elements.
   * console.log(t) prints it too, in Node, Bun and Deno (the inspect hooks below).
   *
   * @example
   * String(wg.tensor([[1, 2], [3, 4]])); // "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)"
   */
  toString(): string {
    return formatTensor(this);
  }
  /** @internal console.log / util.inspect in Node and Bun (Symbol.for: no node: import needed). */
  [INSPECT_NODE](): string {
    return formatTensor(this);
  }
  /** @internal console.log / Deno.inspect in Deno. */
  [INSPECT_DENO](): string {
    return formatTensor(this);
  }
}
