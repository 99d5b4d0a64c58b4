// The thread doc-examples.test.ts runs examples in, one at a time, so that one
// that hangs or runs too long can be stopped (the worker is ended and a new one started).
import { parentPort } from "node:worker_threads";
import * as wg from "../host/index.js";
import { runPrepared } from "./doc-examples-lib.js";

const BASE = { threads: 1, verbose: false } as const;
await wg.init(BASE);
parentPort!.on("message", async (p) => {
  const r = await runPrepared(p);
  // an example may have restarted the engine (init with other options, shutdown): back to the usual one
  try {
    await wg.init(BASE);
  } catch (e) {
    r.ok = false;
    r.error = `${r.error ?? ""} (and the engine did not restart after it: ${(e as Error).message})`;
  }
  parentPort!.postMessage(r);
});
parentPort!.postMessage("ready");
