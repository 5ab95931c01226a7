package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// TestCacheKey: every setting that changes Z must change the feature
// cache key. Runs share one cache folder; a run with one setting changed
// must compute every Z (12 misses, no hit), and the unchanged run, last,
// must find all its entries (none overwritten by a run whose key wrongly
// equalled its own).
func TestCacheKey(t *testing.T) {
	cache := filepath.Join(t.TempDir(), "cache")
	base := func(t *testing.T) pipeline.Options {
		o := fakeOptions(t, &poolNet{})
		o.Cache = cache
		o.Categories = []string{"wood"}
		o.Modes = []string{rundir.ModeAverage}
		return o
	}
	run := func(t *testing.T, o pipeline.Options) (hits, misses int) {
		t.Helper()
		res, err := pipeline.Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Run.Categories[0]
		return c.CacheHits, c.CacheMisses
	}
	if h, m := run(t, base(t)); h != 0 || m != 12 {
		t.Fatalf("first run: %d hits, %d misses; want 0, 12", h, m)
	}
	cases := []struct {
		name string
		edit func(o *pipeline.Options)
	}{
		{"layernorm", func(o *pipeline.Options) { o.LayerNorm = true }},
		{"patchsize", func(o *pipeline.Options) { o.PatchSize = 5 }},
		{"pretrain dim", func(o *pipeline.Options) { o.PretrainDim = 32 }},
		{"target dim", func(o *pipeline.Options) { o.TargetDim = 8 }},
		{"resize", func(o *pipeline.Options) { o.Resize = 80 }},
		{"image size", func(o *pipeline.Options) { o.ImageSize = 48 }},
		{"layer order", func(o *pipeline.Options) { o.Layers = []string{"pool16", "pool8"} }},
		{"layers", func(o *pipeline.Options) { o.Layers = []string{"pool8"} }},
		{"weights id", func(o *pipeline.Options) { o.NetID = "poolnet-v2" }},
		{"backbone name", func(o *pipeline.Options) { o.Net = &poolNet{name: "poolnet-b"} }},
		{"object crop", func(o *pipeline.Options) { o.ObjectCrop = true }},
		{"object align", func(o *pipeline.Options) { o.ObjectAlign = true }},
		{"tta flip", func(o *pipeline.Options) { o.TTA = "flip" }},
		{"tta d4", func(o *pipeline.Options) { o.TTA = "d4" }},
		{"tta d4-max", func(o *pipeline.Options) { o.TTA = "d4-max" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := base(t)
			c.edit(&o)
			if h, m := run(t, o); h != 0 || m != 12 {
				t.Errorf("%d hits, %d misses; want 0, 12 (the setting is not in the cache key)", h, m)
			}
		})
	}
	if h, m := run(t, base(t)); h != 12 || m != 0 {
		t.Errorf("unchanged run: %d hits, %d misses; want 12, 0", h, m)
	}
}
