package alpha

import (
	"math"
	"testing"
)

func TestTopK(t *testing.T) {
	s := &Scores{N: 2, M: 5, S: []float64{
		0.1, 0.9, 0.5, 0.7, 0.2, // top 2: patches 1, 3
		1, 1, 1, 0, 0, // top 2 by threshold: the three tied at 1
	}}
	a, err := TopK(s, 0.4)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.5, 0, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 0, 0}
	for k := range want {
		if !(math.Abs(a[k]-want[k]) <= 1e-12) {
			t.Fatalf("TopK = %v, want %v", a, want)
		}
	}
	for _, f := range []float64{0, -1, 1.5, math.NaN()} {
		if _, err := TopK(s, f); err == nil {
			t.Errorf("fraction %v accepted", f)
		}
	}
	bad := &Scores{N: 1, M: 2, S: []float64{math.NaN(), 1}}
	if _, err := TopK(bad, 0.5); err == nil {
		t.Error("NaN score accepted")
	}
}

// TestEffectiveTemperature: the weights' exp(entropy) meets the target
// on each row, whatever the scale of the row's scores (a row and the same
// row times 100 get the same weights), and the order of the weights
// follows the scores.
func TestEffectiveTemperature(t *testing.T) {
	const m = 50
	s := &Scores{N: 2, M: m, S: make([]float64, 2*m)}
	for i := 0; i < m; i++ {
		v := math.Sin(float64(i)*1.7) + float64(i%7)*0.1
		s.S[i], s.S[m+i] = v, 100*v+3
	}
	for _, frac := range []float64{0.04, 0.1, 0.5} {
		a, err := EffectiveTemperature(s, frac)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			row := a[i*m : (i+1)*m]
			var h, sum float64
			for _, p := range row {
				sum += p
				if p > 0 {
					h -= p * math.Log(p)
				}
			}
			if !(math.Abs(sum-1) <= 1e-9) {
				t.Errorf("frac %g row %d sums to %v", frac, i, sum)
			}
			if got := math.Exp(h); !(math.Abs(got-frac*m) <= 1e-3*frac*m) {
				t.Errorf("frac %g row %d: effective number %v, want %v", frac, i, got, frac*m)
			}
			for k := 0; k < m; k++ {
				if !(math.Abs(row[k]-a[k]) <= 1e-6) {
					t.Fatalf("frac %g: scaled row weight %d = %v, unscaled %v", frac, k, row[k], a[k])
				}
				for j := 0; j < m; j++ {
					if s.S[i*m+k] > s.S[i*m+j] && !(row[k] >= row[j]) {
						t.Fatalf("weights not ordered as scores")
					}
				}
			}
		}
	}
	flat := &Scores{N: 1, M: 4, S: []float64{2, 2, 2, 2}}
	a, err := EffectiveTemperature(flat, 0.25)
	if err != nil || a[0] != 0.25 || a[3] != 0.25 {
		t.Errorf("constant row: %v, %v; want uniform", a, err)
	}
}

func TestStandardize(t *testing.T) {
	ref := &Scores{N: 1, M: 4, S: []float64{1, 2, 3, 4}}
	s := &Scores{N: 1, M: 2, S: []float64{2.5, 2.5 + math.Sqrt(1.25)}}
	got := Standardize(s, ref)
	if !(math.Abs(got.S[0]) <= 1e-12) || !(math.Abs(got.S[1]-1) <= 1e-12) {
		t.Errorf("Standardize = %v, want [0 1]", got.S)
	}
}
