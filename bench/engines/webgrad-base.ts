// A second webgrad, from another built tree, for A/B runs of one change:
//   WEBGRAD_BASE=/path/to/other/worktree node dist/bench/run.js --engines webgrad,webgrad-base
// loads that tree's own bench adapter (dist/bench/engines/webgrad.js), which imports
// that tree's dist/host, so each build is measured through its own adapter, in the
// same interleaved rounds as this tree's "webgrad". The other tree must be built
// (npm run build) and its bench workloads must match this tree's.

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Engine } from "../workloads.js";

export function baseDir(): string {
  const dir = process.env.WEBGRAD_BASE;
  if (!dir) throw new Error("webgrad-base: set WEBGRAD_BASE to a built webgrad tree (the directory holding dist/)");
  return resolve(dir);
}

const other = (await import(pathToFileURL(`${baseDir()}/dist/bench/engines/webgrad.js`).href)).default as Engine;
const engine: Engine = { ...other, name: "webgrad-base" };
export default engine;
