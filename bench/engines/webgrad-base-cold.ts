// The cold-start adapter of the tree named by WEBGRAD_BASE (see webgrad-base.ts):
// bench/cold-child.ts runs this for "webgrad-base", as it runs webgrad-cold for "webgrad".

import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Engine } from "../workloads.js";

const dir = process.env.WEBGRAD_BASE;
if (!dir) throw new Error("webgrad-base: set WEBGRAD_BASE to a built webgrad tree (the directory holding dist/)");
const other = (await import(pathToFileURL(`${resolve(dir)}/dist/bench/engines/webgrad-cold.js`).href)).default as Engine;
export default { ...other, name: "webgrad-base" } as Engine;
