// Kernel family indexing: assembly/indexing.ts, shaders/indexing.wgsl, host/ops/indexing.ts.
// Every kernel views its tensors as [outer, len, inner] around the indexed dim (all tensors
// are contiguous), so one call covers any rank and any dim; rows of `outer` are independent.
export default {
  doc: "Gather, scatter, index-select / index-add and a per-row stable sort along one dim of tensors viewed as [outer, len, inner]. Indices are int32; the wasm backend refuses one out of range before writing, naming it; on the GPU a gathered one reads NaN and a scattered one writes nothing.",
  kernels: {
    gather_dim_b32: {
      doc: "y[o, j, i] = x[o, idx[o, j, i], i]: x [outer, lenX, inner], idx and y [outer, lenI, inner]. 32-bit words, bit for bit (int32 too); an index outside [0, lenX) gives a NaN word (the wasm backend refuses it first).",
      args: { x: "ptr", idx: "ptr", y: "ptr", outer: "u32", lenX: "u32", lenI: "u32", inner: "u32" },
      wasm: "custom",
      gpu: { grid: "outer * lenI * inner" },
    },
    scatter_dim_f32: {
      doc: "y[o, idx[o, j, i], i] = src[o, j, i] (accumulate ≠ 0: +=), j in order, so a repeated index keeps the last (or the in-order sum): y [outer, lenY, inner], idx and src [outer, lenI, inner]. y holds the tensor scattered into. An index outside [0, lenY) writes nothing (the wasm backend refuses it first).",
      args: { src: "ptr", idx: "ptr", y: "ptr", outer: "u32", lenY: "u32", lenI: "u32", inner: "u32", accumulate: "u32" },
      wasm: "custom",
      gpu: { grid: "outer * inner" },
    },
    index_select_b32: {
      doc: "y[o, j, :] = x[o, idx[j], :]: x [outer, lenX, inner], idx [n], y [outer, n, inner]; rows of inner words copied with v128. An index outside [0, lenX) gives NaN words (the wasm backend refuses it first).",
      args: { x: "ptr", idx: "ptr", y: "ptr", outer: "u32", lenX: "u32", n: "u32", inner: "u32" },
      wasm: "custom",
      gpu: { grid: "outer * n * inner" },
    },
    index_add_f32: {
      doc: "dx[o, idx[j], :] += dy[o, j, :] for j in order (the gradient of index_select_b32; accumulates): dx [outer, lenX, inner], dy [outer, n, inner]; an index outside [0, lenX) adds nothing.",
      args: { dy: "ptr", idx: "ptr", dx: "ptr", outer: "u32", lenX: "u32", n: "u32", inner: "u32" },
      wasm: { split: { along: "outer", step: { dy: "n * inner", dx: "lenX * inner" }, flops: "outer * n * inner" } },
      gpu: { grid: "outer * inner" },
    },
    sort_f32: {
      doc: "Stable sort of each row x[o, :, i] (len floats), NaN largest, ascending or descending (ties keep their order either way); writes the first k of the sorted row: values and indices (int32) [outer, k, inner]. The wasm backend merge-sorts 64-bit (order key, position) pairs in scratch, splitting outer over threads; the GPU ranks each element against its row (len² compares per row).",
      args: { x: "ptr", values: "ptr", indices: "ptr", outer: "u32", len: "u32", inner: "u32", k: "u32", descending: "u32", scratch: "scratch" },
      wasm: "custom",
      gpu: { grid: "outer * len * inner" },
    },
  },
};
