package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestTranspose16x16 checks the block transpose (assembly when available)
// element by element, with leading dimensions wider than the block and
// sentinels around the destination block.
func TestTranspose16x16(t *testing.T) {
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
