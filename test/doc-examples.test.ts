// Every @example in host/ runs, and its `expr; // value` comments are checked
// (test/doc-examples-lib.ts says how). One test per example, named file:line.
// WebGPU examples run in webgpu-doc-examples.test.ts. A failing example anywhere
// fails this file.
import { test } from "uvu";
import { Worker } from "node:worker_threads";
import { transformSync } from "esbuild";
import {
  extractExamples, prepare, tempCwd, needsWebGpu, skipReason,
  type Prepared, type RunResult,
} from "./doc-examples-lib.js";
import { fixtures } from "./doc-prelude.js";

const TIMEOUT_MS = Number(process.env.DOC_EXAMPLE_TIMEOUT_MS ?? 60_000);

const transpile = (ts: string) => transformSync(ts, { loader: "ts", target: "es2022" }).code;
const examples = extractExamples();

/** One worker at a time runs the examples; one that runs past its time is ended and the next gets a new worker. */
class Runner {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private start() {
    const w = new Worker(new URL("./doc-examples-worker.js", import.meta.url));
    this.worker = w;
    this.ready = new Promise((resolve, reject) => {
      w.once("message", (m) => (m === "ready" ? resolve() : reject(new Error(`worker said ${m}`))));
      w.once("error", reject);
    });
  }
  async run(p: Prepared, ms: number): Promise<RunResult> {
    if (!this.worker) this.start();
    await this.ready;
    const w = this.worker!;
    return new Promise((resolve) => {
      const done = (r: RunResult) => {
        clearTimeout(timer);
        w.off("message", onMessage);
        w.off("error", onError);
        w.off("exit", onExit);
        resolve(r);
      };
      const dead = (why: string): RunResult => {
        this.worker = null;
        void w.terminate();
        return { ok: false, error: why, checked: 0, logs: [], ms };
      };
      const onMessage = (r: RunResult) => done(r);
      const onError = (e: Error) => done(dead(`the worker died: ${e.message}`));
      const onExit = (code: number) => done(dead(`the worker exited with code ${code}`));
      const timer = setTimeout(() => done(dead(`still running after ${ms / 1000} s (stopped)`)), ms);
      w.on("message", onMessage);
      w.once("error", onError);
      w.once("exit", onExit);
      w.postMessage({ file: p.example.file, js: p.js, checks: p.checks, fixtures: p.fixtures });
    });
  }
  stop() {
    void this.worker?.terminate();
    this.worker = null;
  }
}

const runner = new Runner();
const tally = { found: examples.length, run: 0, passed: 0, checks: 0, skipped: [] as string[], failed: [] as string[] };
const where = (e: { file: string; line: number }) => `${e.file}:${e.line}`;

for (const e of examples) {
  const skip = needsWebGpu(e) ? "needs a WebGPU adapter (run by webgpu-doc-examples.test.ts)" : skipReason(e);
  if (skip) {
    tally.skipped.push(`${where(e)}: ${skip}`);
    test.skip(where(e), () => {});
    continue;
  }
  test(where(e), async () => {
    const p = prepare(e, Object.keys(fixtures), transpile);
    let r: RunResult;
    if (p.error) r = { ok: false, error: p.error, checked: 0, logs: [], ms: 0 };
    else {
      const leave = tempCwd();
      try {
        r = await runner.run(p, TIMEOUT_MS);
      } finally {
        leave();
      }
      tally.run++;
    }
    tally.checks += r.checked;
    if (r.ok) {
      tally.passed++;
      console.log(`  ok    ${where(e)} (${r.checked} value${r.checked === 1 ? "" : "s"} checked, ${r.ms.toFixed(0)} ms)`);
      return;
    }
    const msg = `${where(e)}: ${r.error}${r.logs.length ? `\n        its output: ${r.logs.slice(-5).join("\n        ")}` : ""}`;
    tally.failed.push(msg);
    console.log(`  FAIL  ${msg}`);
    throw new Error(msg);
  });
}

test("summary", () => {
  runner.stop();
  const line = (xs: string[]) => xs.map((x) => `    ${x}`).join("\n");
  console.log(`\ndoc examples: ${tally.found} found, ${tally.run} run, ${tally.passed} passed, ${tally.checks} comment values checked, ${tally.skipped.length} skipped, ${tally.failed.length} failed`);
  if (tally.skipped.length) console.log(`  skipped:\n${line(tally.skipped)}`);
  if (tally.failed.length) console.log(`  failed:\n${line(tally.failed)}`);
});

test.run();
