// Kernel family: reduce, subgroup variants (reduce_f32, argmax_f32 and argmin_f32 over contiguous rows (inner 1), one
// workgroup per row), for adapters with the feature `subgroups`. The kernels are
// reduce.wgsl's row-kernels region, written once: scripts/build-shaders.mjs copies
// it here with the `_workgroup` entry points renamed `_subgroup` and the
// reductions of _row_reduce.subgroups.wgsl (see there for what a subgroup does).
//#row-kernels-of reduce
