package fmapeak

// fmaLoopGo is the Go twin of the assembly loops on 4 lanes: twelve chains
// of acc += a*b, n times, then out[l] = the sum of the chains of lane l (a
// is ab[0:4], b is ab[16:20]). Its rate is that of scalar Go code, not the
// CPU's vector peak: it stands in where no assembly loop applies.
func fmaLoopGo(n int, ab *[32]float32, out *[16]float32) {
	var acc [chains][4]float32
	for i := 0; i < n; i++ {
		for c := range acc {
			for l := range acc[c] {
				acc[c][l] += ab[l] * ab[16+l]
			}
		}
	}
	for l := 0; l < 4; l++ {
		s := float32(0)
		for c := range acc {
			s += acc[c][l]
		}
		out[l] = s
	}
}
