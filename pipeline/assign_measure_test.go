package pipeline_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
)

// leaveOneOutAccuracy is the accuracy of a clustering whose cluster ->
// label matching is fitted (Hungarian, as the F1) to every image but the
// one judged: the F1 without the matching's optimism on the images it was
// fitted to.
func leaveOneOutAccuracy(t *testing.T, pred []int, labels []string) float64 {
	t.Helper()
	ids := map[string]int{}
	truth := make([]int, len(labels))
	for i, l := range labels {
		if _, ok := ids[l]; !ok {
			ids[l] = len(ids)
		}
		truth[i] = ids[l]
	}
	right := 0
	for i := range pred {
		tr := append(append([]int{}, truth[:i]...), truth[i+1:]...)
		pr := append(append([]int{}, pred[:i]...), pred[i+1:]...)
		m, err := metrics.Match(tr, pr)
		if err != nil {
			t.Fatal(err)
		}
		if c, ok := m.ClassOf(pred[i]); ok && c == truth[i] {
			right++
		}
	}
	return float64(right) / float64(len(pred))
}

// relDiff is |a - b| / |b| (Frobenius), NaN when the lengths differ.
func relDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.NaN()
	}
	var num, den float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		num += d * d
		den += float64(b[i]) * float64(b[i])
	}
	return math.Sqrt(num / den)
}

func clustersOf(r *pipeline.AssignResult) []int {
	out := make([]int, len(r.Rows))
	for i, row := range r.Rows {
		out[i] = row.Cluster
	}
	return out
}

// splitDump is one split written for offline analysis of placement rules
// (ANOMCLUST_ASSIGN_DUMP): split.json beside xa.npy (the run's X of A),
// xb.npy (assign's X of B) and xa_assign.npy (assign's X of A).
type splitDump struct {
	Mode             string
	Tau              float64
	F1               float64
	D                int
	PredA            []int
	LabelsA, LabelsB []string
	AssignB, AssignA []int
}

func dumpSplit(t *testing.T, dir string, d splitDump, xa, xb, xaAssign []float32) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "split.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, x := range map[string][]float32{"xa.npy": xa, "xb.npy": xb, "xa_assign.npy": xaAssign} {
		if err := npy.Write(filepath.Join(dir, name), x, len(x)/d.D, d.D); err != nil {
			t.Fatal(err)
		}
	}
}

// crossFitAccuracy is A's accuracy when each half of A is judged by the
// matching fitted to the other half, averaged over 20 seeded halvings:
// the matching's optimism on the images it was fitted to, from a matching
// fitted to half as many images (so an overestimate of it).
func crossFitAccuracy(t *testing.T, pred []int, labels []string) float64 {
	t.Helper()
	ids := map[string]int{}
	truth := make([]int, len(labels))
	for i, l := range labels {
		if _, ok := ids[l]; !ok {
			ids[l] = len(ids)
		}
		truth[i] = ids[l]
	}
	rng := rand.New(rand.NewPCG(0, 0xc0ffee))
	var sum float64
	const reps = 20
	for range reps {
		perm := rng.Perm(len(pred))
		halves := [2][]int{perm[:len(perm)/2], perm[len(perm)/2:]}
		right := 0
		for h := range 2 {
			var tr, pr []int
			for _, i := range halves[h] {
				tr, pr = append(tr, truth[i]), append(pr, pred[i])
			}
			m, err := metrics.Match(tr, pr)
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range halves[1-h] {
				if c, ok := m.ClassOf(pred[i]); ok && c == truth[i] {
					right++
				}
			}
		}
		sum += float64(right) / float64(len(pred)) / reps
	}
	return sum
}

// sharedMatchAccuracy is A's and B's accuracy (their clusters predA and
// predB, labels labelsA and labelsB) through one Hungarian matching fitted
// to A and B together. F1 on A minus accuracy on B (the test's gap) is
// then (F1 on A - A's shared accuracy): the matching's fit to A's own
// images, plus (A's - B's shared accuracy): what the clusters and the
// placement lose on new images, plus (B's shared accuracy - B's accuracy
// through A's matching): what A's matching costs B.
func sharedMatchAccuracy(t *testing.T, predA []int, labelsA []string, predB []int, labelsB []string) (float64, float64) {
	t.Helper()
	ids := map[string]int{}
	var truth []int
	for _, l := range append(slices.Clone(labelsA), labelsB...) {
		if _, ok := ids[l]; !ok {
			ids[l] = len(ids)
		}
		truth = append(truth, ids[l])
	}
	pred := append(slices.Clone(predA), predB...)
	m, err := metrics.Match(truth, pred)
	if err != nil {
		t.Fatal(err)
	}
	right := [2]int{}
	for i, l := range pred {
		if c, ok := m.ClassOf(l); ok && c == truth[i] {
			right[min(i/len(predA), 1)]++
		}
	}
	return float64(right[0]) / float64(len(predA)), float64(right[1]) / float64(len(predB))
}
