package pipeline_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// TestScoreCacheAndStreaming: a run streaming Z from the cache gives the
// X of a run holding Z in memory (no cache); a re-run with other taus and
// clustering takes the scores from the score cache (bit-identical X for a
// shared tau, no backbone call); changing --refs or --proj misses.
func TestScoreCacheAndStreaming(t *testing.T) {
	net := &poolNet{}
	o := fakeOptions(t, net)
	o.Categories = []string{"wood"}
	o.Modes = []string{rundir.ModeUnsupervised, rundir.ModeSemi}
	o.Refs, o.Proj, o.SemiProj = 4, 6, 6 // approximations on: their settings must be keyed
	readX := func(o pipeline.Options, mode string, tau float64) []float32 {
		t.Helper()
		x, _, err := npy.Read[float32](filepath.Join(rundir.ResultDir(o.Out, "wood", mode, tau), rundir.XFile))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	run := func(o pipeline.Options) *rundir.Run {
		t.Helper()
		res, err := pipeline.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		return res.Run
	}
	r1 := run(o)
	if h := r1.Categories[0].ScoreCacheHits; h != 0 {
		t.Fatalf("first run: %d score cache hits", h)
	}
	mem := o
	mem.Cache = ""
	mem.Out = filepath.Join(t.TempDir(), "mem")
	run(mem)
	for _, mode := range o.Modes {
		if !slices.Equal(readX(o, mode, 2), readX(mem, mode, 2)) {
			t.Errorf("%s: X streamed from the cache differs from X held in memory", mode)
		}
	}

	net.calls.Store(0)
	o2 := o
	o2.Out = filepath.Join(t.TempDir(), "again")
	o2.Taus = []float64{2, 5}
	o2.Cluster = pipeline.ClusterKMeans
	r2 := run(o2)
	if h := r2.Categories[0].ScoreCacheHits; h != 2 {
		t.Errorf("re-run with other taus: %d score cache hits, want 2", h)
	}
	if c := net.calls.Load(); c != 0 {
		t.Errorf("re-run: %d backbone calls", c)
	}
	for _, mode := range o.Modes {
		if !slices.Equal(readX(o, mode, 2), readX(o2, mode, 2)) {
			t.Errorf("%s: X from cached scores differs", mode)
		}
	}
	for k, c := range []struct {
		change func(*pipeline.Options)
		hits   int
	}{
		{func(o *pipeline.Options) { o.Refs = 2 }, 1}, // semi's scores do not depend on it
		{func(o *pipeline.Options) { o.Proj, o.SemiProj = 5, 5 }, 0},
		{func(o *pipeline.Options) { o.Seed = 9 }, 0},
		{func(o *pipeline.Options) { o.Refs, o.Proj, o.SemiProj = 0, 0, 0 }, 0},
	} {
		o3 := o
		o3.Out = filepath.Join(t.TempDir(), "changed")
		c.change(&o3)
		if h := run(o3).Categories[0].ScoreCacheHits; h != c.hits {
			t.Errorf("change %d: %d score cache hits, want %d", k, h, c.hits)
		}
	}
}
