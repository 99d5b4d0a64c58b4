// Running one test suite on every backend this machine can test, and the one
// finite-difference gradient check those suites share.
//
// availableBackends() decides as scripts/test.mjs decides for the webgpu*
// files: WebGPU is expected when the caller pointed Vulkan at a driver
// (VK_ICD_FILENAMES) or Debian chromium's SwiftShader driver is installed
// (and WEBGRAD_PRETEND_MISSING does not name chromium). The runner starts only
// files named webgpu* with VK_ICD_FILENAMES set, so for the other files this
// module sets it itself, before Dawn creates its Vulkan instance (the loader
// reads it then; the system's libvulkan.so.1 is found without LD_LIBRARY_PATH).
// WEBGRAD_TEST_BACKENDS=wasm,webgpu overrides the choice; a backend it names
// is expected just the same.
//
// Expected means required: forEachBackend registers a first test per backend
// that starts it and asserts that it is the backend asked for, and when it
// cannot start, that test and every test of the group fail with init's error.
// A missing adapter is never a skip.
import { existsSync } from "node:fs";
import { suite } from "uvu";
import * as wg from "../host/index.js";
import { randomF32 } from "./harness.js";

export type BackendName = "wasm" | "webgpu";

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** The backends the suites run on here: "wasm" always, "webgpu" where the GPU test environment is. */
export function availableBackends(): BackendName[] {
  const forced = process.env.WEBGRAD_TEST_BACKENDS;
  if (forced) {
    const names = forced.split(",").map((s) => s.trim()).filter(Boolean);
    for (const n of names) if (n !== "wasm" && n !== "webgpu") throw new Error(`WEBGRAD_TEST_BACKENDS: unknown backend "${n}" (wasm, webgpu)`);
    if (names.includes("webgpu")) pointVulkanAtSwiftShader();
    return names as BackendName[];
  }
  const pretendMissing = (process.env.WEBGRAD_PRETEND_MISSING ?? "").split(",").includes("chromium");
  if (process.env.VK_ICD_FILENAMES) return ["wasm", "webgpu"];
  if (!pretendMissing && existsSync(SWIFTSHADER_ICD)) {
    pointVulkanAtSwiftShader();
    return ["wasm", "webgpu"];
  }
  return ["wasm"];
}

function pointVulkanAtSwiftShader(): void {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}

/**
 * What a suite body gets: uvu's test(), registering into this backend's group
 * (names prefixed "[backend]"), and test.skip(name, reason): uvu counts it in
 * "Skipped" (the runner's final line) and prints no names, so the body says why
 * it skips where the reader sees it (see torch-fixtures.test.ts).
 */
export type BackendTest = ((name: string, fn: () => void | Promise<void>) => void) & {
  skip: (name: string, reason: string) => void;
};

/**
 * Registers the tests `body` makes once per available backend, each backend's
 * group in its own uvu suite: the engine is started with init({ backend })
 * before the group (wasm single-threaded) and shut down after it. Each test
 * checks that the engine still runs that backend before it starts.
 */
export function forEachBackend(
  suiteName: string,
  body: (backend: BackendName, test: BackendTest) => void,
  { backends = availableBackends(), init = {} }: { backends?: BackendName[]; init?: Partial<wg.InitOptions> } = {},
): void {
  for (const name of backends) {
    const s = suite(`${suiteName} [${name}]`);
    let failed: Error | null = null;
    s.before(async () => {
      try {
        const info = await wg.init({ verbose: false, ...(name === "wasm" ? { threads: 1 } : {}), ...init, backend: name });
        if (info.backend !== name) throw new Error(`init({ backend: "${name}" }) started ${info.backend}`);
      } catch (e) {
        failed = e as Error;
      }
    });
    s.after(() => wg.shutdown());
    const ready = () => {
      if (failed) throw new Error(`the ${name} backend is expected here but did not start: ${failed.message}`);
      const now = wg.backend().name;
      if (now !== name) throw new Error(`this test belongs to the ${name} group but the engine runs ${now}`);
    };
    s(`[${name}] init({ backend: "${name}" }) starts that backend`, ready);
    const t = ((testName: string, fn: () => void | Promise<void>) => s(`[${name}] ${testName}`, async () => {
      ready();
      await fn();
    })) as BackendTest;
    t.skip = (testName: string, reason: string) => s.skip(`[${name}] ${testName} (skipped: ${reason})`, () => {});
    body(name, t);
    s.run();
  }
}

/** One input of a gradient check: float32 data that is differentiated, or int32 data (labels, indices) that is not. */
export interface GradInput {
  data: Float32Array | Int32Array;
  shape: number[];
  /** int32, not differentiated (labels, indices). */
  int?: boolean;
}

export interface GradcheckOptions {
  /** Central-difference step (the float32 values actually stepped to set the divisor). */
  eps?: number;
  rtol?: number;
  atol?: number;
  /** Check at most this many elements of each input, spread evenly (default all). */
  maxPerInput?: number;
  /** Names the check in its error. */
  what?: string;
}

/**
 * Checks the gradients backward() gives against central differences, on the
 * current backend, reading every value with await t.data() (so the same check
 * runs on wasm and webgpu). The loss is L = Σ fn(inputs)·r with a fixed random
 * r; for each checked element x_i of each float input, (L(x + h⁺) − L(x − h⁻)) /
 * (x_i⁺ − x_i⁻) is formed in float64 from the float32 losses, the divisor being
 * the float32 values the element actually took. Every perturbed loss is
 * recorded before the first is read: on WebGPU one flush, not one per value.
 * Throws naming the input, the element and both values.
 */
export async function gradcheckAsync(
  fn: (...xs: wg.Tensor[]) => wg.Tensor,
  inputs: GradInput[],
  { eps = 1e-2, rtol = 3e-2, atol = 2e-3, maxPerInput = Infinity, what = "gradcheck" }: GradcheckOptions = {},
): Promise<void> {
  const points = inputs.map((s) => {
    if (s.int) return [];
    const n = s.data.length, step = Math.max(1, Math.floor(n / Math.min(n, maxPerInput)));
    const at: number[] = [];
    for (let i = 0; i < n; i += step) at.push(i);
    return at;
  });
  const steps: [number, number][][] = inputs.map(() => []);
  // record everything in one scope (synchronous): what escapes are the gradients and the losses
  const { grads, losses } = wg.scope(() => {
    const xs = inputs.map((s) => s.int
      ? wg.tensor(s.data, { shape: s.shape, dtype: "int32" })
      : wg.tensor(Float32Array.from(s.data), { shape: s.shape, requiresGrad: true }));
    const y0 = wg.noGrad(() => fn(...xs.map((x) => x.detach())));
    const r = wg.tensor(randomF32(y0.size, 99), { shape: [...y0.shape] });
    const loss = (...a: wg.Tensor[]) => fn(...a).mul(r).sum();
    loss(...xs).backward();
    const grads = xs.map((x, xi) => {
      if (inputs[xi].int) return null;
      if (!x.grad) throw new Error(`${what}: backward() gave input ${xi} no gradient`);
      return x.grad;
    });
    const losses = wg.noGrad(() => inputs.map((s, xi) => points[xi].map((i) => {
      const plus = Float32Array.from(s.data), minus = Float32Array.from(s.data);
      plus[i] += eps;
      minus[i] -= eps;
      steps[xi].push([plus[i], minus[i]]);
      const at = (d: Float32Array) => loss(...xs.map((o, j) => (j === xi ? wg.tensor(d, { shape: s.shape }) : o.detach())));
      return [at(plus), at(minus)] as const;
    })));
    return { grads, losses };
  });
  try {
    for (let xi = 0; xi < inputs.length; xi++) {
      const g = grads[xi];
      if (!g) continue;
      const analytic = await g.data();
      for (let k = 0; k < points[xi].length; k++) {
        const [lp, lm] = losses[xi][k];
        const [hp, hm] = steps[xi][k];
        const numeric = ((await lp.itemAsync()) - (await lm.itemAsync())) / (hp - hm);
        const a = analytic[points[xi][k]];
        if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
          throw new Error(`${what}: input ${xi} element ${points[xi][k]}: analytic ${a}, numeric ${numeric} (rtol ${rtol}, atol ${atol}, eps ${eps})`);
        }
      }
    }
  } finally {
    for (const g of grads) g?.dispose();
    for (const per of losses) for (const [lp, lm] of per) (lp.dispose(), lm.dispose());
  }
}
