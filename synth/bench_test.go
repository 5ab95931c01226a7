package synth

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkDraw is one 256 px image of each category, with and without a defect.
func BenchmarkDraw(b *testing.B) {
	for _, k := range kinds() {
		for _, d := range append([]string{""}, k.defects...) {
			b.Run(k.name+"/"+d, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					draw(k, d, 256, rand.New(rand.NewPCG(1, uint64(i))))
				}
			})
		}
	}
}
