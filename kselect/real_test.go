package kselect

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
)

// TestRealRuns estimates K from the X.npy of finished runs, labels hidden,
// and prints one line per (set, mode, tau): true K, the estimate, the
// runner-up and the argmax of every criterion. Set ANOMCLUST_KSELECT_RUNS
// to a comma-separated list of run folders (README, "Choosing K").
func TestRealRuns(t *testing.T) {
	env := os.Getenv("ANOMCLUST_KSELECT_RUNS")
	if env == "" {
		t.Skip("set ANOMCLUST_KSELECT_RUNS=run1,run2 (folders of anomclust run) to measure K on real X")
	}
	var hit, total int
	for _, dir := range strings.Split(env, ",") {
		run, err := rundir.ReadRun(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range run.Results(dir) {
			x, shape, err := npy.Read[float32](filepath.Join(res.Dir, rundir.XFile))
			if err != nil {
				t.Log(err)
				continue
			}
			var trueK int
			method := ""
			for _, c := range run.Categories {
				if c.Name == res.Category {
					trueK = len(c.Labels)
					method = run.ClusterMethod(&c)
				}
			}
			// The run's seed and the category's method, as run --k auto.
			r, err := Estimate(x, shape[0], shape[1], nil, Options{Seed: run.Settings.Seed,
				SpectralCuts: SpectralCutsFor(method, x, shape[0], shape[1], run.Settings.Seed, 0)})
			if err != nil {
				t.Fatal(err)
			}
			var ev []string
			for _, c := range Criteria() {
				if len(r.Scores[c]) == 0 { // eigengap_spectral without spectral clustering
					continue
				}
				k, k2 := best2(r.Ks, r.Scores[c])
				ev = append(ev, fmt.Sprintf("%s=%d/%d", c, k, k2))
			}
			tau := "-"
			if res.HasTau {
				tau = rundir.TauName(res.Tau)
			}
			ok := r.K-trueK <= 1 && trueK-r.K <= 1
			if ok {
				hit++
			}
			total++
			t.Logf("%-12s %-13s tau %-3s N %4d true %2d est %2d runner-up %2d within1 %v | %s",
				filepath.Base(dir), res.Mode, tau, shape[0], trueK, r.K, r.RunnerUp, ok, strings.Join(ev, " "))
		}
	}
	t.Logf("within ±1: %d of %d", hit, total)
}
