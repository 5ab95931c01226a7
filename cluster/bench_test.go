package cluster

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkWard is the brief's size: N = 2000 images, D = 1024.
//
//	go test -run '^$' -bench Ward -benchtime 3x ./cluster
func BenchmarkWard(b *testing.B) {
	const n, d = 2000, 1024
	x, _ := blobData(rand.New(rand.NewPCG(1, 1)), []int{800, 600, 400, 200}, d, 1, 1)
	x32 := make([]float32, len(x))
	for i, v := range x {
		x32[i] = float32(v)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := WardLabels(x32, n, d, 4); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWardChain times the nearest-neighbour chain alone (distances
// precomputed), N = 2000.
func BenchmarkWardChain(b *testing.B) {
	const n, d = 2000, 16
	x, _ := blobData(rand.New(rand.NewPCG(1, 1)), []int{800, 600, 400, 200}, d, 1, 1)
	dist := PDist(x, n, d)
	work := make([]float64, len(dist))
	b.ResetTimer()
	for range b.N {
		copy(work, dist)
		if _, err := WardFromDistances(work, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKMeans: N = 2000, D = 1024, K = 10, 10 restarts.
func BenchmarkKMeans(b *testing.B) {
	const n, d = 2000, 1024
	x, _ := blobData(rand.New(rand.NewPCG(1, 1)), []int{800, 600, 400, 200}, d, 1, 1)
	b.ResetTimer()
	for range b.N {
		if _, err := KMeans(x, n, d, 10, KMeansOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
