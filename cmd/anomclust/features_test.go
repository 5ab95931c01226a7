package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/tensor"
)

// TestFeaturesInputNPY runs `features --input-npy` on resnet18 with random
// weights and checks each written (N, C, H, W) file against the library's
// channels-last output, value for value (same code, same weights: the only
// difference allowed is none).
func TestFeaturesInputNPY(t *testing.T) {
	dir := t.TempDir()
	const n, h, w = 3, 64, 48
	in := make([]float32, n*3*h*w)
	for i := range in {
		in[i] = float32(math.Sin(float64(i) * 0.37))
	}
	inPath := filepath.Join(dir, "in.npy")
	if err := npy.Write(inPath, in, n, 3, h, w); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	err := runFeatures([]string{"--backbone", "resnet18", "--random-weights", "--layers", "layer1,layer3",
		"--batch", "2", "--out", out, "--input-npy", inPath})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := zoo.RandomWeights("resnet18", 1)
	if err != nil {
		t.Fatal(err)
	}
	bb, err := zoo.New("resnet18", sd)
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]*tensor.Tensor, n)
	for i := range imgs {
		imgs[i] = tensor.New(h, w, 3)
		for c := 0; c < 3; c++ {
			for p := 0; p < h*w; p++ {
				imgs[i].Data[p*3+c] = in[(i*3+c)*h*w+p]
			}
		}
	}
	want, err := bb.Forward(imgs, []string{"layer1", "layer3"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"layer1", "layer3"} {
		checkNCHW(t, filepath.Join(out, l+".npy"), want, l)
	}
}

// checkNCHW compares an (N, C, H, W) file with per-image (H, W, C) maps.
func checkNCHW(t *testing.T, path string, want []map[string]*tensor.Tensor, layer string) {
	t.Helper()
	got, shape, err := npy.Read[float32](path)
	if err != nil {
		t.Fatal(err)
	}
	ws := want[0][layer].Shape
	if exp := []int{len(want), ws[2], ws[0], ws[1]}; !slices.Equal(shape, exp) {
		t.Fatalf("%s: shape %v, want %v", path, shape, exp)
	}
	hh, ww, c := ws[0], ws[1], ws[2]
	for i := range want {
		m := want[i][layer].Data
		for ch := 0; ch < c; ch++ {
			for p := 0; p < hh*ww; p++ {
				if g, e := got[((i*c+ch)*hh*ww)+p], m[p*c+ch]; g != e {
					t.Fatalf("%s: image %d channel %d position %d: %g, want %g", path, i, ch, p, g, e)
				}
			}
		}
	}
}

// TestFeaturesImages runs `features` on PNG files: decode, the backbone's
// preprocessing (Resize 256, CenterCrop 224, ImageNet normalisation), then
// the network; the result must equal doing the same through the library.
func TestFeaturesImages(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for k := 0; k < 2; k++ {
		img := image.NewRGBA(image.Rect(0, 0, 300, 260))
		for y := 0; y < 260; y++ {
			for x := 0; x < 300; x++ {
				img.Set(x, y, color.RGBA{uint8(x + 40*k), uint8(y * 3), uint8(x ^ y), 255})
			}
		}
		p := filepath.Join(dir, "img"+string(rune('a'+k))+".png")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, p)
	}
	out := filepath.Join(dir, "out")
	if err := runFeatures(append([]string{"--backbone", "resnet18", "--random-weights", "--layers", "layer2", "--out", out}, paths...)); err != nil {
		t.Fatal(err)
	}
	sd, _ := zoo.RandomWeights("resnet18", 1)
	bb, err := zoo.New("resnet18", sd)
	if err != nil {
		t.Fatal(err)
	}
	var imgs []*tensor.Tensor
	for _, p := range paths {
		r, err := preprocess.ImageNet().Load(p)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, r.X)
	}
	want, err := bb.Forward(imgs, []string{"layer2"})
	if err != nil {
		t.Fatal(err)
	}
	checkNCHW(t, filepath.Join(out, "layer2.npy"), want, "layer2")
}

func TestFeaturesUsage(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--backbone", "resnet18", "--random-weights", "--out", "x"},                        // no input
		{"--backbone", "resnet18", "--random-weights", "--weights", "w", "--out", "x", "a"}, // both
	} {
		if err := runFeatures(args); err != errUsage {
			t.Errorf("features %v: err %v, want usage error", args, err)
		}
	}
	if err := runFeatures([]string{"--backbone", "nope", "--random-weights", "--out", t.TempDir(), "a.png"}); err == nil {
		t.Error("unknown backbone accepted")
	}
}
