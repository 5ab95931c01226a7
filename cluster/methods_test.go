package cluster

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestMethodsTable(t *testing.T) {
	if got := Methods(); !slices.Equal(got, []string{MethodKMeans, MethodWard}) {
		t.Fatalf("Methods() = %v", got)
	}
	_, err := LookupMethod("spectral")
	if err == nil || !strings.Contains(err.Error(), `"spectral"`) || !strings.Contains(err.Error(), "kmeans, ward") {
		t.Fatalf("LookupMethod(spectral) error = %v, want it to name the method and the known ones", err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n, d, k := 40, 3, 4
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64()) + float32(i/d%k)*3
	}
	ward, _ := LookupMethod(MethodWard)
	want, wantLink, err := WardLabels(x, n, d, k)
	if err != nil {
		t.Fatal(err)
	}
	got, link, err := ward.Cluster(x, n, d, k, MethodOptions{})
	if err != nil || !slices.Equal(got, want) || link == nil || !slices.Equal(link.Matrix(), wantLink.Matrix()) {
		t.Fatalf("ward method: %v %v, err %v; want %v", got, link, err, want)
	}
	// A tree passed in is cut, not rebuilt.
	other, err := Ward(x[:(n-1)*d], n-1, d)
	if err != nil {
		t.Fatal(err)
	}
	if got, link, err = ward.Cluster(x, n, d, k, MethodOptions{Tree: other}); err != nil || link != other || len(got) != n-1 {
		t.Fatalf("ward method ignored opt.Tree: %d labels, err %v", len(got), err)
	}
	km, _ := LookupMethod(MethodKMeans)
	r, err := KMeans(x, n, d, k, KMeansOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	got, link, err = km.Cluster(x, n, d, k, MethodOptions{Seed: 7})
	if err != nil || link != nil || !slices.Equal(got, r.Labels) {
		t.Fatalf("kmeans method: %v link %v err %v; want %v", got, link, err, r.Labels)
	}
}
