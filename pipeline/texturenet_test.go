package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// catNet is poolNet under another name with other "weights": every
// output value v becomes v² - v, a nonlinear change, so that X differs
// from poolNet's after the descriptor's normalisation.
type catNet struct{ poolNet }

func (n *catNet) Name() string { return "catnet" }

func (n *catNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	out, err := n.poolNet.Forward(images, layers)
	for _, m := range out {
		for _, t := range m {
			for k, v := range t.Data {
				t.Data[k] = v*v - v
			}
		}
	}
	return out, err
}

// TestTextureBackbone: the auto preset's texture configuration runs its
// categories on a second backbone (CategoryNet standing in for MobileNet
// V1): run.json records it for the category, the X equals that of a run
// given that net and the texture settings explicitly, assign opens it
// (refusing without it or with other weights) and rebuilds the explicit
// run's X; an object category and a run with --layers (FixLayers) never
// open it; a sharded run records and uses the same net.
func TestTextureBackbone(t *testing.T) {
	const id = "catnet-v1"
	for _, parts := range []bool{false, true} {
		data := writeSet(t, parts)
		tex := &catNet{}
		o := perCategoryOptions(t, data)
		o.CategoryNet, o.CategoryNetID = tex, id
		tau := 1.0
		if parts {
			tau = 0.15
		}
		c, x := runCat(t, o, tau)
		if parts {
			if c.Backbone != nil || tex.calls.Load() != 0 {
				t.Errorf("object category: backbone %+v, the texture net ran %d times", c.Backbone, tex.calls.Load())
			}
			continue
		}
		if c.Backbone == nil || c.Backbone.Name != "catnet" || c.Backbone.ID != id || tex.calls.Load() == 0 {
			t.Fatalf("texture category: backbone %+v, the texture net ran %d times", c.Backbone, tex.calls.Load())
		}
		e := fakeOptions(t, tex)
		e.NetID = id
		e.Data, e.Categories, e.Modes, e.Refs, e.Weighting, e.Taus = data, nil, o.Modes, o.Refs, o.Weighting, o.Taus
		e.ScoreInterval, e.XPool, e.TTA, e.Cluster = 1, c.XPool, c.TTA, c.Cluster
		if _, ex := runCat(t, e, tau); !bytes.Equal(x, ex) {
			t.Error("X of the texture category differs from that of a run given its net and settings explicitly")
		}
		p := perCategoryOptions(t, data) // no CategoryNet: the run's net
		if pc, px := runCat(t, p, tau); pc.Backbone != nil || bytes.Equal(px, x) {
			t.Errorf("without a texture net: backbone %+v, X equal to the texture net's %v", pc.Backbone, bytes.Equal(px, x))
		}
		imgs := []string{filepath.Join(data, "a", "0.png"), filepath.Join(data, "b", "3.png")}
		assign := func(ao pipeline.AssignOptions) (*pipeline.AssignResult, error) {
			ao.Mode, ao.Tau, ao.Images = rundir.ModeUnsupervised, &tau, imgs
			return pipeline.Assign(context.Background(), ao)
		}
		a1, err := assign(pipeline.AssignOptions{Run: o.Out, Net: o.Net, NetID: o.NetID, CategoryNet: tex, CategoryNetID: id})
		if err != nil {
			t.Fatal(err)
		}
		a2, err := assign(pipeline.AssignOptions{Run: e.Out, Net: tex, NetID: id})
		if err != nil {
			t.Fatal(err)
		}
		if !equalF32(a1.X, a2.X) || a1.Rows[0].Score != a2.Rows[0].Score {
			t.Error("assign on the texture category differs from assign on the explicit run")
		}
		if _, err := assign(pipeline.AssignOptions{Run: o.Out, Net: o.Net, NetID: o.NetID}); !errors.Is(err, pipeline.ErrUnknownBackbone) {
			t.Errorf("assign without the texture net: %v, want ErrUnknownBackbone (catnet is no registry backbone)", err)
		}
		if _, err := assign(pipeline.AssignOptions{Run: o.Out, Net: o.Net, NetID: o.NetID, CategoryNet: tex, CategoryNetID: "catnet-v2"}); !errors.Is(err, pipeline.ErrWeightsMismatch) {
			t.Errorf("assign with other texture weights: %v, want ErrWeightsMismatch", err)
		}
		f := perCategoryOptions(t, data)
		ftex := &catNet{}
		f.CategoryNet, f.CategoryNetID, f.Fixed = ftex, id, []string{pipeline.FixLayers}
		if fc, _ := runCat(t, f, tau); fc.Backbone != nil || ftex.calls.Load() != 0 {
			t.Errorf("--layers given: the texture category still got its own backbone %+v (ran %d times)", fc.Backbone, ftex.calls.Load())
		}
		// Sharded: the embed stage records the net, the merge the same files.
		base := perCategoryOptions(t, data)
		base.CategoryNet, base.CategoryNetID = tex, id
		store := filepath.Join(t.TempDir(), "store")
		runShards(t, base, store, 2)
		if _, _, err := pipeline.Merge(context.Background(), store, pipeline.MergeOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err := rundir.ReadRun(store)
		if err != nil {
			t.Fatal(err)
		}
		if g := got.Categories[0].Backbone; g == nil || *g != *c.Backbone {
			t.Errorf("sharded run's category backbone %+v, want %+v", g, c.Backbone)
		}
		sameRuns(t, o.Out, store)
	}
}

// TestTextureBackboneRegistry: with the auto preset and no net in memory,
// a texture category runs on the registry's MobileNet V1 (run.json
// records its file and SHA-256, those of ../shared/weights) while the run
// keeps MobileNet V2; --weights given (FixLayers, as the command sets it)
// keeps V2 for every category. Needs ../shared/weights; skipped with
// -short.
func TestTextureBackboneRegistry(t *testing.T) {
	v1file := "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
	wdir := sharedWeights(t, v1file)
	v1 := filepath.Join(wdir, v1file)
	sums, err := os.ReadFile(filepath.Join(wdir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	data := writeSet(t, false)
	o, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	o.Data, o.Out, o.Cache = data, filepath.Join(t.TempDir(), "out"), ""
	o.Modes, o.Refs = []string{rundir.ModeUnsupervised}, 6
	run := runRead(t, o)
	c := run.Categories[0]
	if run.Backbone.Name != "mobilenet_v2" || c.Backbone == nil || c.Backbone.Name != "mobilenet_v1" ||
		c.Backbone.WeightsFile != v1 || !strings.Contains(string(sums), c.Backbone.WeightsSHA256+"  "+filepath.Base(v1)) {
		t.Fatalf("run backbone %+v, category backbone %+v", run.Backbone, c.Backbone)
	}
	w := o
	w.Out, w.Weights, w.Fixed = filepath.Join(t.TempDir(), "weights"), filepath.Join(wdir, "mobilenet_v2_1.0_224_quant.tflite"), []string{pipeline.FixLayers}
	if wc := runRead(t, w).Categories[0]; wc.Backbone != nil || len(wc.Layers) != 0 {
		t.Errorf("--weights given: category backbone %+v, layers %v", wc.Backbone, wc.Layers)
	}
}
