package backbone

// Cost is the arithmetic of one forward pass on one image, in floating-point
// operations: every multiply-add of a convolution or matrix product counts
// 2 (the convention of torchvision's and timm's published GFLOPS figures,
// which count multiply-adds, times 2). Normalisations, activations, softmax,
// pooling and additions are not counted; they are a few percent of the total
// in the networks here.
type Cost struct {
	// Reference is the arithmetic of the textbook algorithm, direct
	// convolution and plain matrix products, which is what PyTorch runs.
	Reference float64
	// Executed is the arithmetic this implementation runs: less than
	// Reference where a fast algorithm (Winograd) replaces a direct
	// convolution, including the products wasted on tiles that overhang
	// the map. The Winograd transforms themselves are not counted.
	Executed float64
}

// Add returns the sum of two costs.
func (c Cost) Add(d Cost) Cost {
	return Cost{Reference: c.Reference + d.Reference, Executed: c.Executed + d.Executed}
}

// Coster is implemented by backbones that can count their arithmetic for a
// forward pass on an h x w image up to the deepest of layers (the benchmark
// uses it to relate images/s to the CPU's FMA peak).
type Coster interface {
	Cost(h, w int, layers []string) (Cost, error)
}
