package pipeline

import (
	"slices"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/tensor"
)

// TestFinerLater: taps whose later entries come earlier in the backbone's
// forward order (finer maps, block-averaged by patchfeat) get their own
// cache key part; every other order keeps the old key.
func TestFinerLater(t *testing.T) {
	all := []string{"stride2", "stride4", "stride8", "stride16", "stride32", "block_3/add"}
	cases := []struct {
		taps []string
		want bool
	}{
		{[]string{"stride8", "stride16"}, false},
		{[]string{"stride8", "stride16", "stride32"}, false},
		{[]string{"stride8"}, false},
		{[]string{"stride8", "stride16", "stride4"}, true},
		{[]string{"stride16", "stride8"}, true},
		{[]string{"custom", "stride8"}, false},
		{[]string{"stride8", "custom"}, false},
	}
	for _, c := range cases {
		if got := finerLater(all, c.taps); got != c.want {
			t.Errorf("finerLater(%v) = %v, want %v", c.taps, got, c.want)
		}
	}
	n := &net{bb: &orderNet{layers: all}, id: "x"}
	for _, c := range cases {
		o := &Options{Layers: c.taps}
		if got := slices.Contains(cacheSettings(n, o), "finer_later=area"); got != c.want {
			t.Errorf("cache key of taps %v has finer_later=area: %v, want %v", c.taps, got, c.want)
		}
	}
}

// orderNet is a backbone that only lists its taps.
type orderNet struct{ layers []string }

func (o *orderNet) Name() string                    { return "ordernet" }
func (o *orderNet) Layers() []string                { return o.layers }
func (o *orderNet) Preprocess() backbone.Preprocess { return backbone.Preprocess{} }
func (o *orderNet) Forward([]*tensor.Tensor, []string) ([]map[string]*tensor.Tensor, error) {
	return nil, nil
}
