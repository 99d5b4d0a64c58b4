// Kernel family: gemm. See docs/KERNELS.md for the ABI.
