package draw

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/anomclust/anomclust/rundir"
)

// unlabelled reports whether a category of the run has no labels (no
// metrics.json to pick a best setting by).
func unlabelled(run *rundir.Run, category string) bool {
	i := slices.IndexFunc(run.Categories, func(c rundir.Category) bool { return c.Name == category })
	return i >= 0 && run.Categories[i].Unlabelled
}

// Recommended returns the setting the run recommends for a category
// (rundir.Category.RecommendedMode/Tau, chosen without labels), and false
// when the run marks none or that setting has no results.
func Recommended(runDir string, run *rundir.Run, category string) (Setting, bool) {
	i := slices.IndexFunc(run.Categories, func(c rundir.Category) bool { return c.Name == category })
	if i < 0 || run.Categories[i].RecommendedMode == "" {
		return Setting{}, false
	}
	c := run.Categories[i]
	st := Setting{Mode: c.RecommendedMode, Tau: c.RecommendedTau}
	if _, err := os.Stat(filepath.Join(st.Dir(runDir, category), rundir.AssignmentsFile)); err != nil {
		return Setting{}, false
	}
	return st, true
}

// Default is the setting shown for a category without labels, where no
// best setting can be chosen: the setting the run recommends
// (rundir.Category.RecommendedMode/Tau) when it is of mode (or mode is
// "") and has results; else mode (or the run's first mode with results)
// at the middle of the run's taus (the lower middle for an even count;
// tau 1 of 0,1,2).
func Default(runDir string, run *rundir.Run, category, mode string) (Setting, error) {
	if st, ok := Recommended(runDir, run, category); ok && (mode == "" || mode == st.Mode) {
		return st, nil
	}
	modes := run.Settings.Modes
	if mode != "" {
		if err := CheckMode(runDir, run, category, mode); err != nil {
			return Setting{}, err
		}
		modes = []string{mode}
	}
	taus := slices.Sorted(slices.Values(run.Settings.Taus))
	for _, m := range modes {
		st := Setting{Mode: m}
		if rundir.Mode(m).HasTau() && len(taus) > 0 {
			st.Tau = taus[(len(taus)-1)/2]
		}
		if _, err := os.Stat(filepath.Join(st.Dir(runDir, category), rundir.AssignmentsFile)); err == nil {
			return st, nil
		}
	}
	return Setting{}, fmt.Errorf("run %s: no results for category %s", runDir, category)
}
