// Kernel family: conv. See docs/KERNELS.md for the ABI.
