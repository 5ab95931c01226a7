// Package gemm is the numeric core of anomclust: single-precision matrix
// multiplication (SGEMM) on row-major float32 matrices and the fused
// nearest-neighbour distance kernel built on it.
//
// All matrices are row-major with an explicit leading dimension (the stride
// between rows, in elements).
//
// # How it computes
//
// The structure is BLIS's (Van Zee & van de Geijn, 2015): a register-blocked
// micro-kernel in assembly computes an mr x nr tile of C from a packed A
// micro-panel (mr rows, kc columns) and a packed B micro-panel (kc rows, nr
// columns); a Go driver packs the operands and walks the cache blocks.
//
//   - Kernel, picked at start-up from golang.org/x/sys/cpu: AVX-512F 14x32
//     (28 zmm accumulators; B row in two registers; A values broadcast with a
//     separate VBROADCASTSS, which PERF_NOTES measured faster than the
//     embedded-broadcast FMA), else AVX2+FMA 6x16, else a pure-Go 4x16 kernel.
//     Every assembly kernel has a Go twin (kernel_noasm.go, build tag noasm)
//     and the tests run all kernels the machine has on the same cases.
//   - kc = 1024 at most (balanced so that all k blocks have nearly equal
//     depth), mc such that the packed A block (mc x kc) stays within 640 KiB
//     of the 1 MiB L2, nc = the whole width of a worker's share of C, so A
//     is packed exactly once. BLIS would keep the B micro-panel (kc x nr) in
//     L1, i.e. kc = 256; measured here (Zen 4 class, 512-bit FMA at 32
//     flop/cycle), the L2 feeds the kernel fast enough and fewer passes over
//     C win: kc 256 -> 1024 gave ~+8% on one core.
//   - beta = 0 is a store path of the kernel (the first k block writes C, the
//     following ones add), so C is never zeroed separately.
//   - Packing buffers come from a sync.Pool, and a constant operand (layer
//     weights, a memory bank) can be packed once with PackB / PackBT /
//     PackBank and reused by MatMulPacked / NearestDistancesPacked.
//   - Work is split statically over GOMAXPROCS goroutines by whole tiles:
//     rows of C when there are enough row tiles, otherwise columns too.
//     Partial tiles (m or n not a multiple of the tile) are computed into a
//     small on-stack tile and the valid part copied out.
//
// NearestDistances reuses the same kernel: it computes blocks of A·Bᵀ into
// a small per-worker tile buffer that stays in cache and immediately reduces
// them into running row minima of ||b||² - 2a·b, so the m x n distance matrix
// is never held.
package gemm

import "fmt"

// MatMul computes C = A·B, or C += A·B when accumulate is true.
// A is m x k (leading dimension lda), B is k x n (ldb), C is m x n (ldc).
// It packs B into a pooled buffer on each call; for a constant B prefer
// PackB once and MatMulPacked.
func MatMul(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	defaultConfig().matMul(m, n, k, a, lda, b, ldb, false, c, ldc, accumulate)
}

// MatMulT computes C = A·Bᵀ, or C += A·Bᵀ when accumulate is true.
// A is m x k (lda), B is n x k (ldb), C is m x n (ldc). This is the form of
// a PyTorch nn.Linear (weight is [out, in]); for a constant B prefer PackBT
// once and MatMulPacked.
func MatMulT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	defaultConfig().matMul(m, n, k, a, lda, b, ldb, true, c, ldc, accumulate)
}

// checkDims panics with a clear message when a slice is too short for the
// shape it is said to have: the assembly kernels would not notice.
func checkDims(what string, s []float32, rows, cols, ld int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("gemm: %s has negative shape %dx%d", what, rows, cols))
	}
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("gemm: %s is %dx%d but its leading dimension is %d", what, rows, cols, ld))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("gemm: %s is %dx%d (ld %d): needs %d elements, has %d", what, rows, cols, ld, need, len(s)))
	}
}

// refMatMul is the plain Go reference for MatMul.
func refMatMul(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if !accumulate {
			clear(ci)
		}
		for p := 0; p < k; p++ {
			av := a[i*lda+p]
			bp := b[p*ldb : p*ldb+n]
			for j := range ci {
				ci[j] += av * bp[j]
			}
		}
	}
}

// refMatMulT is the plain Go reference for MatMulT.
func refMatMulT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	for i := 0; i < m; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			bj := b[j*ldb : j*ldb+k]
			var s float32
			for p := range ai {
				s += ai[p] * bj[p]
			}
			if accumulate {
				c[i*ldc+j] += s
			} else {
				c[i*ldc+j] = s
			}
		}
	}
}
