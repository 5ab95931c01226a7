package pipeline

import (
	"testing"

	"github.com/anomclust/anomclust/rundir"
)

// TestScoreKeyCoresetSearch: the semi score key tells the blocked and the
// sequential coreset search apart (their selections may differ by
// rounding), and ignores the search when there is no coreset.
func TestScoreKeyCoresetSearch(t *testing.T) {
	src := &cacheSource{m: 4, d: 8}
	in := &catInputs{z: src, zRef: src, bank: src}
	key := func(coreset float64, exact bool) string {
		o := &Options{Coreset: coreset, CoresetExact: exact}
		k := in.scoreKey(o, rundir.ModeSemi)
		return string(k[:])
	}
	if key(0.1, false) == key(0.1, true) {
		t.Error("coreset 0.1: same score key for the blocked and the sequential search")
	}
	if key(0, false) != key(0, true) {
		t.Error("no coreset: the score key depends on the coreset search")
	}
	if key(0.1, false) == key(0.2, false) {
		t.Error("coreset fraction not in the score key")
	}
}
