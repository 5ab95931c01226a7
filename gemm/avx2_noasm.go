//go:build !amd64 || noasm

package gemm

// haveAVX2 is false without the AVX2 assembly: the Go twins run.
const haveAVX2 = false

// packA6 packs a full 6-row A micro-panel: dst[p*6+i] = src[i*ld+p].
func packA6(cols int, src []float32, ld int, dst []float32) { packA6Go(cols, src, ld, dst) }

// transpose8x8 transposes one 8x8 block: dst[p*ldd+i] = src[i*ld+p].
func transpose8x8(src []float32, ld int, dst []float32, ldd int) { transpose8x8Go(src, ld, dst, ldd) }

// copy16 copies rows rows of 16 floats: dst[p*16+j] = src[p*ld+j].
func copy16(rows int, src []float32, ld int, dst []float32) { copy16Go(rows, src, ld, dst) }

// copy16Group packs groups adjacent 16-column panels in one pass:
// dst[q*dstride+p*16+j] = src[p*ld+q*16+j] for p < rows, q < groups, j < 16.
func copy16Group(rows, groups int, src []float32, ld int, dst []float32, dstride int) {
	copy16GroupGo(rows, groups, src, ld, dst, dstride)
}

func rowMinAVX2(n int, c, norms *float32) (v float32, j int) {
	panic("gemm: no AVX2 assembly")
}

func epilogueAVX2(rows, cols int, c *float32, ldc int, bias, res *float32, ldr int, mode int) {
	panic("gemm: no AVX2 assembly")
}
