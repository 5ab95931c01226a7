package pipeline_test

import (
	"context"
	"github.com/anomclust/anomclust/cluster"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tta"
	"github.com/anomclust/anomclust/xpool"
)

// textureTTA is the auto preset's test-time augmentation for textures
// (autocat.go's categoryConfigs).
const textureTTA = tta.D4Max

// TestTextureTTA: the texture configuration runs its category with the
// test-time augmentation (the net sees every image's copies), run.json
// records it, the X equals that of a run given --tta explicitly, and
// assign rebuilds the new images' Z with it (the same X and scores as the
// explicit run's assign). An object category, and a run whose caller
// fixed --tta, run the images alone.
func TestTextureTTA(t *testing.T) {
	copies := int64(len(textureTTA.Ops()))
	for _, parts := range []bool{false, true} {
		data := writeSet(t, parts) // 12 images
		net := &poolNet{}
		o := perCategoryOptions(t, data)
		o.Net = net
		c, x := runCat(t, o, 1)
		if parts {
			if c.TTA != "" || net.images.Load() != 12 {
				t.Errorf("object category: tta %q, the net saw %d images (want 12: no copies)", c.TTA, net.images.Load())
			}
			continue
		}
		if c.TTA != string(textureTTA) || net.images.Load() != 12*copies {
			t.Fatalf("texture category: tta %q, the net saw %d images; want %s, %d", c.TTA, net.images.Load(), textureTTA, 12*copies)
		}
		e := fakeOptions(t, &poolNet{})
		e.Data, e.Categories, e.Modes, e.Refs, e.Weighting, e.Taus = data, nil, o.Modes, o.Refs, o.Weighting, o.Taus
		e.XPool, e.TTA, e.Cluster = string(xpool.MeanStd), string(textureTTA), cluster.MethodSpectral
		ec, ex := runCat(t, e, 1)
		if ec.Choice != nil || string(x) != string(ex) {
			t.Errorf("X of the per-category run differs from the explicit --tta %s run's", textureTTA)
		}
		imgs := []string{filepath.Join(data, "a", "0.png"), filepath.Join(data, "b", "3.png")}
		assign := func(out string, n *poolNet) *pipeline.AssignResult {
			t.Helper()
			tau := 1.0
			r, err := pipeline.Assign(context.Background(), pipeline.AssignOptions{Run: out, Mode: rundir.ModeUnsupervised, Tau: &tau,
				Images: imgs, Net: n, NetID: "poolnet-v1"})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		an := &poolNet{}
		a1, a2 := assign(o.Out, an), assign(e.Out, &poolNet{})
		if an.images.Load() != 2*copies || !equalF32(a1.X, a2.X) || a1.Rows[0].Score != a2.Rows[0].Score {
			t.Errorf("assign on the per-category run: the net saw %d images (want %d), X or scores differ from the explicit run's", an.images.Load(), 2*copies)
		}
		// --tta given (here: none): every category keeps it.
		f := perCategoryOptions(t, data)
		fn := &poolNet{}
		f.Net, f.Fixed = fn, []string{pipeline.FixTTA}
		if fc, _ := runCat(t, f, 1); fc.TTA != "" || fn.images.Load() != 12 {
			t.Errorf("fixed tta replaced: %q, the net saw %d images", fc.TTA, fn.images.Load())
		}
	}
}
