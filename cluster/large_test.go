package cluster

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/npy"
)

// TestWardLargeVsScipy checks Ward against scipy at the benchmark size
// (N = 2000, D = 1024, float32 X), linkage bit for bit and the sklearn cut.
// It runs /usr/bin/python3 (scipy, sklearn) and takes ~10 s, so it is opt-in:
//
//	ANOMCLUST_LONG=1 go test -run WardLargeVsScipy -v ./cluster
func TestWardLargeVsScipy(t *testing.T) {
	if os.Getenv("ANOMCLUST_LONG") == "" {
		t.Skip("long check: set ANOMCLUST_LONG=1")
	}
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	dir := t.TempDir()
	script := `import sys, numpy as np
from scipy.cluster.hierarchy import ward
from sklearn.cluster import AgglomerativeClustering
d = sys.argv[1]
rng = np.random.default_rng(7)
c = rng.normal(0, 0.5, size=(8, 1024))
x = (c[rng.integers(0, 8, 2000)] + rng.normal(size=(2000, 1024))).astype(np.float32)
np.save(d + "/x.npy", x)
np.save(d + "/z.npy", ward(x))
np.save(d + "/labels.npy", AgglomerativeClustering(8, linkage="ward").fit(x).labels_.astype(np.int64))
`
	if out, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	x, shape, err := npy.Read[float32](filepath.Join(dir, "x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	z, _, err := npy.Read[float64](filepath.Join(dir, "z.npy"))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := npy.Read[int64](filepath.Join(dir, "labels.npy"))
	if err != nil {
		t.Fatal(err)
	}
	labels, l, err := WardLabels(x, shape[0], shape[1], 8)
	if err != nil {
		t.Fatal(err)
	}
	got := l.Matrix()
	diff := 0
	for i := range got {
		if got[i] != z[i] {
			diff++
		}
	}
	if diff > 0 {
		t.Errorf("%d of %d linkage values differ from scipy", diff, len(got))
	}
	for i := range labels {
		if int64(labels[i]) != want[i] {
			t.Fatalf("label %d = %d, sklearn %d", i, labels[i], want[i])
		}
	}
}
