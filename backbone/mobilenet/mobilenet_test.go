package mobilenet

import (
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"

	"github.com/anomclust/anomclust/tensor"
)

// shared is ../shared beside the module root; this package is three
// directories below the root.
var shared = filepath.Join("..", "..", "..", "shared")

var files = map[string]string{
	"mobilenet_v1": "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
	"mobilenet_v2": "mobilenet_v2_1.0_224_quant.tflite",
	// TF2 Keras export: its global pool is a MEAN operator.
	"tf2_mobilenet_v2": "tf2_mobilenet_v2_1.0_224_ptq.tflite",
}

func load(t testing.TB, name string) *MobileNet {
	t.Helper()
	path := filepath.Join(shared, "weights", files[name])
	if _, err := os.Stat(path); err != nil {
		t.Skipf("shared weights not available (%v): MobileNet tests need ../shared/weights", err)
	}
	b, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.Name() != name {
		t.Fatalf("Name() = %q, want %q", b.Name(), name)
	}
	return b
}

func photo(t testing.TB, name string) image.Image {
	t.Helper()
	f, err := os.Open(filepath.Join(shared, "data", "photos", name))
	if err != nil {
		t.Skipf("shared photos not available (%v)", err)
	}
	defer f.Close()
	img, err := bmp.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// modelInput maps an RGB image to the model's real input, x = (p - 128)/128,
// which is exactly the uint8 input's dequantisation (scale 1/128, zero
// point 128).
func modelInput(img image.Image) *tensor.Tensor {
	b := img.Bounds()
	x := tensor.New(b.Dy(), b.Dx(), 3)
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for xx := b.Min.X; xx < b.Max.X; xx++ {
			r, g, bl, _ := img.At(xx, y).RGBA()
			for _, v := range []uint32{r >> 8, g >> 8, bl >> 8} {
				x.Data[i] = (float32(v) - 128) / 128
				i++
			}
		}
	}
	return x
}

// centreCrop crops h x w at ((H-h)/2, (W-w)/2), as the Python script does.
func centreCrop(img image.Image, h, w int) image.Image {
	b := img.Bounds()
	top, left := b.Min.Y+(b.Dy()-h)/2, b.Min.X+(b.Dx()-w)/2
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Copy(dst, image.Point{}, img, image.Rect(left, top, left+w, top+h), draw.Src, nil)
	return dst
}

// TestShapesAt224 pins the tap names and their shapes at 224 px.
func TestShapesAt224(t *testing.T) {
	want := map[string]map[string][]int{
		"mobilenet_v1": {
			"stride2": {112, 112, 64}, "stride4": {56, 56, 128}, "stride8": {28, 28, 256},
			"stride16": {14, 14, 512}, "stride32": {7, 7, 1024}, "Conv2d_0": {112, 112, 32},
			"Conv2d_11_pointwise": {14, 14, 512}, "op0": {112, 112, 32}, "output": {1, 1, 1024},
		},
		"mobilenet_v2": {
			"stride2": {112, 112, 96}, "stride4": {56, 56, 144}, "stride8": {28, 28, 192},
			"stride16": {14, 14, 576}, "stride32": {7, 7, 1280}, "Conv": {112, 112, 32},
			"expanded_conv_5/add": {28, 28, 32}, "expanded_conv_12/add": {14, 14, 96},
			"Logits/Conv2d_1c_1x1": {1, 1, 1001}, "output": {1001},
		},
		"tf2_mobilenet_v2": {
			"stride2": {112, 112, 96}, "stride4": {56, 56, 144}, "stride8": {28, 28, 192},
			"stride16": {14, 14, 576}, "stride32": {7, 7, 1280}, "output": {1001},
		},
	}
	for name, taps := range want {
		t.Run(name, func(t *testing.T) {
			b := load(t, name)
			var layers []string
			for l := range taps {
				layers = append(layers, l)
			}
			sort.Strings(layers)
			out, err := b.Forward([]*tensor.Tensor{tensor.New(224, 224, 3)}, layers)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range layers {
				if got := out[0][l].Shape; !slices.Equal(got, taps[l]) {
					t.Errorf("%s: shape %v, want %v", l, got, taps[l])
				}
				if c, err := b.Channels(l); err != nil || c != taps[l][len(taps[l])-1] {
					t.Errorf("Channels(%s) = %d, %v", l, c, err)
				}
			}
			for _, l := range []string{"stride8", "stride16", "stride32"} {
				if !slices.Contains(b.Layers(), l) {
					t.Errorf("Layers() lacks %s", l)
				}
			}
			if s, _ := b.Stride("stride16"); s != 16 {
				t.Errorf("Stride(stride16) = %d", s)
			}
		})
	}
}

// TestStopsEarly: a 32x32 image is too small for the 7x7 pooling, so it can
// only succeed when Forward stops after the last requested op.
func TestStopsEarly(t *testing.T) {
	b := load(t, "mobilenet_v2")
	img := tensor.New(32, 32, 3)
	out, err := b.Forward([]*tensor.Tensor{img}, []string{"stride8"})
	if err != nil {
		t.Fatalf("stride8 on 32x32: %v", err)
	}
	if !slices.Equal(out[0]["stride8"].Shape, []int{4, 4, 192}) {
		t.Errorf("stride8 shape %v", out[0]["stride8"].Shape)
	}
	if _, err := b.Forward([]*tensor.Tensor{img}, []string{"output"}); err == nil {
		t.Error("output on a 32x32 image succeeded; the 7x7 pooling cannot apply")
	}
	if _, err := b.Forward([]*tensor.Tensor{img}, []string{"layer9"}); err == nil {
		t.Error("unknown layer accepted")
	}
	if _, err := b.Forward([]*tensor.Tensor{tensor.New(32, 32, 1)}, []string{"stride8"}); err == nil {
		t.Error("a 1-channel image accepted")
	}
}

func TestPreprocess(t *testing.T) {
	b := load(t, "mobilenet_v2")
	p := b.Preprocess()
	if p.Crop != 224 || p.Resize != 256 {
		t.Errorf("resize %d crop %d, want 256, 224", p.Resize, p.Crop)
	}
	// (p/255 - Mean)/Std must be the dequantised uint8 input (p - 128)/128;
	// float32 rounding of Mean, Std and p/255 leaves a few ulps.
	for _, px := range []float32{0, 1, 127, 128, 200, 255} {
		got := (px/255 - p.Mean[0]) / p.Std[0]
		want := (px - 128) / 128
		if !(math.Abs(float64(got-want)) <= 1e-6) {
			t.Errorf("pixel %v normalises to %v, want %v", px, got, want)
		}
	}
}

// refFile is testdata/mobilenet_ref.json (testdata/gen_mobilenet_ref.py).
type refFile map[string]map[string]map[string]struct {
	Shape  []int
	Mean   []float64
	Slice  []float32
	Values []float32
}

// TestAgainstPyTorch compares every recorded tap with a PyTorch definition
// of the architecture fed the same dequantised weights and inputs.
//
// Tolerance: max |go - torch| <= 1e-4 * max |torch| per tap (per-channel
// means, the channel 0-1 slice, logits). Both sides compute in float32 with
// different summation orders (im2col GEMM blocks vs oneDNN); over ~50
// layers the relative error measured here is ~1e-6..1e-5, so 1e-4 leaves
// margin while a wrong padding, layout or activation gives errors of 1e-2
// and more. Softmax probabilities are compared absolutely to 1e-5.
func TestAgainstPyTorch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mobilenet_ref.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref refFile
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	images := map[string]func() image.Image{
		"cat224":        func() image.Image { return centreCrop(photo(t, "cat.bmp"), 224, 224) },
		"hopper224":     func() image.Image { return centreCrop(photo(t, "grace_hopper.bmp"), 224, 224) },
		"hopper200x232": func() image.Image { return centreCrop(photo(t, "grace_hopper.bmp"), 200, 232) },
	}
	for _, name := range []string{"mobilenet_v1", "mobilenet_v2"} {
		t.Run(name, func(t *testing.T) {
			b := load(t, name)
			worst := 0.0 // largest relative error seen, for the log
			defer func() { t.Logf("largest error relative to the tap's max |value|: %.2g", worst) }()
			for iname, taps := range ref[name] {
				var layers []string
				for l := range taps {
					layers = append(layers, l)
				}
				sort.Strings(layers)
				out, err := b.Forward([]*tensor.Tensor{modelInput(images[iname]())}, layers)
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range layers {
					r, got := taps[l], out[0][l]
					if !slices.Equal(got.Shape, r.Shape) {
						t.Errorf("%s %s: shape %v, want %v", iname, l, got.Shape, r.Shape)
						continue
					}
					if r.Values != nil {
						tol := 1e-4 * maxAbs32(r.Values)
						if l == "output" {
							tol = 1e-5
						} else {
							worst = math.Max(worst, maxDiff32(got.Data, r.Values)/maxAbs32(r.Values))
						}
						if e := maxDiff32(got.Data, r.Values); !(e <= tol) { // maxDiff is NaN if any value is
							t.Errorf("%s %s: max error %.3g > %.3g", iname, l, e, tol)
						}
						continue
					}
					c := r.Shape[2]
					mean := make([]float64, c)
					for i, v := range got.Data {
						mean[i%c] += float64(v)
					}
					for i := range mean {
						mean[i] /= float64(len(got.Data) / c)
					}
					worst = math.Max(worst, maxDiff64(mean, r.Mean)/maxAbs64(r.Mean))
					if e, tol := maxDiff64(mean, r.Mean), 1e-4*maxAbs64(r.Mean); !(e <= tol) {
						t.Errorf("%s %s: channel means max error %.3g > %.3g", iname, l, e, tol)
					}
					if r.Slice != nil {
						slice := make([]float32, 0, len(r.Slice))
						for p := 0; p < len(got.Data)/c; p++ {
							slice = append(slice, got.Data[p*c], got.Data[p*c+1])
						}
						worst = math.Max(worst, maxDiff32(slice, r.Slice)/maxAbs32(r.Slice))
						if e, tol := maxDiff32(slice, r.Slice), 1e-4*maxAbs32(r.Slice); !(e <= tol) {
							t.Errorf("%s %s: channels 0-1 max error %.3g > %.3g", iname, l, e, tol)
						}
					}
				}
			}
		})
	}
}

func maxAbs32(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

func maxAbs64(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

func maxDiff32(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

func maxDiff64(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i]-b[i]))
	}
	return m
}

// TestClassifier checks that the V2 classifier puts the two real photos in
// sensible ImageNet classes. Labels are in the model's 1001-class indexing
// (0 = background, so index = ImageNet class + 1). The photos are resized
// to 224x224 whole (Coral's classification example does the same), with
// x/image/draw's bilinear filter: the exact PIL resize is not needed for a
// top-5 check.
func TestClassifier(t *testing.T) {
	for _, name := range []string{"mobilenet_v2", "tf2_mobilenet_v2"} {
		t.Run(name, func(t *testing.T) { testClassifier(t, name) })
	}
}

func testClassifier(t *testing.T, name string) {
	b := load(t, name)
	cases := []struct {
		photo string
		want  map[int]string // any of these in the top 5
	}{
		{"cat.bmp", map[int]string{282: "tabby", 283: "tiger cat", 284: "Persian cat", 285: "Siamese cat", 286: "Egyptian cat"}},
		{"grace_hopper.bmp", map[int]string{653: "military uniform"}},
	}
	for _, c := range cases {
		src := photo(t, c.photo)
		dst := image.NewRGBA(image.Rect(0, 0, 224, 224))
		draw.BiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		out, err := b.Forward([]*tensor.Tensor{modelInput(dst)}, []string{"output"})
		if err != nil {
			t.Fatal(err)
		}
		probs := out[0]["output"].Data
		if len(probs) != 1001 {
			t.Fatalf("%d classes, want 1001", len(probs))
		}
		idx := make([]int, len(probs))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(i, j int) bool { return probs[idx[i]] > probs[idx[j]] })
		top := idx[:5]
		found := false
		for _, k := range top {
			if _, ok := c.want[k]; ok {
				found = true
			}
		}
		t.Logf("%s: top-5 %v probabilities %.3f %.3f %.3f %.3f %.3f", c.photo, top,
			probs[top[0]], probs[top[1]], probs[top[2]], probs[top[3]], probs[top[4]])
		if !found {
			t.Errorf("%s: top-5 %v contains none of %v", c.photo, top, c.want)
		}
	}
}

// BenchmarkForward measures one 224x224 image up to the deepest stride tap
// (go test -bench Forward -run ^$ ./backbone/mobilenet/); images/s = 1e9/ns_per_op.
func BenchmarkForward(b *testing.B) {
	for _, name := range []string{"mobilenet_v1", "mobilenet_v2"} {
		b.Run(name, func(b *testing.B) {
			m := load(b, name)
			img := tensor.New(224, 224, 3)
			for i := range img.Data {
				img.Data[i] = float32(i%255)/128 - 1
			}
			b.ResetTimer()
			for range b.N {
				if _, err := m.Forward([]*tensor.Tensor{img}, []string{"stride8", "stride16", "stride32"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
