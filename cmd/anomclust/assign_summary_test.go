package main

import (
	"strings"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
)

func TestAssignSummary(t *testing.T) {
	one := &pipeline.AssignResult{Category: "wood", Mode: "semi", Tau: 2, K: 3, Rows: make([]pipeline.Assigned, 1)}
	two := &pipeline.AssignResult{Category: "wood", Mode: "unsupervised", Tau: 1, K: 3, Rows: make([]pipeline.Assigned, 2)}
	for _, tc := range []struct {
		res         *pipeline.AssignResult
		recommended bool
		defaulted   bool
		want        []string
		not         []string
	}{
		{one, true, true, []string{"1 image placed", "(semi, tau 2, the run's recommended setting)"}, []string{"1 images", "no recommended"}},
		{two, false, true, []string{"2 images placed", "(unsupervised, tau 1, the default: the run marks no recommended setting)"}, []string{"the run's recommended setting"}},
		{two, false, false, []string{"2 images placed", "(unsupervised, tau 1)"}, []string{"recommended"}},
		{one, true, false, []string{"(semi, tau 2, the run's recommended setting)"}, nil},
	} {
		tc.res.Recommended = tc.recommended
		got := assignSummary(tc.res, tc.defaulted, 0)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("assignSummary(recommended %v, defaulted %v) = %q, want it to contain %q", tc.recommended, tc.defaulted, got, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("assignSummary(recommended %v, defaulted %v) = %q, must not contain %q", tc.recommended, tc.defaulted, got, w)
			}
		}
	}
}
