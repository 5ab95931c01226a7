//go:build amd64 && !noasm && !purego

package resnet

import "github.com/anomclust/anomclust/internal/isa"

// hasAVX512 selects the assembly transforms of winograd_amd64.s, fixed at
// start-up from CPUID.
var hasAVX512 = isa.Has(isa.AVX512)

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
