//go:build !amd64 || noasm || purego

package resnet

// hasAVX512 is false without the assembly transforms.
const hasAVX512 = false

func winoInputAVX512(d *[16]*float32, v *float32, stride, n int) {
	panic("resnet: no assembly transforms")
}

func winoOutputAVX512(m *float32, stride int, dst *[4]*float32, bias *float32, n int, relu bool) {
	panic("resnet: no assembly transforms")
}

func wino4InputAVX512(d *[36]*float32, v *float32, stride, n int, scratch *[36 * 16]float32) {
	panic("resnet: no assembly transforms")
}

func wino4OutputAVX512(m *float32, stride int, dst *[16]*float32, bias *float32, n int, relu bool) {
	panic("resnet: no assembly transforms")
}
