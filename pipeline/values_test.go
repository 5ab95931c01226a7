package pipeline_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/patchfeat"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// copyCategory copies the category folder src (train, test, ground_truth)
// to dst and, when combined > 0, adds test/combined/ with that many images:
// pixel means of two defect images of different types, like MVTec's
// images with several defects.
func copyCategory(t *testing.T, src, dst string, combined int) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	if combined == 0 {
		return
	}
	var types []string
	ents, _ := os.ReadDir(filepath.Join(src, "test"))
	for _, e := range ents {
		if e.IsDir() && e.Name() != "good" {
			types = append(types, e.Name())
		}
	}
	if len(types) < 2 {
		t.Fatalf("%s: %d defect types, want 2", src, len(types))
	}
	read := func(typ string, i int) image.Image {
		t.Helper()
		fs, _ := filepath.Glob(filepath.Join(src, "test", typ, "*.png"))
		slices.Sort(fs)
		f, err := os.Open(fs[i%len(fs)])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		m, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	dir := filepath.Join(dst, "test", "combined")
	os.MkdirAll(dir, 0o755)
	for i := range combined {
		a, b := read(types[0], i), read(types[1], i+1)
		r := a.Bounds()
		out := image.NewRGBA(r)
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				r1, g1, b1, _ := a.At(x, y).RGBA()
				r2, g2, b2, _ := b.At(x, y).RGBA()
				out.Set(x, y, color.RGBA{uint8((r1 + r2) >> 9), uint8((g1 + g2) >> 9), uint8((b1 + b2) >> 9), 255})
			}
		}
		f, err := os.Create(filepath.Join(dir, []string{"000.png", "001.png", "002.png"}[i]))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, out); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// refZ recomputes an image's patch embeddings (M, D) the way the pipeline
// should, from the same pieces (preprocess, the backbone, patchfeat), but
// outside it: a wrong image, order or setting in the pipeline's
// extraction shows up as a mismatch.
func refZ(t *testing.T, net backbone.Backbone, o pipeline.Options, path string) *tensor.Tensor {
	t.Helper()
	p := net.Preprocess()
	r, err := preprocess.Options{Resize: o.Resize, Crop: o.ImageSize, Mean: p.Mean, Std: p.Std}.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	maps, err := net.Forward([]*tensor.Tensor{r.X}, o.Layers)
	if err != nil {
		t.Fatal(err)
	}
	ls := make([]*tensor.Tensor, len(o.Layers))
	for i, l := range o.Layers {
		ls[i] = maps[0][l]
	}
	z, err := patchfeat.PatchEmbeddings(ls, patchfeat.Options{PatchSize: o.PatchSize, PretrainDim: o.PretrainDim,
		TargetDim: o.TargetDim, LayerNorm: o.LayerNorm})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// minDist is min over the patches of b of the Euclidean distance from
// patch a (float64, plain loops).
func minDist(a []float32, b *tensor.Tensor) float64 {
	D := b.Shape[1]
	best := math.Inf(1)
	for n := 0; n < b.Shape[0]; n++ {
		var s float64
		for d, v := range b.Data[n*D : (n+1)*D] {
			x := float64(a[d]) - float64(v)
			s += x * x
		}
		best = min(best, s)
	}
	return math.Sqrt(best)
}

// bruteUnsup is docs/METHOD.md §4's unsupervised score of images 0..n-1 of all:
// s_i^m = mean over every other image j of all of min_n ||z_i^m - z_j^n||.
func bruteUnsup(all []*tensor.Tensor, n int) [][]float64 {
	M, D := all[0].Shape[0], all[0].Shape[1]
	s := make([][]float64, n)
	for i := range n {
		s[i] = make([]float64, M)
		for m := range M {
			for j := range all {
				if j != i {
					s[i][m] += minDist(all[i].Data[m*D:(m+1)*D], all[j])
				}
			}
			s[i][m] /= float64(len(all) - 1)
		}
	}
	return s
}

// bruteSemi is the semi-supervised score: min over every bank patch.
func bruteSemi(z, bank []*tensor.Tensor) [][]float64 {
	M, D := z[0].Shape[0], z[0].Shape[1]
	s := make([][]float64, len(z))
	for i := range z {
		s[i] = make([]float64, M)
		for m := range M {
			s[i][m] = math.Inf(1)
			for _, b := range bank {
				s[i][m] = min(s[i][m], minDist(z[i].Data[m*D:(m+1)*D], b))
			}
		}
	}
	return s
}

// bruteAlpha is the softmax of s/tau over the patches (tau = 0: uniform
// over the patches equal to the maximum).
func bruteAlpha(s []float64, tau float64) []float64 {
	a := make([]float64, len(s))
	mx := slices.Max(s)
	var sum float64
	for m, v := range s {
		switch {
		case tau == 0 && v == mx:
			a[m] = 1
		case tau > 0:
			a[m] = math.Exp((v - mx) / tau)
		}
		sum += a[m]
	}
	for m := range a {
		a[m] /= sum
	}
	return a
}

// checkValues compares one result folder's alpha.npy and X.npy with the
// brute-force alpha and X from the scores s of the clustered images z.
// Returns the alpha read.
func checkValues(t *testing.T, dir string, z []*tensor.Tensor, s [][]float64, tau float64) []float32 {
	t.Helper()
	N, M, D := len(z), z[0].Shape[0], z[0].Shape[1]
	a, shape, err := npy.Read[float32](filepath.Join(dir, rundir.AlphaFile))
	if err != nil || !slices.Equal(shape, []int{N, M}) {
		t.Fatalf("%s alpha: shape %v, %v", dir, shape, err)
	}
	x, shape, err := npy.Read[float32](filepath.Join(dir, rundir.XFile))
	if err != nil || !slices.Equal(shape, []int{N, D}) {
		t.Fatalf("%s X: shape %v, %v", dir, shape, err)
	}
	var worstA, worstX float64
	for i := range N {
		ra := bruteAlpha(s[i], tau)
		rx := make([]float64, D)
		var zmax float64
		for m := range M {
			for d := range D {
				v := float64(z[i].Data[m*D+d])
				rx[d] += ra[m] * v
				zmax = max(zmax, math.Abs(v))
			}
			// The pipeline's scores use the float32 GEMM form of the
			// distance (|a|^2 + |b|^2 - 2ab, then sqrt) and alpha is
			// stored as float32: measured errors are <= 5e-6 relative
			// (tau 0.5). 1e-4 relative + 1e-7 absolute is 20x that and
			// 50x below the smallest real change this test looks for
			// (two combined images move the tau-2 alpha by 1.3%).
			worstA = max(worstA, math.Abs(float64(a[i*M+m])-ra[m])/(1e-4*ra[m]+1e-7))
		}
		for d := range D {
			// X is a convex combination of z: its error is alpha's error
			// times |z|, bounded relative to max |z| (float32 sums over
			// M = 64 patches add ~64 * 6e-8).
			worstX = max(worstX, math.Abs(float64(x[i*D+d])-rx[d])/(1e-4*zmax+1e-7))
		}
	}
	if !(worstA <= 1 && worstX <= 1) { // written so that a NaN fails
		t.Errorf("%s: alpha off by %.3g, X off by %.3g tolerances", dir, worstA, worstX)
	}
	return a
}

// TestValues recomputes, outside the pipeline and in float64, the Z of
// every image, the unsupervised, semi-supervised and average scores, alpha
// and X, and compares them with alpha.npy and X.npy. The category has
// combined images: they are not clustered but are "other images" of the
// unsupervised score (docs/METHOD.md §4), so its alpha differs from a run without
// them, and under defects-only the good images are other images too (the
// defect images then get the same alpha as in the full protocol). The
// semi-supervised bank is the seeded pick recorded in run.json; semi and
// average do not depend on the combined images.
func TestValues(t *testing.T) {
	src := filepath.Join(smallSynth(t), "wood")
	root := t.TempDir()
	plain, withComb := filepath.Join(root, "plain", "wood"), filepath.Join(root, "comb", "wood")
	copyCategory(t, src, plain, 0)
	copyCategory(t, src, withComb, 2)

	net := &poolNet{}
	taus := []float64{0, 0.5, 2}
	run := func(data string, defectsOnly bool) (pipeline.Options, *rundir.Run) {
		t.Helper()
		o := fakeOptions(t, net)
		o.Data = data
		o.Taus = taus
		o.TrainRatio = 0.25 // int(0.25 * 12) = 3 of the 4 train images
		o.Seed = 7
		o.DefectsOnly = defectsOnly
		res, err := pipeline.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return o, res.Run
	}
	oP, runP := run(plain, false)
	oC, runC := run(withComb, false)
	oD, runD := run(withComb, true)

	zs := map[string]*tensor.Tensor{}
	zOf := func(paths []string) []*tensor.Tensor {
		var z []*tensor.Tensor
		for _, p := range paths {
			if zs[p] == nil {
				zs[p] = refZ(t, net, oC, p)
			}
			z = append(z, zs[p])
		}
		return z
	}
	itemPaths := func(out string) []string {
		items, err := rundir.ReadItems(filepath.Join(out, "wood", rundir.ItemsFile))
		if err != nil {
			t.Fatal(err)
		}
		var ps []string
		for _, it := range items {
			ps = append(ps, it.Path)
		}
		return ps
	}

	// The reference-only images: none, the 2 combined, combined + good.
	glob := func(dir, typ string) []string {
		ps, _ := filepath.Glob(filepath.Join(dir, "test", typ, "*.png"))
		slices.Sort(ps)
		return ps
	}
	combined, good := glob(withComb, "combined"), glob(withComb, "good")
	if c := runP.Categories[0]; len(c.ReferenceOnly) != 0 || c.NReference != 12 {
		t.Errorf("no combined: reference-only %v, n_reference %d, want none and 12", c.ReferenceOnly, c.NReference)
	}
	if c := runC.Categories[0]; !slices.Equal(c.ReferenceOnly, combined) || c.NReference != 14 || c.NImages != 12 {
		t.Errorf("with combined: reference-only %v, n_reference %d, N %d; want %v, 14, 12", c.ReferenceOnly, c.NReference, c.NImages, combined)
	}
	if c := runD.Categories[0]; !slices.Equal(c.ReferenceOnly, append(slices.Clone(combined), good...)) || c.NReference != 14 || c.NImages != 9 {
		t.Errorf("defects-only: reference-only %v, n_reference %d, N %d; want combined+good, 14, 9", c.ReferenceOnly, c.NReference, c.NImages)
	}
	if runC.Reference == "" || !strings.Contains(runC.Reference, "combined") {
		t.Errorf("run.json does not describe the unsupervised reference set: %q", runC.Reference)
	}

	// The bank: 3 distinct train/good images, the same pick in every run
	// (same seed, same number of test images... except defects-only,
	// whose 9 test images ask for int(0.25*9) = 2).
	bankC := runC.Categories[0].BankImages
	base := func(ps []string) (b []string) {
		for _, p := range ps {
			b = append(b, filepath.Base(p))
		}
		return b
	}
	if len(bankC) != 3 || runC.Categories[0].NBank != 3 || !slices.Equal(base(bankC), base(runP.Categories[0].BankImages)) {
		t.Errorf("bank %v (plain run: %v), want the same 3 images", bankC, runP.Categories[0].BankImages)
	}
	if len(runD.Categories[0].BankImages) != 2 {
		t.Errorf("defects-only bank %v, want 2 images", runD.Categories[0].BankImages)
	}
	for _, p := range append(slices.Clone(bankC), runD.Categories[0].BankImages...) {
		if filepath.Base(filepath.Dir(p)) != "good" || filepath.Base(filepath.Dir(filepath.Dir(p))) != "train" {
			t.Errorf("bank image %s is not a train/good image", p)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(bankC)))) != len(bankC) {
		t.Errorf("bank images repeat: %v", bankC)
	}

	type alphas map[string][]float32 // by result folder relative to the out folder
	check := func(o pipeline.Options, r *rundir.Run) alphas {
		t.Helper()
		c := r.Categories[0]
		clustered := itemPaths(o.Out)
		z := zOf(clustered)
		all := append(slices.Clone(z), zOf(c.ReferenceOnly)...)
		sU := bruteUnsup(all, len(z))
		sS := bruteSemi(z, zOf(c.BankImages))
		sA := make([][]float64, len(z))
		for i := range sA {
			sA[i] = make([]float64, z[0].Shape[0])
		}
		got := alphas{}
		for _, res := range r.Results(o.Out) {
			s := map[string][][]float64{rundir.ModeUnsupervised: sU, rundir.ModeSemi: sS, rundir.ModeAverage: sA}[res.Mode]
			rel, _ := filepath.Rel(o.Out, res.Dir)
			got[rel] = checkValues(t, res.Dir, z, s, res.Tau)
		}
		return got
	}
	aP, aC, aD := check(oP, runP), check(oC, runC), check(oD, runD)

	// Adding combined images changes the unsupervised alpha of the
	// clustered images (by far more than the tolerance), and nothing else.
	for k, a := range aC {
		var diff float64 // largest relative change
		for i := range a {
			diff = max(diff, math.Abs(float64(a[i]-aP[k][i]))/float64(aP[k][i]+1e-6))
		}
		unsup := strings.HasPrefix(k, filepath.Join("wood", rundir.ModeUnsupervised))
		if unsup && !(diff >= 5e-3) {
			t.Errorf("%s: alpha unchanged (max diff %.2g) by 2 combined images in the reference set", k, diff)
		}
		if !unsup && diff != 0 {
			t.Errorf("%s: alpha changed (max diff %.2g) by combined images, which only the unsupervised score sees", k, diff)
		}
	}
	// Defects-only: same reference set, so the defect images' unsupervised
	// alpha equals their rows of the full protocol (rows matched by path).
	rowOf := map[string]int{}
	for i, p := range itemPaths(oC.Out) {
		rowOf[p] = i
	}
	M := runC.Categories[0].GridH * runC.Categories[0].GridW
	for k, a := range aD {
		if !strings.HasPrefix(k, filepath.Join("wood", rundir.ModeUnsupervised)) {
			continue
		}
		for i, p := range itemPaths(oD.Out) {
			j := rowOf[p]
			for m := range M {
				// Same Z, same reference set: only the summation order may
				// differ; float32 alpha to 1e-5 relative.
				if d := math.Abs(float64(a[i*M+m] - aC[k][j*M+m])); !(d <= 1e-5*float64(aC[k][j*M+m])+1e-7) {
					t.Fatalf("%s: %s patch %d: defects-only alpha %g, full protocol %g", k, p, m, a[i*M+m], aC[k][j*M+m])
				}
			}
		}
	}
}

// TestMaxPerClassReference: with --max-per-class the unsupervised
// reference set is capped per label like the clustered set, with the same
// seeded pick: under defects-only the reference-only good image is the one
// the full protocol clusters, and one of the combined images is kept.
func TestMaxPerClassReference(t *testing.T) {
	data := filepath.Join(t.TempDir(), "wood")
	copyCategory(t, filepath.Join(smallSynth(t), "wood"), data, 3)
	run := func(defectsOnly bool) (pipeline.Options, rundir.Category) {
		t.Helper()
		o := fakeOptions(t, &poolNet{})
		o.Data = data
		o.Modes, o.Taus = []string{rundir.ModeUnsupervised}, []float64{1}
		o.MaxPerClass, o.Seed, o.DefectsOnly = 1, 3, defectsOnly
		res, err := pipeline.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return o, res.Run.Categories[0]
	}
	oF, full := run(false)
	_, defects := run(true)
	if full.NImages != 4 || full.NReference != 5 || len(full.ReferenceOnly) != 1 {
		t.Errorf("full protocol, 1 per class: N %d, n_reference %d, reference-only %v; want 4, 5, one combined image",
			full.NImages, full.NReference, full.ReferenceOnly)
	}
	items, err := rundir.ReadItems(filepath.Join(oF.Out, "wood", rundir.ItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	var good string
	for _, it := range items {
		if it.Label == "good" {
			good = it.Path
		}
	}
	want := append(slices.Clone(full.ReferenceOnly), good)
	if defects.NImages != 3 || !slices.Equal(defects.ReferenceOnly, want) {
		t.Errorf("defects-only, 1 per class: N %d, reference-only %v; want 3, %v", defects.NImages, defects.ReferenceOnly, want)
	}
}
