//go:build amd64 && !noasm && !purego

package alpha

import (
	"math"

	"github.com/anomclust/anomclust/internal/isa"
)

// argMinAsm reports whether pairArgMinima runs the AVX2 kernel; it reads
// isa.Has on every call so isa.SetForTest switches it.
func argMinAsm() bool { return isa.Has(isa.AVX2) }

// argMinRowAVX2 processes one row i of pairArgMinima over its first n
// columns (n a positive multiple of 8): it returns the minimum over j < n of
// nb[j] - 2·row[j] (computed as nb[j] - (row[j]+row[j]), as the Go twin does)
// and the smallest j attaining it (+Inf and 0 when no value is below +Inf),
// and for each j < n where nai - 2·row[j] < colV[j] sets colV[j] to it and
// colArg[j] to i.
//
//go:noescape
func argMinRowAVX2(n int, row, nb *float32, nai float32, i int32, colV *float32, colArg *int32) (v float32, j int)

// pairArgMinimaAsm is pairArgMinima with the AVX2 row kernel for the columns
// up to the largest multiple of 8 and Go for the rest. The row minimum of the
// Go tail continues the kernel's with a strict comparison, so the first index
// on ties is kept.
func pairArgMinimaAsm(dot []float32, m int, na, nb []float32, rowArg, colArg []int32) {
	inf := float32(math.Inf(1))
	colV := make([]float32, m)
	for j := range colV {
		colV[j] = inf
		colArg[j] = 0
	}
	m8 := m &^ 7
	for i := 0; i < m; i++ {
		row := dot[i*m : (i+1)*m]
		nai := na[i]
		rmin, rarg := inf, int32(0)
		if m8 > 0 {
			v, j := argMinRowAVX2(m8, &row[0], &nb[0], nai, int32(i), &colV[0], &colArg[0])
			rmin, rarg = v, int32(j)
		}
		for j := m8; j < m; j++ {
			t2 := row[j] + row[j]
			if v := nb[j] - t2; v < rmin {
				rmin, rarg = v, int32(j)
			}
			if v := nai - t2; v < colV[j] {
				colV[j], colArg[j] = v, int32(i)
			}
		}
		rowArg[i] = rarg
	}
}
