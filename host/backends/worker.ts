// A kernel worker: instantiates the kernel module on the shared memory and
// runs whatever the control block says, forever (see threads.ts).
// No imports and no top-level await, on purpose: bundlers that emit it as an
// asset (esbuild users copy it beside their bundle) or bundle it as a classic
// worker (Vite's default iife format) get a script that runs as it is. The
// control block's layout comes in the first message, from threads.ts.

interface Layout {
  GEN: number;
  PENDING: number;
  ERROR: number;
  STOP: number;
  SLOT_BASE: number;
  SLOT_BYTES: number;
  SLOT_HEADER: number;
  SPIN_MS: number;
}

interface Init {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  id: number;
  names: string[];
  layout: Layout;
}

function serve(init: Init, post: (m: unknown) => void): void {
  const { GEN, PENDING, ERROR, STOP, SLOT_BASE, SLOT_BYTES, SLOT_HEADER, SPIN_MS } = init.layout;
  const inst = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  const exp = inst.exports as Record<string, (...a: number[]) => unknown>;
  const fns = init.names.map((n) => exp[n]);
  const i32 = new Int32Array(init.ctrl);
  const f64 = new Float64Array(init.ctrl);
  const slot = (SLOT_BASE + init.id * SLOT_BYTES) >> 2;
  const fbase = (SLOT_BASE + init.id * SLOT_BYTES + SLOT_HEADER) >> 3;
  const args: number[] = [];
  // read the generation BEFORE saying ready: once the host has every "ready" it
  // may bump GEN at once, and a worker that read it after that bump would wait
  // for the next one while the host spins on PENDING forever
  let seen = Atomics.load(i32, GEN);
  // the host reads this word before handing this worker a share: from now on
  // every generation bump is one this worker sees
  Atomics.store(i32, slot + 3, 1);
  post("ready");
  for (;;) {
    // spin a little first: a training step dispatches kernels back to back, and
    // waking from Atomics.wait costs tens of microseconds each time
    const until = performance.now() + SPIN_MS;
    let g = Atomics.load(i32, GEN);
    for (let spins = 0; g === seen; spins++) {
      if ((spins & 255) === 255 && performance.now() > until) {
        Atomics.wait(i32, GEN, seen);
      }
      g = Atomics.load(i32, GEN);
    }
    seen = g;
    if (Atomics.load(i32, STOP)) return;
    // claim this generation's share; -1: none, or the calling thread ran it already
    const k = Atomics.exchange(i32, slot, -1);
    if (k < 0) continue;
    const calls = i32[slot + 1], argc = i32[slot + 2];
    args.length = argc;
    try {
      for (let c = 0; c < calls; c++) {
        for (let j = 0; j < argc; j++) args[j] = f64[fbase + c * argc + j];
        fns[k](...args);
      }
    } catch {
      Atomics.store(i32, ERROR, 1);
    }
    Atomics.sub(i32, PENDING, 1);
  }
}

function start(m: Init, post: (x: unknown) => void): void {
  try {
    serve(m, post);
  } catch (e) {
    post({ error: String((e as Error)?.message ?? e) });
  }
}

const g = globalThis as any;
if (g.process?.versions?.node) {
  // started by node:worker_threads (Node, Bun, Deno); the specifier is a
  // variable so that browser bundlers leave it alone (node-import.ts)
  const wt = "node:worker_threads";
  import(/* @vite-ignore */ /* webpackIgnore: true */ wt).then(({ parentPort }) => {
    parentPort.once("message", (m: Init) => start(m, (x) => parentPort.postMessage(x)));
  });
} else {
  // a Web Worker (browsers)
  g.onmessage = (e: MessageEvent<Init>) => {
    g.onmessage = null;
    start(e.data, (x) => g.postMessage(x));
  };
}
