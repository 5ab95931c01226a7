//go:build !noasm && !purego

package isa

import "golang.org/x/sys/cpu"

func cpuLevels() []Level {
	ls := []Level{Go}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, AVX2)
		if cpu.X86.HasAVX512F {
			ls = append(ls, AVX512)
		}
	}
	return ls
}
