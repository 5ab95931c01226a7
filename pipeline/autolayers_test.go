package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/anomclust/anomclust/cluster"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/xpool"
)

// strideNet is poolNet under MobileNet's tap names, with a third, coarser
// tap: stride8, stride16, stride32. It records the taps it was asked for.
type strideNet struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (s *strideNet) Name() string                    { return "stridenet" }
func (s *strideNet) Layers() []string                { return []string{"stride8", "stride16", "stride32"} }
func (s *strideNet) Preprocess() backbone.Preprocess { return backbone.ImageNet() }

func (s *strideNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, l := range layers {
		s.seen[l] = true
	}
	s.mu.Unlock()
	out := make([]map[string]*tensor.Tensor, len(images))
	for k, img := range images {
		out[k] = map[string]*tensor.Tensor{}
		for _, l := range layers {
			switch l {
			case "stride8":
				out[k][l] = pool(img, 8, true)
			case "stride16":
				out[k][l] = pool(img, 16, false)
			case "stride32":
				out[k][l] = pool(img, 32, true)
			default:
				return nil, errors.New("stridenet: unknown layer " + l)
			}
		}
	}
	return out, nil
}

// TestTextureLayers: with the auto preset's taps (stride8+stride16) the
// texture configuration adds stride32 for its category: run.json records
// the category's layers, its X equals that of a run given those taps
// explicitly, and assign rebuilds the new images' X with them (equal to
// the explicit run's assign). An object category keeps the run's taps
// (the net is never asked for stride32), and FixLayers keeps them too.
func TestTextureLayers(t *testing.T) {
	s32 := []string{"stride8", "stride16", "stride32"}
	for _, parts := range []bool{false, true} {
		data := writeSet(t, parts)
		net := &strideNet{}
		o := perCategoryOptions(t, data)
		o.Net, o.NetID, o.Layers = net, "stridenet-v1", []string{"stride8", "stride16"}
		c, x := runCat(t, o, 1)
		if parts {
			if c.Layers != nil || net.seen["stride32"] {
				t.Errorf("object category: layers %v, taps asked %v", c.Layers, net.seen)
			}
			continue
		}
		if !slices.Equal(c.Layers, s32) || c.Choice == nil || c.Choice.Kind != rundir.KindTexture {
			t.Fatalf("texture category: layers %v, choice %+v", c.Layers, c.Choice)
		}
		e := fakeOptions(t, &strideNet{})
		e.NetID = "stridenet-v1"
		e.Data, e.Categories, e.Modes, e.Refs, e.Weighting, e.Taus = data, nil, o.Modes, o.Refs, o.Weighting, o.Taus
		e.Layers, e.XPool, e.TTA, e.Cluster = s32, string(xpool.MeanStd), string(textureTTA), cluster.MethodSpectral
		ec, ex := runCat(t, e, 1)
		if ec.Choice != nil || !bytes.Equal(x, ex) {
			t.Errorf("X of the per-category run differs from the explicit stride8+16+32 run's")
		}
		imgs := []string{filepath.Join(data, "a", "0.png"), filepath.Join(data, "b", "3.png")}
		assign := func(out string, n *strideNet) *pipeline.AssignResult {
			t.Helper()
			tau := 1.0
			r, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: out, Mode: rundir.ModeUnsupervised, Tau: &tau,
				Images: imgs, Net: n, NetID: "stridenet-v1"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		an := &strideNet{}
		a1, a2 := assign(o.Out, an), assign(e.Out, &strideNet{})
		if !an.seen["stride32"] || !equalF32(a1.X, a2.X) || a1.Rows[0].Score != a2.Rows[0].Score {
			t.Errorf("assign on the per-category run differs from the explicit run's (taps asked %v)", an.seen)
		}
		// --layers (or --backbone) given: the taps stay the run's.
		f := perCategoryOptions(t, data)
		f.Net, f.NetID, f.Layers = &strideNet{}, "stridenet-v1", []string{"stride8", "stride16"}
		f.Fixed = []string{pipeline.FixLayers}
		if fc, _ := runCat(t, f, 1); fc.Layers != nil {
			t.Errorf("fixed layers replaced: %v", fc.Layers)
		}
	}
}

// TestShardedTextureLayers: a sharded run of a texture category embeds
// with the category's stride8+16+32 taps (the embed stage opens the net
// for them), records them and the clustering method, and gives the
// one-machine run's files (metrics.json names the method).
func TestShardedTextureLayers(t *testing.T) {
	base := fakeOptions(t, nil)
	base.Data, base.Categories = writeSet(t, false), nil
	base.Modes = []string{rundir.ModeUnsupervised, rundir.ModeAverage}
	base.PerCategory, base.NetID, base.Layers = true, "stridenet-v1", []string{"stride8", "stride16"}
	one := base
	one.Net = &strideNet{}
	if _, err := pipeline.Run(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	for _, stage := range []string{pipeline.StageEmbed, pipeline.StageScore} {
		for i := 1; i >= 0; i-- {
			o := base
			o.Net, o.Out, o.Cache = &strideNet{}, store, ""
			o.Taus = slices.Clone(base.Taus)
			if err := pipeline.RunShard(context.Background(), o, stage, pipeline.Shard{I: i, N: 2}); err != nil {
				t.Fatalf("%s shard %d: %v", stage, i, err)
			}
		}
	}
	if _, _, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{one.Out, store} {
		run, err := rundir.ReadRun(dir)
		if err != nil {
			t.Fatal(err)
		}
		if c := run.Categories[0]; !slices.Equal(c.Layers, []string{"stride8", "stride16", "stride32"}) || c.Choice == nil || c.TTA != string(textureTTA) || c.Cluster != cluster.MethodSpectral {
			t.Errorf("%s: layers %v, tta %q, cluster %q, choice %+v", dir, c.Layers, c.TTA, c.Cluster, c.Choice)
		}
	}
	sameRuns(t, one.Out, store)
}
