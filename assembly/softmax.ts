// Kernel family: softmax. See docs/KERNELS.md for the ABI.
