// Package gemm is the numeric core of anomclust: single-precision matrix
// multiplication (SGEMM) on row-major float32 matrices and the fused
// nearest-neighbour distance kernel built on it.
//
// All matrices are row-major with an explicit leading dimension (the stride
// between rows, in elements).
package gemm

// MatMul computes C = A·B, or C += A·B when accumulate is true.
// A is m x k (leading dimension lda), B is k x n (ldb), C is m x n (ldc).
func MatMul(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	refMatMul(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// MatMulT computes C = A·Bᵀ, or C += A·Bᵀ when accumulate is true.
// A is m x k (lda), B is n x k (ldb), C is m x n (ldc).
func MatMulT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	refMatMulT(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
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
