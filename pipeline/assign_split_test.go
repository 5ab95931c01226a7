package pipeline_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// splitOutcome is one A/B split of a real set: A's clustering F1 and B's
// accuracy by each placement rule.
type splitOutcome struct {
	mode    string
	tau     float64
	nA, nB  int
	f1      float64
	acc     map[string]float64 // placement rule -> accuracy on B
	nNew    int                // B images assign flags new
	accKept float64            // nearest-centre accuracy on B's images not flagged new
	agree   float64            // A's own images assigned back to their cluster
	// Mean max patch score: A by the run, A by assign, B by assign.
	scoreRunA, scoreAssignA, scoreAssignB float64
	accA                                  float64 // A's accuracy under the same cluster->label matching
	// accBRematched is B's accuracy with B's own Hungarian matching (an
	// upper bound, as F1 on A is for A): its excess over the accuracy with
	// A's matching is the part of the gap due to the matching.
	accBRematched float64
	// accALeaveOut is A's accuracy when each A image is judged by the
	// matching fitted to the other A images: the F1 on A without the
	// Hungarian matching's optimism of scoring the images it was fitted on.
	accALeaveOut float64
	// accACrossFit: A's halves judged by each other's matching
	// (crossFitAccuracy).
	accACrossFit float64
	// accAShared and accBShared are A's and B's accuracy through one
	// matching fitted to A and B together (sharedMatchAccuracy): with the
	// matching's fit to A taken out, the difference between them is what
	// the clusters and the placement lose on new images.
	accAShared, accBShared float64
	// xDrift is |X_assign(A) - X_run(A)| / |X_run(A)| (Frobenius): how far
	// the X assign computes for the clustered images is from the run's.
	xDrift float64
}

// placementRules are the ways of placing a new image measured beside
// assign's own ("assign", Ward merge cost): nearest centre, Ward merge
// cost recomputed here, nearest clustered image, majority of the k
// nearest clustered images.
var placementRules = []string{"assign", "centre", "ward", "member", "knn3", "knn5", "knn7", "zcentre", "diag"}

// runSplit clusters part A of src (split seed, swapped or not) and assigns
// part B.
func runSplit(t *testing.T, src string, seed uint64, swap bool, perClass int, dump string) splitOutcome {
	t.Helper()
	aRoot, b, bLabels := splitRealSeeded(t, src, seed, swap, perClass)
	o, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	o.Data, o.Out = aRoot, filepath.Join(t.TempDir(), "out")
	o.Seed = 0
	o.SkipSemiWithoutTrain = true // as the CLI does for --mode all
	run := runRead(t, o)
	c := run.Categories[0]
	res, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Images: b, Cache: o.Cache})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != c.RecommendedMode || (rundir.Mode(res.Mode).HasTau() && rundir.TauName(res.Tau) != rundir.TauName(c.RecommendedTau)) {
		t.Fatalf("assign used %s tau %v, the run recommends %s tau %v", res.Mode, res.Tau, c.RecommendedMode, c.RecommendedTau)
	}
	dir := rundir.ResultDir(o.Out, c.Name, res.Mode, res.Tau)
	met, err := rundir.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	label := map[int]string{}
	for _, cm := range met.Matching {
		label[cm.Cluster] = cm.Label
	}
	as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
	if err != nil {
		t.Fatal(err)
	}
	out := splitOutcome{mode: res.Mode, tau: res.Tau, nA: met.N, nB: len(b), f1: met.F1}
	out.acc = placementAccuracies(t, dir, res, label, bLabels)
	ids := map[string]int{}
	var truthB, predB []int
	for i, r := range res.Rows {
		if _, ok := ids[bLabels[i]]; !ok {
			ids[bLabels[i]] = len(ids)
		}
		truthB, predB = append(truthB, ids[bLabels[i]]), append(predB, r.Cluster)
	}
	if out.accBRematched, err = metrics.MatchedF1(truthB, predB); err != nil {
		t.Fatal(err)
	}
	kept, keptRight := 0, 0
	for i, r := range res.Rows {
		if r.New {
			out.nNew++
		} else {
			kept++
			if label[r.Cluster] == bLabels[i] {
				keptRight++
			}
		}
	}
	out.accKept = math.NaN()
	if kept > 0 {
		out.accKept = float64(keptRight) / float64(kept)
	}
	var aPaths []string
	for _, a := range as {
		aPaths = append(aPaths, rundir.Resolve(o.Out, run, "", a.Path, ""))
	}
	resA, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: o.Out, Images: aPaths, Cache: o.Cache})
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for i, r := range resA.Rows {
		if r.Cluster == as[i].Cluster {
			same++
		}
	}
	out.agree = float64(same) / float64(len(as))
	mean := func(f func(i int) float64, n int) float64 {
		var s float64
		for i := 0; i < n; i++ {
			s += f(i)
		}
		return s / float64(n)
	}
	out.accA = mean(func(i int) float64 {
		if label[as[i].Cluster] == as[i].Label {
			return 1
		}
		return 0
	}, len(as))
	out.scoreRunA = mean(func(i int) float64 { return as[i].Score }, len(as))
	out.scoreAssignA = mean(func(i int) float64 { return resA.Rows[i].Score }, len(as))
	out.scoreAssignB = mean(func(i int) float64 { return res.Rows[i].Score }, len(res.Rows))
	xa, _, err := npy.Read[float32](filepath.Join(dir, rundir.XFile))
	if err != nil {
		t.Fatal(err)
	}
	out.xDrift = relDiff(resA.X, xa)
	predA, labelsA := make([]int, len(as)), make([]string, len(as))
	for i, a := range as {
		predA[i], labelsA[i] = a.Cluster, a.Label
	}
	out.accALeaveOut = leaveOneOutAccuracy(t, predA, labelsA)
	out.accACrossFit = crossFitAccuracy(t, predA, labelsA)
	out.accAShared, out.accBShared = sharedMatchAccuracy(t, predA, labelsA, clustersOf(res), bLabels)
	if dump != "" {
		dumpSplit(t, dump, splitDump{Mode: res.Mode, Tau: res.Tau, F1: met.F1, D: res.D, PredA: predA, LabelsA: labelsA,
			LabelsB: bLabels, AssignB: clustersOf(res), AssignA: clustersOf(resA)}, xa, res.X, resA.X)
	}
	return out
}

// placementAccuracies is B's accuracy by each of placementRules, from the
// clustered images' X and clusters in the result folder dir and B's X in
// res.
func placementAccuracies(t *testing.T, dir string, res *pipeline.AssignResult, label map[int]string, bLabels []string) map[string]float64 {
	t.Helper()
	xa, _, D, predA := readResult(t, dir)
	if D != res.D || len(res.X) != len(res.Rows)*D {
		t.Fatalf("A's X has D %d, B's %d (%d values for %d rows)", D, res.D, len(res.X), len(res.Rows))
	}
	right := map[string]int{}
	for i, r := range res.Rows {
		xb := res.X[i*D : (i+1)*D]
		got := map[string]int{"assign": r.Cluster}
		got["centre"] = centrePlace(xa, predA, res.K, D, xb, false)
		got["ward"] = centrePlace(xa, predA, res.K, D, xb, true)
		got["zcentre"] = scaledCentrePlace(xa, predA, res.K, D, xb, false)
		got["diag"] = scaledCentrePlace(xa, predA, res.K, D, xb, true)
		for _, k := range []int{1, 3, 5, 7} {
			name := "member"
			if k > 1 {
				name = "knn" + string(rune('0'+k))
			}
			got[name] = knnPlace(xa, predA, D, xb, k)
		}
		for rule, cl := range got {
			if label[cl] == bLabels[i] {
				right[rule]++
			}
		}
	}
	acc := map[string]float64{}
	for _, rule := range placementRules {
		acc[rule] = float64(right[rule]) / float64(len(res.Rows))
	}
	return acc
}

func sqDist(a, b []float32) float64 {
	var s float64
	for j := range a {
		d := float64(a[j]) - float64(b[j])
		s += d * d
	}
	return s
}

// centrePlace: the nearest centre or, with ward, the cluster whose Ward
// objective grows least by adding x, n_l/(n_l+1) |x - c_l|^2.
func centrePlace(xa []float32, pred []int, k, d int, x []float32, ward bool) int {
	ctr := make([]float64, k*d)
	n := make([]int, k)
	for i, l := range pred {
		n[l]++
		for j := 0; j < d; j++ {
			ctr[l*d+j] += float64(xa[i*d+j])
		}
	}
	best, bc := 0, math.Inf(1)
	for l := 0; l < k; l++ {
		if n[l] == 0 {
			continue
		}
		var s float64
		for j := 0; j < d; j++ {
			t := float64(x[j]) - ctr[l*d+j]/float64(n[l])
			s += t * t
		}
		if ward {
			s *= float64(n[l]) / float64(n[l]+1)
		}
		if s < bc {
			best, bc = l, s
		}
	}
	return best
}

// knnPlace: majority of the k nearest clustered images (ties: the tied
// cluster with the nearest member).
func knnPlace(xa []float32, pred []int, d int, x []float32, k int) int {
	type nb struct {
		d float64
		l int
	}
	nbs := make([]nb, len(pred))
	for i, l := range pred {
		nbs[i] = nb{sqDist(xa[i*d:(i+1)*d], x), l}
	}
	sort.Slice(nbs, func(i, j int) bool { return nbs[i].d < nbs[j].d })
	votes := map[int]int{}
	for _, v := range nbs[:min(k, len(nbs))] {
		votes[v.l]++
	}
	top := 0
	for _, v := range votes {
		top = max(top, v)
	}
	for _, v := range nbs {
		if votes[v.l] == top {
			return v.l
		}
	}
	return nbs[0].l
}

// splitRealSeeded is splitReal with a seeded half of each label (seed 0:
// every other image in name order, as splitReal) and, with swap, the
// halves exchanged. perClass > 0 first keeps a seeded pick of at most
// perClass images of each label (the same pick for every split seed), as
// run's --max-per-class does for the whole set.
func splitRealSeeded(t *testing.T, src string, seed uint64, swap bool, perClass int) (aRoot string, b, bLabels []string) {
	t.Helper()
	aRoot = filepath.Join(t.TempDir(), filepath.Base(src))
	link := func(from, to string) {
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(from, to); err != nil {
			t.Fatal(err)
		}
	}
	mvtec := false
	if _, err := os.Stat(filepath.Join(src, "test")); err == nil {
		mvtec = true
		goods, _ := filepath.Glob(filepath.Join(src, "train", "good", "*"))
		for _, p := range goods {
			link(p, filepath.Join(aRoot, "train", "good", filepath.Base(p)))
		}
	}
	classRoot, aClass := src, aRoot
	if mvtec {
		classRoot, aClass = filepath.Join(src, "test"), filepath.Join(aRoot, "test")
	}
	classes, err := os.ReadDir(classRoot)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, c := range classes {
		if !c.IsDir() {
			continue
		}
		files, _ := os.ReadDir(filepath.Join(classRoot, c.Name()))
		var imgs []string
		for _, f := range files {
			if dataset.IsImage(f.Name()) {
				imgs = append(imgs, f.Name())
			}
		}
		slices.Sort(imgs)
		if perClass > 0 && len(imgs) > perClass {
			pick := rand.New(rand.NewPCG(0, 0x9e4c1a55)).Perm(len(imgs))[:perClass]
			kept := make([]string, 0, perClass)
			for _, j := range pick {
				kept = append(kept, imgs[j])
			}
			slices.Sort(kept)
			imgs = kept
		}
		inA := make([]bool, len(imgs))
		for i := range imgs {
			inA[i] = i%2 == 0
		}
		if seed != 0 {
			rng.Shuffle(len(inA), func(i, j int) { inA[i], inA[j] = inA[j], inA[i] })
		}
		for i, name := range imgs {
			p := filepath.Join(classRoot, c.Name(), name)
			if inA[i] != swap {
				link(p, filepath.Join(aClass, c.Name(), name))
			} else {
				b, bLabels = append(b, p), append(bLabels, c.Name())
			}
		}
	}
	return aRoot, b, bLabels
}

// scaledCentrePlace: the nearest centre with each feature divided by its
// standard deviation over the clustered images (zcentre) or, with within,
// by its pooled within-cluster standard deviation (diag: a diagonal
// Mahalanobis distance with one covariance shared by the clusters).
func scaledCentrePlace(xa []float32, pred []int, k, d int, x []float32, within bool) int {
	n := len(pred)
	ctr := make([]float64, k*d)
	cnt := make([]int, k)
	mean := make([]float64, d)
	for i, l := range pred {
		cnt[l]++
		for j := 0; j < d; j++ {
			ctr[l*d+j] += float64(xa[i*d+j])
			mean[j] += float64(xa[i*d+j]) / float64(n)
		}
	}
	for l := 0; l < k; l++ {
		for j := 0; j < d; j++ {
			ctr[l*d+j] /= float64(max(cnt[l], 1))
		}
	}
	v := make([]float64, d)
	for i, l := range pred {
		for j := 0; j < d; j++ {
			c := mean[j]
			if within {
				c = ctr[l*d+j]
			}
			t := float64(xa[i*d+j]) - c
			v[j] += t * t
		}
	}
	var vm float64
	for j := range v {
		vm += v[j] / float64(d)
	}
	best, bc := 0, math.Inf(1)
	for l := 0; l < k; l++ {
		if cnt[l] == 0 {
			continue
		}
		var s float64
		for j := 0; j < d; j++ {
			t := float64(x[j]) - ctr[l*d+j]
			s += t * t / (v[j] + 1e-6*vm)
		}
		if s < bc {
			best, bc = l, s
		}
	}
	return best
}
