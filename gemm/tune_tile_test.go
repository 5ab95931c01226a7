package gemm

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// TestTuneTileTimes is a measurement, not a check: it times each tile of
// the packed product's inner loops (a 156 x 1024 packed A block against 64
// B micro-panels of 1024 x 16, as the 1024³ product on one thread) and
// logs the mean time of a panel's first, second, ... tile, to show where
// B arriving from beyond L2 stalls the kernel:
// GEMM_TUNE=tiles go test -run TuneTileTimes -v ./gemm
func TestTuneTileTimes(t *testing.T) {
	tuneOnly(t, "tiles")
	if defaultKernel != kernelAVX2 {
		t.Skip("the AVX2 kernel is not this machine's kernel")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(5, 5))
	const kc, mc, panels, ldc = 1024, 156, 64, 1024
	ap := randSlice(rng, mc*kc)
	bp := randSlice(rng, panels*kc*16)
	cc := make([]float32, mc*ldc)
	for _, mode := range []string{"none", "n: every tile, whole next panel", "q: last 4 tiles, a quarter each", "q: first 4 tiles, a quarter each"} {
		var samples [mc / 6][]time.Duration
		const reps = 20
		for r := 0; r < reps; r++ {
			for q := 0; q < panels; q++ {
				b, bn := &bp[q*kc*16], &bp[((q+1)%panels)*kc*16]
				for ir := 0; ir < mc; ir += 6 {
					t0 := time.Now()
					tile, last := ir/6, mc/6-1
					switch {
					case mode[0] == 'n':
						kernel6x16n(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false, bn)
					case mode[3] == 'l' && tile > last-4:
						kernel6x16q(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false, &bp[((q+1)%panels)*kc*16+(tile-(last-3))*kc*4])
					case mode[3] == 'f' && tile < 4:
						kernel6x16q(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false, &bp[((q+1)%panels)*kc*16+tile*kc*4])
					default:
						kernel6x16(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false)
					}
					samples[ir/6] = append(samples[ir/6], time.Since(t0))
				}
			}
		}
		// Medians: a tile during which the thread was preempted (the
		// machine is shared) is an outlier of any position.
		med := make([]time.Duration, len(samples))
		var total time.Duration
		for i, s := range samples {
			slices.Sort(s)
			med[i] = s[len(s)/2]
			total += med[i]
		}
		rest := (total - med[0] - med[1]) / time.Duration(len(med)-2)
		t.Logf("prefetch %-32s: median tile time: 1st %v, 2nd %v, 3rd %v, 4th..26th %v on average (1st = %.2fx; all tiles %.1f GFLOP/s)",
			mode, med[0], med[1], med[2], rest, float64(med[0])/float64(rest),
			2*6*16*kc*float64(len(med))/total.Seconds()/1e9)
	}
}
