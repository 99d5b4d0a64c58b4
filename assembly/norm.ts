// Kernel family: norm. See docs/KERNELS.md for the ABI.
