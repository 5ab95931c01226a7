package gemm

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// threadCPU is the CPU time of the calling OS thread: on a machine shared
// with other jobs it counts only the time this thread actually ran.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD (Linux)
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestTuneBlocking is the sweep behind kcBlock and mcBytes, not a check:
// it runs the packed product on one thread for several (kc, mc) pairs,
// interleaved round-robin, and logs GFLOP/s from thread CPU time.
//
//	GEMM_TUNE=1 go test -run TuneBlocking -v ./gemm      (785x2304x768)
//	GEMM_TUNE=k3072 ... (785x768x3072), GEMM_TUNE=1024 ... (1024³)
//
// GEMM_TUNE_THREADS=2 runs each product on 2 workers (MatMul, B packed
// lazily, as the bench's nn column) and logs process CPU time / threads.
func TestTuneBlocking(t *testing.T) {
	shape := os.Getenv("GEMM_TUNE")
	if shape == "" {
		t.Skip("tuning sweep: set GEMM_TUNE=1 (or k3072, 1024) to run it")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	m, n, k := 785, 2304, 768
	switch shape {
	case "k3072":
		m, n, k = 785, 768, 3072
	case "1024":
		m, n, k = 1024, 1024, 1024
	}
	rng := rand.New(rand.NewPCG(3, 3))
	a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	flops := 2 * float64(m*n*k)
	var cfgs []config
	kcs, mcs := []int{256, 384, 768, 1024, 1536}, []int{56, 112, 224, 448}
	if defaultKernel.mr == 6 { // the AVX2 tile: Zen 3 has a 512 KiB L2, 32 KiB L1
		kcs, mcs = []int{256, 384, 512, 768, 1024}, []int{48, 96, 144, 192, 288, 396}
	}
	threads, _ := strconv.Atoi(os.Getenv("GEMM_TUNE_THREADS"))
	threads = max(threads, 1)
	for _, kc := range kcs {
		for _, mc := range mcs {
			cfgs = append(cfgs, config{kern: defaultKernel, threads: threads, kc: kc, mc: mc})
		}
	}
	cpu := threadCPU
	if threads > 1 {
		cpu = func() time.Duration {
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				return 0
			}
			return time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) / time.Duration(threads)
		}
	}
	pb := cfgs[0].packB(k, n, bm, n, false, false)
	total := make([]time.Duration, len(cfgs))
	best := make([]float64, len(cfgs)) // best wall-clock rate of one product
	const rounds = 10
	for r := 0; r < rounds; r++ {
		for i, cfg := range cfgs {
			c0, w0 := cpu(), time.Now()
			if threads > 1 {
				cfg.matMul(m, n, k, a, k, bm, n, false, c, n, false)
			} else {
				cfg.matMulPacked(m, a, k, pb, c, n, false)
			}
			total[i] += cpu() - c0
			best[i] = max(best[i], flops/time.Since(w0).Seconds()/1e9)
		}
	}
	for i, cfg := range cfgs {
		t.Logf("kc %4d mc %3d: %6.1f GFLOP/s CPU time, best %6.1f", cfg.kc, cfg.mc, flops*rounds/total[i].Seconds()/1e9, best[i])
	}
}

// TestTunePacking logs the cost of packing a 768x2304 B (both forms) on one
// thread, in ns per element of thread CPU time: GEMM_TUNE=1 go test -run
// TunePacking -v ./gemm
func TestTunePacking(t *testing.T) {
	if os.Getenv("GEMM_TUNE") == "" {
		t.Skip("tuning measurement: set GEMM_TUNE=1 to run it")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(3, 3))
	const k, n, reps = 768, 2304, 50
	src := randSlice(rng, k*n)
	cfg := config{kern: defaultKernel, threads: 1}
	for _, trans := range []bool{false, true} {
		c0 := threadCPU()
		for r := 0; r < reps; r++ {
			ldb := n
			if trans {
				ldb = k // B is n x k
			}
			pb := cfg.packB(k, n, src, ldb, trans, true)
			putBuf(pb.buf)
		}
		t.Logf("trans=%v: %.3f ns/element", trans, (threadCPU()-c0).Seconds()*1e9/(k*n*reps))
	}
}
