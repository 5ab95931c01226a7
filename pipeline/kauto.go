package pipeline

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/kselect"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// autoK says whether the plan's K is estimated from X: asked for with
// KAuto, or K not given and the set has no labels to count (fewer than
// two distinct labels carry no class information).
func (o *Options) autoK(nLabels int) bool {
	return o.KAuto || (o.K == 0 && nLabels < 2)
}

// kRange is the candidate range of the K estimate (kselect defaults when
// unset).
func (o *Options) kRange() (int, int) {
	lo, hi := o.KMin, o.KMax
	if lo == 0 {
		lo = kselect.DefaultKMin
	}
	if hi == 0 {
		hi = kselect.DefaultKMax
	}
	return lo, hi
}

// validateK checks the K estimate's options.
func (o *Options) validateK() error {
	lo, hi := o.kRange()
	if lo < 2 || hi < lo || hi > kselect.MaxK {
		return fmt.Errorf("k range %d,%d: want 2 <= min <= max <= %d", lo, hi, kselect.MaxK)
	}
	if o.KAuto && o.K != 0 {
		return errors.New("k auto and a fixed k both given")
	}
	return nil
}

// clusterX clusters X into k clusters, or into the K kselect estimates
// when k is 0 (the estimate is then returned for k.json and run.json),
// with the method o.Cluster names in cluster's table. The method's merge
// tree, if it builds one, is returned for linkage.npy.
func clusterX(o *Options, x *tensor.Tensor, k int, mode string, tau float64) ([]int, *cluster.Linkage, *rundir.KChoice, error) {
	N, D := x.Shape[0], x.Shape[1]
	method, err := cluster.LookupMethod(o.Cluster)
	if err != nil {
		return nil, nil, nil, err
	}
	var kc *rundir.KChoice
	opt := cluster.MethodOptions{Seed: o.Seed, Workers: o.Workers}
	if k == 0 {
		if opt.Tree, err = cluster.Ward(x.Data, N, D); err != nil {
			return nil, nil, nil, err
		}
		lo, hi := o.kRange()
		ko := kselect.Options{KMin: lo, KMax: hi, Seed: o.Seed}
		var spectralCuts map[int][]int // what spectral clustering gave for each candidate K
		if cuts := kselect.SpectralCutsFor(method.Name, x.Data, N, D, o.Seed, o.Workers); cuts != nil {
			ko.SpectralCuts = func(ks []int) ([][]int, error) {
				c, err := cuts(ks)
				if err != nil {
					return nil, err
				}
				spectralCuts = make(map[int][]int, len(ks))
				for i, k := range ks {
					spectralCuts[k] = c[i]
				}
				return c, nil
			}
		}
		r, err := kselect.Estimate(x.Data, N, D, opt.Tree, ko)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("estimating K: %w", err)
		}
		k = r.K
		kc = kChoice(r, mode, tau)
		if pred, ok := spectralCuts[k]; ok { // equal to method.Cluster at k (cluster.SpectralCuts)
			return pred, nil, kc, nil
		}
	}
	pred, link, err := method.Cluster(x.Data, N, D, k, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	return pred, link, kc, nil
}

// kChoice is the rundir record of an estimate.
func kChoice(r *kselect.Result, mode string, tau float64) *rundir.KChoice {
	kc := &rundir.KChoice{Mode: mode, K: r.K, RunnerUp: r.RunnerUp, Criterion: r.Criterion, Ks: r.Ks,
		Values: r.Values, Scores: map[string][]*float64{}}
	if rundir.Mode(mode).HasTau() {
		t := tau
		kc.Tau = &t
	}
	for name, v := range r.Scores {
		ps := make([]*float64, len(v))
		for i, f := range v {
			if !math.IsNaN(f) && !math.IsInf(f, 0) {
				f := f
				ps[i] = &f
			}
		}
		kc.Scores[name] = ps
	}
	// JSON has no NaN: a non-finite decision value is written as 0 (the
	// same candidate is null in Scores).
	kc.Values = make([]float64, len(r.Values))
	for i, f := range r.Values {
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			kc.Values[i] = f
		}
	}
	return kc
}

// describe fills each assignment's distance and confidence (see
// rundir.AssignmentHeader) and its anomaly score, the maximum of its patch
// scores s (NaN for the average mode).
func describe(as []rundir.Assignment, x *tensor.Tensor, pred []int, k int, s *alpha.Scores, mode string) error {
	N, D := x.Shape[0], x.Shape[1]
	cl, err := model.Fit(x.Data, N, D, pred, k)
	if err != nil {
		return err
	}
	for i := range as {
		p := cl.Describe(x.Data[i*D:(i+1)*D], pred[i])
		as[i].Distance, as[i].Confidence, as[i].Score = p.Relative, p.Confidence, math.NaN()
		if rundir.Mode(mode).Scored() && s != nil {
			as[i].Score = maxOf(s.Row(i))
		}
	}
	return nil
}

func maxOf(v []float64) float64 {
	m := math.Inf(-1)
	for _, f := range v {
		m = max(m, f)
	}
	return m
}

// exportClusters writes dir/clusters/cluster_<NN>/<name> for every image:
// a hard link to the image, or a copy where links fail (another file
// system). <name> is the image's path relative to root with separators
// replaced by "__" (unique, and stable across runs); NN is zero-padded to
// the width of K-1. src[i] is the file of as[i]. An earlier export in dir is replaced.
func exportClusters(dir, root string, src []string, as []rundir.Assignment, k int, log io.Writer) error {
	out := filepath.Join(dir, rundir.ExportDir)
	if err := os.RemoveAll(out); err != nil {
		return fmt.Errorf("export clusters: %w", err)
	}
	width := len(fmt.Sprint(max(k-1, 0)))
	copies := 0
	for c := 0; c < k; c++ {
		if err := os.MkdirAll(filepath.Join(out, clusterDirName(c, width)), 0o755); err != nil {
			return fmt.Errorf("export clusters: %w", err)
		}
	}
	for i, a := range as {
		dst := filepath.Join(out, clusterDirName(a.Cluster, width), exportName(root, src[i]))
		if err := os.Link(src[i], dst); err != nil {
			if err := copyFile(src[i], dst); err != nil {
				return fmt.Errorf("export clusters: %w", err)
			}
			copies++
		}
	}
	if copies > 0 {
		fmt.Fprintf(log, "export: %d of %d images copied (hard links failed)\n", copies, len(as))
	}
	return nil
}

func clusterDirName(c, width int) string { return fmt.Sprintf("cluster_%0*d", width, c) }

// exportName is path relative to root, separators replaced by "__"; the
// base name when path is not under root.
func exportName(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		rel = filepath.Base(path)
	}
	return strings.ReplaceAll(filepath.ToSlash(rel), "/", "__")
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// logw is the log writer (io.Discard when none).
func (o *Options) logw() io.Writer {
	if o.Log == nil {
		return io.Discard
	}
	return o.Log
}

// kRangeOf is run.json's record of the K range: set when K may be
// estimated (KAuto, or K not given).
func kRangeOf(o *Options) [2]int {
	if !o.KAuto && o.K != 0 {
		return [2]int{}
	}
	lo, hi := o.kRange()
	return [2]int{lo, hi}
}

// kText is K for a log line ("auto" when estimated).
func kText(k int) string {
	if k == 0 {
		return "auto (estimated per result)"
	}
	return fmt.Sprint(k)
}
