package gemm

import "math"

// NearestDistances computes, for every row a_i of A (m x d), the Euclidean
// distance to its nearest row of B (n x d) and that row's index:
// minDist[i] = min_j ||a_i - b_j||, argMin[i] = the smallest such j.
// A and B are dense (leading dimension d). argMin may be nil.
func NearestDistances(m, n, d int, a, b []float32, minDist []float32, argMin []int32) {
	for i := 0; i < m; i++ {
		ai := a[i*d : i*d+d]
		best := math.Inf(1)
		bestJ := int32(-1)
		for j := 0; j < n; j++ {
			bj := b[j*d : j*d+d]
			var s float64
			for p := range ai {
				t := float64(ai[p] - bj[p])
				s += t * t
			}
			if s < best {
				best, bestJ = s, int32(j)
			}
		}
		minDist[i] = float32(math.Sqrt(best))
		if argMin != nil {
			argMin[i] = bestJ
		}
	}
}
