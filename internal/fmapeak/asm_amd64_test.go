//go:build !noasm

package fmapeak

import "golang.org/x/sys/cpu"

func addAsmLoops(m map[string]struct {
	f     func(int, *[32]float32, *[16]float32)
	lanes int
}) {
	if cpu.X86.HasAVX512F {
		m["avx512"] = struct {
			f     func(int, *[32]float32, *[16]float32)
			lanes int
		}{fmaLoop512, 16}
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		m["avx2"] = struct {
			f     func(int, *[32]float32, *[16]float32)
			lanes int
		}{fmaLoop256, 8}
	}
}
