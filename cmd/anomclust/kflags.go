package main

import (
	"fmt"
	"strconv"
	"strings"
)

// parseK parses --k (a number, "auto" or "") and --k-range ("min,max").
func parseK(k, kRange string) (n int, auto bool, lo, hi int, err error) {
	switch k = strings.TrimSpace(k); k {
	case "", "0":
	case "auto":
		auto = true
	default:
		if n, err = strconv.Atoi(k); err != nil || n < 2 {
			return 0, false, 0, 0, fmt.Errorf("--k %q: want a number of clusters >= 2 or auto", k)
		}
	}
	parts := splitList(kRange)
	if len(parts) != 2 {
		return 0, false, 0, 0, fmt.Errorf("--k-range %q: want min,max (e.g. 2,15)", kRange)
	}
	if lo, err = strconv.Atoi(parts[0]); err == nil {
		hi, err = strconv.Atoi(parts[1])
	}
	if err != nil || lo < 2 || hi < lo {
		return 0, false, 0, 0, fmt.Errorf("--k-range %q: want 2 <= min <= max", kRange)
	}
	return n, auto, lo, hi, nil
}
