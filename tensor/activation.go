package tensor

import (
	"fmt"

	"github.com/anomclust/anomclust/gemm"
)

// elementwiseBlock is the number of values below which an elementwise
// operation is not worth spreading over goroutines.
const elementwiseBlock = 1 << 15

// apply runs f over x in parallel blocks.
func apply(x []float32, f func(v []float32)) {
	workers := numWorkers()
	forBlocks(len(x), blockFor(len(x), elementwiseBlock, workers), workers, func(_, lo, hi int) { f(x[lo:hi]) })
}

// ReLU sets x = max(x, 0) in place (torch.nn.functional.relu).
func ReLU(x *Tensor) { apply(x.Data, reluSlice) }

// reluSlice is ReLU on v (NaN and -0 kept).
func reluSlice(v []float32) { reluBlock(v, len(v), 1, len(v)) }

// reluBlock is ReLU on rows rows of cols floats with row stride ldc. The
// AVX2 kernel (also used on AVX-512 CPUs) takes the 8-wide part of the
// rows and gives the same bits as the Go twin.
func reluBlock(c []float32, ldc, rows, cols int) {
	n := 0
	if useAVX2() {
		n = cols &^ 7
	}
	if n > 0 && rows > 0 {
		_ = c[(rows-1)*ldc+cols-1]
		reluRowsAVX2(&c[0], ldc, rows, n)
	}
	if n < cols {
		for r := 0; r < rows; r++ {
			reluGo(c[r*ldc+n : r*ldc+cols])
		}
	}
}

// reluGo is the Go twin of reluRowsAVX2.
func reluGo(v []float32) {
	for i, a := range v {
		if a < 0 {
			v[i] = 0
		}
	}
}

// ReLU6 sets x = min(max(x, 0), 6) in place (torch.nn.functional.relu6,
// MobileNet's activation).
func ReLU6(x *Tensor) { apply(x.Data, relu6Slice) }

// relu6Slice is ReLU6 on v (NaN kept, -0 to +0).
func relu6Slice(v []float32) { relu6Block(v, len(v), 1, len(v)) }

// relu6Block is ReLU6 on rows rows of cols floats with row stride ldc,
// as reluBlock.
func relu6Block(c []float32, ldc, rows, cols int) {
	n := 0
	if useAVX2() {
		n = cols &^ 7
	}
	if n > 0 && rows > 0 {
		_ = c[(rows-1)*ldc+cols-1]
		relu6RowsAVX2(&c[0], ldc, rows, n)
	}
	if n < cols {
		for r := 0; r < rows; r++ {
			relu6Go(c[r*ldc+n : r*ldc+cols])
		}
	}
}

// relu6Go is the Go twin of relu6RowsAVX2.
func relu6Go(v []float32) {
	for i, a := range v {
		v[i] = min(max(a, 0), 6)
	}
}

// Activation is an element-wise function a layer can apply to its output
// while it is still in cache (Conv2d.Act).
type Activation int

const (
	// Identity applies nothing.
	Identity Activation = iota
	// ActReLU is ReLU.
	ActReLU
	// ActReLU6 is ReLU6.
	ActReLU6
)

// apply runs the activation on v in place.
func (a Activation) apply(v []float32) {
	switch a {
	case ActReLU:
		reluSlice(v)
	case ActReLU6:
		relu6Slice(v)
	}
}

// block applies the activation to rows rows of cols floats with row stride
// ldc (a gemm.Epilogue Post step).
func (a Activation) block(c []float32, ldc, rows, cols int) {
	switch a {
	case ActReLU:
		reluBlock(c, ldc, rows, cols)
	case ActReLU6:
		relu6Block(c, ldc, rows, cols)
	}
}

// gemm is the activation as a GEMM epilogue step.
func (a Activation) gemm() gemm.Act {
	switch a {
	case ActReLU:
		return gemm.ActReLU
	case ActReLU6:
		return gemm.ActReLU6
	}
	return gemm.ActNone
}

// GELU sets x = x/2 * (1 + erf(x/√2)) in place: the exact GELU of
// torch.nn.functional.gelu (approximate='none') used by ViT MLPs.
func GELU(x *Tensor) {
	apply(x.Data, geluSlice)
}

// Add sets dst += src elementwise (a residual connection); the shapes must
// have the same number of elements.
func Add(dst, src *Tensor) {
	if len(dst.Data) != len(src.Data) {
		panic(fmt.Sprintf("tensor.Add: shapes %v and %v differ", dst.Shape, src.Shape))
	}
	s := src.Data
	workers := numWorkers()
	d := dst.Data
	forBlocks(len(d), blockFor(len(d), elementwiseBlock, workers), workers, func(_, lo, hi int) {
		a, b := d[lo:hi], s[lo:hi]
		for i := range a {
			a[i] += b[i]
		}
	})
}
