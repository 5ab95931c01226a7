//go:build (!amd64 && !arm64) || noasm || purego

package isa

// cpuLevels: without assembly (other architectures, or the noasm/purego
// build tags) only the Go twins exist.
func cpuLevels() []Level { return []Level{Go} }
