package report

import (
	"testing"

	"github.com/anomclust/anomclust/rundir"
)

// TestReproCategoryNet: the reproduce section names a category's own
// backbone (with its weights) and taps beside the run's, and nothing for
// a category that has none.
func TestReproCategoryNet(t *testing.T) {
	run := &rundir.Run{Backbone: rundir.Backbone{Name: "mobilenet_v2"}, Layers: []string{"stride8", "stride16"},
		Categories: []rundir.Category{
			{Name: "neu", Backbone: &rundir.Backbone{Name: "mobilenet_v1", WeightsFile: "v1.tflite", WeightsSHA256: "abc"},
				Layers: []string{"stride8", "stride16", "stride32"}},
			{Name: "screw"},
		}}
	got := map[string]string{}
	for _, it := range buildRepro(run, "out").Items {
		got[it.K] = it.V
	}
	if got["backbone"] != "mobilenet_v2" || got["backbone of neu"] != "mobilenet_v1, weights v1.tflite, SHA-256 abc" ||
		got["layers of neu"] != "stride8, stride16, stride32" {
		t.Errorf("reproduce items %v", got)
	}
	if _, ok := got["backbone of screw"]; ok {
		t.Errorf("a category without its own net listed: %v", got)
	}
	if h := ownNets(run); h != "neu: mobilenet_v1, stride8+stride16+stride32" {
		t.Errorf("header names %q", h)
	}
}
