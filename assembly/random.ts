// Kernel family: random. See docs/KERNELS.md for the ABI.
