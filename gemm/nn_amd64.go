//go:build !noasm

package gemm

import "github.com/anomclust/anomclust/internal/isa"

// haveRowMinAsm reports whether rowMin is the AVX-512 version, and
// haveRowMinAVX2 whether it is the AVX2 one.
var (
	haveRowMinAsm  = isa.Has(isa.AVX512)
	haveRowMinAVX2 = isa.Has(isa.AVX2)
)

// rowMin returns the minimum over j < n of norms[j] - 2·c[j] and the
// smallest j attaining it, for n a positive multiple of 16. This is the
// epilogue of the fused nearest-neighbour kernel: c is a row of A·Bᵀ, norms
// the ||b_j||². Each of the 16 lanes keeps its own running minimum and
// index (a strict comparison keeps the first of equal values), then the
// lanes are reduced to the minimum and, among the lanes holding it, the
// smallest index.
func rowMin(n int, c, norms *float32) (v float32, j int) {
	if haveRowMinAsm {
		return rowMinAVX512(n, c, norms)
	}
	if haveRowMinAVX2 {
		return rowMinAVX2(n, c, norms)
	}
	return rowMinGo(n, c, norms)
}

// rowMinAVX512 is rowMin in AVX-512F assembly (nn_amd64.s).
//
//go:noescape
func rowMinAVX512(n int, c, norms *float32) (v float32, j int)

// rowMinLevel is one assembly rowMin with the isa level it needs.
type rowMinLevel struct {
	name string
	fn   func(n int, c, norms *float32) (v float32, j int)
}

// rowMinLevels lists the assembly rowMin versions this CPU can run at the
// active isa level, best first (tests check each against rowMinGo).
func rowMinLevels() []rowMinLevel {
	var ls []rowMinLevel
	if haveRowMinAsm {
		ls = append(ls, rowMinLevel{"avx512", rowMinAVX512})
	}
	if haveRowMinAVX2 {
		ls = append(ls, rowMinLevel{"avx2", rowMinAVX2})
	}
	return ls
}
