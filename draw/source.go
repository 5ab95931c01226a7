package draw

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/rundir"
)

// Source is one category of a run directory: its images in items.csv order,
// and how to turn each back into the crop the backbone saw.
type Source struct {
	RunDir string
	Run    *rundir.Run
	Cat    rundir.Category
	Items  []rundir.Item
	// Data, when not "", is where the run's data set is now (--data DIR):
	// image paths are found under it instead of the run's settings.data.
	Data string
}

// OpenCategory reads OUT/<category>/items.csv of the run in runDir.
func OpenCategory(runDir string, run *rundir.Run, category string) (*Source, error) {
	i := slices.IndexFunc(run.Categories, func(c rundir.Category) bool { return c.Name == category })
	if i < 0 {
		names := make([]string, len(run.Categories))
		for j, c := range run.Categories {
			names[j] = c.Name
		}
		return nil, fmt.Errorf("run %s has no category %q (it has %v)", runDir, category, names)
	}
	cat := run.Categories[i]
	items, err := rundir.ReadItems(filepath.Join(rundir.CategoryDir(runDir, category), rundir.ItemsFile))
	if err != nil {
		return nil, fmt.Errorf("category %s: %w", category, err)
	}
	if cat.NImages != 0 && len(items) != cat.NImages {
		return nil, fmt.Errorf("category %s: items.csv has %d rows, run.json says n_images %d", category, len(items), cat.NImages)
	}
	for k, it := range items {
		if it.Index != k {
			return nil, fmt.Errorf("category %s: items.csv row %d has index %d, want %d", category, k+2, it.Index, k)
		}
	}
	return &Source{RunDir: runDir, Run: run, Cat: cat, Items: items}, nil
}

// Resolve finds the file an items.csv path names (rundir.Resolve): under
// s.Data when set, else the run's data root, then the run directory, the
// category's folder and the working directory.
func (s *Source) Resolve(p string) string {
	return rundir.Resolve(s.RunDir, s.Run, s.Cat.Dir, p, s.Data)
}

// cropSize returns the crop side and resize of the category (run.json's
// per-category values, else the run's settings, else PatchCore's 224/256).
func (s *Source) cropSize() (crop, resize int) {
	crop, resize = s.Cat.ImageSize, s.Cat.Resize
	if crop == 0 {
		crop = s.Run.Settings.ImageSize
	}
	if resize == 0 {
		resize = s.Run.Settings.Resize
	}
	if crop == 0 {
		crop = 224
	}
	if resize == 0 {
		resize = crop * 256 / 224
	}
	return crop, resize
}

// Crop returns image i resized and centre-cropped exactly as the backbone
// saw it (preprocess.ResizeCrop with the category's resize and crop).
func (s *Source) Crop(i int) (*preprocess.RGB, error) {
	return s.load(s.Items[i].Path)
}

// Mask returns image i's ground-truth mask under the same resize and crop,
// or nil when the image has none or the run cropped or aligned the
// images to their part (objectStep).
func (s *Source) Mask(i int) (*preprocess.RGB, error) {
	if s.Items[i].Mask == "" || s.objectStep() {
		return nil, nil
	}
	return s.load(s.Items[i].Mask)
}

// HasMasks reports whether any image of the category has a mask (never
// under an object crop or alignment: the mask would need the image's box
// or pose, so none is drawn).
func (s *Source) HasMasks() bool {
	return !s.objectStep() && slices.ContainsFunc(s.Items, func(it rundir.Item) bool { return it.Mask != "" })
}

// objectStep reports whether the run cropped or aligned the images to
// their part (--object-crop, --object-align).
func (s *Source) objectStep() bool {
	return s.Run.Settings.ObjectCrop || s.Run.Settings.ObjectAlign || s.Cat.ObjectAlign
}

func (s *Source) load(p string) (*preprocess.RGB, error) {
	crop, resize := s.cropSize()
	q := s.Resolve(p)
	m, err := preprocess.DecodeFile(q, preprocess.Grey16HighByte)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("image %s not found (looked under the run folder, %q and %q): %w", p, s.Cat.Dir, s.Run.Settings.Data, err)
		}
		return nil, fmt.Errorf("image %s: %w", q, err)
	}
	// The run's object crop or alignment, as the backbone saw the image.
	st := s.Run.Settings
	m = preprocess.Options{Resize: resize, Crop: crop, ObjectCrop: st.ObjectCrop, ObjectAlign: st.ObjectAlign || s.Cat.ObjectAlign}.Object(m)
	out, err := preprocess.ResizeCrop(m, resize, crop)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", q, err)
	}
	return out, nil
}

// Grid returns the category's patch grid (grid_h, grid_w).
func (s *Source) Grid() (gh, gw int) { return s.Cat.GridH, s.Cat.GridW }

// ReadAlpha reads alpha.npy of one result folder and checks it is (N, M)
// with N the category's image count and M = grid_h*grid_w.
func (s *Source) ReadAlpha(resultDir string) ([]float32, error) {
	path := filepath.Join(resultDir, rundir.AlphaFile)
	a, shape, err := npy.Read[float32](path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	n, m := len(s.Items), s.Cat.GridH*s.Cat.GridW
	if len(shape) != 2 || shape[0] != n || shape[1] != m {
		return nil, fmt.Errorf("%s: shape %v, want (%d, %d) = (images, grid_h*grid_w of %dx%d)", path, shape, n, m, s.Cat.GridH, s.Cat.GridW)
	}
	return a, nil
}

// Setting is one (mode, tau) of a run; Tau is ignored for average.
type Setting struct {
	Mode string
	Tau  float64
}

// Dir is the setting's result folder for a category.
func (st Setting) Dir(runDir, category string) string {
	return rundir.ResultDir(runDir, category, st.Mode, st.Tau)
}

// String is "unsupervised tau=2" or "average".
func (st Setting) String() string {
	if !rundir.Mode(st.Mode).HasTau() {
		return st.Mode
	}
	return st.Mode + " tau=" + rundir.TauName(st.Tau)
}

// Best returns the setting with the highest NMI for a category among the
// run's settings of the given mode ("" = every mode), from the metrics.json
// files present; ties keep the first in run order (modes, then taus).
func Best(runDir string, run *rundir.Run, category, mode string) (Setting, *rundir.Metrics, error) {
	if unlabelled(run, category) {
		st, err := Default(runDir, run, category, mode)
		return st, nil, err
	}
	var best Setting
	var bestM *rundir.Metrics
	for _, r := range run.Results(runDir) {
		if r.Category != category || (mode != "" && r.Mode != mode) {
			continue
		}
		m, err := rundir.ReadMetrics(filepath.Join(r.Dir, rundir.MetricsFile))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return Setting{}, nil, err
		}
		if bestM == nil || m.NMI > bestM.NMI {
			best, bestM = Setting{Mode: r.Mode, Tau: r.Tau}, m
		}
	}
	if bestM == nil {
		if mode != "" {
			return Setting{}, nil, CheckMode(runDir, run, category, mode)
		}
		return Setting{}, nil, fmt.Errorf("run %s: no metrics.json for category %s", runDir, category)
	}
	return best, bestM, nil
}

// ErrModeNotRun is wrapped by CheckMode (and so by Best, Run and the
// report) when a weighting mode asked for has no results for a category:
// the run was made without it, or skipped it (the semi-supervised mode
// needs train/good images).
var ErrModeNotRun = errors.New("weighting mode not run")

// ModesRun returns the modes with at least one metrics.json for category,
// in the run's order.
func ModesRun(runDir string, run *rundir.Run, category string) []string {
	var modes []string
	for _, r := range run.Results(runDir) {
		if r.Category != category || slices.Contains(modes, r.Mode) {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.Dir, rundir.MetricsFile)); err == nil {
			modes = append(modes, r.Mode)
		}
	}
	return modes
}

// CheckMode returns nil when the run has results of mode for category,
// else an error wrapping ErrModeNotRun that names the modes it has.
func CheckMode(runDir string, run *rundir.Run, category, mode string) error {
	ran := ModesRun(runDir, run, category)
	if slices.Contains(ran, mode) {
		return nil
	}
	has := "no results"
	if len(ran) > 0 {
		has = "results of " + strings.Join(ran, ", ") + " only"
	}
	why := ""
	switch {
	case !slices.Contains(run.Settings.Modes, mode):
		why = fmt.Sprintf(" (the run's modes were %s)", strings.Join(run.Settings.Modes, ", "))
	case rundir.Mode(mode).Source() == rundir.SourceBank:
		why = " (skipped: the category has no train/good images)"
	}
	return fmt.Errorf("%s: %w for category %s%s; it has %s (run %s)", mode, ErrModeNotRun, category, why, has, runDir)
}
