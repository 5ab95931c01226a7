package gemm

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/anomclust/anomclust/internal/fmapeak"
)

// TestTuneBreakdown is a measurement, not a check: on one thread it runs
// the AVX2 kernel in settings that add one memory level at a time, from
// operands in L1 to the full packed 1024³ product, interleaved round robin
// with the FMA loop, and logs each one's rate by process CPU time as a share
// of the FMA loop's: GEMM_TUNE=breakdown go test -run TuneBreakdown -v ./gemm
func TestTuneBreakdown(t *testing.T) {
	tuneOnly(t, "breakdown")
	if defaultKernel != kernelAVX2 {
		t.Skip("the AVX2 kernel is not this machine's kernel")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rng := rand.New(rand.NewPCG(3, 3))
	const m, n, k = 1024, 1024, 1024
	a, bm, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	flops := 2.0 * m * n * k
	cfg := config{kern: kernelAVX2, threads: 1}
	pb := cfg.packB(k, n, bm, n, false, false)
	c2, a2 := make([]float32, m*(n+16)), randSlice(rng, m*(k+16))
	type run struct {
		name string
		f    func() float64 // returns the flops it did
	}
	all := func(f func()) func() float64 { return func() float64 { f(); return flops } }
	// The prefetch of the next B panel: none, the whole panel by every
	// tile (kernel6x16n), a quarter by each of the last four (kernel6x16q).
	const (
		noPrefetch = iota
		everyTile
		lastFour
	)
	var freshC bool
	// tiles runs the kernel over mc/6 row tiles of a packed A block (mc x
	// kc) against panels B micro-panels of kc x 16 (each reused by all row
	// tiles, as the driver does), writing each tile to C with stride ldc,
	// until about flops are done.
	tiles := func(kc, mc, panels, ldc int, next int) func() float64 {
		ap := randSlice(rng, mc*kc)
		bp := randSlice(rng, panels*kc*16)
		per := 2.0 * float64(mc*16*kc*panels)
		reps := max(int(flops/per), 1)
		crows := mc
		if freshC {
			crows = mc * reps // each rep writes its own rows, as a product does
		}
		cc := make([]float32, crows*ldc+16*panels)
		return func() float64 {
			for r := 0; r < reps; r++ {
				cc := cc
				if freshC {
					cc = cc[r*mc*ldc:]
				}
				for q := 0; q < panels; q++ {
					b := &bp[q*kc*16]
					bn := &bp[((q+1)%panels)*kc*16]
					for ir := 0; ir < mc; ir += 6 {
						switch tile := ir / 6; {
						case next == everyTile:
							kernel6x16n(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false, bn)
						case next == lastFour && tile >= mc/6-4:
							kernel6x16q(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false, &bp[((q+1)%panels)*kc*16+(tile-(mc/6-4))*kc*4])
						default:
							kernel6x16(kc, &ap[ir*kc], b, &cc[ir*ldc+q*16], ldc, false)
						}
					}
				}
			}
			return per * float64(reps)
		}
	}
	fresh := func(f func() func() float64) func() float64 {
		freshC = true
		defer func() { freshC = false }()
		return f()
	}
	packAll := func() float64 {
		ap := make([]float32, 156*k)
		for i := 0; i+6 <= m; i += 6 {
			packA6(k, a[i*k:], k, ap[(i%156)*k:])
		}
		return 0
	}
	runs := []run{
		{"FMA loop", all(func() { fmapeak.Run(1, flops) })},
		{"L1: kc 256, 1 tile, 1 panel", tiles(256, 6, 1, 16, noPrefetch)},
		{"kc 1024, 1 tile, 1 panel (B 64K)", tiles(1024, 6, 1, 16, noPrefetch)},
		{"kc 256, mc 156, 1 panel", tiles(256, 156, 1, 16, noPrefetch)},
		{"kc 1024, mc 156, 1 panel", tiles(1024, 156, 1, 16, noPrefetch)},
		{"kc 1024, mc 78, 1 panel", tiles(1024, 78, 1, 16, noPrefetch)},
		{"kc 1024, mc 156, 64 panels, ldc 1024", tiles(1024, 156, 64, 1024, noPrefetch)},
		{"  same, every tile prefetching next panel", tiles(1024, 156, 64, 1024, everyTile)},
		{"  same, last 4 tiles a quarter each", tiles(1024, 156, 64, 1024, lastFour)},
		{"  same, C fresh (4 MiB)", fresh(func() func() float64 { return tiles(1024, 156, 64, 1024, lastFour) })},
		{"  same, ldc 1040", tiles(1024, 156, 64, 1040, lastFour)},
		{"kc 256, mc 144, 64 panels, last 4", tiles(256, 144, 64, 1024, lastFour)},
		{"packing A alone (packA6, 1024x1024)", packAll},
		{"packed product 1024³", all(func() { cfg.matMulPacked(m, a, k, pb, c, n, false) })},
		{"MatMul 1024³", all(func() { cfg.matMul(m, n, k, a, k, bm, n, false, c, n, false) })},
		{"packed product, ldc 1040", all(func() { cfg.matMulPacked(m, a, k, pb, c2, n+16, false) })},
		{"packed product, lda 1040", all(func() { cfg.matMulPacked(m, a2, k+16, pb, c, n, false) })},
	}
	const rounds = 15
	rates := make([][]float64, len(runs))
	for r := 0; r <= rounds; r++ {
		for i, x := range runs {
			c0 := processCPU()
			fl := x.f()
			if fl == 0 { // packing: time as a share of the packed product's flops
				fl = flops
			}
			if r > 0 {
				rates[i] = append(rates[i], fl/(processCPU()-c0).Seconds()/1e9)
			}
		}
	}
	med := func(i int) float64 { s := slices.Clone(rates[i]); slices.Sort(s); return s[len(s)/2] }
	peak := med(0)
	for i, x := range runs {
		t.Logf("%-40s %6.1f GFLOP/s CPU time = %3.0f%% of the FMA loop", x.name, med(i), 100*med(i)/peak)
	}
}
