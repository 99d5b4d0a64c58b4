// Kernel family: norm, subgroup variants (layernorm_f32, layernorm_backward_f32 and their rmsnorm twins, one
// workgroup per row), for adapters with the feature `subgroups`. The kernels are
// norm.wgsl's row-kernels region, written once: scripts/build-shaders.mjs copies
// it here with the `_workgroup` entry points renamed `_subgroup` and the
// reductions of _row_reduce.subgroups.wgsl (see there for what a subgroup does).
//#row-kernels-of norm
