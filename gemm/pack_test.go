package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/anomclust/anomclust/internal/isa"
)

// TestTranspose16x16 checks the block transpose (assembly when available)
// element by element, with leading dimensions wider than the block and
// sentinels around the destination block.
func TestTranspose16x16(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(15, 16))
	const ld, ldd = 21, 32
	src := randSlice(rng, 15*ld+16)
	dst := make([]float32, 16*ldd)
	for i := range dst {
		dst[i] = -7
	}
	transpose16x16(&src[0], ld, &dst[0], ldd)
	for p := 0; p < 16; p++ {
		for j := 0; j < ldd; j++ {
			want := float32(-7)
			if j < 16 {
				want = src[j*ld+p]
			}
			if dst[p*ldd+j] != want {
				t.Fatalf("dst[%d][%d] = %g, want %g (asm %v)", p, j, dst[p*ldd+j], want, haveTranspose)
			}
		}
	}
}

// TestPackT checks packT (which uses the block transpose for full 16x16
// blocks and loops for the rest) against its definition for widths and
// shapes with and without full blocks.
func TestPackT(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct{ rows, cols, w int }{
		{32, 256, 32}, {32, 37, 32}, {17, 40, 32}, {14, 33, 14}, {5, 19, 14}, {16, 16, 16}, {3, 2, 6},
		{6, 37, 6}, {6, 8, 6}, {16, 43, 16}, {13, 24, 16}, {16, 5, 16},
	} {
		ld := c.cols + 3
		src := randSlice(rng, c.rows*ld)
		dst := randSlice(rng, c.cols*c.w) // garbage that padding must overwrite
		packT(c.rows, c.cols, src, ld, dst, c.w)
		for p := 0; p < c.cols; p++ {
			for i := 0; i < c.w; i++ {
				want := float32(0)
				if i < c.rows {
					want = src[i*ld+p]
				}
				if dst[p*c.w+i] != want {
					t.Fatalf("%+v: dst[%d][%d] = %g, want %g", c, p, i, dst[p*c.w+i], want)
				}
			}
		}
	}
}

// TestTranspose16x14 checks the 14-row transpose writes exactly 14 floats
// per destination row (the neighbours keep their sentinels).
func TestTranspose16x14(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(19, 20))
	const ld, ldd = 19, 17
	src := randSlice(rng, 13*ld+16)
	dst := make([]float32, 16*ldd)
	for i := range dst {
		dst[i] = -7
	}
	transpose16x14(&src[0], ld, &dst[0], ldd)
	for p := 0; p < 16; p++ {
		for j := 0; j < ldd; j++ {
			want := float32(-7)
			if j < 14 {
				want = src[j*ld+p]
			}
			if dst[p*ldd+j] != want {
				t.Fatalf("dst[%d][%d] = %g, want %g (asm %v)", p, j, dst[p*ldd+j], want, haveTranspose)
			}
		}
	}
}

// TestCopy32 checks the panel copy, and that it stops after rows rows.
func TestCopy32(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewPCG(21, 22))
	const rows, ld = 9, 40
	src := randSlice(rng, (rows-1)*ld+32)
	dst := make([]float32, (rows+1)*32)
	dst[rows*32] = -7
	copy32(rows, &src[0], ld, &dst[0])
	for p := 0; p < rows; p++ {
		for j := 0; j < 32; j++ {
			if dst[p*32+j] != src[p*ld+j] {
				t.Fatalf("dst[%d][%d] = %g, want %g", p, j, dst[p*32+j], src[p*ld+j])
			}
		}
	}
	if dst[rows*32] != -7 {
		t.Fatal("copy32 wrote past its rows")
	}
}

// requireAVX512 skips a test of an AVX-512 routine called directly when the
// assembly is compiled in but the CPU (or ANOMCLUST_ISA) does not allow it;
// in a noasm build the routine is its Go twin and the test runs.
func requireAVX512(t *testing.T) {
	t.Helper()
	if haveAsm && !isa.Has(isa.AVX512) {
		t.Skipf("no AVX-512F (%s)", isa.Describe())
	}
}

// requireAVX2 skips a test of an AVX2 routine called directly when the CPU
// (or ANOMCLUST_ISA) does not allow it or the build has no assembly.
func requireAVX2(t *testing.T) {
	t.Helper()
	if !haveAVX2 {
		t.Skipf("no AVX2+FMA assembly (%s, asm compiled in: %v)", isa.Describe(), haveAsm)
	}
}

// packLevels are the implementations of the AVX2 packing routines to check:
// the Go twins always, the dispatching wrappers (AVX2 assembly when
// haveAVX2) as well.
func packLevels() []string {
	if haveAVX2 {
		return []string{"go", "avx2"}
	}
	return []string{"go"}
}

// TestPackA6 checks the 6-row A panel packing (assembly: 8 columns per
// step with overlapping stores) against its definition, for column counts
// with and without a tail, and that nothing past the panel is written.
func TestPackA6(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, level := range packLevels() {
		for _, cols := range []int{1, 7, 8, 9, 16, 40, 61} {
			ld := cols + 5
			src := randSlice(rng, 6*ld)
			dst := make([]float32, cols*6+8)
			for i := range dst {
				dst[i] = -7
			}
			if level == "go" {
				packA6Go(cols, src, ld, dst)
			} else {
				packA6(cols, src[:5*ld+cols], ld, dst[:cols*6])
			}
			for p := 0; p < cols; p++ {
				for i := 0; i < 6; i++ {
					if got, want := dst[p*6+i], src[i*ld+p]; got != want {
						t.Fatalf("%s cols=%d: dst[%d][%d] = %g, want %g", level, cols, p, i, got, want)
					}
				}
			}
			for i := cols * 6; i < len(dst); i++ {
				if dst[i] != -7 {
					t.Fatalf("%s cols=%d: wrote dst[%d] past the panel", level, cols, i)
				}
			}
		}
	}
}

// TestTranspose8x8 checks the 8x8 block transpose with leading dimensions
// wider than the block and sentinels around the destination block.
func TestTranspose8x8(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const ld, ldd = 13, 11
	for _, level := range packLevels() {
		src := randSlice(rng, 7*ld+8)
		dst := make([]float32, 8*ldd)
		for i := range dst {
			dst[i] = -7
		}
		if level == "go" {
			transpose8x8Go(src, ld, dst, ldd)
		} else {
			transpose8x8(src, ld, dst, ldd)
		}
		for p := 0; p < 8; p++ {
			for j := 0; j < ldd; j++ {
				want := float32(-7)
				if j < 8 {
					want = src[j*ld+p]
				}
				if dst[p*ldd+j] != want {
					t.Fatalf("%s: dst[%d][%d] = %g, want %g", level, p, j, dst[p*ldd+j], want)
				}
			}
		}
	}
}

// TestCopy16 checks the 16-wide B panel copy, and that it stops after rows
// rows.
func TestCopy16(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	const rows, ld = 9, 21
	for _, level := range packLevels() {
		src := randSlice(rng, (rows-1)*ld+16)
		dst := make([]float32, (rows+1)*16)
		dst[rows*16] = -7
		if level == "go" {
			copy16Go(rows, src, ld, dst)
		} else {
			copy16(rows, src, ld, dst)
		}
		for p := 0; p < rows; p++ {
			for j := 0; j < 16; j++ {
				if dst[p*16+j] != src[p*ld+j] {
					t.Fatalf("%s: dst[%d][%d] = %g, want %g", level, p, j, dst[p*16+j], src[p*ld+j])
				}
			}
		}
		if dst[rows*16] != -7 {
			t.Fatalf("%s: copy16 wrote past its rows", level)
		}
	}
}

// TestCopy16Group checks the grouped B panel copy against its definition
// for 1 and several panels, with a destination stride wider than the
// panel and sentinels between the panels and after the last one.
func TestCopy16Group(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	const rows, ld, dstride = 9, 70, 9*16 + 5
	for _, level := range packLevels() {
		for _, groups := range []int{1, 2, 4} {
			src := randSlice(rng, (rows-1)*ld+16*groups)
			dst := make([]float32, groups*dstride)
			for i := range dst {
				dst[i] = -7
			}
			if level == "go" {
				copy16GroupGo(rows, groups, src, ld, dst, dstride)
			} else {
				copy16Group(rows, groups, src, ld, dst, dstride)
			}
			for q := 0; q < groups; q++ {
				for i := 0; i < dstride; i++ {
					want := float32(-7)
					if p, j := i/16, i%16; p < rows {
						want = src[p*ld+q*16+j]
					}
					if got := dst[q*dstride+i]; got != want {
						t.Fatalf("%s groups=%d: dst[%d][%d] = %g, want %g", level, groups, q, i, got, want)
					}
				}
			}
		}
	}
}

// TestLazyGroups checks MatMul through the grouped lazy packing of B
// (kernel.lazyGroup) on shapes whose panels do not fill the last group,
// whose last panel is partial, and whose k spans several k blocks, on 1 and
// 2 workers, with NaN in B's padding (a pack that read past n would poison
// C): the result must equal the same product with B packed up front.
func TestLazyGroups(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, kern := range testKernels() {
		for _, group := range []int{2, 3, 4} {
			k2 := *kern
			k2.lazyGroup = group
			for _, sh := range [][3]int{{13, 16 * 7, 50}, {20, 16*5 + 9, 61}, {7, 40, 100}, {30, 16 * 9, 7}} {
				m, n, k := sh[0], sh[1], sh[2]
				lda, ldb, ldc := k+1, n+3, n+2
				a := padded(rng, m, k, lda, float32(math.NaN()))
				b := padded(rng, k, n, ldb, float32(math.NaN()))
				for _, threads := range []int{1, 2} {
					cfg := config{kern: &k2, threads: threads, kc: 24}
					want := make([]float32, m*ldc)
					cfg.matMulPacked(m, a, lda, cfg.packB(k, n, b, ldb, false, false), want, ldc, false)
					got := make([]float32, m*ldc)
					cfg.matMul(m, n, k, a, lda, b, ldb, false, got, ldc, false)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s group %d %v t%d: C[%d] = %g, want %g", kern.name, group, sh, threads, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
