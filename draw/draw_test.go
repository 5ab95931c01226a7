package draw_test

import (
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/report/reporttest"
	"github.com/anomclust/anomclust/rundir"
)

// TestUpsampleTorch compares with
// torch.nn.functional.interpolate(x, size=(4, 5), mode="bilinear",
// align_corners=False) on x = [[1, 2, 4], [0, -1, 3]] (PyTorch 1.13; the
// values were printed with "%.7g"). Tolerance 1e-6: both sides compute in
// float32 with a different operation order.
func TestUpsampleTorch(t *testing.T) {
	grid := []float32{1, 2, 4, 0, -1, 3}
	want := []float32{1, 1.4, 2, 3.2, 4, 0.75, 0.95, 1.25, 2.75, 3.75, 0.25, 0.05, -0.2499998, 1.85, 3.25, 0, -0.4, -0.9999998, 1.4, 3}
	got := draw.Upsample(grid, 2, 3, 4, 5)
	for i := range want {
		if !(math.Abs(float64(got[i]-want[i])) <= 1e-6) { // a NaN fails too
			t.Fatalf("Upsample[%d] = %g, torch %g\n got %v", i, got[i], want[i], got)
		}
	}
	// Same size is the identity.
	same := draw.Upsample(grid, 2, 3, 2, 3)
	for i := range grid {
		if same[i] != grid[i] {
			t.Fatalf("identity upsample changed %d: %g -> %g", i, grid[i], same[i])
		}
	}
}

func luma(r, g, b uint8) float64 { return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b) }

func TestColormaps(t *testing.T) {
	// Viridis: ends are matplotlib's, luminance strictly increases.
	if c := draw.Viridis(0); c.R != 0x44 || c.G != 0x01 || c.B != 0x54 {
		t.Errorf("Viridis(0) = %v, want #440154", c)
	}
	if c := draw.Viridis(1); c.R != 0xfd || c.G != 0xe7 || c.B != 0x25 {
		t.Errorf("Viridis(1) = %v, want #fde725", c)
	}
	prev := -1.0
	for i := 0; i <= 255; i++ {
		c := draw.Viridis(float64(i) / 255)
		l := luma(c.R, c.G, c.B)
		if l < prev-0.5 { // 0.5: rounding of the interpolated channels
			t.Fatalf("viridis luminance drops at %d/255: %.1f after %.1f", i, l, prev)
		}
		prev = l
	}
	if c := draw.Jet(0); c.R != 0 || c.G != 0 || c.B != 128 {
		t.Errorf("Jet(0) = %v, want dark blue (0,0,128)", c)
	}
	if c := draw.Jet(1); c.R != 128 || c.G != 0 || c.B != 0 {
		t.Errorf("Jet(1) = %v, want dark red (128,0,0)", c)
	}
	if c := draw.Jet(0.5); c.G != 255 {
		t.Errorf("Jet(0.5) = %v, want full green", c)
	}
	if _, err := draw.ColormapByName("parula"); err == nil {
		t.Error("unknown colormap accepted")
	}
}

// TestOverlayBrightestAtMax: on a flat grey image, the brightest overlay
// pixel lies in the grid cell of the largest alpha.
func TestOverlayBrightestAtMax(t *testing.T) {
	const side, g = 56, 7
	img := preprocess.NewRGB(side, side)
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	for _, cell := range [][2]int{{2, 5}, {0, 0}, {6, 3}} {
		alpha := make([]float32, g*g)
		for i := range alpha {
			alpha[i] = 0.01 * float32(i%3)
		}
		alpha[cell[0]*g+cell[1]] = 0.5
		heat := draw.Upsample(alpha, g, g, side, side)
		ov := draw.Overlay(img, heat, 0.5, draw.Viridis, 0.5)
		by, bx := brightest(ov)
		if by/(side/g) != cell[0] || bx/(side/g) != cell[1] {
			t.Errorf("alpha max in cell %v, brightest pixel (%d,%d) in cell (%d,%d)", cell, by, bx, by/(side/g), bx/(side/g))
		}
	}
}

func brightest(m *image.RGBA) (y, x int) {
	best := -1.0
	b := m.Bounds()
	for yy := b.Min.Y; yy < b.Max.Y; yy++ {
		for xx := b.Min.X; xx < b.Max.X; xx++ {
			c := m.RGBAAt(xx, yy)
			if l := luma(c.R, c.G, c.B); l > best {
				best, y, x = l, yy-b.Min.Y, xx-b.Min.X
			}
		}
	}
	return y, x
}

func fakeRun(t *testing.T) string {
	t.Helper()
	dir, err := reporttest.Write(t.TempDir(), reporttest.Spec{Categories: []reporttest.Category{
		{Name: "metal_nut", Synth: "disc", PerLabel: 3},
		{Name: "wood", Synth: "wood", PerLabel: 2},
	}, Taus: []float64{0.5, 2}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRun draws selected images of a fake run and checks the figure: its
// size, the crop tile against preprocess, the overlay's brightest point at the
// alpha maximum, the mask tile, and that only whole files were left.
func TestRun(t *testing.T) {
	runDir := fakeRun(t)
	out := t.TempDir()
	files, err := draw.Run(runDir, draw.Options{Categories: []string{"metal_nut"}, Mode: "semi", Tau: 2, HasTau: true,
		Images: []string{"1", "hole/000.png"}, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("wrote %d files, want 2: %v", len(files), files)
	}
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := draw.OpenCategory(runDir, run, "metal_nut")
	if err != nil {
		t.Fatal(err)
	}
	alpha, _, err := npy.Read[float32](filepath.Join(rundir.ResultDir(runDir, "metal_nut", "semi", 2), rundir.AlphaFile))
	if err != nil {
		t.Fatal(err)
	}
	crop := run.Categories[0].ImageSize
	side := draw.TileSide(crop)
	f := side / crop
	wantW, wantH := draw.PanelSize(3, side) // metal_nut has masks: image | alpha | mask
	g := run.Categories[0].GridH
	for k, file := range files {
		idx := []int{1, -1}[k]
		if idx < 0 { // "hole/000.png"
			for i, it := range src.Items {
				if strings.HasSuffix(it.Path, filepath.Join("hole", "000.png")) {
					idx = i
				}
			}
		}
		if !strings.HasPrefix(filepath.Base(file), fmt.Sprintf("%04d_", idx)) {
			t.Errorf("file %s is not named after image %d", file, idx)
		}
		img := readPNG(t, file)
		if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
			t.Fatalf("%s: %dx%d, want %dx%d", file, b.Dx(), b.Dy(), wantW, wantH)
		}
		// Tile 0 is the crop, enlarged f times by nearest neighbour.
		c, err := src.Crop(idx)
		if err != nil {
			t.Fatal(err)
		}
		x0, y0 := draw.Gap, draw.Gap+draw.Caption
		for _, p := range [][2]int{{0, 0}, {crop / 2, crop / 3}, {crop - 1, crop - 1}} {
			r, gg, b := c.At(p[0], p[1])
			got := rgbaAt(img, x0+p[0]*f, y0+p[1]*f)
			if got[0] != r || got[1] != gg || got[2] != b {
				t.Errorf("%s: crop tile pixel %v = %v, crop %v", file, p, got, [3]uint8{r, gg, b})
			}
		}
		// Tile 1 is draw.Overlay of the crop with image idx's row of
		// alpha.npy, max-normalised (TestOverlayBrightestAtMax checks the
		// overlay itself), with the mask outline in white: this checks the
		// row, the scale and the placement.
		row := alpha[idx*g*g : (idx+1)*g*g]
		peak := float32(0)
		for _, v := range row {
			peak = max(peak, v)
		}
		ov := draw.Overlay(c, draw.Upsample(row, g, g, crop, crop), peak, draw.Viridis, draw.DefaultOpacity)
		x1 := draw.Gap + side + draw.Gap
		m, err := src.Mask(idx)
		if err != nil || m == nil {
			t.Fatalf("image %d: mask %v, err %v", idx, m, err)
		}
		for y := range crop {
			for x := range crop {
				got := rgbaAt(img, x1+x*f, y0+y*f)
				if got == [3]uint8{255, 255, 255} {
					continue // outline
				}
				w := ov.RGBAAt(x, y)
				if got != [3]uint8{w.R, w.G, w.B} {
					t.Fatalf("%s: overlay tile (%d,%d) = %v, Overlay of row %d gives %v", file, x, y, got, idx, w)
				}
			}
		}
		// Tile 2: the mask, white where the ground truth is.
		x2 := draw.Gap + 2*(side+draw.Gap)
		white := 0
		for y := range crop {
			for x := range crop {
				r, _, _ := m.At(x, y)
				got := rgbaAt(img, x2+x*f, y0+y*f)
				if got[0] != r {
					t.Fatalf("%s: mask tile (%d,%d) = %d, mask %d", file, x, y, got[0], r)
				}
				if r == 255 {
					white++
				}
			}
		}
		if white == 0 {
			t.Errorf("%s: defect image with an empty mask tile", file)
		}
	}
	// Atomic writes leave no temporary files.
	filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(info.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", p)
		}
		return nil
	})
}

func rgbaAt(m image.Image, x, y int) [3]uint8 {
	r, g, b, _ := m.At(x, y).RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// TestRunDefaults: without a mode, every image of every category is drawn
// at the best-NMI setting; a category without masks has two tiles.
func TestRunDefaults(t *testing.T) {
	runDir := fakeRun(t)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := draw.Run(runDir, draw.Options{Scale: draw.Shared})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range run.Categories {
		n += c.NImages
		best, _, err := draw.Best(runDir, run, c.Name, "")
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(runDir, "draw", c.Name, strings.ReplaceAll(best.String(), " tau=", "_tau_"))
		ents, err := os.ReadDir(dir)
		if err != nil || len(ents) != c.NImages {
			t.Errorf("%s: %d files in %s (err %v), want %d", c.Name, len(ents), dir, err, c.NImages)
		}
	}
	if len(files) != n {
		t.Errorf("wrote %d files, want %d", len(files), n)
	}
	// Remove the masks from items.csv: the figure loses its third tile.
	items := filepath.Join(runDir, "wood", rundir.ItemsFile)
	its, err := rundir.ReadItems(items)
	if err != nil {
		t.Fatal(err)
	}
	for i := range its {
		its[i].Mask = ""
	}
	if err := rundir.WriteItems(items, its); err != nil {
		t.Fatal(err)
	}
	files, err = draw.Run(runDir, draw.Options{Categories: []string{"wood"}, Mode: "average", Images: []string{"0"}, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	w, h := draw.PanelSize(2, draw.TileSide(run.Categories[1].ImageSize))
	if b := readPNG(t, files[0]).Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("maskless figure %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
}

func TestSelectErrors(t *testing.T) {
	runDir := fakeRun(t)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := draw.OpenCategory(runDir, run, "metal_nut")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{{"99"}, {"-1"}, {"nothere.png"}, {"000.png"}} { // 000.png is in every label folder
		if _, err := src.Select(bad); err == nil {
			t.Errorf("Select(%v) accepted", bad)
		}
	}
	if idx, err := src.Select([]string{"crack/001.png", "0"}); err != nil || len(idx) != 2 || src.Items[idx[0]].Label != "crack" || idx[1] != 0 {
		t.Errorf("Select = %v, %v", idx, err)
	}
	if _, err := draw.OpenCategory(runDir, run, "bottle"); err == nil || !strings.Contains(err.Error(), "metal_nut") {
		t.Errorf("unknown category error %v should list the run's categories", err)
	}
}

// TestModeNotRun: asking for a mode a category has no results of (here
// semi, as when the pipeline skipped it for lack of train/good images)
// says so and names the modes the category has, with or without a tau.
func TestModeNotRun(t *testing.T) {
	runDir := fakeRun(t)
	if err := os.RemoveAll(filepath.Join(runDir, "wood", rundir.ModeSemi)); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []draw.Options{
		{Categories: []string{"wood"}, Mode: rundir.ModeSemi},
		{Categories: []string{"wood"}, Mode: rundir.ModeSemi, Tau: 2, HasTau: true},
	} {
		opt.Out = t.TempDir()
		_, err := draw.Run(runDir, opt)
		if !errors.Is(err, draw.ErrModeNotRun) || !strings.Contains(err.Error(), "semi") ||
			!strings.Contains(err.Error(), "unsupervised, average only") {
			t.Errorf("%+v: error %v; want ErrModeNotRun naming semi and the modes run (unsupervised, average)", opt, err)
		}
	}
	// The other category still has it.
	if _, err := draw.Run(runDir, draw.Options{Categories: []string{"metal_nut"}, Mode: rundir.ModeSemi, Images: []string{"0"}, Out: t.TempDir()}); err != nil {
		t.Errorf("metal_nut semi: %v", err)
	}
}
