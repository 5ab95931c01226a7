package gemm

// tuneKernels are experimental kernels measured by TestTuneKernel.
func tuneKernels() []*kernel { return nil }
