package eval

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/kselect"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/xpool"
)

// Image-descriptor options of the ablation (package xpool), the K
// estimate of each row, and consensus rows over the clusterings of
// several options (co-association, label-free).

// xpools are the descriptors to measure (mean alone by default).
func (c Config) xpools() []xpool.Kind {
	if len(c.XPools) == 0 {
		return []xpool.Kind{xpool.Mean}
	}
	return c.XPools
}

// posts are the X post-processings to measure.
func (c Config) posts() []string {
	if len(c.Posts) == 0 {
		return []string{"raw", "l2", "pcaw"}
	}
	return c.Posts
}

// kEstimate is kselect's K on x for the clustering method (the estimate
// of run --k auto: the same Ward tree, spectral cuts and criterion; the
// stability resamples, which do not decide, are skipped), or 0 when
// c.KAuto is off.
func (c Config) kEstimate(x []float32, n, d int, method string) (int, error) {
	if !c.KAuto {
		return 0, nil
	}
	r, err := kselect.Estimate(x, n, d, nil, kselect.Options{Seed: c.Seed, Resamples: -1,
		SpectralCuts: kselect.SpectralCutsFor(method, x, n, d, c.Seed, 0)})
	if err != nil {
		return 0, fmt.Errorf("eval: K estimate: %w", err)
	}
	return r.K, nil
}

// Consensus linkages of the consensus rows.
const (
	ConsensusAverage = "average"
	ConsensusWard    = "ward"
)

// consensusRows adds, per category, mode and clustering method, one row
// per linkage that
// clusters the co-association of the rows whose pool is in
// c.ConsensusPools (every backbone, descriptor and X post-processing of
// the run except pcaw and zoom): the fraction of those clusterings that
// put two images together, clustered with average (or Ward) linkage on
// 1 - co-association into K clusters. KEst is the median of the members'.
func consensusRows(c Config, rows []Result, truth map[string][]int) ([]Result, error) {
	if len(c.ConsensusPools) == 0 {
		return nil, nil
	}
	type group struct{ cat, mode, method string }
	var order []group
	members := map[group][]Result{}
	for _, r := range rows {
		if r.pred == nil || r.Zoom != "-" || r.Post == "pcaw" || !slices.Contains(c.ConsensusPools, r.Pool) {
			continue
		}
		g := group{r.Set + "/" + r.Category, r.Mode, r.Method}
		if _, ok := members[g]; !ok {
			order = append(order, g)
		}
		members[g] = append(members[g], r)
	}
	var out []Result
	for _, g := range order {
		ms := members[g]
		if len(ms) < 2 {
			continue
		}
		labels := make([][]int, len(ms))
		var bbs []string
		kest := make([]int, 0, len(ms))
		for i, m := range ms {
			labels[i] = m.pred
			if !slices.Contains(bbs, m.Backbone) {
				bbs = append(bbs, m.Backbone)
			}
			kest = append(kest, m.KEst)
		}
		n := len(truth[g.cat])
		co, err := CoAssociation(labels, n)
		if err != nil {
			return nil, err
		}
		for _, link := range []string{ConsensusAverage, ConsensusWard} {
			r := ms[0]
			pred, err := consensusCut(co, n, r.K, link)
			if err != nil {
				return nil, fmt.Errorf("%s %s consensus: %w", g.cat, g.mode, err)
			}
			sc, err := metrics.Evaluate(truth[g.cat], pred)
			if err != nil {
				return nil, err
			}
			r.Backbone = "consensus(" + strings.Join(bbs, "+") + ")"
			r.Pool = strings.Join(c.ConsensusPools, "+")
			r.XPool = fmt.Sprintf("%d-members", len(ms))
			r.Post = link
			r.NMI, r.ARI, r.F1 = sc.NMI, sc.ARI, sc.F1
			r.Sil, r.pred = 0, pred
			r.KEst = 0
			if c.KAuto {
				r.KEst = medianInt(kest)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// CoAssociation returns the condensed (scipy order) co-association of
// several clusterings of the same n items: for each pair, the fraction
// of the clusterings that put the two in one cluster.
func CoAssociation(labels [][]int, n int) ([]float64, error) {
	if len(labels) == 0 {
		return nil, fmt.Errorf("co-association: no clusterings")
	}
	co := make([]float64, n*(n-1)/2)
	for c, l := range labels {
		if len(l) != n {
			return nil, fmt.Errorf("co-association: clustering %d labels %d items, want %d", c, len(l), n)
		}
		k := 0
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				if l[i] == l[j] {
					co[k]++
				}
				k++
			}
		}
	}
	inv := 1 / float64(len(labels))
	for k := range co {
		co[k] *= inv
	}
	return co, nil
}

// consensusCut clusters n items into k with the given linkage on the
// distances 1 - co (co condensed).
func consensusCut(co []float64, n, k int, link string) ([]int, error) {
	dist := make([]float64, len(co))
	for i, v := range co {
		dist[i] = 1 - v
	}
	switch link {
	case ConsensusWard:
		l, err := cluster.WardFromDistances(dist, n)
		if err != nil {
			return nil, err
		}
		return l.Cut(k)
	case ConsensusAverage:
		return AverageLinkage(dist, n, k)
	}
	return nil, fmt.Errorf("consensus linkage %q: want %s or %s", link, ConsensusAverage, ConsensusWard)
}

// AverageLinkage clusters n items with UPGMA (average linkage) on the
// condensed distances dist into k clusters, labelled 0..k-1 in order of
// each cluster's first item. Ties merge the pair with the smallest
// indices first. O(n³), for the few hundred images of an evaluation.
func AverageLinkage(dist []float64, n, k int) ([]int, error) {
	if k < 1 || k > n {
		return nil, fmt.Errorf("average linkage: k = %d for %d items", k, n)
	}
	if len(dist) != n*(n-1)/2 {
		return nil, fmt.Errorf("average linkage: %d distances for %d items", len(dist), n)
	}
	d := make([]float64, n*n)
	idx := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if math.IsNaN(dist[idx]) {
				return nil, fmt.Errorf("average linkage: distance %d is NaN", idx)
			}
			d[i*n+j], d[j*n+i] = dist[idx], dist[idx]
			idx++
		}
	}
	size := make([]int, n)
	owner := make([]int, n) // item -> active cluster slot
	alive := make([]bool, n)
	for i := range n {
		size[i], owner[i], alive[i] = 1, i, true
	}
	for clusters := n; clusters > k; clusters-- {
		bi, bj, best := -1, -1, math.Inf(1)
		for i := 0; i < n; i++ {
			if !alive[i] {
				continue
			}
			for j := i + 1; j < n; j++ {
				if alive[j] && d[i*n+j] < best {
					bi, bj, best = i, j, d[i*n+j]
				}
			}
		}
		// Merge bj into bi: the average distance to every other cluster.
		for o := 0; o < n; o++ {
			if !alive[o] || o == bi || o == bj {
				continue
			}
			v := (float64(size[bi])*d[bi*n+o] + float64(size[bj])*d[bj*n+o]) / float64(size[bi]+size[bj])
			d[bi*n+o], d[o*n+bi] = v, v
		}
		size[bi] += size[bj]
		alive[bj] = false
		for it := range owner {
			if owner[it] == bj {
				owner[it] = bi
			}
		}
	}
	label := map[int]int{}
	out := make([]int, n)
	for i, o := range owner {
		l, ok := label[o]
		if !ok {
			l = len(label)
			label[o] = l
		}
		out[i] = l
	}
	return out, nil
}

// medianInt is the lower median of v (0 when empty).
func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// WritePreds writes every row's clusters as JSON lines: the row's option
// names, K, its K estimate and the cluster of each image (in the
// category's image order), for consensus experiments outside eval; the
// clustering method when rows name it (Result.Method).
func WritePreds(w io.Writer, rows []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range rows {
		if r.pred == nil {
			continue
		}
		rec := struct {
			Set, Category, Backbone, Mode, Score, Pool, Post, XPool, Zoom string
			K, KEst                                                       int
			NMI                                                           float64
			Pred                                                          []int
			Method                                                        string `json:",omitempty"`
		}{r.Set, r.Category, r.Backbone, r.Mode, r.Score, r.Pool, r.Post, r.XPool, r.Zoom, r.K, r.KEst, r.NMI, r.pred, r.Method}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return nil
}
