package main

import (
	"slices"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
)

// TestRunFlagsPerCategory: the auto preset chooses per category and fixes
// nothing; --object-align, --object-auto, --score-interval, --tau and
// --x-pool given explicitly are named in Options.Fixed (kept for every
// category); the other presets do not choose per category.
func TestRunFlagsPerCategory(t *testing.T) {
	parse := func(args ...string) pipeline.Options {
		t.Helper()
		f := newRunFlags()
		if err := f.fs.Parse(append([]string{"--data", "d", "--out", "o", "--cache", "none"}, args...)); err != nil {
			t.Fatal(err)
		}
		o, err := f.options()
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if d := parse(); !d.PerCategory || len(d.Fixed) != 0 || d.ScoreInterval != 0 || d.XPool != "" {
		t.Errorf("default: per category %v, fixed %v, interval %v, x-pool %q", d.PerCategory, d.Fixed, d.ScoreInterval, d.XPool)
	}
	for _, c := range []struct {
		args  []string
		fixed []string
	}{
		{[]string{"--x-pool", "gem"}, []string{pipeline.FixXPool}},
		{[]string{"--score-interval", "0.3", "--tau", "1"}, []string{pipeline.FixInterval, pipeline.FixTau}},
		{[]string{"--object-align=false", "--object-auto"}, []string{pipeline.FixAlign}},
	} {
		if o := parse(c.args...); !slices.Equal(o.Fixed, c.fixed) {
			t.Errorf("%v: fixed %v, want %v", c.args, o.Fixed, c.fixed)
		}
	}
	if o := parse("--score-interval", "0.3"); o.ScoreInterval != 0.3 {
		t.Errorf("--score-interval 0.3: %v", o.ScoreInterval)
	}
	for _, p := range []string{"mobilenet", "seed"} {
		if o := parse("--preset", p); o.PerCategory {
			t.Errorf("preset %s chooses per category", p)
		}
	}
}
