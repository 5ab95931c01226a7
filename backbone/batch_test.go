package backbone

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/tensor"
)

// TestForwardEach checks the batching contract with a fake network that
// doubles its input ("double", same shape) and sums each image ("sum",
// (N, 1)): consecutive images of one size share a batch, a size change
// starts a new one, and each image gets back exactly its own slice.
func TestForwardEach(t *testing.T) {
	shapes := [][]int{{4, 5, 3}, {4, 5, 3}, {6, 5, 3}, {4, 5, 3}}
	images := make([]*tensor.Tensor, len(shapes))
	for i, s := range shapes {
		images[i] = tensor.New(s...)
		for j := range images[i].Data {
			images[i].Data[j] = float32(100*i + j)
		}
	}
	var batches []int
	fwd := func(x *tensor.Tensor, layers []string) (map[string]*tensor.Tensor, error) {
		if !slices.Equal(layers, []string{"double", "sum"}) {
			t.Errorf("fwd got layers %v", layers)
		}
		n := x.Shape[0]
		batches = append(batches, n)
		double := tensor.New(x.Shape...)
		sum := tensor.New(n, 1)
		per := len(x.Data) / n
		for i, v := range x.Data {
			double.Data[i] = 2 * v
			sum.Data[i/per] += v
		}
		return map[string]*tensor.Tensor{"double": double, "sum": sum}, nil
	}
	got, err := ForwardEach(images, []string{"double", "sum"}, fwd)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 1, 1}; !slices.Equal(batches, want) {
		t.Errorf("batch sizes %v, want %v", batches, want)
	}
	if len(got) != len(images) {
		t.Fatalf("%d results for %d images", len(got), len(images))
	}
	for i, img := range images {
		d := got[i]["double"]
		if !slices.Equal(d.Shape, img.Shape) {
			t.Errorf("image %d: double has shape %v, want %v", i, d.Shape, img.Shape)
		}
		var sum float32
		for j, v := range img.Data {
			sum += v
			if d.Data[j] != 2*v {
				t.Fatalf("image %d: double[%d] = %g, want %g", i, j, d.Data[j], 2*v)
			}
		}
		s := got[i]["sum"]
		if !slices.Equal(s.Shape, []int{1}) || s.Data[0] != sum {
			t.Errorf("image %d: sum %v %v, want [1] [%g]", i, s.Shape, s.Data, sum)
		}
		// A view must not reach into the next image's values.
		if cap(d.Data) != len(d.Data) {
			t.Errorf("image %d: view has capacity %d beyond its %d values", i, cap(d.Data), len(d.Data))
		}
	}
}

func TestForwardEachErrors(t *testing.T) {
	ok := tensor.New(2, 2, 3)
	fwdErr := errors.New("boom")
	fail := func(*tensor.Tensor, []string) (map[string]*tensor.Tensor, error) { return nil, fwdErr }
	if _, err := ForwardEach([]*tensor.Tensor{ok}, nil, fail); !errors.Is(err, fwdErr) {
		t.Errorf("fwd error: got %v, want %v", err, fwdErr)
	}
	never := func(*tensor.Tensor, []string) (map[string]*tensor.Tensor, error) {
		t.Error("fwd called for a batch after a bad image")
		return nil, nil
	}
	for _, bad := range []*tensor.Tensor{tensor.New(2, 2), tensor.New(2, 2, 4)} {
		_, err := ForwardEach([]*tensor.Tensor{bad}, nil, never)
		if err == nil || !strings.Contains(err.Error(), "image 0") {
			t.Errorf("image of shape %v: err %v, want one naming image 0", bad.Shape, err)
		}
	}
}
