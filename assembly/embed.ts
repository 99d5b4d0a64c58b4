// Kernel family: embed. See docs/KERNELS.md for the ABI.
