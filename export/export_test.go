package export

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/tensor"
)

// failingImages yields n images of h x w, then fails.
type failingImages struct{ n, h, w, i int }

func (f *failingImages) Len() int { return f.n + 1 }

func (f *failingImages) Next() (*tensor.Tensor, error) {
	if f.i == f.n {
		return nil, errors.New("image decoding failed")
	}
	f.i++
	return tensor.New(f.h, f.w, 3), nil
}

// TestFeaturesNoPartialFiles: when an image fails after some batches were
// written, the error comes back and no .npy file (nor temporary file) is
// left in the output folder.
func TestFeaturesNoPartialFiles(t *testing.T) {
	sd, err := zoo.RandomWeights("resnet18", 1)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := zoo.New("resnet18", sd, "layer1")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	err = WriteFeatures(bb, &failingImages{n: 3, h: 32, w: 32}, []string{"layer1"}, out, 2, nil)
	if err == nil || !strings.Contains(err.Error(), "image decoding failed") {
		t.Fatalf("err %v, want the source's error", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("output folder holds %v after a failed run, want nothing", ents)
	}
}
