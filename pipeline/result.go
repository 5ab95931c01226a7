package pipeline

import (
	"os"
	"path/filepath"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// The files of one result folder (rundir.ResultDir), written by
// clusterAndWrite in this order.

// writeArrays writes alpha.npy (N, M) as float32, X.npy (N, D) and, when
// the method built a tree, linkage.npy; a linkage.npy left by an earlier
// Ward run is removed otherwise.
func writeArrays(dir string, a []float64, x *tensor.Tensor, link *cluster.Linkage) error {
	N := x.Shape[0]
	M := len(a) / N
	a32 := make([]float32, len(a))
	for i, v := range a {
		a32[i] = float32(v)
	}
	if err := npy.Write(filepath.Join(dir, rundir.AlphaFile), a32, N, M); err != nil {
		return err
	}
	if err := npy.Write(filepath.Join(dir, rundir.XFile), x.Data, N, x.Shape[1]); err != nil {
		return err
	}
	if link != nil {
		return npy.Write(filepath.Join(dir, rundir.LinkageFile), link.Matrix(), N-1, 4)
	}
	os.Remove(dir + "/" + rundir.LinkageFile) // a stale one from an earlier Ward run
	return nil
}

// writeRecords writes assignments.csv, metrics.json (labelled sets: m not
// nil) and k.json (K estimated: kc not nil).
func writeRecords(dir string, as []rundir.Assignment, m *rundir.Metrics, kc *rundir.KChoice) error {
	if err := rundir.WriteAssignments(filepath.Join(dir, rundir.AssignmentsFile), as); err != nil {
		return err
	}
	if m != nil {
		if err := rundir.WriteMetrics(filepath.Join(dir, rundir.MetricsFile), m); err != nil {
			return err
		}
	}
	if kc != nil {
		return rundir.WriteK(dir, kc)
	}
	return nil
}

// exportResult links (or copies) the category's image files into one
// folder per cluster under dir/clusters (Options.ExportClusters).
func exportResult(o *Options, p plan, dir string, as []rundir.Assignment, k int) error {
	src := make([]string, len(p.set.Items)) // as[i].Path is relative to the data root
	for i, it := range p.set.Items {
		src[i] = it.Path
	}
	return exportClusters(dir, p.cat.Dir, src, as, k, o.logw())
}
