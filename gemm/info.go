package gemm

// KernelName names the micro-kernel the package's products use on this
// CPU at the active isa level, e.g. "avx2-6x16" (for benchmark reports).
func KernelName() string { return defaultKernel.name }
