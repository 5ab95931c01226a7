package main

import (
	"strings"
	"testing"

	"github.com/anomclust/anomclust/xpool"
)

func TestParseXPools(t *testing.T) {
	got, err := parseXPools("mean, meanstd-u:2,gem,meanstd:2+avg:0.5")
	if err != nil {
		t.Fatal(err)
	}
	want := []xpool.Kind{xpool.Mean, "meanstd-u:2", xpool.GeM, "meanstd:2+avg:0.5"}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	if _, err := parseXPools("mean,max"); err == nil || !strings.Contains(err.Error(), "max") {
		t.Errorf("unknown descriptor: error %v, want one naming it", err)
	}
}
