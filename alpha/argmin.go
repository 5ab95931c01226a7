package alpha

import "math"

// pairArgMinima is pairMinima's arg-min twin: rowArg[i] = argmin_j
// ||a_i - b_j|| and colArg[j] = argmin_i ||a_i - b_j|| from the (m x m) dot
// products and squared norms (the first on ties; NaN values are never
// chosen, and a row or column with no value below +Inf gets index 0). It
// runs the AVX2 kernel (argmin_amd64.s) when isa.Has(isa.AVX2), else
// pairArgMinimaGo; both give the same indices.
func pairArgMinima(dot []float32, m int, na, nb []float32, rowArg, colArg []int32) {
	if m <= 0 {
		return
	}
	_ = dot[m*m-1]
	_, _, _, _ = na[m-1], nb[m-1], rowArg[m-1], colArg[m-1]
	if argMinAsm() {
		pairArgMinimaAsm(dot, m, na, nb, rowArg, colArg)
		return
	}
	pairArgMinimaGo(dot, m, na, nb, rowArg, colArg)
}

// pairArgMinimaGo is the plain Go reference for pairArgMinima (the twin the
// assembly is tested against, and the version on other architectures).
func pairArgMinimaGo(dot []float32, m int, na, nb []float32, rowArg, colArg []int32) {
	inf := float32(math.Inf(1))
	colV := make([]float32, m) // small; the products dominate
	for j := range colV {
		colV[j] = inf
		colArg[j] = 0
	}
	for i := 0; i < m; i++ {
		row := dot[i*m : (i+1)*m]
		nai := na[i]
		rmin, rarg := inf, int32(0)
		cv := colV[:len(row)]
		ca := colArg[:len(row)]
		nbs := nb[:len(row)]
		for j, t := range row {
			t2 := t + t
			if v := nbs[j] - t2; v < rmin {
				rmin, rarg = v, int32(j)
			}
			if v := nai - t2; v < cv[j] {
				cv[j], ca[j] = v, int32(i)
			}
		}
		rowArg[i] = rarg
	}
}
