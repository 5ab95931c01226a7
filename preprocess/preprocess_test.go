package preprocess

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fixture is one line of testdata/cases.txt (see gen_pil_fixtures.py).
type fixture struct {
	name, input    string
	resize, crop   int
	mean, std      [3]float32
	hasTensor      bool
	grey16ClipsPIL bool
}

func readCases(t *testing.T) []fixture {
	t.Helper()
	f, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []fixture
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		c := strings.Fields(sc.Text())
		if len(c) != 11 {
			t.Fatalf("cases.txt: bad line %q", sc.Text())
		}
		fx := fixture{name: c[0], input: c[1], hasTensor: c[4] != "-", grey16ClipsPIL: c[10] == "1"}
		fx.resize, _ = strconv.Atoi(c[2])
		fx.crop, _ = strconv.Atoi(c[3])
		if fx.hasTensor {
			for i := 0; i < 3; i++ {
				m, _ := strconv.ParseFloat(c[4+i], 32)
				s, _ := strconv.ParseFloat(c[7+i], 32)
				fx.mean[i], fx.std[i] = float32(m), float32(s)
			}
		}
		out = append(out, fx)
	}
	return out
}

// readWant decodes an expected 8-bit RGB PNG written by PIL.
func readWant(t *testing.T, name string) *RGB {
	t.Helper()
	m, err := DecodeFile(filepath.Join("testdata", "want_"+name+".png"), Grey16HighByte)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readF32(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(b)/4)
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func meanAbsDiff(a, b *RGB) float64 {
	var s float64
	for i := range a.Pix {
		s += math.Abs(float64(a.Pix[i]) - float64(b.Pix[i]))
	}
	return s / float64(len(a.Pix))
}

// diff returns the number of differing bytes and the largest difference.
func diff(a, b *RGB) (n, maxd int) {
	for i := range a.Pix {
		d := int(a.Pix[i]) - int(b.Pix[i])
		if d < 0 {
			d = -d
		}
		if d > 0 {
			n++
		}
		maxd = max(maxd, d)
	}
	return n, maxd
}

// TestAgainstPillow checks Resize+CenterCrop against torchvision/PIL: PNG
// inputs must match to the last bit (0 differing bytes), because the resize
// is a line-by-line port with the same integer arithmetic. The normalised
// tensors must agree within 1e-6: both compute (x/255 - mean)/std in float32,
// so in practice they are identical; 1e-6 only allows for a different
// operation order.
func TestAgainstPillow(t *testing.T) {
	for _, fx := range readCases(t) {
		t.Run(fx.name, func(t *testing.T) {
			o := ImageNet()
			o.Resize, o.Crop = fx.resize, fx.crop
			if fx.hasTensor {
				o.Mean, o.Std = fx.mean, fx.std
			}
			if fx.grey16ClipsPIL {
				o.Grey16 = Grey16ClipPIL
			}
			r, err := o.Load(filepath.Join("testdata", fx.input))
			if err != nil {
				t.Fatal(err)
			}
			want := readWant(t, fx.name)
			if r.Cropped.W != want.W || r.Cropped.H != want.H {
				t.Fatalf("size %dx%d, want %dx%d", r.Cropped.W, r.Cropped.H, want.W, want.H)
			}
			n, maxd := diff(r.Cropped, want)
			if strings.HasSuffix(fx.input, ".jpg") {
				// Go's JPEG decoder is not libjpeg: report, and only guard
				// against gross errors with a loose bound on the mean (a
				// wrong colour conversion or resize is off by tens of levels).
				mean := meanAbsDiff(r.Cropped, want)
				t.Logf("JPEG: %d of %d bytes differ, max %d levels, mean %.3f", n, len(want.Pix), maxd, mean)
				if mean > 2 {
					t.Errorf("JPEG mean difference %.3f levels, expected about one at most", mean)
				}
				return
			}
			t.Logf("%d of %d bytes differ (max %d)", n, len(want.Pix), maxd)
			if n != 0 {
				t.Fatalf("%d of %d bytes differ from Pillow (max %d levels)", n, len(want.Pix), maxd)
			}
			if got := r.X.Shape; len(got) != 3 || got[0] != fx.crop || got[1] != fx.crop || got[2] != 3 {
				t.Fatalf("tensor shape %v", got)
			}
			if !fx.hasTensor {
				return
			}
			wantX := readF32(t, filepath.Join("testdata", "want_"+fx.name+".f32"))
			var worst float64
			for i, w := range wantX {
				worst = math.Max(worst, math.Abs(float64(r.X.Data[i]-w)))
			}
			t.Logf("tensor max |diff| %g", worst)
			if !(worst <= 1e-6) { // math.Max keeps a NaN: it fails too
				t.Fatalf("normalised tensor differs from torchvision by %g", worst)
			}
		})
	}
}

// TestWindowEqualsFullResize: the fused resize+crop computes only the
// crop window; it must equal cropping the full Pillow-style resize exactly,
// for crops at every parity of offset and for both pass orders being skipped.
func TestWindowEqualsFullResize(t *testing.T) {
	src := NewRGB(53, 37)
	for i := range src.Pix {
		src.Pix[i] = uint8(i*7 + i/5)
	}
	for _, c := range []struct{ resize, crop int }{{20, 17}, {20, 20}, {37, 30}, {37, 37}, {80, 61}, {9, 8}, {5, 7}} {
		got, err := ResizeCrop(src, c.resize, c.crop)
		if err != nil {
			t.Fatal(err)
		}
		w, h := ResizedSize(src.W, src.H, c.resize)
		want := CenterCrop(Resize(src, w, h), c.crop)
		if n, _ := diff(got, want); n != 0 || got.W != c.crop || got.H != c.crop {
			t.Errorf("resize %d crop %d: %d bytes differ (size %dx%d)", c.resize, c.crop, n, got.W, got.H)
		}
	}
}

// TestSizeRules pins torchvision 0.14's integer rules, including Python's
// round-half-to-even in center_crop and truncation in Resize.
func TestSizeRules(t *testing.T) {
	for _, c := range []struct{ w, h, size, nw, nh int }{
		{97, 61, 40, 63, 40},    // 40*97/61 = 63.6 -> 63 (truncated)
		{61, 97, 40, 40, 63},    // portrait
		{64, 64, 256, 256, 256}, // square upscale
		{1024, 683, 256, 383, 256},
	} {
		if nw, nh := ResizedSize(c.w, c.h, c.size); nw != c.nw || nh != c.nh {
			t.Errorf("ResizedSize(%d,%d,%d) = %d,%d want %d,%d", c.w, c.h, c.size, nw, nh, c.nw, c.nh)
		}
	}
	for _, c := range []struct{ size, crop, want int }{
		{256, 224, 16}, {63, 32, 16} /* 15.5 -> 16 */, {65, 32, 16} /* 16.5 -> 16 */, {68, 32, 18}, {32, 32, 0},
	} {
		if got := CropOrigin(c.size, c.crop); got != c.want {
			t.Errorf("CropOrigin(%d,%d) = %d want %d", c.size, c.crop, got, c.want)
		}
	}
}

// TestToRGBModes checks the colour conversions PIL's convert("RGB") does
// that the fixtures cannot produce (PIL writes no 16-bit colour PNG).
func TestToRGBModes(t *testing.T) {
	n64 := image.NewNRGBA64(image.Rect(0, 0, 1, 1))
	n64.SetNRGBA64(0, 0, color.NRGBA64{R: 0x12ff, G: 0xab00, B: 0x0101, A: 0x8000})
	g16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	g16.SetGray16(0, 0, color.Gray16{Y: 0x00c8}) // 200
	g16.SetGray16(1, 0, color.Gray16{Y: 0x3456})
	pal := image.NewPaletted(image.Rect(0, 0, 1, 1), color.Palette{color.NRGBA{10, 20, 30, 0}})
	for _, c := range []struct {
		name string
		img  image.Image
		g    Grey16
		want []uint8
	}{
		{"nrgba64 keeps high bytes, drops alpha", n64, Grey16HighByte, []uint8{0x12, 0xab, 0x01}},
		{"gray16 high byte", g16, Grey16HighByte, []uint8{0, 0, 0, 0x34, 0x34, 0x34}},
		{"gray16 PIL clip", g16, Grey16ClipPIL, []uint8{200, 200, 200, 255, 255, 255}},
		{"transparent palette entry keeps its colour", pal, Grey16HighByte, []uint8{10, 20, 30}},
	} {
		got := ToRGB(c.img, c.g).Pix
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: got %v want %v", c.name, got, c.want)
		}
	}
}

// TestRoundTripPNG: decoding our own PNG of an RGBA image gives back the
// colour channels, and Image() restores an opaque RGBA.
func TestRoundTripPNG(t *testing.T) {
	m := NewRGB(3, 2)
	for i := range m.Pix {
		m.Pix[i] = uint8(40 * i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m.Image()); err != nil {
		t.Fatal(err)
	}
	back, err := Decode(&buf, Grey16HighByte)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Pix, m.Pix) {
		t.Fatalf("round trip %v != %v", back.Pix, m.Pix)
	}
}

func TestErrors(t *testing.T) {
	o := ImageNet()
	if _, err := o.Load("testdata/does-not-exist.png"); err == nil || !strings.Contains(err.Error(), "does-not-exist.png") {
		t.Errorf("missing file: error %v should name the file", err)
	}
	if _, err := Decode(strings.NewReader("not an image"), Grey16HighByte); err == nil {
		t.Error("garbage decoded without error")
	}
	o.Std[1] = 0
	if _, err := o.Apply(NewRGB(4, 4)); err == nil {
		t.Error("zero std accepted")
	}
	if _, err := ResizeCrop(NewRGB(4, 4), 0, 2); err == nil {
		t.Error("resize 0 accepted")
	}
}

// BenchmarkLoad1024 is decode + resize + crop + normalise of a 1024x1024
// PNG (the size of MVTec AD images), with the default settings.
func BenchmarkLoad1024(b *testing.B) {
	b.Run("rgb", func(b *testing.B) {
		src := image.NewRGBA(image.Rect(0, 0, 1024, 1024))
		for i := range src.Pix {
			src.Pix[i] = uint8((i*13)>>4 + i>>12)
			if i%4 == 3 {
				src.Pix[i] = 255
			}
		}
		benchLoad(b, src)
	})
	b.Run("grey", func(b *testing.B) {
		src := image.NewGray(image.Rect(0, 0, 1024, 1024))
		for i := range src.Pix {
			src.Pix[i] = uint8((i*13)>>4 + i>>12)
		}
		benchLoad(b, src)
	})
}

func benchLoad(b *testing.B, src image.Image) {
	path := filepath.Join(b.TempDir(), "big.png")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := png.Encode(f, src); err != nil {
		b.Fatal(err)
	}
	f.Close()
	o := ImageNet()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := o.Load(path); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResizeCrop1024 is the resize + crop alone on a 1024x1024 image.
func BenchmarkResizeCrop1024(b *testing.B) {
	src := NewRGB(1024, 1024)
	for i := range src.Pix {
		src.Pix[i] = uint8(i * 7)
	}
	for i := 0; i < b.N; i++ {
		if _, err := ResizeCrop(src, 256, 224); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSharedScrew runs a real 1024x1024 greyscale MVTec image through the
// greyscale fast path of Load and through the general RGB path; both must
// give the same bytes (the channels of a grey image are independent and
// equal). No Pillow reference is stored for it: the fixtures above cover
// exactness.
func TestSharedScrew(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "data", "mvtec_ad", "screw", "test", "scratch_head")
	path := filepath.Join(dir, "000.png")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s absent (needs the shared data beside the project): %v", path, err)
	}
	o := ImageNet()
	fast, err := o.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeFile(path, Grey16HighByte)
	if err != nil {
		t.Fatal(err)
	}
	if m.W != 1024 || m.H != 1024 || !isGrey(m) {
		t.Fatalf("screw image %dx%d grey=%v", m.W, m.H, isGrey(m))
	}
	c, err := ResizeCrop(&RGB{W: m.W, H: m.H, Pix: m.Pix}, o.Resize, o.Crop)
	if err != nil {
		t.Fatal(err)
	}
	// Force the 3-channel passes by resizing a plane view with ch = 3.
	slow := resizePlane(plane{m.W, m.H, 3, m.Pix}, 256, 256, 16, 16, 224, 224).rgb()
	if n, _ := diff(fast.Cropped, c); n != 0 {
		t.Errorf("Load vs ResizeCrop: %d bytes differ", n)
	}
	if n, _ := diff(fast.Cropped, slow); n != 0 {
		t.Errorf("grey plane vs RGB passes: %d bytes differ", n)
	}
}
