package gemm

import (
	"fmt"
	"unsafe"
)

// Act is an element-wise activation the GEMM can apply to C in its
// epilogue (see Epilogue).
type Act int

const (
	// ActNone applies nothing.
	ActNone Act = iota
	// ActReLU is 0 where x < 0 and x elsewhere (torch.nn.functional.relu,
	// which keeps NaN and -0; Go's max(x, 0) would turn -0 into +0).
	ActReLU
	// ActReLU6 is ActReLU then 6 where x > 6 (torch.nn.functional.relu6);
	// NaN passes through.
	ActReLU6
)

// Epilogue is the work MatMulPackedEpilogue does on each finished mc x nr
// block of C (the rows of one row block, one nr-wide column panel), once,
// right after its last k block, while the block is still in L1/L2: a
// convolution or linear layer's bias, a residual connection and the
// activation that follow a product in a network, without separate passes
// over C:
//
//	C = Post(act(A·B [+ C] + Bias + Residual))
//
// with the terms in brackets present when set. The sums are done in that
// order (the old C or the product first, then the bias, then the residual).
type Epilogue struct {
	// Accumulate adds the product to the existing C (C += A·B ...), as the
	// accumulate argument of MatMulPacked.
	Accumulate bool
	// Bias, when not nil, holds one value per column of C (pb.N() values).
	Bias []float32
	// Residual, when not nil, is an m x pb.N() matrix with leading
	// dimension LdResidual added to C. It must not share an element with
	// C (to add C itself, use Accumulate); an overlap panics.
	Residual   []float32
	LdResidual int
	// Act is applied after the sums.
	Act Act
	// Post, when not nil, is called last on every finished block of C:
	// rows rows of cols (at most nr) floats from c[0], row stride ldc; for
	// activations the GEMM does not know (GELU). One call per block rather
	// than per row lets it set up its constants once. It must be safe for
	// concurrent use.
	Post func(c []float32, ldc, rows, cols int)
}

// MatMulPackedEpilogue computes C = A·B with B packed by PackB or PackBT,
// followed by the epilogue ep applied block by block while C is in cache.
// A is m x pb.K() (lda), C is m x pb.N() (ldc). With a zero Epilogue it is
// MatMulPacked(…, false).
func MatMulPackedEpilogue(m int, a []float32, lda int, pb *PackedB, c []float32, ldc int, ep Epilogue) {
	ep.check(m, pb.n, c, ldc)
	defaultConfig().matMulPackedEp(m, a, lda, pb, c, ldc, &ep)
}

// check panics unless the epilogue fits an m x n product into c (ldc):
// a bias of at least n values, a residual of m x n (LdResidual) that
// shares no element with C. The epilogue adds a residual row after
// earlier blocks' results were already stored in C, so an overlap would
// silently add finished outputs instead of the residual.
func (ep *Epilogue) check(m, n int, c []float32, ldc int) {
	if ep.Bias != nil && len(ep.Bias) < n {
		panic(fmt.Sprintf("gemm: epilogue bias has %d values for %d columns", len(ep.Bias), n))
	}
	if ep.Residual == nil {
		return
	}
	checkDims("residual", ep.Residual, m, n, ep.LdResidual)
	checkDims("C", c, m, n, ldc)
	if m > 0 && n > 0 && overlaps(ep.Residual, ep.LdResidual, c, ldc, m, n) {
		panic(fmt.Sprintf("gemm: epilogue residual (%dx%d, ld %d) overlaps C (ld %d); to add C itself use Accumulate", m, n, ep.LdResidual, ldc))
	}
}

// overlaps reports whether the m x n matrices r (leading dimension ldr)
// and c (ldc), both m, n > 0 and ld >= n, share an element in memory. It
// compares address spans first, then, only when they meet, each row of r
// with the (at most two) rows of c that could meet it: O(m), so column
// slices of one buffer (disjoint but interleaved) are still allowed.
func overlaps(r []float32, ldr int, c []float32, ldc, m, n int) bool {
	const f = int(unsafe.Sizeof(float32(0)))
	rb := int(uintptr(unsafe.Pointer(unsafe.SliceData(r))))
	cb := int(uintptr(unsafe.Pointer(unsafe.SliceData(c))))
	rowBytes, lr, lc := n*f, ldr*f, ldc*f
	if rb >= cb+(m-1)*lc+rowBytes || cb >= rb+(m-1)*lr+rowBytes {
		return false
	}
	for i := 0; i < m; i++ {
		d := rb + i*lr - cb // row i of r starts d bytes after c
		// Rows of c are rowBytes <= lc long, so one meeting [d, d+rowBytes)
		// starts in (d-rowBytes, d+rowBytes): row floor(d/lc) or the next.
		j := d / lc
		if d < 0 && d%lc != 0 {
			j-- // floor division
		}
		for ; j <= d/lc+1; j++ {
			if j >= 0 && j < m && j*lc < d+rowBytes && d < j*lc+rowBytes {
				return true
			}
		}
	}
	return false
}

// empty reports whether the epilogue does nothing beyond the product.
func (ep *Epilogue) empty() bool {
	return ep == nil || ep.Bias == nil && ep.Residual == nil && ep.Act == ActNone && ep.Post == nil
}

// apply runs the epilogue on the block of C at rows [i, i+rows), columns
// [j, j+cols) (the product is already in it).
func (ep *Epilogue) apply(c []float32, ldc, i, j, rows, cols int, useAsm bool) {
	var bias, res []float32
	ldr := 0
	if ep.Bias != nil {
		bias = ep.Bias[j : j+cols]
	}
	if ep.Residual != nil {
		ldr = ep.LdResidual
		res = ep.Residual[i*ldr+j:]
	}
	ct := c[i*ldc+j:]
	if useAsm && (cols == 32 && haveTranspose || haveAVX2 && cols%8 == 0) {
		mode := 0
		if bias != nil {
			mode |= epBias
		}
		if res != nil {
			mode |= epResidual
		}
		switch ep.Act {
		case ActReLU:
			mode |= epReLU
		case ActReLU6:
			mode |= epReLU | epReLU6
		}
		var bp, rp *float32
		if bias != nil {
			bp = &bias[0]
		}
		if res != nil {
			_ = res[(rows-1)*ldr+cols-1]
			rp = &res[0]
		}
		_ = ct[(rows-1)*ldc+cols-1]
		if cols == 32 && haveTranspose {
			epilogue32(rows, &ct[0], ldc, bp, rp, ldr, mode)
		} else {
			epilogueAVX2(rows, cols, &ct[0], ldc, bp, rp, ldr, mode)
		}
	} else {
		epilogueGo(rows, cols, ct, ldc, bias, res, ldr, ep.Act)
	}
	if ep.Post != nil {
		ep.Post(ct, ldc, rows, cols)
	}
}

// Modes of epilogue32.
const (
	epBias     = 1
	epResidual = 2
	epReLU     = 4
	epReLU6    = 8
)

// epilogueGo is the Go twin of epilogue32 for any width: on rows x cols of
// c (ldc), add bias (nil: none) and res (nil: none, leading dimension ldr),
// then apply act.
func epilogueGo(rows, cols int, c []float32, ldc int, bias, res []float32, ldr int, act Act) {
	for r := 0; r < rows; r++ {
		row := c[r*ldc : r*ldc+cols]
		if bias != nil {
			for j, b := range bias[:cols] {
				row[j] += b
			}
		}
		if res != nil {
			for j, v := range res[r*ldr : r*ldr+cols] {
				row[j] += v
			}
		}
		switch act {
		case ActReLU:
			for j, v := range row {
				if v < 0 {
					row[j] = 0
				}
			}
		case ActReLU6:
			for j, v := range row {
				if v < 0 {
					row[j] = 0
				} else if v > 6 {
					row[j] = 6
				}
			}
		}
	}
}

// RowGather produces the A operand of MatMulPackedGather on demand: it
// writes rows [i0, i0+rows) and columns [p0, p0+cols) of A row-major into
// dst (element (i0+r, p0+p) at dst[r*cols+p]). It is called for at most one
// micro-tile of rows at a time, from several goroutines at once.
type RowGather func(dst []float32, i0, rows, p0, cols int)

// MatMulPackedGather is MatMulPackedEpilogue with an A (m x pb.K()) that is
// never stored whole: gather writes each micro-panel's rows into a small
// buffer that stays in cache, from which it is packed. A convolution
// gathers its input patches this way (implicit im2col), so the m x K patch
// matrix costs no pass through memory.
func MatMulPackedGather(m int, gather RowGather, pb *PackedB, c []float32, ldc int, ep Epilogue) {
	ep.check(m, pb.n, c, ldc)
	defaultConfig().matMulSrc(m, aSource{gather: gather}, pb, c, ldc, &ep)
}
