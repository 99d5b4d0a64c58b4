// Kernel family: optim. See docs/KERNELS.md for the ABI.
