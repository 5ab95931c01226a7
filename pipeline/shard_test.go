package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// shardOptions are fakeOptions for one sharded invocation: its own
// backbone object, no feature cache, so that nothing is shared between
// invocations but the run store.
func shardOpts(t *testing.T, base pipeline.Options, store string) pipeline.Options {
	o := base
	o.Net = &poolNet{}
	o.Out, o.Cache = store, ""
	o.Taus = append([]float64(nil), base.Taus...)
	return o
}

// runShards runs every shard of both stages, last shard first.
func runShards(t *testing.T, base pipeline.Options, store string, n int) {
	t.Helper()
	for _, stage := range []string{pipeline.StageEmbed, pipeline.StageScore} {
		for i := n - 1; i >= 0; i-- {
			if err := pipeline.RunShard(context.Background(), shardOpts(t, base, store), stage, pipeline.Shard{I: i, N: n}); err != nil {
				t.Fatalf("%s shard %d/%d: %v", stage, i, n, err)
			}
		}
	}
}

// sameRuns compares two run folders' result files byte for byte: every
// result's assignments.csv, X.npy and alpha.npy, and each mode's patch
// scores.
func sameRuns(t *testing.T, want, got string) {
	t.Helper()
	run, err := rundir.ReadRun(want)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, r := range run.Results(want) {
		rel, _ := filepath.Rel(want, r.Dir)
		for _, f := range []string{rundir.AssignmentsFile, rundir.XFile, rundir.AlphaFile, rundir.MetricsFile} {
			a, err := os.ReadFile(filepath.Join(r.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(got, rel, f))
			if err != nil {
				t.Fatalf("merged run: %v", err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s differs between the one-machine run and the sharded one", rel, f)
			}
			files++
		}
	}
	for _, c := range run.Categories {
		for _, m := range []string{rundir.ModeUnsupervised, rundir.ModeSemi} {
			a, err := os.ReadFile(filepath.Join(want, c.Name, m, rundir.ScoresFile))
			if err != nil {
				continue
			}
			b, _ := os.ReadFile(filepath.Join(got, c.Name, m, rundir.ScoresFile))
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s scores differ", c.Name, m)
			}
			files++
		}
	}
	if files < 10 {
		t.Fatalf("only %d files compared", files)
	}
}

// TestShardedEqualsRun: 3 embed shards and 3 score shards (run last
// first, each with its own backbone object and no cache) and a merge into
// the store give the files of a one-machine run byte for byte, for the
// unsupervised and semi-supervised modes, exact and with the sampled
// references, the coreset and the two-stage searches.
func TestShardedEqualsRun(t *testing.T) {
	for _, c := range []struct {
		name           string
		refs, proj     int
		coreset        float64
		cats           []string
		embedN, scoreN int
	}{
		{name: "exact", cats: []string{"wood"}, embedN: 3, scoreN: 3},
		{name: "approx", refs: 4, proj: 8, coreset: 0.5, embedN: 3, scoreN: 3},
		{name: "more-shards-than-images", cats: []string{"wood"}, embedN: 2, scoreN: 14},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := fakeOptions(t, nil)
			base.Categories = c.cats
			base.Refs, base.Proj, base.SemiProj, base.Coreset = c.refs, c.proj, c.proj, c.coreset
			one := base
			one.Net = &poolNet{}
			if _, err := pipeline.Run(context.Background(), one); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(t.TempDir(), "store")
			for i := c.embedN - 1; i >= 0; i-- {
				if err := pipeline.RunShard(context.Background(), shardOpts(t, base, store), pipeline.StageEmbed, pipeline.Shard{I: i, N: c.embedN}); err != nil {
					t.Fatal(err)
				}
			}
			for i := c.scoreN - 1; i >= 0; i-- {
				if err := pipeline.RunShard(context.Background(), shardOpts(t, base, store), pipeline.StageScore, pipeline.Shard{I: i, N: c.scoreN}); err != nil {
					t.Fatal(err)
				}
			}
			res, mo, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if mo.Out != store || res.Run.Settings.Out != store {
				t.Errorf("merged into %s (run.json: %s), want the store %s", mo.Out, res.Run.Settings.Out, store)
			}
			sameRuns(t, one.Out, store)
			if _, err := os.Stat(filepath.Join(store, pipeline.ShardPrefix, "settings.json")); err != nil {
				t.Errorf("the shards' files are gone after the merge: %v", err)
			}
			// A second merge needs Force; with it the result is the same.
			if _, _, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
				t.Errorf("second merge without Force: %v", err)
			}
			if _, _, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{Force: true}); err != nil {
				t.Fatal(err)
			}
			sameRuns(t, one.Out, store)
			noTemp(t, store)
		})
	}
}

// TestShardedMemStore runs the stages through an in-memory bucket and
// merges into a local folder.
func TestShardedMemStore(t *testing.T) {
	base := fakeOptions(t, nil)
	base.Categories = []string{"wood"}
	base.Modes = []string{rundir.ModeUnsupervised, rundir.ModeSemi}
	one := base
	one.Net = &poolNet{}
	if _, err := pipeline.Run(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	store := "mem://runs/shard-test"
	runShards(t, base, store, 3)
	to := filepath.Join(t.TempDir(), "merged")
	var finished string
	_, mo, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{To: to,
		Finish: func(dir string, report bool) error { finished = dir; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if mo.Out != to || finished != to {
		t.Errorf("merged into %s, finished %s; want %s", mo.Out, finished, to)
	}
	sameRuns(t, one.Out, to)
	// Merged into the bucket itself: run.json is there.
	if _, _, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestShardErrors: a stage or merge with a shard missing names it; a
// later stage with other settings is refused, naming them; a shard of
// another n is refused.
func TestShardErrors(t *testing.T) {
	ctx := context.Background()
	base := fakeOptions(t, nil)
	base.Categories = []string{"wood"}
	base.Modes = []string{rundir.ModeUnsupervised}
	store := filepath.Join(t.TempDir(), "store")
	sh := func(i, n int) pipeline.Shard { return pipeline.Shard{I: i, N: n} }

	if err := pipeline.RunShard(ctx, shardOpts(t, base, store), pipeline.StageScore, sh(0, 3)); err == nil || !strings.Contains(err.Error(), "embed stage") {
		t.Errorf("score before any embed shard: %v", err)
	}
	for _, i := range []int{2, 0} {
		if err := pipeline.RunShard(ctx, shardOpts(t, base, store), pipeline.StageEmbed, sh(i, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pipeline.RunShard(ctx, shardOpts(t, base, store), pipeline.StageScore, sh(0, 3)); err == nil ||
		!strings.Contains(err.Error(), "embed shard 1/3 has not finished") || !strings.Contains(err.Error(), "--stage embed --shard 1/3") {
		t.Errorf("score with embed shard 1/3 missing: %v", err)
	}
	if err := pipeline.RunShard(ctx, shardOpts(t, base, store), pipeline.StageEmbed, sh(1, 4)); err == nil || !strings.Contains(err.Error(), "has 3 shards, not 4") {
		t.Errorf("embed shard of another n: %v", err)
	}
	other := shardOpts(t, base, store)
	other.Taus, other.Seed = []float64{1}, 7
	if err := pipeline.RunShard(ctx, other, pipeline.StageEmbed, sh(1, 3)); err == nil || !strings.Contains(err.Error(), "settings differ") ||
		!strings.Contains(err.Error(), "Taus: [1] here, [0,0.5,2] in the run") || !strings.Contains(err.Error(), "Seed: 7 here") {
		t.Errorf("embed shard with other settings: %v", err)
	}
	if err := pipeline.RunShard(ctx, shardOpts(t, base, store), pipeline.StageEmbed, sh(1, 3)); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.RunShard(ctx, other, pipeline.StageScore, sh(1, 3)); err == nil || !strings.Contains(err.Error(), "settings differ") {
		t.Errorf("score shard with other settings: %v", err)
	}
	// Only the output, cache, batch and workers may differ.
	same := shardOpts(t, base, store)
	same.Batch, same.Workers, same.Cache = 5, 1, filepath.Join(t.TempDir(), "cache")
	if err := pipeline.RunShard(ctx, same, pipeline.StageScore, sh(1, 3)); err != nil {
		t.Fatal(err)
	}
	if err := pipeline.RunShard(ctx, shardOpts(t, base, store), pipeline.StageScore, sh(0, 3)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := pipeline.Merge(ctx, store, pipeline.MergeOptions{}); err == nil ||
		!strings.Contains(err.Error(), "score shard 2/3 has not finished") || !strings.Contains(err.Error(), "--stage score --shard 2/3") {
		t.Errorf("merge with score shard 2/3 missing: %v", err)
	}
	if _, _, err := pipeline.Merge(ctx, filepath.Join(t.TempDir(), "empty"), pipeline.MergeOptions{}); err == nil || !strings.Contains(err.Error(), "no sharded run") {
		t.Errorf("merge of an empty folder: %v", err)
	}
	if _, err := pipeline.ParseShard("3/3"); err == nil {
		t.Error("ParseShard(3/3) accepted")
	}
	if s, err := pipeline.ParseShard("2/3"); err != nil || s != sh(2, 3) {
		t.Errorf("ParseShard(2/3) = %v, %v", s, err)
	}
}

// TestShardedPerCategory: a sharded run makes the per-category choice of
// a one-machine run (the auto preset's table, or --object-auto alone): a
// category of parts is aligned and scored with the MuSc interval, one of
// surface defects is not, and the merged files equal the one-machine
// run's byte for byte.
func TestShardedPerCategory(t *testing.T) {
	for _, c := range []struct {
		name         string
		parts, table bool
	}{
		{"parts/auto", true, true},
		{"surface/auto", false, true},
		{"parts/object-auto", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := fakeOptions(t, nil)
			base.Data, base.Categories = writeSet(t, c.parts), nil
			base.Modes = []string{rundir.ModeUnsupervised, rundir.ModeAverage}
			base.PerCategory, base.ObjectAuto = c.table, !c.table
			one := base
			one.Net = &poolNet{}
			if _, err := pipeline.Run(context.Background(), one); err != nil {
				t.Fatal(err)
			}
			store := filepath.Join(t.TempDir(), "store")
			runShards(t, base, store, 3)
			if _, _, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{}); err != nil {
				t.Fatal(err)
			}
			want, err := rundir.ReadRun(one.Out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rundir.ReadRun(store)
			if err != nil {
				t.Fatal(err)
			}
			w, g := want.Categories[0], got.Categories[0]
			if w.ObjectAlign != c.parts || g.ObjectAlign != c.parts {
				t.Errorf("object_align: one machine %v, sharded %v; want %v", w.ObjectAlign, g.ObjectAlign, c.parts)
			}
			wantR := 1.0
			if c.parts && c.table {
				wantR = 0.3 // the object configuration's MuSc interval
			}
			if w.ScoreInterval != g.ScoreInterval || (c.table && g.ScoreInterval != wantR) {
				t.Errorf("score interval: one machine %v, sharded %v; want %v", w.ScoreInterval, g.ScoreInterval, wantR)
			}
			if (w.Choice == nil) != (g.Choice == nil) || (g.Choice != nil && (g.Choice.Kind != w.Choice.Kind || g.Choice.Why != w.Choice.Why)) {
				t.Errorf("choice: one machine %+v, sharded %+v", w.Choice, g.Choice)
			}
			sameRuns(t, one.Out, store)
		})
	}
}
