package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/anomclust/anomclust/rundir"
)

// printUnlabelled ends the log of a run without labels: per category the
// recommended setting, its K (estimated or given) and where its clusters
// are, then what to do next.
func printUnlabelled(w io.Writer, run *rundir.Run) {
	fmt.Fprintln(w, "no labels, so no metrics; the clusters of the recommended setting:")
	for _, c := range run.Categories {
		mode, tau := c.RecommendedMode, c.RecommendedTau
		k := c.K
		for _, kc := range c.KChoices {
			if kc.Mode == mode && (kc.Tau == nil || rundir.TauName(*kc.Tau) == rundir.TauName(tau)) {
				k = kc.K
			}
		}
		setting := mode
		if mode != rundir.ModeAverage {
			setting += " tau " + rundir.TauName(tau)
		}
		dir := rundir.ResultDir(run.Settings.Out, c.Name, mode, tau)
		fmt.Fprintf(w, "  %s: %d images, %s, K = %d: %s\n", c.Name, c.NImages, setting, k, filepath.Join(dir, rundir.AssignmentsFile))
		if run.Settings.ExportClusters {
			fmt.Fprintf(w, "    its images, one folder per cluster: %s%c\n", filepath.Join(dir, "clusters"), filepath.Separator)
		}
	}
	fmt.Fprintln(w, "  (columns path,label,cluster,distance,confidence,score; k.csv beside it shows the K evidence)")
	if run.Settings.ExportClusters {
		fmt.Fprintln(w, "  (--export-clusters: every result folder has its clusters/cluster_<N>/, the same images as hard links or copies)")
	}
	fmt.Fprintf(w, "\noutputs: %s (run.json, <category>/<mode>/tau_<tau>/, <category>/model/ for assign)\n", run.Settings.Out)
	fmt.Fprintf(w, "next: anomclust report --run %s   (galleries per cluster);   anomclust assign --run %s NEW_IMAGES...\n", run.Settings.Out, run.Settings.Out)
}
