package main

import (
	"strings"

	"github.com/anomclust/anomclust/xpool"
)

// xpoolNames lists the image descriptors for a flag's help.
func xpoolNames() string {
	var s []string
	for _, k := range xpool.Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ") + " (the mean+std kinds take :W, the std part's weight, e.g. meanstd-u:0.5; any kind takes +avg:L, the plain mean of the patches L2-normalised times L appended, e.g. meanstd+avg:0.5)"
}

// parseXPools parses a comma-separated list of image descriptors.
func parseXPools(s string) ([]xpool.Kind, error) {
	var out []xpool.Kind
	for _, p := range splitList(s) {
		k, err := xpool.Parse(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}
