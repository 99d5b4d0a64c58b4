// Kernel family: softmax, subgroup variants (softmax, log-softmax, their backwards and softmax cross-entropy, one
// workgroup per row), for adapters with the feature `subgroups`. The kernels are
// softmax.wgsl's row-kernels region, written once: scripts/build-shaders.mjs copies
// it here with the `_workgroup` entry points renamed `_subgroup` and the
// reductions of _row_reduce.subgroups.wgsl (see there for what a subgroup does).
//#row-kernels-of softmax
