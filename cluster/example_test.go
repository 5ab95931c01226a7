package cluster_test

import (
	"fmt"

	"github.com/anomclust/anomclust/cluster"
)

// Ward on six points of the plane, two tight groups of three: the merge
// tree (scipy's linkage layout) joins each group first, and cutting it into
// two clusters gives the groups back. The heights and labels are those of
// scipy.cluster.hierarchy.ward and sklearn's AgglomerativeClustering on the
// same points.
func ExampleWard() {
	x := []float64{
		0, 0,
		0, 1,
		1, 0,
		10, 10,
		10, 11,
		11, 10,
	}
	l, err := cluster.Ward(x, 6, 2)
	if err != nil {
		panic(err)
	}
	for _, m := range l.Merges {
		fmt.Printf("merge %d and %d at height %.3f: %d points\n", m.A, m.B, m.Height, m.Size)
	}
	labels, err := l.Cut(2)
	if err != nil {
		panic(err)
	}
	fmt.Println("labels:", labels)
	// Output:
	// merge 0 and 1 at height 1.000: 2 points
	// merge 3 and 4 at height 1.000: 2 points
	// merge 2 and 6 at height 1.291: 3 points
	// merge 5 and 7 at height 1.291: 3 points
	// merge 8 and 9 at height 24.495: 6 points
	// labels: [1 1 1 0 0 0]
}
