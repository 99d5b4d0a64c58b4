// Where the GPUDevice comes from: an injected GPUDevice / GPUAdapter / GPU,
// navigator.gpu (browsers, Deno), or in Node the optional package `webgpu`
// (Dawn). Every failure says what was tried and what to do.

import { nodeImport } from "../node-import.js";

export interface GpuDeviceInfo {
  device: any;
  /** Adapter description for the summary line ("SwiftShader", "NVIDIA H100", …). */
  description: string;
  features: string[];
  /** WGSL language features of the GPU object (navigator.gpu.wgslLanguageFeatures), where it was reached; empty for an injected adapter or device. */
  languageFeatures?: string[];
}

/**
 * Dawn's GPU object for Node, created once and kept: when it is garbage
 * collected Dawn tears its instance down under live devices (a crash).
 */
let nodeGpu: any = null;

const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

function isNode(): boolean {
  const p = (globalThis as any).process;
  return !!p?.versions?.node && typeof (globalThis as any).Deno === "undefined" && typeof (globalThis as any).Bun === "undefined";
}

/** Why Node's Dawn found no adapter, and the fix (set before the process starts: the loader reads them once). */
export function nodeAdapterHint(): string {
  return (
    "in Node, WebGPU comes from the optional package `webgpu` (Dawn), which needs a Vulkan, Metal or D3D12 driver; " +
    "with no GPU on Linux, start node with the software driver Debian's chromium ships: " +
    `LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=${SWIFTSHADER_ICD} node …`
  );
}

/**
 * Finds a GPUDevice. `gpu` may be a GPUDevice (used as is), a GPUAdapter or a
 * GPU (navigator.gpu-like object). Requests shader-f16 and subgroups when the
 * adapter has them, and the adapter's largest storage-buffer limits.
 */
export async function requestGpuDevice(gpu?: any): Promise<GpuDeviceInfo> {
  if (gpu && typeof gpu.createBuffer === "function" && gpu.queue) {
    return { device: gpu, description: "injected GPUDevice", features: [...(gpu.features ?? [])] };
  }
  let adapter: any = gpu && typeof gpu.requestDevice === "function" ? gpu : null;
  let languageFeatures: string[] = [];
  if (!adapter) {
    let g = gpu ?? (globalThis as any).navigator?.gpu;
    let where = gpu ? "the injected GPU object" : "navigator.gpu";
    if (!g && isNode()) {
      where = "the `webgpu` package (Dawn)";
      try {
        // through nodeImport: bundlers must not pull Dawn into browser builds (a
        // local `const name = "webgpu"` was constant-folded back into import("webgpu") by Vite 8)
        const m: any = await nodeImport("webgpu");
        if (!(globalThis as any).GPUBufferUsage) Object.assign(globalThis, m.globals);
        g = nodeGpu ??= m.create([]);
      } catch (e) {
        throw new Error(`webgrad: webgpu backend: Node has no WebGPU: the optional package \`webgpu\` could not be loaded (${(e as Error).message}); npm install webgpu`);
      }
    }
    if (!g) throw new Error("webgrad: webgpu backend: this runtime has no navigator.gpu (browsers: Chrome 113+ or --enable-unsafe-webgpu; Deno 1.39+)");
    languageFeatures = [...(g.wgslLanguageFeatures ?? [])];
    adapter = await g.requestAdapter({ powerPreference: "high-performance" });
    if (!adapter) {
      throw new Error(`webgrad: webgpu backend: ${where} gave no adapter` + (isNode() ? `; ${nodeAdapterHint()}` : ""));
    }
  }
  const want = ["shader-f16", "subgroups", "timestamp-query"].filter((f) => adapter.features.has(f));
  const L = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: want,
    requiredLimits: {
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
    },
  });
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.device, info.description].filter((s: string) => s).join(" ") || "unnamed adapter";
  return { device, description, features: want, languageFeatures };
}
