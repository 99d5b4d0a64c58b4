// Kernel family: reduce. See docs/KERNELS.md for the ABI.
