package tensor

import (
	"fmt"
	"math"

	"github.com/anomclust/anomclust/gemm"
)

// Attention is the core of timm/DINO multi-head self-attention. qkv is the
// output of the qkv Linear, (T, 3C) or (N, T, 3C), whose columns are
// (3, heads, C/heads) as timm's qkv.reshape(B, T, 3, heads, hd) reads them.
// For each head it computes softmax(Q·Kᵀ · hd^-0.5)·V and merges the heads
// back to (T, C) or (N, T, C) (before the output projection).
func Attention(qkv *Tensor, heads int) *Tensor {
	var n, t, c3 int
	switch len(qkv.Shape) {
	case 2:
		n, t, c3 = 1, qkv.Shape[0], qkv.Shape[1]
	case 3:
		n, t, c3 = qkv.Shape[0], qkv.Shape[1], qkv.Shape[2]
	default:
		panic(fmt.Sprintf("tensor.Attention: want (T, 3C) or (N, T, 3C), got %v", qkv.Shape))
	}
	if heads <= 0 || c3%(3*heads) != 0 {
		panic(fmt.Sprintf("tensor.Attention: width %d is not 3 x %d heads x head dim", c3, heads))
	}
	c := c3 / 3
	hd := c / heads
	scale := float32(1 / math.Sqrt(float64(hd)))
	shape := []int{n, t, c}
	if len(qkv.Shape) == 2 {
		shape = []int{t, c}
	}
	y := New(shape...)
	// Heads run one after the other: each product (T x T x hd) is large
	// enough for the GEMM to split over goroutines itself, and the softmax
	// rows are split here.
	s := make([]float32, t*t)
	workers := numWorkers()
	for img := 0; img < n; img++ {
		base := qkv.Data[img*t*c3:]
		for h := 0; h < heads; h++ {
			q, k, v := base[h*hd:], base[c+h*hd:], base[2*c+h*hd:]
			gemm.MatMulT(t, t, hd, q, c3, k, c3, s, t, false)
			forBlocks(t, blockFor(t, 16, workers), workers, func(_, lo, hi int) {
				for r := lo; r < hi; r++ {
					softmaxRow(s[r*t:(r+1)*t], scale)
				}
			})
			gemm.MatMul(t, hd, t, s, t, v, c3, y.Data[img*t*c+h*hd:], c, false)
		}
	}
	return y
}

// BatchMatMul is torch.bmm: a is (B, M, K), b is (B, K, N), the result
// (B, M, N), the batch spread over goroutines.
func BatchMatMul(a, b *Tensor) *Tensor {
	if len(a.Shape) != 3 || len(b.Shape) != 3 || a.Shape[0] != b.Shape[0] || a.Shape[2] != b.Shape[1] {
		panic(fmt.Sprintf("tensor.BatchMatMul: shapes %v and %v do not multiply", a.Shape, b.Shape))
	}
	bs, m, k, n := a.Shape[0], a.Shape[1], a.Shape[2], b.Shape[2]
	y := New(bs, m, n)
	forBlocks(bs, 1, numWorkers(), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			gemm.MatMul(m, n, k, a.Data[i*m*k:], k, b.Data[i*k*n:], n, y.Data[i*m*n:], n, false)
		}
	})
	return y
}
