package metrics

import (
	"fmt"
	"slices"
)

// Matching is the one-to-one assignment of clusters to classes that
// maximises the number of images whose cluster is matched to their class,
// with the confusion matrix arranged for a report.
//
// Rows are classes and columns clusters. The first Matched rows and columns
// are the matched pairs, in increasing class label order, so
// Confusion[i][i] (i < Matched) counts the images of Classes[i] in their
// matched cluster Clusters[i]. Unmatched classes (when there are more classes
// than clusters) follow in the rows, unmatched clusters (more clusters than
// classes) in the columns, each in increasing label order.
type Matching struct {
	Classes   []int   // true labels, row order
	Clusters  []int   // cluster labels, column order
	Confusion [][]int // [class row][cluster column] image counts
	Matched   int     // number of matched pairs = min(#classes, #clusters)
	Correct   int     // images in the matched diagonal
	N         int     // number of images
}

// F1 is the micro-averaged F1 of the matched clustering. With a one-to-one
// matching every image gets exactly one predicted class (or none, if its
// cluster is unmatched, counted as wrong), so micro precision, recall and F1
// all equal the accuracy Correct / N.
func (m *Matching) F1() float64 {
	if m.N == 0 {
		return 0
	}
	return float64(m.Correct) / float64(m.N)
}

// ClassOf returns the class matched to a cluster label, and false when the
// cluster is unmatched or unknown.
func (m *Matching) ClassOf(cluster int) (int, bool) {
	for i := 0; i < m.Matched; i++ {
		if m.Clusters[i] == cluster {
			return m.Classes[i], true
		}
	}
	return 0, false
}

// Match matches the clusters of pred to the classes of truth one-to-one with
// the Hungarian algorithm, maximising agreement (as
// scipy.optimize.linear_sum_assignment(contingency, maximize=True)), and
// returns the matching and its confusion matrix. The numbers of classes and
// clusters may differ. It is an error for the labellings to be empty or of
// different lengths.
func Match(truth, pred []int) (*Matching, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	if c.n == 0 {
		return nil, fmt.Errorf("match: no labels")
	}
	nc, nk := len(c.classes), len(c.clusters)
	cost := make([]float64, nc*nk)
	for i, row := range c.counts {
		for j, v := range row {
			cost[i*nk+j] = -float64(v)
		}
	}
	rowToCol, err := Hungarian(cost, nc, nk)
	if err != nil {
		return nil, fmt.Errorf("match: %w", err)
	}
	var rows, cols []int
	colUsed := make([]bool, nk)
	var correct int64
	for i, j := range rowToCol {
		if j >= 0 {
			rows = append(rows, i)
			cols = append(cols, j)
			colUsed[j] = true
			correct += c.counts[i][j]
		}
	}
	matched := len(rows)
	for i, j := range rowToCol {
		if j < 0 {
			rows = append(rows, i)
		}
	}
	for j := range nk {
		if !colUsed[j] {
			cols = append(cols, j)
		}
	}
	m := &Matching{
		Classes:   make([]int, nc),
		Clusters:  make([]int, nk),
		Confusion: make([][]int, nc),
		Matched:   matched,
		Correct:   int(correct),
		N:         int(c.n),
	}
	for r, i := range rows {
		m.Classes[r] = c.classes[i]
		m.Confusion[r] = make([]int, nk)
		for q, j := range cols {
			m.Confusion[r][q] = int(c.counts[i][j])
		}
	}
	for q, j := range cols {
		m.Clusters[q] = c.clusters[j]
	}
	return m, nil
}

// MatchedF1 is the micro-F1 (= accuracy) after Hungarian matching; see Match.
func MatchedF1(truth, pred []int) (float64, error) {
	m, err := Match(truth, pred)
	if err != nil {
		return 0, err
	}
	return m.F1(), nil
}

// Contingency returns the classes x clusters count table of two labellings
// (sklearn.metrics.cluster.contingency_matrix), rows and columns in
// increasing label order.
func Contingency(truth, pred []int) (classes, clusters []int, counts [][]int, err error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("contingency: %w", err)
	}
	counts = make([][]int, len(c.counts))
	for i, row := range c.counts {
		counts[i] = make([]int, len(row))
		for j, v := range row {
			counts[i][j] = int(v)
		}
	}
	return slices.Clone(c.classes), slices.Clone(c.clusters), counts, nil
}
