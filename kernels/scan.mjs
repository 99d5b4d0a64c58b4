// Kernel family scan: assembly/scan.ts, shaders/scan.wgsl, host/ops/scan.ts.
const rows = (flops, ...ptrs) => ({ split: { along: "outer", step: Object.fromEntries(ptrs.map((p) => [p, "len * inner"])), flops } });
export default {
  doc: "Cumulative sums and products of a tensor viewed as [outer, len, inner], along len. Each column's running value is updated in order of len, on both backends (the GPU runs one invocation per column), so the twins agree to the bit.",
  enums: {
    ScanOp: { doc: "Op codes of scan_f32.", values: { sum: 0, prod: 1 } },
  },
  kernels: {
    scan_f32: {
      doc: "y[o, l, i] = x[o, 0, i] op … op x[o, l, i] (reverse ≠ 0: x[o, l, i] op … op x[o, len − 1, i], the gradient of cumsum); y may equal x.",
      args: { op: "ScanOp", x: "ptr", y: "ptr", outer: "u32", len: "u32", inner: "u32", reverse: "u32" },
      wasm: rows("outer * len * inner", "x", "y"),
      gpu: { grid: "outer * inner" },
    },
    cumprod_backward_f32: {
      doc: "dx of y = cumprod(x) along len, exact where x has zeros: dx[k] = (Π_{j<k} x[j]) · s[k], s[k] = dy[k] + x[k+1]·s[k+1]. dx must not alias x.",
      args: { x: "ptr", dy: "ptr", dx: "ptr", outer: "u32", len: "u32", inner: "u32" },
      wasm: rows("3 * outer * len * inner", "x", "dy", "dx"),
      gpu: { grid: "outer * inner" },
    },
  },
};
