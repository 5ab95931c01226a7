package gemm

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchShapes are 1024³ and the three GEMMs of a DINO ViT-B/8 block on one
// 224 px image (785 tokens): qkv, fc1, fc2.
var benchShapes = [][3]int{ // m, n, k
	{1024, 1024, 1024}, {785, 2304, 768}, {785, 3072, 768}, {785, 768, 3072},
}

func benchThreads() []int {
	if p := runtime.GOMAXPROCS(0); p > 1 {
		return []int{1, p}
	}
	return []int{1}
}

func reportGFLOPs(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkMatMul: go test -run X -bench MatMul ./gemm
// "nn" is MatMul (B k x n), "nt" MatMulT (B n x k), "packed" MatMulPacked
// with B packed once outside the loop (constant weights).
func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sh := range benchShapes {
		m, n, k := sh[0], sh[1], sh[2]
		a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		flops := 2 * float64(m) * float64(n) * float64(k)
		for _, t := range benchThreads() {
			cfg := defaultConfig()
			cfg.threads = t
			b.Run(fmt.Sprintf("%dx%dx%d/nn/t%d", m, n, k, t), func(b *testing.B) {
				for b.Loop() {
					cfg.matMul(m, n, k, a, k, bm, n, false, c, n, false)
				}
				reportGFLOPs(b, flops)
			})
			b.Run(fmt.Sprintf("%dx%dx%d/nt/t%d", m, n, k, t), func(b *testing.B) {
				for b.Loop() {
					cfg.matMul(m, n, k, a, k, bm, k, true, c, n, false)
				}
				reportGFLOPs(b, flops)
			})
			b.Run(fmt.Sprintf("%dx%dx%d/packed/t%d", m, n, k, t), func(b *testing.B) {
				pb := cfg.packB(k, n, bm, n, false, false)
				for b.Loop() {
					cfg.matMulPacked(m, a, k, pb, c, n, false)
				}
				reportGFLOPs(b, flops)
			})
		}
	}
}

// BenchmarkNearest: the fused NN kernel, reporting the GFLOP/s of the
// equivalent GEMM (2·m·n·d). m = n = 784*16 = 12544, d = 1024 is 322 GFLOP
// per op (seconds); "small" is 3136 x 3136 x 1024.
// go test -run X -bench Nearest ./gemm
func BenchmarkNearest(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	for _, sz := range []struct {
		name    string
		m, n, d int
	}{{"small", 3136, 3136, 1024}, {"12544", 12544, 12544, 1024}} {
		a, bm := randSlice(rng, sz.m*sz.d), randSlice(rng, sz.n*sz.d)
		dist, idx := make([]float32, sz.m), make([]int32, sz.m)
		flops := 2 * float64(sz.m) * float64(sz.n) * float64(sz.d)
		for _, t := range benchThreads() {
			cfg := defaultConfig()
			cfg.threads = t
			bank := cfg.packBank(sz.n, sz.d, bm, sz.d, false)
			b.Run(fmt.Sprintf("%s/t%d", sz.name, t), func(b *testing.B) {
				for b.Loop() {
					cfg.nearestPacked(sz.m, a, sz.d, bank, dist, idx)
				}
				reportGFLOPs(b, flops)
			})
		}
	}
}

// BenchmarkKernel measures each micro-kernel alone with its operands in L1
// (kc = 256, one tile written back per call): the ceiling for the driver.
func BenchmarkKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, kern := range availableKernels() {
		const kc = 256
		a, bm := randSlice(rng, kc*kern.mr), randSlice(rng, kc*kern.nr)
		c := make([]float32, kern.mr*kern.nr)
		b.Run(kern.name, func(b *testing.B) {
			for b.Loop() {
				kern.fn(kc, &a[0], &bm[0], &c[0], kern.nr, true)
			}
			reportGFLOPs(b, 2*float64(kc*kern.mr*kern.nr))
		})
	}
}
