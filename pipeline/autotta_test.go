package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tta"
	"github.com/anomclust/anomclust/xpool"
)

// textureTTA and objectTTA are the auto preset's test-time augmentations
// for textures and for parts (autocat.go's categoryConfigs).
const (
	textureTTA = tta.D4Max
	objectTTA  = tta.Rot4
)

// TestCategoryTTA: each configuration of the auto preset runs its
// category with its test-time augmentation (the net sees every image's
// copies: 8 for textures, the 4 turns for parts, never a mirror image
// there, so a flipped part stays told apart), run.json records it, the X
// equals that of a run given --tta and the configuration's other settings
// explicitly, and assign rebuilds the new images' Z with it (the same X
// and scores as the explicit run's assign). A run whose caller fixed
// --tta runs the images alone.
func TestCategoryTTA(t *testing.T) {
	for _, tc := range []struct {
		parts    bool
		v        tta.Variant
		tau      float64
		interval float64
		method   string
	}{
		{false, textureTTA, 1, 1, cluster.MethodSpectral},
		{true, objectTTA, 0.15, 0.3, cluster.MethodWard},
	} {
		copies := int64(len(tc.v.Ops()))
		data := writeSet(t, tc.parts) // 12 images
		net := &poolNet{}
		o := perCategoryOptions(t, data)
		o.Net = net
		c, x := runCat(t, o, tc.tau)
		if c.TTA != string(tc.v) || net.images.Load() != 12*copies {
			t.Fatalf("parts %v: tta %q, the net saw %d images; want %s, %d", tc.parts, c.TTA, net.images.Load(), tc.v, 12*copies)
		}
		e := fakeOptions(t, &poolNet{})
		e.Data, e.Categories, e.Modes, e.Refs, e.Weighting, e.Taus = data, nil, o.Modes, o.Refs, o.Weighting, o.Taus
		e.XPool, e.TTA, e.Cluster = string(xpool.MeanStd), string(tc.v), tc.method
		e.ObjectAlign, e.ScoreInterval = tc.parts, tc.interval
		ec, ex := runCat(t, e, tc.tau)
		if ec.Choice != nil || string(x) != string(ex) {
			t.Errorf("parts %v: X of the per-category run differs from the explicit --tta %s run's", tc.parts, tc.v)
		}
		imgs := []string{filepath.Join(data, "a", "0.png"), filepath.Join(data, "b", "3.png")}
		assign := func(out string, n *poolNet) *pipeline.AssignResult {
			t.Helper()
			tau := tc.tau
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
			t.Errorf("parts %v: assign on the per-category run: the net saw %d images (want %d), X or scores differ from the explicit run's",
				tc.parts, an.images.Load(), 2*copies)
		}
		// --tta given (here: none): every category keeps it.
		f := perCategoryOptions(t, data)
		fn := &poolNet{}
		f.Net, f.Fixed = fn, []string{pipeline.FixTTA}
		if fc, _ := runCat(t, f, tc.tau); fc.TTA != "" || fn.images.Load() != 12 {
			t.Errorf("parts %v: fixed tta replaced: %q, the net saw %d images", tc.parts, fc.TTA, fn.images.Load())
		}
	}
}
