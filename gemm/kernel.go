package gemm

import (
	"unsafe"

	"github.com/anomclust/anomclust/internal/isa"
)

// kernel is one register-blocked micro-kernel: it computes an mr x nr tile of
// C from an A micro-panel and a B micro-panel packed for it.
//
// The contract every kernel (assembly or Go) fulfils, for kc >= 0:
//
//	a: kc*mr floats, a[p*mr+i] = A[i][p]  (column p of the tile's A rows)
//	b: kc*nr floats, b[p*nr+j] = B[p][j]  (row p of the tile's B columns)
//	c: an mr x nr tile with row stride ldc (floats)
//	C  = A·B   if accumulate is false (C is only written: no zeroing needed)
//	C += A·B   if accumulate is true
type kernel struct {
	name   string
	mr, nr int
	fn     func(kc int, a, b, c *float32, ldc int, accumulate bool)
	// rows, when not nil, holds variants for a partial row tile: rows[r]
	// computes and writes only the first r rows (A still packed mr wide).
	rows []func(kc int, a, b, c *float32, ldc int, accumulate bool)
	// lazyGroup is the number of adjacent B panels that MatMul packs as one
	// unit on first use, a k block at a time (0 or 1: whole panels, one at
	// a time). Packing g panels reads each row of B as g*nr contiguous
	// floats instead of nr: a B whose rows are 3 KiB or more apart costs
	// one page walk and one latency-bound miss per g*nr floats instead of
	// per nr.
	lazyGroup int
	// next, when not nil, is fn that also prefetches bnext, the kc x nr B
	// micro-panel the driver will use next; it gives the same bits as fn.
	next func(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32)
	// nextQuarter, when not nil, is fn that also prefetches one line per 4
	// k steps from bnext on: a quarter of a kc x nr panel when nr*4 = 64
	// bytes. The driver gives the last four full tiles of each B panel one
	// quarter of the next panel each, and the other tiles prefetch nothing
	// (kernel6x16q); it gives the same bits as fn.
	nextQuarter func(kc int, a, b, c *float32, ldc int, accumulate bool, bnext *float32)
}

// Kernels in order of preference. The AVX-512 tile 14x32 uses 28 of the 32
// zmm registers as accumulators, two for the B row and two for broadcasts of
// A; PERF_NOTES measured it (like 8x48) at 93-95% of peak with operands in
// cache, and a separate VBROADCASTSS beats the embedded-broadcast FMA. The
// AVX2 tile 6x16 is the classic 12-accumulator ymm layout.
var (
	kernelAVX512 = &kernel{name: "avx512-14x32", mr: 14, nr: 32, fn: kernel14x32, rows: rows14x32}
	kernelAVX2   = &kernel{name: "avx2-6x16", mr: 6, nr: 16, fn: kernel6x16, rows: rows6x16, next: kernel6x16n, nextQuarter: kernel6x16q, lazyGroup: 4}
	kernelGo     = &kernel{name: "go-4x16", mr: 4, nr: 16, fn: kernelGo4x16}
	// kernelNEON is the arm64 ASIMD tile (kernel_arm64.go).
	kernelNEON = &kernel{name: "neon-8x12", mr: 8, nr: 12, fn: kernel8x12, rows: rows8x12}
)

// availableKernels lists the kernels this CPU can run at the active isa
// level (ANOMCLUST_ISA lowers it), fastest first.
func availableKernels() []*kernel {
	var ks []*kernel
	if haveAsm && isa.Has(isa.AVX512) {
		ks = append(ks, kernelAVX512)
	}
	if haveAsm && isa.Has(isa.AVX2) {
		ks = append(ks, kernelAVX2)
	}
	if haveNEONAsm && isa.Has(isa.NEON) {
		ks = append(ks, kernelNEON)
	}
	return append(ks, kernelGo)
}

// defaultKernel is chosen once from the CPU features and never changed.
var defaultKernel = availableKernels()[0]

// goKernel is the pure-Go reference micro-kernel for any tile size; it follows
// the kernel contract above. The assembly kernels' Go twins (kernel_noasm.go)
// are this function at their tile size.
func goKernel(mr, nr, kc int, a, b, c *float32, ldc int, accumulate bool) {
	var acc [16 * 64]float32 // mr*nr <= 1024 for every tile used here
	t := acc[:mr*nr]
	if kc > 0 {
		as := unsafe.Slice(a, kc*mr)
		bs := unsafe.Slice(b, kc*nr)
		for p := 0; p < kc; p++ {
			ap := as[p*mr : p*mr+mr]
			bp := bs[p*nr : p*nr+nr]
			for i, av := range ap {
				ti := t[i*nr : i*nr+nr]
				for j, bv := range bp {
					ti[j] += av * bv
				}
			}
		}
	}
	cs := unsafe.Slice(c, (mr-1)*ldc+nr)
	for i := 0; i < mr; i++ {
		ci := cs[i*ldc : i*ldc+nr]
		ti := t[i*nr : i*nr+nr]
		if accumulate {
			for j := range ci {
				ci[j] += ti[j]
			}
		} else {
			copy(ci, ti)
		}
	}
}

// kernelGo4x16 is the portable kernel used when no assembly kernel applies.
func kernelGo4x16(kc int, a, b, c *float32, ldc int, accumulate bool) {
	goKernel(4, 16, kc, a, b, c, ldc, accumulate)
}
