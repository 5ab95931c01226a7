package draw

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/rundir"
)

// TestSourceObjectStep: a run with --object-crop or --object-align (or a
// category --object-auto aligned) is drawn on the image as the backbone
// saw it (the same preprocess step), and its masks are not drawn.
func TestSourceObjectStep(t *testing.T) {
	dir := t.TempDir()
	img := image.NewGray(image.Rect(0, 0, 300, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 300; x++ {
			v := uint8(200)
			if x > 60 && x < 240 && y > 130 && y < 160 || (x-60)*(x-60)+(y-145)*(y-145) < 400 {
				v = 50
			}
			img.SetGray(x, y, color.Gray{v})
		}
	}
	path := filepath.Join(dir, "a.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		st       rundir.Settings
		catAlign bool // --object-auto's decision for the category
	}{{rundir.Settings{ObjectCrop: true}, false}, {rundir.Settings{ObjectAlign: true}, false}, {rundir.Settings{}, true}, {rundir.Settings{}, false}} {
		st := c.st
		st.ImageSize, st.Resize = 56, 64
		src := &Source{RunDir: dir, Run: &rundir.Run{Settings: st}, Cat: rundir.Category{ObjectAlign: c.catAlign}, Items: []rundir.Item{{Path: path, Mask: path}}}
		got, err := src.Crop(0)
		if err != nil {
			t.Fatal(err)
		}
		o := preprocess.Options{Resize: 64, Crop: 56, Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1},
			ObjectCrop: st.ObjectCrop, ObjectAlign: st.ObjectAlign || c.catAlign}
		want, err := o.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.W != want.Cropped.W || string(got.Pix) != string(want.Cropped.Pix) {
			t.Errorf("%+v: drawn crop differs from the backbone's input", st)
		}
		m, err := src.Mask(0)
		if err != nil {
			t.Fatal(err)
		}
		if object := st.ObjectCrop || st.ObjectAlign || c.catAlign; (m == nil) != object || src.HasMasks() == object {
			t.Errorf("%+v: mask %v, HasMasks %v", st, m != nil, src.HasMasks())
		}
	}
}
