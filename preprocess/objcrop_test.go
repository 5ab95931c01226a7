package preprocess

import (
	"image"
	"math/rand/v2"
	"testing"
)

// scene is a w x h image of background colour bg with +-noise, and the
// given rectangles painted in their colours (greyscale when all colours
// are grey).
func scene(w, h int, bg [3]uint8, noise int, rects map[image.Rectangle][3]uint8, seed uint64) *RGB {
	rng := rand.New(rand.NewPCG(seed, 1))
	m := NewRGB(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := bg
			for r, col := range rects {
				if (image.Point{x, y}).In(r) {
					c = col
				}
			}
			n := 0
			if noise > 0 {
				n = rng.IntN(2*noise+1) - noise
			}
			for k := 0; k < 3; k++ {
				m.Pix[3*(y*w+x)+k] = uint8(min(255, max(0, int(c[k])+n)))
			}
		}
	}
	return m
}

func grey(v uint8) [3]uint8 { return [3]uint8{v, v, v} }

// TestObjectBoxFindsPart: a dark part on a bright noisy background (the
// screw's case) and a bright part on a black one (metal_nut's): the crop
// is square, inside the image, contains the part, is centred on it, and
// its side is the part's long side with the margin, over keep.
func TestObjectBoxFindsPart(t *testing.T) {
	for _, c := range []struct {
		name     string
		w, h     int
		bg, fg   [3]uint8
		part     image.Rectangle
		keep     float64
		noise    int
		wantSide int
	}{
		{"dark on bright", 1024, 1024, grey(200), grey(110), image.Rect(300, 400, 600, 520), 1, 6, 348},
		{"bright on black, centre crop", 704, 704, grey(15), grey(150), image.Rect(100, 150, 400, 350), 224.0 / 256, 4, 398},
		{"colour only", 600, 400, [3]uint8{60, 60, 60}, [3]uint8{20, 100, 60}, image.Rect(250, 100, 330, 220), 1, 3, 139},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := scene(c.w, c.h, c.bg, c.noise, map[image.Rectangle][3]uint8{c.part: c.fg}, 1)
			r, ok := ObjectBox(m, c.keep)
			if !ok {
				t.Fatalf("no object found, box %v", r)
			}
			if r.Dx() != r.Dy() || !r.In(image.Rect(0, 0, c.w, c.h)) {
				t.Errorf("box %v: not a square inside the %dx%d image", r, c.w, c.h)
			}
			if !c.part.In(r) {
				t.Errorf("box %v does not contain the part %v", r, c.part)
			}
			// The part's box is found to within one scan block (4 px at
			// 1024) and the 3x3 smoothing: a few pixels.
			if d := r.Dx() - c.wantSide; d < -12 || d > 12 {
				t.Errorf("side %d, want %d +- 12", r.Dx(), c.wantSide)
			}
			pc := c.part.Min.Add(c.part.Max).Div(2)
			bc := r.Min.Add(r.Max).Div(2)
			if d := pc.Sub(bc); d.X < -8 || d.X > 8 || d.Y < -8 || d.Y > 8 {
				t.Errorf("box centre %v, part centre %v", bc, pc)
			}
		})
	}
}

// TestObjectBoxFallbacks: no part (noise only), a part filling the image,
// and dust specks alone give the whole image, not ok; a speck far from
// the part does not widen the box; a part near the border gives a box
// shifted inside the image.
func TestObjectBoxFallbacks(t *testing.T) {
	whole := image.Rect(0, 0, 512, 512)
	for name, rects := range map[string]map[image.Rectangle][3]uint8{
		"blank":  nil,
		"filled": {image.Rect(10, 10, 502, 502): grey(60)},
		"specks": {image.Rect(100, 100, 103, 103): grey(40), image.Rect(400, 300, 402, 302): grey(40)},
	} {
		m := scene(512, 512, grey(190), 8, rects, 2)
		if r, ok := ObjectBox(m, 1); ok || r != whole {
			t.Errorf("%s: box %v ok %v, want the whole image, false", name, r, ok)
		}
	}
	part := image.Rect(200, 200, 300, 260)
	m := scene(512, 512, grey(190), 8, map[image.Rectangle][3]uint8{part: grey(60), image.Rect(20, 480, 23, 483): grey(60)}, 3)
	r, ok := ObjectBox(m, 1)
	if !ok || !part.In(r) || r.Dx() > 130 {
		t.Errorf("part with a far speck: box %v ok %v, want about 116 px around %v", r, ok, part)
	}
	edge := image.Rect(0, 0, 120, 80)
	m = scene(512, 512, grey(190), 8, map[image.Rectangle][3]uint8{edge: grey(60)}, 4)
	r, ok = ObjectBox(m, 1)
	if !ok || r.Min != (image.Point{}) || !edge.In(r) {
		t.Errorf("part in the corner: box %v ok %v, want a square from (0,0) containing %v", r, ok, edge)
	}
}

// TestApplyObjectCrop: Options.ObjectCrop gives the pixels of the
// ObjectBox crop, resized and centre-cropped, on the greyscale fast path
// and the RGB path alike; off, the whole image.
func TestApplyObjectCrop(t *testing.T) {
	m := scene(640, 640, grey(180), 5, map[image.Rectangle][3]uint8{image.Rect(100, 300, 260, 380): grey(70)}, 5)
	o := Symmetric()
	o.ObjectCrop = true
	r, ok := ObjectBox(m, o.objectKeep())
	if !ok {
		t.Fatal("no object")
	}
	want, err := ResizeCrop(CropRGB(m, r), o.Resize, o.Crop)
	if err != nil {
		t.Fatal(err)
	}
	g := image.NewGray(image.Rect(0, 0, m.W, m.H))
	for i := range g.Pix {
		g.Pix[i] = m.Pix[3*i]
	}
	for name, run := range map[string]func() (Result, error){
		"rgb":  func() (Result, error) { return o.Apply(m) },
		"grey": func() (Result, error) { return o.ApplyImage(g) },
	} {
		res, err := run()
		if err != nil {
			t.Fatal(err)
		}
		if n, d := diff(res.Cropped, want); n != 0 {
			t.Errorf("%s: %d pixels differ from the crop's (max %d)", name, n, d)
		}
	}
	o.ObjectCrop = false
	res, err := o.Apply(m)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := ResizeCrop(m, o.Resize, o.Crop)
	if n, _ := diff(res.Cropped, full); n != 0 {
		t.Errorf("ObjectCrop off: %d pixels differ from the plain resize", n)
	}
}
