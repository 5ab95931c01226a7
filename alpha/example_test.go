package alpha_test

import (
	"fmt"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/tensor"
)

// Three images of four 2-dimensional patch embeddings each. All patches
// sit near the origin except one in image 2, the "defect". Its
// unsupervised score (mean distance to the nearest patch of every other
// image) stands out; with tau = 0 all the weight goes to it, so image 2's
// embedding X is that patch, while the others are the mean of their
// tied maxima.
func ExampleUnsupervised() {
	z := []*tensor.Tensor{
		tensor.From([]float32{0, 0, 1, 0, 0, 1, 1, 1}, 4, 2),
		tensor.From([]float32{0, 0, 1, 0, 0, 1, 1, 1}, 4, 2),
		tensor.From([]float32{0, 0, 1, 0, 0, 1, 4, 5}, 4, 2), // patch 3: defect
	}
	s, err := alpha.Unsupervised(z, alpha.Options{})
	if err != nil {
		panic(err)
	}
	for i := range s.N {
		fmt.Printf("scores of image %d: %.3f\n", i, s.Row(i))
	}
	a, err := alpha.Alpha(s, 0)
	if err != nil {
		panic(err)
	}
	x, err := alpha.ImageEmbeddings(z, a)
	if err != nil {
		panic(err)
	}
	fmt.Printf("alpha of image 2: %.2f\n", a[8:12])
	fmt.Printf("X: %.2f\n", x.Data)
	// Output:
	// scores of image 0: [0.000 0.000 0.000 0.500]
	// scores of image 1: [0.000 0.000 0.000 0.500]
	// scores of image 2: [0.000 0.000 0.000 5.000]
	// alpha of image 2: [0.00 0.00 0.00 1.00]
	// X: [1.00 1.00 1.00 1.00 4.00 5.00]
}

// With a temperature, the weights are a softmax of the scores over each
// image's patches; tau = 0 is the hard arg-max and the average mode's zero
// scores weigh every patch alike. (The figures are numpy's softmax of
// s/tau.)
func ExampleAlpha() {
	s := &alpha.Scores{N: 1, M: 3, S: []float64{0, 1, 2}}
	for _, tau := range []float64{0, 1, 4} {
		a, err := alpha.Alpha(s, tau)
		if err != nil {
			panic(err)
		}
		fmt.Printf("tau %g: %.3f\n", tau, a)
	}
	a, _ := alpha.Alpha(alpha.Average(1, 3), 1)
	fmt.Printf("average: %.3f\n", a)
	// Output:
	// tau 0: [0.000 0.000 1.000]
	// tau 1: [0.090 0.245 0.665]
	// tau 4: [0.254 0.326 0.419]
	// average: [0.333 0.333 0.333]
}
