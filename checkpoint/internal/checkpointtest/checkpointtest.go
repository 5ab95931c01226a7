// Package checkpointtest holds what the checkpoint readers' tests share:
// the testdata/expected.json format their generator scripts write (every
// tensor's dtype, shape and exact values, and the files that must be
// refused with the reason), the comparison of a loaded state dict with it,
// and the invariants their fuzz tests check.
package checkpointtest

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/checkpoint"
)

// Tensor is one tensor of expected.json: float tensors list the float32
// bit patterns of their values (Bits), integer tensors their values (Ints).
type Tensor struct {
	DType string   `json:"dtype"`
	Shape []int    `json:"shape"`
	Bits  []uint32 `json:"bits"`
	Ints  []int64  `json:"ints"`
}

// Expected is expected.json: the tensors of each fixture file, and for
// each file that must be refused a substring of the error.
type Expected struct {
	Files   map[string]map[string]Tensor `json:"files"`
	Refused map[string]string            `json:"refused"`
}

// ReadExpected reads an expected.json file.
func ReadExpected(t testing.TB, path string) Expected {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e Expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return e
}

// CheckStateDict compares sd with want, bit for bit: decoding is exact
// (fp16 and bf16 widen exactly to float32), so no tolerance is needed.
// Each tensor must have its name, dtype and shape, and its values in Data
// (floats) or Ints (integers), the other nil.
func CheckStateDict(t testing.TB, sd checkpoint.StateDict, want map[string]Tensor) {
	t.Helper()
	if len(sd) != len(want) {
		t.Errorf("got %d tensors %v, want %d", len(sd), Names(sd), len(want))
	}
	for name, w := range want {
		got, ok := sd[name]
		if !ok {
			t.Errorf("missing tensor %q (have %v)", name, Names(sd))
			continue
		}
		if got.Name != name {
			t.Errorf("tensor %q has Name %q", name, got.Name)
		}
		if string(got.DType) != w.DType {
			t.Errorf("%s: dtype %s, want %s", name, got.DType, w.DType)
		}
		if !slices.Equal(got.Shape, w.Shape) {
			t.Errorf("%s: shape %v, want %v", name, got.Shape, w.Shape)
		}
		if w.Bits == nil {
			if !slices.Equal(got.Ints, w.Ints) || got.Data != nil {
				t.Errorf("%s: ints %v (floats %d), want %v", name, got.Ints, len(got.Data), w.Ints)
			}
			continue
		}
		if len(got.Data) != len(w.Bits) || got.Ints != nil {
			t.Errorf("%s: %d floats (ints %v), want %d", name, len(got.Data), got.Ints, len(w.Bits))
			continue
		}
		for i, b := range w.Bits {
			if math.Float32bits(got.Data[i]) != b {
				t.Errorf("%s[%d] = %v (%#x), want %v (%#x)", name, i, got.Data[i], math.Float32bits(got.Data[i]), math.Float32frombits(b), b)
				break
			}
		}
	}
}

// Names lists the tensor names of sd, sorted.
func Names(sd checkpoint.StateDict) []string {
	var out []string
	for k := range sd {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// AddFiles adds the contents of the files matching pattern to f's seed
// corpus; no match fails the test.
func AddFiles(f *testing.F, pattern string) {
	f.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files %s: %v", pattern, err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// CheckShapes fails the test if a tensor of sd has a negative dimension or
// holds another number of values than its shape says, and returns the
// number of values in all (a fuzz test compares it with its input's size).
func CheckShapes(t testing.TB, sd checkpoint.StateDict) int {
	t.Helper()
	total := 0
	for name, tt := range sd {
		n := 1
		for _, d := range tt.Shape {
			if d < 0 {
				t.Fatalf("%s: negative dimension in %v", name, tt.Shape)
			}
			n *= d
		}
		if len(tt.Data)+len(tt.Ints) != n {
			t.Fatalf("%s: shape %v but %d values", name, tt.Shape, len(tt.Data)+len(tt.Ints))
		}
		total += n
	}
	return total
}
