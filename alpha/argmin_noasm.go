//go:build !amd64 || noasm || purego

package alpha

// argMinAsm is false: this build has no pairArgMinima assembly.
func argMinAsm() bool { return false }

// pairArgMinimaAsm is never called in this build (argMinAsm is false); it is
// the Go twin so the dispatch compiles.
func pairArgMinimaAsm(dot []float32, m int, na, nb []float32, rowArg, colArg []int32) {
	pairArgMinimaGo(dot, m, na, nb, rowArg, colArg)
}
