//go:build amd64 && !noasm && !purego

package resnet

import "github.com/anomclust/anomclust/internal/isa"

// winoLevels lists the assembly transforms this CPU can run at the active
// isa level, best first (see winoKernels).
func winoLevels() []*winoKernels {
	var ks []*winoKernels
	if isa.Has(isa.AVX512) {
		ks = append(ks, winoAVX512)
	}
	if isa.Has(isa.AVX2) {
		ks = append(ks, winoAVX2)
	}
	return ks
}

// winoAVX512 are the AVX-512F transforms, 16 channels per instruction.
var winoAVX512 = &winoKernels{
	name: "avx512", lanes: 16,
	input: winoInputAVX512, output: winoOutputAVX512, input4: wino4InputAVX512,
	output4: func(m *float32, stride int, dst *[16]*float32, bias *float32, n int, relu bool, _ *[36 * 16]float32) {
		wino4OutputAVX512(m, stride, dst, bias, n, relu)
	},
}

// winoAVX2 are the AVX2 transforms (winograd_avx2_amd64.s), 8 channels per
// instruction.
var winoAVX2 = &winoKernels{
	name: "avx2", lanes: 8,
	input: winoInputAVX2, output: winoOutputAVX2, input4: wino4InputAVX2, output4: wino4OutputAVX2,
}

// winoInputAVX512 is inputTransform for n channels (a positive multiple of
// 16): d points at the 16 input pixels of the tile (position 4i+j), output
// position k goes to v + k*stride floats.
//
//go:noescape
func winoInputAVX512(d *[16]*float32, v *float32, stride, n int)

// winoOutputAVX512 is outputTransform for n channels (a positive multiple
// of 16): m + k*stride holds position k of the product; the 2x2 outputs go
// to dst[0..3], all valid pointers (outside the map: a scratch buffer).
//
//go:noescape
func winoOutputAVX512(m *float32, stride int, dst *[4]*float32, bias *float32, n int, relu bool)

// wino4InputAVX512 is input4Transform for n channels (a positive multiple
// of 16): d points at the 36 input pixels of the tile (position 6i+j),
// output position k goes to v + k*stride floats; scratch holds the
// intermediate Bᵀ d of 16 channels.
//
//go:noescape
func wino4InputAVX512(d *[36]*float32, v *float32, stride, n int, scratch *[36 * 16]float32)

// wino4OutputAVX512 is output4Transform for n channels (a positive
// multiple of 16): m + k*stride holds position k of the product; the 4x4
// outputs go to dst[0..15], all valid pointers (outside the map: a
// scratch buffer).
//
//go:noescape
func wino4OutputAVX512(m *float32, stride int, dst *[16]*float32, bias *float32, n int, relu bool)

// winoInputAVX2 is winoInputAVX512 in AVX2 for n a positive multiple of 8.
//
//go:noescape
func winoInputAVX2(d *[16]*float32, v *float32, stride, n int)

// winoOutputAVX2 is winoOutputAVX512 in AVX2 for n a positive multiple of 8.
//
//go:noescape
func winoOutputAVX2(m *float32, stride int, dst *[4]*float32, bias *float32, n int, relu bool)

// wino4InputAVX2 is wino4InputAVX512 in AVX2 for n a positive multiple of
// 8 (scratch holds Bᵀ d of 8 channels).
//
//go:noescape
func wino4InputAVX2(d *[36]*float32, v *float32, stride, n int, scratch *[36 * 16]float32)

// wino4OutputAVX2 is wino4OutputAVX512 in AVX2 for n a positive multiple of
// 8; scratch holds the intermediate Aᵀ m of 8 channels.
//
//go:noescape
func wino4OutputAVX2(m *float32, stride int, dst *[16]*float32, bias *float32, n int, relu bool, scratch *[36 * 16]float32)
