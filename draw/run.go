package draw

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/anomclust/anomclust/internal/atomicfile"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/rundir"
)

// Scale says how alpha values map to the colour map.
type Scale int

const (
	// PerImage divides each image's alpha by its own maximum, as the
	// method's figures do: every map spans the whole colour range.
	PerImage Scale = iota
	// Shared divides by the largest alpha of the category's images in the
	// result drawn (all of them, not only those selected), so colours compare
	// across images: a flat map stays dark.
	Shared
)

// ParseScale parses "per-image" or "shared".
func ParseScale(s string) (Scale, error) {
	switch s {
	case "per-image", "":
		return PerImage, nil
	case "shared":
		return Shared, nil
	}
	return 0, fmt.Errorf("unknown scale %q (want per-image or shared)", s)
}

// DefaultOpacity is the weight of the colour map against the image.
const DefaultOpacity = 0.5

// Options choose what `anomclust draw` draws.
type Options struct {
	// Categories to draw; empty means every category of the run.
	Categories []string
	// Mode is the weighting mode; "" picks, per category, the setting the
	// run recommends (Recommended, as the report's galleries do), or, for
	// a run that marks none, the mode and tau with the best NMI.
	Mode string
	// Tau is the temperature; with HasTau false the best-NMI tau of Mode
	// is drawn. Ignored for average.
	Tau    float64
	HasTau bool
	// Images selects images by items.csv index ("12") or path: the exact
	// items.csv path or a trailing part of it ("scratch/003.png"). Empty
	// means every image.
	Images []string
	Scale  Scale
	// Out is the output folder; default RUN/draw. Files go to
	// Out/<category>/<setting>/<index>_<label>_<name>.png.
	Out      string
	Colormap Colormap // default Viridis
	Opacity  float64  // default DefaultOpacity
	// Data is where the run's images are now, when they moved (--data).
	Data string
}

// Run draws, for each selected image of a run, one PNG: the crop the model
// saw | alpha overlaid on it | the ground-truth mask (when the category has
// masks). It returns the files written; each is written atomically.
func Run(runDir string, opt Options) ([]string, error) {
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		return nil, err
	}
	if opt.Colormap == nil {
		opt.Colormap = Viridis
	}
	if opt.Opacity == 0 {
		opt.Opacity = DefaultOpacity
	}
	if opt.Out == "" {
		opt.Out = filepath.Join(runDir, "draw")
	}
	cats := opt.Categories
	if len(cats) == 0 {
		for _, c := range run.Categories {
			cats = append(cats, c.Name)
		}
	}
	var written []string
	for _, name := range cats {
		files, err := drawCategory(runDir, run, name, opt)
		written = append(written, files...)
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func drawCategory(runDir string, run *rundir.Run, category string, opt Options) ([]string, error) {
	src, err := OpenCategory(runDir, run, category)
	if err != nil {
		return nil, err
	}
	src.Data = opt.Data
	st := Setting{Mode: opt.Mode, Tau: opt.Tau}
	if opt.Mode != "" {
		if err := CheckMode(runDir, run, category, opt.Mode); err != nil {
			return nil, err
		}
	}
	if rs, ok := Recommended(runDir, run, category); ok && opt.Mode == "" {
		st = rs // as the report shows by default
	} else if opt.Mode == "" || (rundir.Mode(opt.Mode).HasTau() && !opt.HasTau) {
		if st, _, err = Best(runDir, run, category, opt.Mode); err != nil {
			return nil, err
		}
	}
	alpha, err := src.ReadAlpha(st.Dir(runDir, category))
	if err != nil {
		return nil, err
	}
	sel, err := src.Select(opt.Images)
	if err != nil {
		return nil, err
	}
	var shared float32
	for _, v := range alpha {
		shared = max(shared, v)
	}
	dir := filepath.Join(opt.Out, category, strings.ReplaceAll(st.String(), " tau=", "_tau_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := make([]string, len(sel))
	errs := make([]error, len(sel))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, min(runtime.GOMAXPROCS(0), len(sel))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				files[k], errs[k] = src.drawOne(sel[k], alpha, shared, st, dir, opt)
			}
		}()
	}
	for k := range sel {
		next <- k
	}
	close(next)
	wg.Wait()
	var out []string
	for k := range sel {
		if errs[k] != nil {
			return out, errs[k]
		}
		out = append(out, files[k])
	}
	return out, nil
}

// Select turns --images values into items.csv indices (all images when
// empty).
func (s *Source) Select(images []string) ([]int, error) {
	if len(images) == 0 {
		idx := make([]int, len(s.Items))
		for i := range idx {
			idx[i] = i
		}
		return idx, nil
	}
	var idx []int
	for _, q := range images {
		if i, err := strconv.Atoi(q); err == nil {
			if i < 0 || i >= len(s.Items) {
				return nil, fmt.Errorf("category %s: image index %d out of range [0, %d)", s.Cat.Name, i, len(s.Items))
			}
			idx = append(idx, i)
			continue
		}
		found := -1
		q = filepath.ToSlash(filepath.Clean(q))
		for i, it := range s.Items {
			p := filepath.ToSlash(it.Path)
			if p == q || strings.HasSuffix(p, "/"+q) {
				if found >= 0 {
					return nil, fmt.Errorf("category %s: image %q matches both %s and %s; give more of the path or the index", s.Cat.Name, q, s.Items[found].Path, it.Path)
				}
				found = i
			}
		}
		if found < 0 {
			return nil, fmt.Errorf("category %s: no image %q in items.csv", s.Cat.Name, q)
		}
		idx = append(idx, found)
	}
	return idx, nil
}

// Figure renders image i as Run does: crop | overlay | mask (the mask tile
// only when the category has masks; black for an image without one).
// alpha is the result's (N, M) matrix; shared is used as the colour scale
// when scale is Shared.
func (s *Source) Figure(i int, alpha []float32, scale Scale, shared float32, cmap Colormap, opacity float64) (*image.RGBA, error) {
	crop, err := s.Crop(i)
	if err != nil {
		return nil, err
	}
	mask, err := s.Mask(i)
	if err != nil {
		return nil, err
	}
	row, peak := s.Heat(i, alpha, crop.W, crop.H)
	sc := peak
	capt := fmt.Sprintf("alpha max %.3g", peak)
	if scale == Shared {
		sc = shared
		capt = fmt.Sprintf("alpha %.3g/%.3g", peak, shared)
	}
	ov := Overlay(crop, row, sc, cmap, opacity)
	if mask != nil {
		Outline(ov, mask, color.RGBA{255, 255, 255, 255})
	}
	tiles := []Tile{{Image: crop.Image(), Caption: fmt.Sprintf("#%d %s", i, s.Items[i].Label)}, {Image: ov, Caption: capt}}
	if s.HasMasks() {
		if mask == nil {
			mask = preprocess.NewRGB(crop.W, crop.H)
		}
		tiles = append(tiles, Tile{Image: MaskImage(mask), Caption: "mask"})
	}
	return Panel(TileSide(crop.W), tiles...), nil
}

// Heat returns image i's alpha upsampled to w x h, and the image's largest
// alpha.
func (s *Source) Heat(i int, alpha []float32, w, h int) ([]float32, float32) {
	gh, gw := s.Grid()
	m := gh * gw
	row := alpha[i*m : i*m+m]
	var peak float32
	for _, v := range row {
		peak = max(peak, v)
	}
	return Upsample(row, gh, gw, h, w), peak
}

func (s *Source) drawOne(i int, alpha []float32, shared float32, st Setting, dir string, opt Options) (string, error) {
	img, err := s.Figure(i, alpha, opt.Scale, shared, opt.Colormap, opt.Opacity)
	if err != nil {
		return "", err
	}
	it := s.Items[i]
	base := strings.TrimSuffix(filepath.Base(it.Path), filepath.Ext(it.Path))
	name := fmt.Sprintf("%04d_%s_%s.png", i, safeName(it.Label), safeName(base))
	path := filepath.Join(dir, name)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode %s: %w", path, err)
	}
	return path, atomicfile.WriteFile(path, buf.Bytes())
}

// safeName keeps letters, digits, '-', '_' and '.', replacing the rest.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}
