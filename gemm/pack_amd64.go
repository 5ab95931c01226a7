//go:build !noasm

package gemm

import "github.com/anomclust/anomclust/internal/isa"

// haveTranspose reports whether transpose16x16 is the AVX-512 version.
var haveTranspose = isa.Has(isa.AVX512)

// transpose16x16 transposes one 16x16 block: dst[p*ldd+i] = src[i*ld+p] for
// i, p < 16 (leading dimensions in floats). AVX-512F assembly, generated
// into kernel_amd64.s; packT uses it for the full blocks of a panel.
//
//go:noescape
func transpose16x16(src *float32, ld int, dst *float32, ldd int)

// transpose16x14 is transpose16x16 for the 14 rows of an A micro-panel:
// dst[p*ldd+i] = src[i*ld+p] for i < 14, p < 16, with masked stores that
// write only those 14 floats of each destination row.
//
//go:noescape
func transpose16x14(src *float32, ld int, dst *float32, ldd int)

// copy32 copies rows rows of 32 floats: dst[p*32+j] = src[p*ld+j], the
// packing of a full B panel of C = A·B.
//
//go:noescape
func copy32(rows int, src *float32, ld int, dst *float32)
