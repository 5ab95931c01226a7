package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// startProfile starts a CPU profile when ANOMCLUST_CPUPROFILE names a file
// (for `go tool pprof`; bench scale's child runs inherit it, so "%p" in the
// name is replaced by the process id). The returned function stops it.
func startProfile() func() {
	path := os.Getenv("ANOMCLUST_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	path = expandPID(path, os.Getpid())
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "anomclust: ANOMCLUST_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "anomclust: ANOMCLUST_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// expandPID replaces each "%p" in path by pid.
func expandPID(path string, pid int) string {
	out := make([]byte, 0, len(path)+8)
	for i := 0; i < len(path); i++ {
		if path[i] == '%' && i+1 < len(path) && path[i+1] == 'p' {
			out = fmt.Appendf(out, "%d", pid)
			i++
			continue
		}
		out = append(out, path[i])
	}
	return string(out)
}
