// Package backbonetest holds the test helpers the backbone packages share to
// compare a network with its PyTorch reference: loading the reference's
// checkpoint and .npy activations, converting PyTorch's (N, C, H, W) layout
// to the channels-last layout of this project, and the error measure the
// tolerances are stated in.
package backbonetest

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/torchpt"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/tensor"
)

// LoadTorch reads a torch.save'd state_dict with the project's reader.
func LoadTorch(t testing.TB, path string) checkpoint.StateDict {
	t.Helper()
	sd, err := torchpt.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}

// ReadNPY reads a little-endian float32 C-order .npy file; any other dtype
// or order, or a size that does not match the header, fails the test.
func ReadNPY(t testing.TB, path string) (shape []int, data []float32) {
	t.Helper()
	data, shape, err := npy.Read[float32](path)
	if err != nil {
		t.Fatal(err)
	}
	return shape, data
}

// NCHWToNHWC converts PyTorch's (N, C, H, W) layout to channels-last
// (N, H, W, C).
func NCHWToNHWC(shape []int, data []float32) *tensor.Tensor {
	n, c, h, w := shape[0], shape[1], shape[2], shape[3]
	out := tensor.New(n, h, w, c)
	for i := 0; i < n; i++ {
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					out.Data[((i*h+y)*w+x)*c+ch] = data[((i*c+ch)*h+y)*w+x]
				}
			}
		}
	}
	return out
}

// RelMaxErr is max|got - want| / max|want|: the error relative to the
// scale of the map, so that near-zero entries do not dominate.
func RelMaxErr(got, want []float32) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	var num, den float64
	for i := range got {
		// A NaN on either side is an infinite error (the models compared
		// here produce none): max and the division would otherwise turn it
		// into a NaN result that no "e > tolerance" check rejects.
		if g, w := float64(got[i]), float64(want[i]); math.IsNaN(g) || math.IsNaN(w) {
			return math.Inf(1), nil
		}
		num = max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = max(den, math.Abs(float64(want[i])))
	}
	return num / den, nil
}

// CheckLayers compares each requested layer of out with the reference
// activations dir/<name>_<layer>.npy (PyTorch's (N, C, H, W)): the shapes
// must agree and the relative max error (RelMaxErr) stay within tolerance.
func CheckLayers(t testing.TB, dir, name string, out map[string]*tensor.Tensor, req []string, tolerance float64) {
	t.Helper()
	if len(out) != len(req) {
		t.Fatalf("asked for %v, got %d maps", req, len(out))
	}
	for _, l := range req {
		want := NCHWToNHWC(ReadNPY(t, filepath.Join(dir, name+"_"+l+".npy")))
		got := out[l]
		if got == nil {
			t.Fatalf("%s: no map returned", l)
		}
		if !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, want %v", l, got.Shape, want.Shape)
		}
		e, err := RelMaxErr(got.Data, want.Data)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s %s: relative max error %.2g", name, l, e)
		if !(e <= tolerance) {
			t.Errorf("%s: relative max error %.3g > %g", l, e, tolerance)
		}
	}
}
