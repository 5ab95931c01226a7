//go:build !noasm && !purego

package isa

import "golang.org/x/sys/cpu"

func cpuLevels() []Level {
	if cpu.ARM64.HasASIMD {
		return []Level{Go, NEON}
	}
	return []Level{Go}
}
