//go:build !noasm

package fmapeak

import isalevel "github.com/anomclust/anomclust/internal/isa"

var (
	// lanes is the float32 lanes per FMA of the loop fmaLoop runs.
	lanes = 4
	isa   = "Go"
	// fmaLoop runs n iterations of chains FMAs (see fmaLoopGo).
	fmaLoop = fmaLoopGo
)

func init() {
	switch {
	case isalevel.Has(isalevel.AVX512):
		lanes, isa, fmaLoop = 16, "AVX-512", fmaLoop512
	case isalevel.Has(isalevel.AVX2):
		lanes, isa, fmaLoop = 8, "AVX2+FMA", fmaLoop256
	}
}

// fmaLoop512 sets twelve 16-lane accumulators to zero, adds a*b to each of
// them n times (n >= 1) with VFMADD231PS on ZMM registers, where a is
// ab[0:16] and b is ab[16:32], and stores the sum of the twelve accumulators
// to out. Needs AVX-512F.
//
//go:noescape
func fmaLoop512(n int, ab *[32]float32, out *[16]float32)

// fmaLoop256 is fmaLoop512 on YMM registers (8 lanes: a is ab[0:8], b is
// ab[16:24], out[0:8] is written). Needs AVX2 and FMA.
//
//go:noescape
func fmaLoop256(n int, ab *[32]float32, out *[16]float32)
