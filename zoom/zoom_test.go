package zoom

import (
	"math"
	"testing"

	"github.com/anomclust/anomclust/preprocess"
)

func TestWindow(t *testing.T) {
	const g = 6
	s := make([]float64, g*g)
	// A 2x2 blob at rows 3-4, cols 1-2, and a single higher spike at (0, 5).
	for _, rc := range [][2]int{{3, 1}, {3, 2}, {4, 1}, {4, 2}} {
		s[rc[0]*g+rc[1]] = 1
	}
	s[5] = 3
	r, c, err := Window(s, g, 2)
	if err != nil || r != 3 || c != 1 {
		t.Errorf("Window(2) = (%d, %d), %v; want (3, 1) (sum 4 beats the spike's 3)", r, c, err)
	}
	r, c, err = Window(s, g, 1)
	if err != nil || r != 0 || c != 5 {
		t.Errorf("Window(1) = (%d, %d), %v; want the spike (0, 5)", r, c, err)
	}
	if _, _, err := Window(s, g, 7); err == nil {
		t.Error("window larger than the grid accepted")
	}
	s[0] = math.NaN()
	if _, _, err := Window(s, g, 2); err == nil {
		t.Error("NaN score accepted")
	}
}

// TestBox maps a window back through Resize(256) + CenterCrop(224) of a
// 1024 x 1024 image (scale 4, crop offset 16): patch cell 8 px of the crop
// = 32 px of the original.
func TestBox(t *testing.T) {
	gm := Geometry{W: 1024, H: 1024, Resize: 256, Crop: 224, Grid: 28}
	r, err := gm.Box(10, 4, 7, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	// x: (16 + 4*8)*4 = 192 .. (16 + 11*8)*4 = 416; y: (16+80)*4 = 384 .. (16+136)*4 = 608.
	if r != (Rect{192, 384, 416, 608}) {
		t.Errorf("Box = %+v, want {192 384 416 608}", r)
	}
	// Margin 0.5 doubles the side around the same centre; near the border
	// the square is shifted inside.
	r, _ = gm.Box(10, 4, 7, 0.5, 0)
	if r != (Rect{80, 272, 528, 720}) {
		t.Errorf("Box with margin = %+v, want {80 272 528 720}", r)
	}
	r, _ = gm.Box(0, 0, 7, 0.5, 0)
	if r.X0 != 0 || r.Y0 != 0 || r.X1 != 448 || r.Y1 != 448 {
		t.Errorf("corner box %+v not shifted inside", r)
	}
	// Minimum side: 0.5 of the short side.
	r, _ = gm.Box(10, 4, 1, 0, 0.5)
	if r.X1-r.X0 != 512 || r.Y1-r.Y0 != 512 {
		t.Errorf("min side: %+v, want 512 px square", r)
	}
	// A non-square image: 600 x 300 resized to 512 x 256, crop 224 at
	// (144, 16); scale 600/512 horizontally.
	gm = Geometry{W: 600, H: 300, Resize: 256, Crop: 224, Grid: 28}
	r, _ = gm.Box(0, 0, 28, 0, 0)
	if r.X0 != int(math.Round(144*600.0/512)) || r.X1-r.X0 != r.Y1-r.Y0 {
		t.Errorf("non-square image box %+v", r)
	}
}

func TestCrop(t *testing.T) {
	m := preprocess.NewRGB(5, 4)
	for i := range m.Pix {
		m.Pix[i] = uint8(i)
	}
	c, err := Crop(m, Rect{1, 2, 4, 4})
	if err != nil {
		t.Fatal(err)
	}
	if c.W != 3 || c.H != 2 {
		t.Fatalf("crop %dx%d", c.W, c.H)
	}
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			r, _, _ := c.At(x, y)
			if want, _, _ := m.At(x+1, y+2); r != want {
				t.Errorf("crop (%d, %d) = %d, want %d", x, y, r, want)
			}
		}
	}
	if _, err := Crop(m, Rect{3, 0, 6, 2}); err == nil {
		t.Error("crop outside the image accepted")
	}
}
