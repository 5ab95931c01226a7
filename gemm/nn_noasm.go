//go:build !amd64 || noasm

package gemm

// haveRowMinAsm reports whether rowMin is an assembly version.
const haveRowMinAsm = false

// rowMin is the pure-Go twin of the assembly rowMin (nn_amd64.go): the
// minimum over j < n of norms[j] - 2·c[j] and the smallest j attaining it.
func rowMin(n int, c, norms *float32) (v float32, j int) {
	return rowMinGo(n, c, norms)
}

// rowMinLevel is one assembly rowMin with the isa level it needs.
type rowMinLevel struct {
	name string
	fn   func(n int, c, norms *float32) (v float32, j int)
}

// rowMinLevels is empty without assembly.
func rowMinLevels() []rowMinLevel { return nil }
