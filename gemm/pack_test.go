package gemm

import (
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
