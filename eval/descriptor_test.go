package eval

import (
	"math"
	"testing"

	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/xpool"
)

// samePartition says whether two labelings group the items identically.
func samePartition(a, b []int) bool {
	ab, ba := map[int]int{}, map[int]int{}
	for i := range a {
		if v, ok := ab[a[i]]; ok && v != b[i] {
			return false
		}
		if v, ok := ba[b[i]]; ok && v != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

// TestAverageLinkageScipy checks UPGMA against scipy's
// fcluster(linkage(pdist(x), 'average'), k, 'maxclust') on 1-d points
// (oracle: /usr/bin/python3 with scipy, printed partitions below).
func TestAverageLinkageScipy(t *testing.T) {
	// Distinct pair distances, where scipy's 'weighted' (WPGMA) and
	// 'complete' give other partitions than 'average' for some k.
	x := []float64{2.1, 13.7, 10.7, 7.4, 8.3, 11.8, 14.3, 3.5, 1.3, 10.0}
	n := len(x)
	var dist []float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			dist = append(dist, math.Abs(x[i]-x[j]))
		}
	}
	want := map[int][]int{
		2: {1, 2, 2, 2, 2, 2, 2, 1, 1, 2},
		3: {1, 2, 3, 3, 3, 3, 2, 1, 1, 3},
		4: {1, 2, 4, 3, 3, 4, 2, 1, 1, 4},
		5: {1, 3, 5, 4, 4, 5, 3, 2, 1, 5},
	}
	for k, w := range want {
		got, err := AverageLinkage(dist, n, k)
		if err != nil {
			t.Fatal(err)
		}
		if !samePartition(got, w) {
			t.Errorf("k=%d: %v, scipy %v", k, got, w)
		}
	}
	if _, err := AverageLinkage(dist, n, 0); err == nil {
		t.Error("k=0 accepted")
	}
	if _, err := AverageLinkage(dist[:3], n, 2); err == nil {
		t.Error("short distances accepted")
	}
}

func TestCoAssociation(t *testing.T) {
	labels := [][]int{{0, 0, 1, 1}, {0, 1, 1, 1}, {2, 2, 2, 0}}
	got, err := CoAssociation(labels, 4)
	if err != nil {
		t.Fatal(err)
	}
	// pairs (0,1) (0,2) (0,3) (1,2) (1,3) (2,3)
	want := []float64{2.0 / 3, 1.0 / 3, 0, 2.0 / 3, 1.0 / 3, 2.0 / 3}
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= 1e-12) {
			t.Fatalf("co-association %v, want %v", got, want)
		}
	}
	if _, err := CoAssociation([][]int{{0, 1}}, 3); err == nil {
		t.Error("wrong length accepted")
	}
}

// Clusterings that each recover the truth with a different item moved
// (noise) agree, in consensus, on the truth.
func TestConsensusRecoversAgreement(t *testing.T) {
	truth := []int{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}
	var labels [][]int
	for noisy := 0; noisy < 5; noisy++ {
		l := append([]int(nil), truth...)
		l[noisy*2] = (l[noisy*2] + 1) % 3
		labels = append(labels, l)
	}
	co, err := CoAssociation(labels, len(truth))
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{ConsensusAverage, ConsensusWard} {
		pred, err := consensusCut(co, len(truth), 3, link)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := metrics.Evaluate(truth, pred)
		if err != nil {
			t.Fatal(err)
		}
		if !(sc.NMI >= 0.999) {
			t.Errorf("%s: consensus %v, NMI %.3f, want the truth", link, pred, sc.NMI)
		}
	}
}

// TestXPoolRowMatchesRun: an eval row with a descriptor and a run with
// --x-pool of the same name give the same clusters (they share
// xpool.Embed), for every mode.
func TestXPoolRowMatchesRun(t *testing.T) {
	isMeanStdU := func(r Result) bool { return r.XPool == string(xpool.MeanStdU) }
	rows := rowsMatchRun(t,
		func(c *Config) { c.XPools, c.Posts, c.KAuto = []xpool.Kind{xpool.MeanStdU}, []string{"raw"}, true },
		func(o *pipeline.Options) { o.XPool = string(xpool.MeanStdU) },
		isMeanStdU)
	for _, r := range rows {
		if isMeanStdU(r) && (r.Mode == "average" || r.Pool == "std-tau=0.5") && !(r.KEst >= 2) {
			t.Errorf("%s: K estimate %d with KAuto", r.Mode, r.KEst)
		}
	}
}
