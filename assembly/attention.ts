// Kernel family: attention. See docs/KERNELS.md for the ABI.
