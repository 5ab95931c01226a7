//go:build !amd64 || noasm

package fmapeak

func addAsmLoops(map[string]struct {
	f     func(int, *[32]float32, *[16]float32)
	lanes int
}) {
}
