// Package reporttest writes a small but complete run directory, in the
// layout of package rundir, without running the pipeline: synthetic images
// and masks (package synth), alpha maps peaked on the defects, embeddings X
// clustered by labels plus noise, real Ward linkages, assignments and
// metrics, and the summary. Tests of the report and draw packages build on it,
// and so does anyone who wants to look at a report without computing one.
package reporttest

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
)

// Category describes one fake category.
type Category struct {
	Name  string // run category name, e.g. "wood" (texture) or "metal_nut" (object)
	Synth string // synth category drawn for its images: "weave", "wood" or "disc"
	// PerLabel is the number of clustered images per label; labels are
	// "good" and the synth category's defect types, sorted.
	PerLabel int
	// Distinct caps the number of distinct image files per label; images
	// beyond it reuse those files (items.csv rows may share a path), which
	// keeps large fake runs quick to write. 0 = one file per image.
	Distinct int
	// Misplaced lists items.csv indices whose embedding X is moved to the
	// centre of the next label, so Ward puts them in a wrong cluster.
	Misplaced []int
}

// Spec describes a fake run.
type Spec struct {
	Categories []Category
	Taus       []float64 // default {0, 0.5, 1, 2, 4}
	ImageSize  int       // file side in pixels (>= 64), default 64
	Crop       int       // centre-crop side, default 56; Resize = ImageSize
	Grid       int       // patch grid side, default 7
	Dim        int       // embedding length D, default 8
	Seed       uint64
}

// Write creates the fake run under dir: dir/data holds the images, dir/run
// the run directory, whose path it returns.
func Write(dir string, s Spec) (string, error) {
	if len(s.Taus) == 0 {
		s.Taus = []float64{0, 0.5, 1, 2, 4}
	}
	s.ImageSize = cmp0(s.ImageSize, 64)
	s.Crop = cmp0(s.Crop, 56)
	s.Grid = cmp0(s.Grid, 7)
	s.Dim = cmp0(s.Dim, 8)
	data := filepath.Join(dir, "data")
	out := filepath.Join(dir, "run")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	run := &rundir.Run{
		Format: rundir.Format, Tool: "anomclust", Version: "test", GoVersion: "go-test",
		Command: []string{"anomclust", "run", "--data", data, "--out", out},
		Settings: rundir.Settings{Data: data, Out: out, Preset: "seed", Backbone: "fake_backbone",
			Layers: []string{"blocks.10", "blocks.11"}, PretrainDim: 2048, TargetDim: 4096, PatchSize: 3,
			ImageSize: s.Crop, Resize: s.ImageSize, LayerNorm: true, Modes: rundir.Modes(), Taus: s.Taus,
			TrainRatio: 1, Cluster: "ward", Seed: s.Seed, Batch: 8},
		Backbone:    rundir.Backbone{Name: "fake_backbone", WeightsFile: "/nonexistent/fake.pth", Random: true},
		Layers:      []string{"blocks.10", "blocks.11"},
		Protocol:    rundir.ProtocolMVTec,
		Start:       time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		End:         time.Date(2025, 1, 2, 3, 5, 6, 0, time.UTC),
		Stages:      map[string]float64{"features": 40, "scores": 15, "alpha": 3, "cluster": 2, "metrics": 0.1, "write": 1},
		WallSeconds: 61,
	}
	var rows []rundir.Row
	for ci, c := range s.Categories {
		rc, crows, err := writeCategory(data, out, c, s, s.Seed+uint64(ci)*7919)
		if err != nil {
			return "", fmt.Errorf("fake category %s: %w", c.Name, err)
		}
		run.Categories = append(run.Categories, rc)
		run.Settings.Categories = append(run.Settings.Categories, c.Name)
		rows = append(rows, crows...)
	}
	if _, err := rundir.WriteSummary(out, rows, run.Protocol); err != nil {
		return "", err
	}
	return out, rundir.WriteRun(out, run)
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func writeCategory(data, out string, c Category, s Spec, seed uint64) (rundir.Category, []rundir.Row, error) {
	r := rand.New(rand.NewPCG(seed, 1))
	defects := synth.DefectTypes(c.Synth)
	if defects == nil {
		return rundir.Category{}, nil, fmt.Errorf("unknown synth category %q", c.Synth)
	}
	labels := append([]string{"good"}, defects...)
	slices.Sort(labels)
	catDir := filepath.Join(data, c.Name)
	g := s.Grid
	var items []rundir.Item
	var truth []int
	var masks [][]float32 // per item: mask coverage per grid cell (nil for good)
	for li, lab := range labels {
		defect := lab
		if lab == "good" {
			defect = ""
		}
		var files []rundir.Item
		var cover [][]float32
		for k := range c.PerLabel {
			if c.Distinct > 0 && k >= c.Distinct {
				f := files[k%c.Distinct]
				items = append(items, rundir.Item{Index: len(items), Path: f.Path, Label: lab, Mask: f.Mask})
				truth = append(truth, li)
				masks = append(masks, cover[k%c.Distinct])
				continue
			}
			img, mask, err := synth.Draw(c.Synth, defect, s.ImageSize, r)
			if err != nil {
				return rundir.Category{}, nil, err
			}
			rel := filepath.Join(c.Name, "test", lab, fmt.Sprintf("%03d.png", k))
			if err := writePNG(filepath.Join(data, rel), img); err != nil {
				return rundir.Category{}, nil, err
			}
			it := rundir.Item{Index: len(items), Path: rel, Label: lab}
			var cv []float32
			if mask != nil {
				mrel := filepath.Join(c.Name, "ground_truth", lab, fmt.Sprintf("%03d_mask.png", k))
				if err := writePNG(filepath.Join(data, mrel), mask); err != nil {
					return rundir.Category{}, nil, err
				}
				it.Mask = mrel
				cv = coverage(mask, s.ImageSize, s.Crop, g)
			}
			files = append(files, it)
			cover = append(cover, cv)
			items = append(items, it)
			truth = append(truth, li)
			masks = append(masks, cv)
		}
	}
	n := len(items)
	cdir := rundir.CategoryDir(out, c.Name)
	if err := os.MkdirAll(cdir, 0o755); err != nil {
		return rundir.Category{}, nil, err
	}
	if err := rundir.WriteItems(filepath.Join(cdir, rundir.ItemsFile), items); err != nil {
		return rundir.Category{}, nil, err
	}
	counts := make([]int, len(labels))
	for _, t := range truth {
		counts[t]++
	}
	rc := rundir.Category{Name: c.Name, Dir: catDir, NImages: n, Labels: labels, LabelCounts: counts,
		K: len(labels), GridH: g, GridW: g, Dim: s.Dim, ImageSize: s.Crop, Resize: s.ImageSize, NBank: n,
		Stages: map[string]float64{"features": 1}}
	var rows []rundir.Row
	for _, mode := range rundir.Modes() {
		taus := s.Taus
		if !rundir.Mode(mode).HasTau() {
			taus = []float64{0}
		}
		for _, tau := range taus {
			// Noise shrinks towards tau = 2 and is larger without
			// supervision, so the tau curves have a shape to look at.
			noise := 0.35 + 0.25*math.Abs(math.Log2((tau+0.25)/2.25))
			switch mode {
			case rundir.ModeUnsupervised:
				noise *= 1.3
			case rundir.ModeAverage:
				noise = 1.2
			}
			dir := rundir.ResultDir(out, c.Name, mode, tau)
			row, err := writeResult(dir, c, s, mode, tau, noise, labels, items, truth, masks, r)
			if err != nil {
				return rundir.Category{}, nil, err
			}
			row.Category = c.Name
			rows = append(rows, row)
		}
	}
	return rc, rows, nil
}

func writeResult(dir string, c Category, s Spec, mode string, tau, noise float64, labels []string, items []rundir.Item,
	truth []int, masks [][]float32, r *rand.Rand) (rundir.Row, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rundir.Row{}, err
	}
	n, m, d, k := len(items), s.Grid*s.Grid, s.Dim, len(labels)
	alpha := make([]float32, n*m)
	for i := range n {
		score := make([]float64, m)
		for j := range score {
			score[j] = 0.3 * r.Float64()
			if masks[i] != nil && rundir.Mode(mode).Scored() {
				score[j] += 2 * float64(masks[i][j])
			}
			if !rundir.Mode(mode).Scored() {
				score[j] = 0
			}
		}
		softmax(score, tau, alpha[i*m:i*m+m])
	}
	x := make([]float32, n*d)
	for i := range n {
		centre := truth[i]
		if slices.Contains(c.Misplaced, i) {
			centre = (centre + 1) % k
		}
		for j := range d {
			v := r.NormFloat64() * noise
			if j == centre%d {
				v += 3
			}
			x[i*d+j] = float32(v)
		}
	}
	pred, link, err := cluster.WardLabels(x, n, d, k)
	if err != nil {
		return rundir.Row{}, err
	}
	sc, err := metrics.Evaluate(truth, pred)
	if err != nil {
		return rundir.Row{}, err
	}
	mt, err := metrics.Match(truth, pred)
	if err != nil {
		return rundir.Row{}, err
	}
	conf := make([][]int, k)
	for i := range conf {
		conf[i] = make([]int, k)
	}
	as := make([]rundir.Assignment, n)
	for i := range n {
		conf[truth[i]][pred[i]]++
		as[i] = rundir.Assignment{Path: items[i].Path, Label: items[i].Label, Cluster: pred[i]}
	}
	var matching []rundir.ClusterMatch
	for cl := range k {
		cm := rundir.ClusterMatch{Cluster: cl}
		for _, row := range conf {
			cm.Size += row[cl]
		}
		if li, ok := mt.ClassOf(cl); ok {
			cm.Label, cm.Correct = labels[li], conf[li][cl]
		}
		matching = append(matching, cm)
	}
	met := &rundir.Metrics{Category: c.Name, Mode: mode, Cluster: "ward", Protocol: rundir.ProtocolMVTec,
		K: k, N: n, NMI: sc.NMI, ARI: sc.ARI, F1: sc.F1, Labels: labels, Confusion: conf, Matching: matching}
	row := rundir.Row{Kind: rundir.KindCategory, Mode: mode, NCategories: 1, NImages: n, NMI: sc.NMI, ARI: sc.ARI, F1: sc.F1}
	if rundir.Mode(mode).HasTau() {
		t := tau
		met.Tau = &t
		row.Tau, row.HasTau = tau, true
		// The setting a pipeline run would recommend (train images exist).
		row.Recommended = mode == rundir.ModeSemi && tau == 2
	}
	for _, err := range []error{
		npy.Write(filepath.Join(dir, rundir.AlphaFile), alpha, n, m),
		npy.Write(filepath.Join(dir, rundir.XFile), x, n, d),
		npy.Write(filepath.Join(dir, rundir.LinkageFile), link.Matrix(), n-1, 4),
		rundir.WriteAssignments(filepath.Join(dir, rundir.AssignmentsFile), as),
		rundir.WriteMetrics(filepath.Join(dir, rundir.MetricsFile), met),
	} {
		if err != nil {
			return rundir.Row{}, err
		}
	}
	return row, nil
}

// softmax writes exp(s/tau)/sum into out (tau 0: uniform over the maxima),
// as docs/METHOD.md §4 defines alpha.
func softmax(s []float64, tau float64, out []float32) {
	mx := slices.Max(s)
	sum := 0.0
	w := make([]float64, len(s))
	for j, v := range s {
		switch {
		case tau == 0 && v == mx:
			w[j] = 1
		case tau == 0:
			w[j] = 0
		default:
			w[j] = math.Exp((v - mx) / tau)
		}
		sum += w[j]
	}
	for j := range w {
		out[j] = float32(w[j] / sum)
	}
}

// coverage is the fraction of each grid cell of the centre crop covered by
// the mask (crop taken from an image of side size, no resize).
func coverage(mask *image.Gray, size, crop, g int) []float32 {
	off := (size - crop) / 2
	cv := make([]float32, g*g)
	cell := float32(crop) / float32(g)
	for y := range crop {
		for x := range crop {
			if mask.GrayAt(off+x, off+y).Y >= 128 {
				cy, cx := int(float32(y)/cell), int(float32(x)/cell)
				cv[cy*g+cx] += 1 / (cell * cell)
			}
		}
	}
	return cv
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}
