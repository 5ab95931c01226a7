//go:build !linux

package bench

import "os"

// childMaxRSS is not measured on this platform.
func childMaxRSS(*os.ProcessState) int64 { return -1 }
