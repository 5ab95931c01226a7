package metrics

import (
	"fmt"
	"math"
)

// Hungarian solves the rectangular linear assignment problem: given a
// rows x cols cost matrix (row-major float64), it assigns each row to a
// distinct column (or, when rows > cols, each column to a distinct row) so
// that the total cost is minimal, the problem scipy.optimize.
// linear_sum_assignment solves. It returns rowToCol: the column of each row,
// or -1 for the rows left unassigned when rows > cols.
//
// The algorithm is the O(r²c) shortest-augmenting-path form of Kuhn-Munkres
// with row and column potentials (Jonker & Volgenant 1987; r = min(rows,
// cols), c = max): rows are added one at a time and each is connected by a
// Dijkstra-like search over reduced costs. Among equal-cost optima the result
// is deterministic (the lowest column index wins ties in the search).
// To maximise (e.g. agreement counts), pass negated values.
func Hungarian(cost []float64, rows, cols int) ([]int, error) {
	if rows < 0 || cols < 0 || len(cost) != rows*cols {
		return nil, fmt.Errorf("hungarian: cost has %d values, want rows x cols = %d x %d", len(cost), rows, cols)
	}
	for i, v := range cost {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("hungarian: cost[%d, %d] is %v (costs must be finite)", i/cols, i%cols, v)
		}
	}
	if rows <= cols {
		return assignRows(cost, rows, cols), nil
	}
	// More rows than columns: solve the transpose (columns choose rows).
	t := make([]float64, len(cost))
	for i := range rows {
		for j := range cols {
			t[j*rows+i] = cost[i*cols+j]
		}
	}
	colToRow := assignRows(t, cols, rows)
	rowToCol := make([]int, rows)
	for i := range rowToCol {
		rowToCol[i] = -1
	}
	for j, i := range colToRow {
		rowToCol[i] = j
	}
	return rowToCol, nil
}

// assignRows is the core for n <= m: returns the column of each of the n
// rows. 1-based internally, column 0 a virtual start column (the classic
// formulation of the potentials method).
func assignRows(a []float64, n, m int) []int {
	inf := math.Inf(1)
	u := make([]float64, n+1) // row potentials
	v := make([]float64, m+1) // column potentials
	p := make([]int, m+1)     // p[j]: row matched to column j (0 = none)
	way := make([]int, m+1)   // previous column on the shortest path
	minv := make([]float64, m+1)
	used := make([]bool, m+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0 := p[j0]
			delta, j1 := inf, -1
			row := a[(i0-1)*m : i0*m]
			for j := 1; j <= m; j++ {
				if used[j] {
					continue
				}
				cur := row[j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j] = cur
					way[j] = j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= m; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		// Augment along the path back to the virtual column.
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	rowToCol := make([]int, n)
	for j := 1; j <= m; j++ {
		if p[j] != 0 {
			rowToCol[p[j]-1] = j - 1
		}
	}
	return rowToCol
}
