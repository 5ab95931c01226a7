package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

type golden struct {
	Labels []struct {
		Name  string   `json:"name"`
		Truth []int    `json:"truth"`
		Pred  []int    `json:"pred"`
		NMI   float64  `json:"nmi"`
		ARI   float64  `json:"ari"`
		F1    *float64 `json:"f1"`
	} `json:"labels"`
	Assign []struct {
		Name  string    `json:"name"`
		Rows  int       `json:"rows"`
		Cols  int       `json:"cols"`
		Cost  []float64 `json:"cost"`
		Total float64   `json:"total"`
	} `json:"assign"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile("testdata/golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("testdata/golden.json: %v", err)
	}
	return g
}

// TestGoldenLabels compares NMI, ARI and matched F1 with sklearn/scipy to
// 1e-12 absolute: the formulas are sklearn's term for term (numpy's pairwise
// summation included), so only libm's log may differ, by an ulp per term.
// ARI and F1 are exact integer ratios and must match to the last bit.
func TestGoldenLabels(t *testing.T) {
	for _, c := range loadGolden(t).Labels {
		t.Run(c.Name, func(t *testing.T) {
			nmi, err := NMI(c.Truth, c.Pred)
			if err != nil {
				t.Fatal(err)
			}
			if !(math.Abs(nmi-c.NMI) <= 1e-12) { // a NaN fails too
				t.Errorf("NMI %.17g, sklearn %.17g", nmi, c.NMI)
			}
			ari, err := ARI(c.Truth, c.Pred)
			if err != nil {
				t.Fatal(err)
			}
			if ari != c.ARI {
				t.Errorf("ARI %.17g, sklearn %.17g", ari, c.ARI)
			}
			if c.F1 == nil {
				if _, err := Match(c.Truth, c.Pred); err == nil {
					t.Errorf("Match of empty labellings: no error")
				}
				return
			}
			m, err := Match(c.Truth, c.Pred)
			if err != nil {
				t.Fatal(err)
			}
			if m.F1() != *c.F1 {
				t.Errorf("F1 %.17g, scipy %.17g", m.F1(), *c.F1)
			}
			checkMatching(t, m, c.Truth, c.Pred)
		})
	}
}

// checkMatching verifies the Matching's bookkeeping against a direct count.
func checkMatching(t *testing.T, m *Matching, truth, pred []int) {
	t.Helper()
	rowOf, colOf := map[int]int{}, map[int]int{}
	for i, c := range m.Classes {
		rowOf[c] = i
	}
	for j, k := range m.Clusters {
		colOf[k] = j
	}
	if len(rowOf) != len(m.Classes) || len(colOf) != len(m.Clusters) {
		t.Fatalf("duplicate labels in %v / %v", m.Classes, m.Clusters)
	}
	want := make([][]int, len(m.Classes))
	for i := range want {
		want[i] = make([]int, len(m.Clusters))
	}
	for i := range truth {
		want[rowOf[truth[i]]][colOf[pred[i]]]++
	}
	diag := 0
	for i := range want {
		for j := range want[i] {
			if want[i][j] != m.Confusion[i][j] {
				t.Fatalf("Confusion[%d][%d] = %d, counted %d", i, j, m.Confusion[i][j], want[i][j])
			}
		}
		if i < m.Matched {
			diag += want[i][i]
		}
	}
	if diag != m.Correct || m.Matched != min(len(m.Classes), len(m.Clusters)) || m.N != len(truth) {
		t.Fatalf("diagonal %d, Correct %d, Matched %d", diag, m.Correct, m.Matched)
	}
	for i := 0; i < m.Matched; i++ {
		if c, ok := m.ClassOf(m.Clusters[i]); !ok || c != m.Classes[i] {
			t.Fatalf("ClassOf(%d) = %d, %v", m.Clusters[i], c, ok)
		}
	}
}

// TestGoldenAssign compares the optimal total cost with scipy's
// linear_sum_assignment. Optima may differ in which of several equal
// assignments is chosen, so the totals are compared (1e-12 relative: the
// same numbers summed in another order) and the assignment checked valid.
func TestGoldenAssign(t *testing.T) {
	for _, c := range loadGolden(t).Assign {
		got, err := Hungarian(c.Cost, c.Rows, c.Cols)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		total := checkAssignment(t, c.Name, got, c.Cost, c.Rows, c.Cols)
		if math.Abs(total-c.Total) > 1e-12*math.Max(1, math.Abs(c.Total)) {
			t.Errorf("%s: total %.17g, scipy %.17g", c.Name, total, c.Total)
		}
	}
}

// TestHungarianBruteForce compares with exhaustive search on random small
// matrices, integer-valued (many ties, exact sums) and real-valued.
func TestHungarianBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for trial := 0; trial < 300; trial++ {
		rows, cols := 1+rng.IntN(6), 1+rng.IntN(6)
		cost := make([]float64, rows*cols)
		for i := range cost {
			if trial%2 == 0 {
				cost[i] = float64(rng.IntN(5) - 2)
			} else {
				cost[i] = rng.NormFloat64() * 100
			}
		}
		got, err := Hungarian(cost, rows, cols)
		if err != nil {
			t.Fatal(err)
		}
		total := checkAssignment(t, "random", got, cost, rows, cols)
		best := bruteForce(cost, rows, cols)
		if math.Abs(total-best) > 1e-9*math.Max(1, math.Abs(best)) {
			t.Fatalf("%dx%d %v: total %v, brute force %v", rows, cols, cost, total, best)
		}
	}
}

func TestHungarianErrors(t *testing.T) {
	if _, err := Hungarian([]float64{1, 2, 3}, 2, 2); err == nil || !strings.Contains(err.Error(), "want rows x cols") {
		t.Errorf("short cost: %v", err)
	}
	if _, err := Hungarian([]float64{1, math.Inf(1), 3, 4}, 2, 2); err == nil || !strings.Contains(err.Error(), "cost[0, 1] is +Inf") {
		t.Errorf("inf cost: %v", err)
	}
	if got, err := Hungarian(nil, 0, 3); err != nil || len(got) != 0 {
		t.Errorf("0x3: %v %v", got, err)
	}
	if got, err := Hungarian(nil, 2, 0); err != nil || got[0] != -1 || got[1] != -1 {
		t.Errorf("2x0: %v %v", got, err)
	}
}

func TestLengthMismatch(t *testing.T) {
	for name, f := range map[string]func([]int, []int) (float64, error){"nmi": NMI, "ari": ARI, "f1": MatchedF1} {
		if _, err := f([]int{0, 1}, []int{0}); err == nil || !strings.Contains(err.Error(), "differ in length") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestMatchLayout: 3 classes, 4 clusters; the matched pairs come first in
// class order and the unmatched cluster last.
func TestMatchLayout(t *testing.T) {
	truth := []int{0, 0, 0, 1, 1, 2, 2, 2}
	pred := []int{9, 9, 4, 7, 7, 4, 4, 5}
	m, err := Match(truth, pred)
	if err != nil {
		t.Fatal(err)
	}
	// Best: 0->9 (2), 1->7 (2), 2->4 (2): 6 of 8.
	if m.Correct != 6 || m.F1() != 0.75 {
		t.Fatalf("Correct %d F1 %v", m.Correct, m.F1())
	}
	wantCl := []int{9, 7, 4, 5}
	for i, c := range wantCl {
		if m.Clusters[i] != c {
			t.Fatalf("Clusters %v, want %v", m.Clusters, wantCl)
		}
	}
	if _, ok := m.ClassOf(5); ok {
		t.Errorf("unmatched cluster 5 reported as matched")
	}
	s, err := Evaluate(truth, pred)
	if err != nil || s.F1 != 0.75 {
		t.Fatalf("Evaluate: %+v %v", s, err)
	}
}

// TestPairwiseSum checks numpy's pairwise summation order on values where
// the order is visible: naive left-to-right summation of 1 followed by many
// 1e-16 keeps 1, the pairwise tree does not.
func TestPairwiseSum(t *testing.T) {
	a := make([]float64, 1000)
	a[0] = 1
	for i := 1; i < len(a); i++ {
		a[i] = 1e-16
	}
	got := pairwiseSum(a)
	// numpy: np.sum(np.r_[1.0, np.full(999, 1e-16)]) == 1.0000000000000988
	if got != 1.0000000000000988 {
		t.Fatalf("pairwiseSum = %.17g, numpy 1.0000000000000988", got)
	}
}

func checkAssignment(t *testing.T, name string, rowToCol []int, cost []float64, rows, cols int) float64 {
	t.Helper()
	if len(rowToCol) != rows {
		t.Fatalf("%s: %d rows assigned, want %d", name, len(rowToCol), rows)
	}
	used := map[int]bool{}
	assigned := 0
	var total float64
	for i, j := range rowToCol {
		if j < 0 {
			continue
		}
		if j >= cols || used[j] {
			t.Fatalf("%s: row %d -> column %d invalid or reused", name, i, j)
		}
		used[j] = true
		assigned++
		total += cost[i*cols+j]
	}
	if assigned != min(rows, cols) {
		t.Fatalf("%s: %d pairs, want %d", name, assigned, min(rows, cols))
	}
	return total
}

// bruteForce is the minimal total over all assignments of min(rows, cols) pairs.
func bruteForce(cost []float64, rows, cols int) float64 {
	best := math.Inf(1)
	used := make([]bool, max(rows, cols))
	var rec func(i int, acc float64)
	if rows <= cols {
		rec = func(i int, acc float64) {
			if i == rows {
				best = min(best, acc)
				return
			}
			for j := 0; j < cols; j++ {
				if !used[j] {
					used[j] = true
					rec(i+1, acc+cost[i*cols+j])
					used[j] = false
				}
			}
		}
	} else {
		rec = func(j int, acc float64) {
			if j == cols {
				best = min(best, acc)
				return
			}
			for i := 0; i < rows; i++ {
				if !used[i] {
					used[i] = true
					rec(j+1, acc+cost[i*cols+j])
					used[i] = false
				}
			}
		}
	}
	rec(0, 0)
	return best
}

func TestAverage(t *testing.T) {
	plain, weighted, err := Average([]Scores{{1, 0.5, 1}, {0, 0.25, 0.5}}, []int{30, 10})
	if err != nil {
		t.Fatal(err)
	}
	// plain: (1+0)/2 etc.; weighted: (30*1 + 10*0)/40 etc. All exact in binary.
	if plain != (Scores{0.5, 0.375, 0.75}) || weighted != (Scores{0.75, 0.4375, 0.875}) {
		t.Fatalf("plain %+v weighted %+v", plain, weighted)
	}
	if _, _, err := Average([]Scores{{}}, []int{1, 2}); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, _, err := Average([]Scores{{}}, []int{0}); err == nil {
		t.Error("zero total accepted")
	}
}
