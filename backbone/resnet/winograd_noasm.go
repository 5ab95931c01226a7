//go:build !amd64 || noasm || purego

package resnet

// winoLevels is empty without the assembly transforms: the Go twins run.
func winoLevels() []*winoKernels { return nil }
