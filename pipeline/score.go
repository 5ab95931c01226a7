package pipeline

import (
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/rundir"
)

// scoreClusters scores the predicted clusters against the labels: NMI,
// ARI, F1 after Hungarian matching, the confusion matrix and each
// cluster's matched label (metrics.json). k is the number of clusters
// found (p.k, or the estimate of --k auto).
func scoreClusters(o *Options, p plan, k int, mode string, tau float64, truth, pred []int) (*rundir.Metrics, error) {
	N := len(pred)
	sc, err := metrics.Evaluate(truth, pred)
	if err != nil {
		return nil, err
	}
	match, err := metrics.Match(truth, pred)
	if err != nil {
		return nil, err
	}
	labels := p.set.Labels
	m := &rundir.Metrics{Category: p.cat.Name, Mode: mode, Cluster: o.Cluster, Protocol: o.protocol(),
		K: k, N: N, NMI: sc.NMI, ARI: sc.ARI, F1: sc.F1, Labels: labels}
	if rundir.Mode(mode).HasTau() {
		t := tau
		m.Tau = &t
	}
	m.Confusion = make([][]int, len(labels))
	for i := range m.Confusion {
		m.Confusion[i] = make([]int, k)
	}
	for i := range truth {
		m.Confusion[truth[i]][pred[i]]++
	}
	for c := 0; c < k; c++ {
		cm := rundir.ClusterMatch{Cluster: c}
		for l := range labels {
			cm.Size += m.Confusion[l][c]
		}
		if l, ok := match.ClassOf(c); ok {
			cm.Label, cm.Correct = labels[l], m.Confusion[l][c]
		}
		m.Matching = append(m.Matching, cm)
	}
	return m, nil
}
