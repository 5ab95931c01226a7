package cluster

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestMethodsTable(t *testing.T) {
	if got := Methods(); !slices.Equal(got, []string{MethodKMeans, MethodSpectral, MethodWard}) {
		t.Fatalf("Methods() = %v", got)
	}
	_, err := LookupMethod("dbscan")
	if err == nil || !strings.Contains(err.Error(), `"dbscan"`) || !strings.Contains(err.Error(), "kmeans, spectral, ward") {
		t.Fatalf("LookupMethod(dbscan) error = %v, want it to name the method and the known ones", err)
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
	sp, _ := LookupMethod(MethodSpectral)
	want, err = Spectral(x, n, d, k, SpectralOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	got, link, err = sp.Cluster(x, n, d, k, MethodOptions{Seed: 7, Tree: other})
	if err != nil || link != nil || !slices.Equal(got, want) {
		t.Fatalf("spectral method: %v link %v err %v; want %v", got, link, err, want)
	}
}

// TestEveryMethod holds every registered method to the Method contract
// on four groups of 10 points: a label in [0, k) per row, k non-empty
// clusters, the groups found, the same labels twice, k = 1 all zeros,
// k = n every point alone, and k out of [1, n] an error.
func TestEveryMethod(t *testing.T) {
	const n, d, k = 40, 3, 4
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*d)
	truth := make([]int, n)
	for i := range n {
		truth[i] = i % k
		for j := range d {
			x[i*d+j] = float32(0.3*rng.NormFloat64()) + float32(truth[i]*5*(j%2))
		}
	}
	for _, name := range Methods() {
		m, err := LookupMethod(name)
		if err != nil || m.Name != name || m.Doc == "" {
			t.Fatalf("%s: %+v, %v", name, m, err)
		}
		opt := MethodOptions{Seed: 1}
		got, _, err := m.Cluster(x, n, d, k, opt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got) != n || distinct(got) != k || slices.Min(got) != 0 || slices.Max(got) != k-1 {
			t.Errorf("%s: labels %v, want %d rows in %d clusters 0..%d", name, got, n, k, k-1)
		}
		if !samePartition(got, truth) {
			t.Errorf("%s: labels %v, want the four groups", name, got)
		}
		if again, _, err := m.Cluster(x, n, d, k, opt); err != nil || !slices.Equal(again, got) {
			t.Errorf("%s: a second run gave %v (err %v), the first %v", name, again, err, got)
		}
		if one, _, err := m.Cluster(x, n, d, 1, opt); err != nil || slices.Max(one) != 0 || len(one) != n {
			t.Errorf("%s: k=1 gave %v, %v", name, one, err)
		}
		if all, _, err := m.Cluster(x, n, d, n, opt); err != nil || distinct(all) != n {
			t.Errorf("%s: k=n gave %d clusters (err %v)", name, distinct(all), err)
		}
		for _, bad := range []int{0, -2, n + 1} {
			if _, _, err := m.Cluster(x, n, d, bad, opt); err == nil {
				t.Errorf("%s: k=%d accepted", name, bad)
			}
		}
	}
}
