// Kernel family: elementwise. See docs/KERNELS.md for the ABI.
