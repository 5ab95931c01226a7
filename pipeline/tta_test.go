package pipeline_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/tta"
)

// turnedSet writes a class-per-folder set of square noise images in which
// b/turned.png is a/orig.png turned a quarter counter-clockwise; the
// network input is the whole image (Resize = ImageSize = its side).
func turnedSet(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "set")
	rng := rand.New(rand.NewPCG(7, 8))
	orig := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			// Smooth stripes plus noise: a texture with a direction.
			v := 128 + 80*math.Sin(float64(x)/3+float64(y)/9)
			orig.Set(x, y, color.RGBA{uint8(v), uint8(rng.IntN(256)), uint8(255 - v), 255})
		}
	}
	turned := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sy, sx := tta.Rot90.Src(n, y, x)
			turned.Set(x, y, orig.At(sx, sy))
		}
	}
	other := image.NewRGBA(image.Rect(0, 0, n, n))
	for i := range other.Pix {
		other.Pix[i] = uint8(rng.IntN(256))
	}
	for _, f := range []struct {
		path string
		img  image.Image
	}{{"a/orig.png", orig}, {"a/other.png", other}, {"b/turned.png", turned}, {"b/other.png", other}} {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		w, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(w, f.img); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestTTATurnedInput: through the whole extractor (decode, preprocess, the
// net on each copy, PatchCore aggregation, the copies mapped back), with
// d4 the patch embeddings of a turned image are those of the original,
// turned (the patches permuted); the mean patch is the same. Without the
// augmentation they are not (the aggregation's 3x3 unfold has a
// direction). A TTAAlso variant is stored from the same passes: a second
// Prepare with it computes nothing.
func TestTTATurnedInput(t *testing.T) {
	const n = 64
	data := turnedSet(t, n)
	cache := filepath.Join(t.TempDir(), "cache")
	prepare := func(v string, also []string) (orig, turned *tensor.Tensor, images int64) {
		t.Helper()
		net := &poolNet{}
		o := fakeOptions(t, net)
		o.Data, o.Cache = data, cache
		o.ImageSize, o.Resize = n, n
		o.Modes = []string{rundir.ModeAverage}
		o.TTA, o.TTAAlso = v, also
		p, err := pipeline.Prepare(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		f := p.Categories[0]
		for i, path := range f.Paths {
			switch filepath.Base(path) {
			case "orig.png":
				orig = f.Z[i]
			case "turned.png":
				turned = f.Z[i]
			}
		}
		return orig, turned, net.images.Load()
	}
	gap := func(orig, turned *tensor.Tensor) (grid, mean float64) {
		g := n / 8 // pool8's grid
		d := orig.Shape[1]
		want, err := tta.Apply(tta.Rot90, tensor.From(orig.Data, g, g, d))
		if err != nil {
			t.Fatal(err)
		}
		mo, mt := make([]float64, d), make([]float64, d)
		for i, v := range turned.Data {
			grid = max(grid, math.Abs(float64(v-want.Data[i])))
			mo[i%d] += float64(orig.Data[i])
			mt[i%d] += float64(v)
		}
		for j := range mo {
			mean = max(mean, math.Abs(mo[j]-mt[j])/float64(g*g))
		}
		return grid, mean
	}
	o, tu, images := prepare("d4", []string{"flip", "none"})
	if images != 4*8 {
		t.Errorf("d4: the net saw %d images, want 4 x 8 copies", images)
	}
	// The PNG round trip and the resize are exact at this size; the
	// float32 sums of eight copies in another order differ by rounding.
	if g, m := gap(o, tu); g > 1e-4 || m > 1e-5 {
		t.Errorf("d4: the turned image's Z differs from the turned Z by %g (mean patch %g)", g, m)
	}
	o, tu, images = prepare("none", nil)
	if images != 0 {
		t.Errorf("none after d4 with TTAAlso none: the net saw %d images, want 0 (cache hits)", images)
	}
	if g, m := gap(o, tu); g < 1e-2 || m < 1e-3 {
		t.Errorf("none: the turned image's Z is the turned Z (gap %g, mean patch %g): the check cannot see a wrong mapping", g, m)
	}
	if _, _, images = prepare("flip", nil); images != 0 {
		t.Errorf("flip after d4 with TTAAlso flip: the net saw %d images, want 0", images)
	}
	if _, _, images = prepare("rot4", nil); images != 4*4 {
		t.Errorf("rot4 (not stored by the d4 run): the net saw %d images, want 4 x 4", images)
	}
}

func TestTTAValidate(t *testing.T) {
	for _, c := range []struct {
		v    string
		also []string
		ok   bool
	}{
		{"d4", []string{"flip", "rot4", "none", "d4-max"}, true},
		{"rot4", []string{"flip"}, false}, // the mirror is not among rot4's copies
		{"flip", nil, true},
		{"rot8", nil, false},
		{"none", []string{"flip"}, false},
	} {
		o := fakeOptions(t, &poolNet{})
		o.Modes = []string{rundir.ModeAverage}
		o.TTA, o.TTAAlso = c.v, c.also
		_, err := pipeline.Prepare(context.Background(), o)
		if (err == nil) != c.ok {
			t.Errorf("TTA %s also %v: error %v, want ok %v", c.v, c.also, err, c.ok)
		}
	}
}
