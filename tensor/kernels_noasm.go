//go:build !amd64 || noasm || purego

package tensor

func expShiftAVX512(v []float32, m, scale float32, sums *[16]float32) { panic("no assembly") }
func maxAVX512(v []float32, out *[16]float32)                         { panic("no assembly") }
func scaleAVX512(v []float32, s float32)                              { panic("no assembly") }
func geluRowsAVX512(c *float32, ldc, rows, cols int)                  { panic("no assembly") }

func depthwiseAVX512(out, in, w, bias *float32, c, n, step int, offs []int) { panic("no assembly") }
func sumAVX512(v []float32, out *[16]float32)                               { panic("no assembly") }
func sqDevAVX512(v []float32, m float32, out *[16]float32)                  { panic("no assembly") }
func normAffineAVX512(dst, src, w, b []float32, m, inv float32)             { panic("no assembly") }
