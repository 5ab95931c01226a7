package resnet

// winoKernels is one instruction-set level's set of assembly Winograd tile
// transforms, the twins of inputTransform, outputTransform (F(2x2, 3x3))
// and input4Transform, output4Transform (F(4x4, 3x3)). Each handles n
// channels, n a positive multiple of lanes; pointer arguments are as the
// Go twins' slices (dst entries outside the map point at a scratch
// buffer), scratch is per-goroutine working memory. An architecture adds
// its levels in winoLevels (best first).
type winoKernels struct {
	name    string
	lanes   int
	input   func(d *[16]*float32, v *float32, stride, n int)
	output  func(m *float32, stride int, dst *[4]*float32, bias *float32, n int, relu bool)
	input4  func(d *[36]*float32, v *float32, stride, n int, scratch *[36 * 16]float32)
	output4 func(m *float32, stride int, dst *[16]*float32, bias *float32, n int, relu bool, scratch *[36 * 16]float32)
}

// winoAsm is the best assembly level of this CPU, nil when the Go twins
// run (no assembly, or ANOMCLUST_ISA=go).
var winoAsm = func() *winoKernels {
	if ks := winoLevels(); len(ks) > 0 {
		return ks[0]
	}
	return nil
}()

// winoFor returns the assembly transforms to use for inC input and outC
// output channels (in, out: nil where the Go twin must run), given the
// convolution's noAsm test switch.
func winoFor(inC, outC int, noAsm bool) (in, out *winoKernels) {
	k := winoAsm
	if k == nil || noAsm {
		return nil, nil
	}
	if inC%k.lanes == 0 {
		in = k
	}
	if outC%k.lanes == 0 {
		out = k
	}
	return in, out
}
