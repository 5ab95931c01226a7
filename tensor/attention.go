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
//
// The softmax division is applied to the rows of exp(S - max)·V (hd values
// per row) rather than to the T scores, as flash attention does. The
// results agree with torch to rounding, NaN and Inf inputs included, except
// at magnitudes no network produces: a value of V above ~3.4e38/T can
// overflow to Inf in the unnormalised product where torch stays finite.
func Attention(qkv *Tensor, heads int) *Tensor {
	n, t, c := attentionDims("Attention", qkv, heads)
	shape := []int{n, t, c}
	if len(qkv.Shape) == 2 {
		shape = []int{t, c}
	}
	y := New(shape...)
	attention(y, qkv, heads, n, t, c)
	return y
}

// AttentionInto is Attention writing into dst (N*T*C values, not
// overlapping qkv) instead of a new tensor, for callers that reuse one
// buffer across blocks.
func AttentionInto(dst, qkv *Tensor, heads int) {
	n, t, c := attentionDims("AttentionInto", qkv, heads)
	if len(dst.Data) != n*t*c {
		panic(fmt.Sprintf("tensor.AttentionInto: dst %v for qkv %v", dst.Shape, qkv.Shape))
	}
	attention(dst, qkv, heads, n, t, c)
}

// attentionDims checks qkv's shape and returns N, T and C.
func attentionDims(op string, qkv *Tensor, heads int) (n, t, c int) {
	var c3 int
	switch len(qkv.Shape) {
	case 2:
		n, t, c3 = 1, qkv.Shape[0], qkv.Shape[1]
	case 3:
		n, t, c3 = qkv.Shape[0], qkv.Shape[1], qkv.Shape[2]
	default:
		panic(fmt.Sprintf("tensor.%s: want (T, 3C) or (N, T, 3C), got %v", op, qkv.Shape))
	}
	if heads <= 0 || c3%(3*heads) != 0 {
		panic(fmt.Sprintf("tensor.%s: width %d is not 3 x %d heads x head dim", op, c3, heads))
	}
	return n, t, c3 / 3
}

// attention computes Attention(qkv) into y.
func attention(y, qkv *Tensor, heads, n, t, c int) {
	c3 := 3 * c
	hd := c / heads
	scale := float32(1 / math.Sqrt(float64(hd)))
	// Each (image, head) is one task for one goroutine, the tasks spread
	// over all cores: the head's Kᵀ and V are packed once, then blocks of
	// attnRowBlock query rows go through Q·Kᵀ, the softmax rows and ·V
	// while their scores (attnRowBlock x T floats, ~350 KB for ViT-B/8) stay
	// in the core's L2, so the T x T score matrix is never written to memory
	// and no product is split (and synchronised) across cores.
	workers := numWorkers()
	scores := make([][]float32, workers)
	forBlocks(n*heads, 1, workers, func(w, lo, hi int) {
		if scores[w] == nil {
			scores[w] = make([]float32, min(attnRowBlock, t)*t)
		}
		s := scores[w]
		var inv [attnRowBlock]float32
		for task := lo; task < hi; task++ {
			img, h := task/heads, task%heads
			base := qkv.Data[img*t*c3:]
			q, k, v := base[h*hd:], base[c+h*hd:], base[2*c+h*hd:]
			// Pooled: a head's packed K and V are garbage after its task.
			kt := gemm.PackBTTemp(hd, t, k, c3) // B of Q·Kᵀ: K is (T, hd) with stride 3C
			vp := gemm.PackBTemp(t, hd, v, c3)
			out := y.Data[img*t*c+h*hd:]
			for r0 := 0; r0 < t; r0 += attnRowBlock {
				rows := min(attnRowBlock, t-r0)
				gemm.MatMulPackedSerial(rows, q[r0*c3:], c3, kt, s, t, false)
				// softmax(S)·V = diag(1/sum)·(exp(S - max)·V): the division
				// applies to hd values per row instead of T.
				for r := 0; r < rows; r++ {
					inv[r] = 1 / softmaxExpRow(s[r*t:(r+1)*t], scale)
				}
				gemm.MatMulPackedSerial(rows, s, t, vp, out[r0*c:], c, false)
				for r := 0; r < rows; r++ {
					scaleRow(out[(r0+r)*c:(r0+r)*c+hd], inv[r])
				}
			}
			kt.Release()
			vp.Release()
		}
	})
}

// attnRowBlock is the number of query rows whose attention scores are
// computed together: 8 row tiles of the 14-row AVX-512 kernel.
const attnRowBlock = 112

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
