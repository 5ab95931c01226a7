package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestEpilogue checks C = post(act(A·B [+ C0] + bias + residual)) from
// every kernel and worker/blocking configuration (so the epilogue meets
// full tiles, row-edge tiles, column-edge tiles and several k blocks)
// against the reference product followed by the same steps in plain Go.
// The product part is held to gemmTol (Higham's bound, as TestMatMul);
// bias and residual add at most two roundings of values <= |C|+2, and
// ReLU/ReLU6/Post are exact or 1-Lipschitz, so the bound grows by
// 4·eps32·(|want|+2).
func TestEpilogue(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	post := func(c []float32, ldc, rows, cols int) {
		for r := 0; r < rows; r++ {
			row := c[r*ldc : r*ldc+cols]
			for j, v := range row {
				row[j] = 3 * v
			}
		}
	}
	for _, sh := range [][3]int{{17, 33, 5}, {14, 32, 256}, {15, 65, 257}, {45, 70, 30}, {300, 96, 100}, {5, 5, 0}, {1, 1, 1}} {
		m, n, k := sh[0], sh[1], sh[2]
		for _, act := range []Act{ActNone, ActReLU, ActReLU6} {
			for variant := 0; variant < 4; variant++ {
				acc, withBias, withRes, withPost := variant&1 != 0, variant != 2, variant >= 2, variant == 3
				name := fmt.Sprintf("%dx%dx%d/act%d/acc=%v/bias=%v/res=%v/post=%v", m, n, k, act, acc, withBias, withRes, withPost)
				lda, ldc, ldr := k+3, n+7, n+2
				a := padded(rng, m, k, lda, float32(math.NaN()))
				b := padded(rng, k, n, n, 0)
				c0 := padded(rng, m, n, ldc, 12345)
				for i := range c0 { // values up to ±8 so that ReLU6 clamps
					if i%ldc < n {
						c0[i] *= 8
					}
				}
				var ep Epilogue
				ep.Accumulate, ep.Act = acc, act
				if withBias {
					ep.Bias = randSlice(rng, n)
					scale(ep.Bias, 4)
				}
				if withRes {
					ep.Residual, ep.LdResidual = padded(rng, m, n, ldr, float32(math.NaN())), ldr
				}
				if withPost {
					ep.Post = post
				}
				want := append([]float32(nil), c0...)
				refMatMul(m, n, k, a, lda, b, n, want, ldc, acc)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						v := want[i*ldc+j]
						if withBias {
							v += ep.Bias[j]
						}
						if withRes {
							v += ep.Residual[i*ldr+j]
						}
						switch act {
						case ActReLU:
							v = max(v, 0)
						case ActReLU6:
							v = min(max(v, 0), 6)
						}
						if withPost {
							v *= 3
						}
						want[i*ldc+j] = v
					}
				}
				for _, cfg := range testConfigs() {
					pb := cfg.packB(k, n, b, n, false, false)
					got := append([]float32(nil), c0...)
					cfg.matMulPackedEp(m, a, lda, pb, got, ldc, &ep)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							g, w := got[i*ldc+j], want[i*ldc+j]
							if j >= n {
								if g != 12345 {
									t.Fatalf("%s %s: wrote C padding at (%d,%d)", name, cfg.kern.name, i, j)
								}
								continue
							}
							tol := 3 * (gemmTol(k, float64(k), 8) + 4*eps32*(math.Abs(float64(w))+14))
							if d := math.Abs(float64(g - w)); !(d <= tol) {
								t.Fatalf("%s %s/t%d/kc%d: C[%d][%d] = %g, want %g (tol %g)", name, cfg.kern.name, cfg.threads, cfg.kc, i, j, g, w, tol)
							}
						}
					}
				}
			}
		}
	}
}

// TestEpilogue32 checks the assembly tile epilogue against its Go twin
// bit for bit (same additions in the same order), for every mode, a row
// stride wider than the tile and nothing written outside it, with NaN and
// -0 among the inputs (plantEpilogueSpecials): ReLU and ReLU6 must keep
// both, as torch does.
func TestEpilogue32(t *testing.T) {
	requireAVX512(t)
	testEpilogueTwin(t, 32, func(rows, _ int, c *float32, ldc int, bias, res *float32, ldr int, mode int) {
		epilogue32(rows, c, ldc, bias, res, ldr, mode)
	})
}

// TestEpilogueAVX2 is TestEpilogue32 for the AVX2 epilogue, at the widths
// of the AVX2 tile (16), of edge tiles (8, 24) and of the AVX-512 tile.
func TestEpilogueAVX2(t *testing.T) {
	requireAVX2(t)
	for _, cols := range []int{8, 16, 24, 32} {
		testEpilogueTwin(t, cols, epilogueAVX2)
	}
}

func testEpilogueTwin(t *testing.T, cols int, epilogue func(rows, cols int, c *float32, ldc int, bias, res *float32, ldr int, mode int)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 10))
	const rows, ldc, ldr = 14, 40, 35
	for mode := 0; mode < 16; mode++ {
		if mode&epReLU6 != 0 && mode&epReLU == 0 {
			continue // ReLU6 always comes with the ReLU bit
		}
		c0 := randSlice(rng, rows*ldc)
		scale(c0, 8)
		bias, res := randSlice(rng, 32), randSlice(rng, rows*ldr)
		plantEpilogueSpecials(c0, ldc, bias, res, ldr)
		got := append([]float32(nil), c0...)
		want := append([]float32(nil), c0...)
		epilogue(rows, cols, &got[0], ldc, &bias[0], &res[0], ldr, mode)
		var bs, rs []float32
		if mode&epBias != 0 {
			bs = bias
		}
		if mode&epResidual != 0 {
			rs = res
		}
		act := ActNone
		if mode&epReLU6 != 0 {
			act = ActReLU6
		} else if mode&epReLU != 0 {
			act = ActReLU
		}
		epilogueGo(rows, cols, want, ldc, bs, rs, ldr, act)
		if act != ActNone && (!hasBits(want, 0x80000000) || !hasNaN(want)) {
			t.Fatalf("mode %d: the Go twin's result lacks -0 or NaN; plantEpilogueSpecials no longer reaches the activation", mode)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("cols %d, mode %d: C[%d][%d] = %g, want %g", cols, mode, i/ldc, i%ldc, got[i], want[i])
			}
		}
	}
}

// plantEpilogueSpecials makes column 0 of row 0 of c NaN, column 1 -0 in
// c, bias and every residual row (so every mode sums to -0 there), bias
// column 2 NaN and residual (3, 3) NaN.
func plantEpilogueSpecials(c []float32, ldc int, bias, res []float32, ldr int) {
	negZero := float32(math.Copysign(0, -1))
	c[0] = float32(math.NaN())
	for i := 0; i*ldc < len(c); i++ {
		c[i*ldc+1] = negZero
	}
	for i := 0; i*ldr < len(res); i++ {
		res[i*ldr+1] = negZero
	}
	bias[1] = negZero
	bias[2] = float32(math.NaN())
	res[3*ldr+3] = float32(math.NaN())
}

// hasBits reports whether some value of x has exactly the bits b.
func hasBits(x []float32, b uint32) bool {
	for _, v := range x {
		if math.Float32bits(v) == b {
			return true
		}
	}
	return false
}

// hasNaN reports whether x holds a NaN.
func hasNaN(x []float32) bool {
	for _, v := range x {
		if v != v {
			return true
		}
	}
	return false
}

// TestExportedEpilogue checks MatMulPackedEpilogue itself (default kernel)
// on a conv-like product with bias, residual and ReLU.
func TestExportedEpilogue(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m, n, k := 100, 64, 70
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	bias, res := randSlice(rng, n), randSlice(rng, m*n)
	want := make([]float32, m*n)
	refMatMul(m, n, k, a, k, b, n, want, n, false)
	for i := range want {
		want[i] = max(want[i]+bias[i%n]+res[i], 0)
	}
	got := make([]float32, m*n)
	MatMulPackedEpilogue(m, a, k, PackB(k, n, b, n), got, n, Epilogue{Bias: bias, Residual: res, LdResidual: n, Act: ActReLU})
	tol := gemmTol(k, float64(k), 0) + 8*eps32*float64(k)
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol) {
			t.Fatalf("C[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}

// TestGather checks products whose A comes from a RowGather (here reading
// a stored matrix, and counting what it is asked for) against the
// reference, on every kernel and blocking configuration: the gathered
// ranges must cover A exactly (rows within [0, m), columns within [0, k)).
func TestGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, sh := range [][3]int{{17, 33, 5}, {15, 65, 257}, {300, 96, 100}, {29, 40, 1100}} {
		m, n, k := sh[0], sh[1], sh[2]
		lda := k + 3
		a := padded(rng, m, k, lda, float32(math.NaN()))
		b := padded(rng, k, n, n, 0)
		bias := randSlice(rng, n)
		want := make([]float32, m*n)
		refMatMul(m, n, k, a, lda, b, n, want, n, false)
		for i := range want {
			want[i] = max(want[i]+bias[i%n], 0)
		}
		gather := func(dst []float32, i0, rows, p0, cols int) {
			if i0 < 0 || i0+rows > m || p0 < 0 || p0+cols > k || len(dst) < rows*cols {
				panic(fmt.Sprintf("gather asked rows [%d,%d) cols [%d,%d) of %dx%d into %d", i0, i0+rows, p0, p0+cols, m, k, len(dst)))
			}
			for r := 0; r < rows; r++ {
				copy(dst[r*cols:(r+1)*cols], a[(i0+r)*lda+p0:])
			}
		}
		for _, cfg := range testConfigs() {
			pb := cfg.packB(k, n, b, n, false, false)
			got := make([]float32, m*n)
			cfg.matMulSrc(m, aSource{gather: gather}, pb, got, n, &Epilogue{Bias: bias, Act: ActReLU})
			for i := range got {
				tol := gemmTol(k, float64(k), 0) + 4*eps32*(math.Abs(float64(want[i]))+2)
				if d := math.Abs(float64(got[i] - want[i])); !(d <= tol) {
					t.Fatalf("%dx%dx%d %s/t%d/kc%d: C[%d] = %g, want %g", m, n, k, cfg.kern.name, cfg.threads, cfg.kc, i, got[i], want[i])
				}
			}
		}
	}
}

// TestResidualOverlapPanics checks that MatMulPackedEpilogue and
// MatMulPackedGather refuse a residual sharing any element with C (the
// same slice, one row down, only C's last element), and still accept a
// residual that interleaves with C without sharing an element (the other
// half of each row of one buffer), computing it correctly.
func TestResidualOverlapPanics(t *testing.T) {
	const m, n, k = 6, 8, 5
	rng := rand.New(rand.NewPCG(15, 16))
	a, b := randSlice(rng, m*k), randSlice(rng, k*n)
	pb := PackB(k, n, b, n)
	gather := func(dst []float32, i0, rows, p0, cols int) {
		for r := 0; r < rows; r++ {
			copy(dst[r*cols:(r+1)*cols], a[(i0+r)*k+p0:])
		}
	}
	buf := randSlice(rng, 3*m*n)
	for _, tc := range []struct {
		name     string
		c, res   []float32
		ldc, ldr int
	}{
		{"same slice", buf, buf, n, n},
		{"one row down", buf, buf[n:], n, n},
		{"C's last element", buf, buf[m*n-1:], n, n},
		{"residual's last element", buf[m*n-1:], buf, n, n},
		{"strided rows meet", buf, buf[n+3:], 2 * n, n},
	} {
		for _, gathered := range []bool{false, true} {
			func() {
				defer func() {
					msg, _ := recover().(string)
					if !strings.Contains(msg, "overlaps C") {
						t.Errorf("%s (gather %v): panic %q, want one saying the residual overlaps C", tc.name, gathered, msg)
					}
				}()
				ep := Epilogue{Residual: tc.res, LdResidual: tc.ldr}
				if gathered {
					MatMulPackedGather(m, gather, pb, tc.c, tc.ldc, ep)
				} else {
					MatMulPackedEpilogue(m, a, k, pb, tc.c, tc.ldc, ep)
				}
			}()
		}
	}
	// C in columns [0, n) and the residual in [n, 2n) of a 2n-wide buffer:
	// their address spans meet but no element is shared.
	wide := randSlice(rng, m*2*n)
	res := make([]float32, m*n)
	for i := 0; i < m; i++ {
		copy(res[i*n:(i+1)*n], wide[i*2*n+n:])
	}
	want := make([]float32, m*n)
	refMatMul(m, n, k, a, k, b, n, want, n, false)
	MatMulPackedEpilogue(m, a, k, pb, wide, 2*n, Epilogue{Residual: wide[n:], LdResidual: 2 * n})
	tol := gemmTol(k, float64(k), 0) + 4*eps32*float64(k+2) // product, then one rounding of |sum| <= k+1
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			w := want[i*n+j] + res[i*n+j]
			if g := wide[i*2*n+j]; !(math.Abs(float64(g-w)) <= tol) {
				t.Fatalf("interleaved residual: C[%d][%d] = %g, want %g", i, j, g, w)
			}
		}
	}
}
