// Kernel family: pool. See docs/KERNELS.md for the ABI.
