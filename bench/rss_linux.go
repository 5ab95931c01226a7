//go:build linux

package bench

import (
	"os"
	"syscall"
)

// childMaxRSS is the peak resident set of a finished child process in
// bytes (Linux reports ru_maxrss in KiB), or -1.
func childMaxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss) * 1024
	}
	return -1
}
