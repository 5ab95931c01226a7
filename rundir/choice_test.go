package rundir

import (
	"strings"
	"testing"
)

// TestChoiceSettings: the plain-words account of a category's settings
// follows each field (alignment, MuSc interval, descriptor, fixed flags).
func TestChoiceSettings(t *testing.T) {
	for _, tc := range []struct {
		c    Category
		want []string
		not  []string
	}{
		{Category{ObjectAlign: true, ScoreInterval: 0.3, XPool: "mean", Choice: &CategoryChoice{Kind: KindObject}},
			[]string{"aligned to their part (--object-align)", "lowest 30% of distances (--score-interval 0.3)", "X the weighted mean of the patches (--x-pool mean)"},
			[]string{"not aligned", "plain mean", "kept as given"}},
		{Category{ScoreInterval: 1, XPool: "meanstd-u", Choice: &CategoryChoice{Kind: KindTexture}},
			[]string{"whole images, not aligned", "the plain mean distance", "plain standard deviation of the patches (--x-pool meanstd-u)"},
			[]string{"--object-align", "lowest", "kept as given"}},
		{Category{XPool: "gem", ScoreInterval: 0.5, Choice: &CategoryChoice{Kind: KindTexture, Fixed: []string{"x-pool", "score-interval"}}},
			[]string{"lowest 50%", "GeM", "; kept as given: x-pool, score-interval"}, nil},
		{Category{}, []string{"whole images", "plain mean distance", "(--x-pool mean)"}, nil},
		{Category{Backbone: &Backbone{Name: "mobilenet_v1"}}, []string{", backbone mobilenet_v1"}, nil},
		{Category{XPool: "meanstd:2+avg:0.5"}, []string{"X the weighted mean and standard deviation of the patches with their plain mean (--x-pool meanstd:2+avg:0.5)"}, nil},
	} {
		got := tc.c.ChoiceSettings()
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%+v: %q lacks %q", tc.c, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("%+v: %q has %q", tc.c, got, w)
			}
		}
	}
}

// TestKindWords: the article follows the kind.
func TestKindWords(t *testing.T) {
	if a, b := (&CategoryChoice{Kind: KindObject}).KindWords(), (&CategoryChoice{Kind: KindTexture}).KindWords(); a != "an object" || b != "a texture" {
		t.Errorf("KindWords: %q, %q", a, b)
	}
}
