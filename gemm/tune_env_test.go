package gemm

import (
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

// tuneOnly skips t unless GEMM_TUNE is name: the tuning measurements are
// not checks, and run only when asked for.
func tuneOnly(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("GEMM_TUNE") != name {
		t.Skipf("tuning measurement: set GEMM_TUNE=%s (GEMM_TUNE_THREADS, GEMM_TUNE_ROUNDS) to run it", name)
	}
}

// tuneThreads is GEMM_TUNE_THREADS, at least least; GOMAXPROCS is set to
// it until t ends.
func tuneThreads(t *testing.T, least int) int {
	threads, _ := strconv.Atoi(os.Getenv("GEMM_TUNE_THREADS"))
	threads = max(threads, least)
	prev := runtime.GOMAXPROCS(threads)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	return threads
}

// tuneRounds is GEMM_TUNE_ROUNDS, at least 9.
func tuneRounds() int {
	rounds, _ := strconv.Atoi(os.Getenv("GEMM_TUNE_ROUNDS"))
	return max(rounds, 9)
}

// schedCell is one schedule's figures over the rounds of a schedule
// measurement (TestTuneSchedule, TestTuneNNSchedule): rate by process CPU
// time and by wall clock (GFLOP/s), the workers' idle and not-running
// shares of the wall time (%), and the number of chunks.
type schedCell struct{ cpu, wall, idle, stolen, chunks []float64 }

// schedRound times one call of a row schedule: chunk wraps each chunk a
// worker runs, stop ends the call, add appends its figures to a cell.
type schedRound struct {
	w0               time.Time
	c0, wall, cpu    time.Duration
	fin, cpus, spans [16]time.Duration
	chunks           [16]int
}

func startRound() *schedRound { return &schedRound{w0: time.Now(), c0: processCPU()} }

// chunk runs f, worker w's chunk, on a locked OS thread and records its
// thread CPU time, its wall time and when it finished.
func (r *schedRound) chunk(w int, f func()) {
	runtime.LockOSThread()
	s0, t0 := time.Now(), threadCPU()
	f()
	r.cpus[w] += threadCPU() - t0
	r.spans[w] += time.Since(s0)
	r.fin[w] = time.Since(r.w0)
	r.chunks[w]++
	runtime.UnlockOSThread()
}

// stop records the call's wall and process CPU time.
func (r *schedRound) stop() {
	r.wall, r.cpu = time.Since(r.w0), processCPU()-r.c0
}

// add appends the round's figures for flops on threads workers to ce.
func (r *schedRound) add(ce *schedCell, flops float64, threads int) {
	var idle, stolen time.Duration
	nch := 0
	for w := 0; w < threads; w++ {
		idle += r.wall - r.fin[w]
		stolen += max(r.spans[w]-r.cpus[w], 0)
		nch += r.chunks[w]
	}
	share := func(d time.Duration) float64 { return 100 * d.Seconds() / (r.wall.Seconds() * float64(threads)) }
	ce.cpu = append(ce.cpu, flops/(r.cpu.Seconds()/float64(threads))/1e9)
	ce.wall = append(ce.wall, flops/r.wall.Seconds()/1e9)
	ce.idle = append(ce.idle, share(idle))
	ce.stolen = append(ce.stolen, share(stolen))
	ce.chunks = append(ce.chunks, float64(nch))
}

// median is the middle value of x (the upper one of an even count).
func median(x []float64) float64 {
	x = slices.Clone(x)
	slices.Sort(x)
	return x[len(x)/2]
}
