//go:build !amd64 || noasm || purego

package tensor

// Without the amd64 assembly only the Go twins run.
func useAVX512() bool { return false }
func useAVX2() bool   { return false }

func expShiftAVX2(v []float32, m, scale float32, sums *[16]float32)       { panic("no assembly") }
func maxAVX2(v []float32, out *[16]float32)                               { panic("no assembly") }
func scaleAVX2(v []float32, s float32)                                    { panic("no assembly") }
func geluRowsAVX2(c *float32, ldc, rows, cols int)                        { panic("no assembly") }
func depthwiseAVX2(out, in, w, bias *float32, c, n, step int, offs []int) { panic("no assembly") }
func sumAVX2(v []float32, out *[16]float32)                               { panic("no assembly") }
func sqDevAVX2(v []float32, m float32, out *[16]float32)                  { panic("no assembly") }
func normAffineAVX2(dst, src, w, b []float32, m, inv float32)             { panic("no assembly") }
func reluRowsAVX2(c *float32, ldc, rows, cols int)                        { panic("no assembly") }
func relu6RowsAVX2(c *float32, ldc, rows, cols int)                       { panic("no assembly") }
