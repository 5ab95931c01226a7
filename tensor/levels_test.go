package tensor

import (
	"runtime"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// asmLevels are the instruction-set levels package tensor has assembly
// for on this architecture.
func asmLevels() []isa.Level {
	if runtime.GOARCH == "amd64" {
		return []isa.Level{isa.AVX2, isa.AVX512}
	}
	return nil
}

// supported reports whether this CPU and build can run level l.
func supported(l isa.Level) bool {
	for _, s := range isa.Supported() {
		if s == l {
			return true
		}
	}
	return false
}

// forEachLevel runs f as subtests: once for the Go twins (isa.Go), then once
// per assembly level with that level made active by isa.SetForTest, so the
// dispatching functions run its kernels. A level this CPU or build lacks is
// a subtest skipped with the reason.
func forEachLevel(t *testing.T, f func(t *testing.T, l isa.Level)) {
	t.Helper()
	t.Run("go", func(t *testing.T) {
		defer isa.SetForTest(isa.Go)()
		f(t, isa.Go)
	})
	for _, l := range asmLevels() {
		t.Run(l.String(), func(t *testing.T) {
			if !supported(l) {
				t.Skipf("this CPU or build cannot run %s (%s)", l, isa.Describe())
			}
			defer isa.SetForTest(l)()
			f(t, l)
		})
	}
}
