// Package metrics scores a clustering against the true labels (docs/METHOD.md §5):
// normalized mutual information (arithmetic normalisation), adjusted Rand
// index, and micro-F1 after matching clusters to classes one-to-one with the
// Hungarian algorithm. NMI and ARI reproduce sklearn 1.2's
// normalized_mutual_info_score and adjusted_rand_score, special cases
// included; the matching reproduces scipy.optimize.linear_sum_assignment's
// optimum.
//
// Labels are arbitrary ints (any values, not necessarily 0..K-1); a
// labelling is a []int with one entry per image.
package metrics

import (
	"fmt"
	"math"
	"math/big"
	"slices"
)

// Scores are the three numbers reported per category and setting.
type Scores struct {
	NMI, ARI, F1 float64
}

// Evaluate computes NMI, ARI and the Hungarian-matched micro-F1 of pred
// against truth.
func Evaluate(truth, pred []int) (Scores, error) {
	nmi, err := NMI(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	ari, err := ARI(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	m, err := Match(truth, pred)
	if err != nil {
		return Scores{}, err
	}
	return Scores{NMI: nmi, ARI: ari, F1: m.F1()}, nil
}

// contingency is the class x cluster count table of two labellings, rows
// and columns in increasing label order (sklearn's contingency_matrix).
type contingency struct {
	classes, clusters []int
	counts            [][]int64 // [class][cluster]
	n                 int64
}

func newContingency(truth, pred []int) (*contingency, error) {
	if len(truth) != len(pred) {
		return nil, fmt.Errorf("labellings differ in length: %d true labels, %d predicted", len(truth), len(pred))
	}
	classes, ti := uniqueInverse(truth)
	clusters, pi := uniqueInverse(pred)
	counts := make([][]int64, len(classes))
	for i := range counts {
		counts[i] = make([]int64, len(clusters))
	}
	for i := range ti {
		counts[ti[i]][pi[i]]++
	}
	return &contingency{classes: classes, clusters: clusters, counts: counts, n: int64(len(truth))}, nil
}

// uniqueInverse is np.unique(labels, return_inverse=True).
func uniqueInverse(labels []int) (uniq, inverse []int) {
	uniq = slices.Clone(labels)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	inverse = make([]int, len(labels))
	for i, l := range labels {
		inverse[i], _ = slices.BinarySearch(uniq, l)
	}
	return uniq, inverse
}

// NMI is sklearn 1.2's normalized_mutual_info_score(truth, pred) with the
// default arithmetic normalisation: MI / ((H(truth) + H(pred)) / 2), natural
// logarithms. Special cases as sklearn: both labellings a single label (or
// both empty) -> 1; MI = 0 otherwise -> 0.
func NMI(truth, pred []int) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, fmt.Errorf("nmi: %w", err)
	}
	nc, nk := len(c.classes), len(c.clusters)
	if (nc == 1 && nk == 1) || (nc == 0 && nk == 0) {
		return 1, nil
	}
	mi := c.mutualInfo()
	if mi == 0 {
		return 0, nil
	}
	hTrue, hPred := entropy(c.rowSums()), entropy(c.colSums())
	// np.mean([U, V]) is (U + V) / 2 for two values.
	return mi / ((hTrue + hPred) / 2), nil
}

func (c *contingency) rowSums() []int64 {
	s := make([]int64, len(c.classes))
	for i, row := range c.counts {
		for _, v := range row {
			s[i] += v
		}
	}
	return s
}

func (c *contingency) colSums() []int64 {
	s := make([]int64, len(c.clusters))
	for _, row := range c.counts {
		for j, v := range row {
			s[j] += v
		}
	}
	return s
}

// mutualInfo is sklearn's mutual_info_score on the contingency table,
// term by term in the same arrangement (and the same row-major order of the
// non-zero cells, summed pairwise as numpy does), so it agrees to rounding.
func (c *contingency) mutualInfo() float64 {
	pi, pj := c.rowSums(), c.colSums()
	if len(pi) == 1 || len(pj) == 1 {
		return 0
	}
	total := float64(c.n)
	logTotal := math.Log(total)
	logPi, logPj := math.Log(float64(sumInt(pi))), math.Log(float64(sumInt(pj)))
	var terms []float64
	for i, row := range c.counts {
		for j, v := range row {
			if v == 0 {
				continue
			}
			nz := float64(v)
			cnm := nz / total
			outer := float64(pi[i] * pj[j])
			logOuter := -math.Log(outer) + logPi + logPj
			t := cnm*(math.Log(nz)-logTotal) + cnm*logOuter
			if math.Abs(t) < 0x1p-52 { // np.finfo(float64).eps
				t = 0
			}
			terms = append(terms, t)
		}
	}
	return max(pairwiseSum(terms), 0)
}

// entropy is sklearn's entropy(labels) from the label counts (all > 0).
func entropy(counts []int64) float64 {
	if len(counts) == 0 {
		return 1
	}
	if len(counts) == 1 {
		return 0
	}
	pi := make([]float64, len(counts))
	for i, v := range counts {
		pi[i] = float64(v)
	}
	piSum := pairwiseSum(pi)
	logSum := math.Log(piSum)
	terms := make([]float64, len(pi))
	for i, p := range pi {
		terms[i] = (p / piSum) * (math.Log(p) - logSum)
	}
	return -pairwiseSum(terms)
}

// pairwiseSum is numpy's pairwise summation (numpy/core/src/umath/
// loops_utils.h pairwise_sum), which np.sum uses on contiguous float64.
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		var s float64
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += a[i+j]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

func sumInt(v []int64) int64 {
	var s int64
	for _, x := range v {
		s += x
	}
	return s
}

// ARI is sklearn 1.2's adjusted_rand_score(truth, pred), computed from the
// pair confusion matrix in exact integer arithmetic as sklearn does with
// Python ints: 1 when no pair is split differently (including empty input),
// else 2(tp·tn - fn·fp) / ((tp+fn)(fn+tn) + (tp+fp)(fp+tn)).
func ARI(truth, pred []int) (float64, error) {
	c, err := newContingency(truth, pred)
	if err != nil {
		return 0, fmt.Errorf("ari: %w", err)
	}
	nc, nk := c.rowSums(), c.colSums()
	var sumSquares, ck, kc int64
	for i, row := range c.counts {
		for j, v := range row {
			sumSquares += v * v
			ck += v * nk[j] // contingency · n_k
			kc += v * nc[i] // contingencyᵀ · n_c
		}
	}
	tp := sumSquares - c.n
	fp := ck - sumSquares
	fn := kc - sumSquares
	tn := c.n*c.n - fp - fn - sumSquares
	if fn == 0 && fp == 0 {
		return 1, nil
	}
	b := func(v int64) *big.Int { return big.NewInt(v) }
	mul := func(x, y *big.Int) *big.Int { return new(big.Int).Mul(x, y) }
	add := func(x, y *big.Int) *big.Int { return new(big.Int).Add(x, y) }
	num := new(big.Int).Sub(mul(b(tp), b(tn)), mul(b(fn), b(fp)))
	den := add(mul(b(tp+fn), b(fn+tn)), mul(b(tp+fp), b(fp+tn)))
	// Python: 2.0 * num / den = (2.0 * float(num)) / float(den), each int
	// rounded to the nearest float64.
	return 2.0 * bigToFloat(num) / bigToFloat(den), nil
}

func bigToFloat(x *big.Int) float64 {
	f, _ := new(big.Float).SetInt(x).Float64()
	return f
}

// Average combines per-category scores as docs/METHOD.md §5 reports them: plain is
// the unweighted mean over categories (the paper's way), weighted the mean
// weighted by each category's image count (the seed's way).
func Average(scores []Scores, counts []int) (plain, weighted Scores, err error) {
	if len(scores) == 0 || len(scores) != len(counts) {
		return Scores{}, Scores{}, fmt.Errorf("average: %d scores and %d image counts (need equal, non-zero)", len(scores), len(counts))
	}
	var total int
	for i, s := range scores {
		if counts[i] < 0 {
			return Scores{}, Scores{}, fmt.Errorf("average: negative image count %d for category %d", counts[i], i)
		}
		w := float64(counts[i])
		plain.NMI += s.NMI
		plain.ARI += s.ARI
		plain.F1 += s.F1
		weighted.NMI += w * s.NMI
		weighted.ARI += w * s.ARI
		weighted.F1 += w * s.F1
		total += counts[i]
	}
	if total == 0 {
		return Scores{}, Scores{}, fmt.Errorf("average: all image counts are zero")
	}
	k, t := float64(len(scores)), float64(total)
	plain = Scores{NMI: plain.NMI / k, ARI: plain.ARI / k, F1: plain.F1 / k}
	weighted = Scores{NMI: weighted.NMI / t, ARI: weighted.ARI / t, F1: weighted.F1 / t}
	return plain, weighted, nil
}
