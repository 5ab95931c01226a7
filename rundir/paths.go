package rundir

import (
	"os"
	"path/filepath"
	"strings"
)

// RelPath is p relative to root when p lies under root (run.json and the
// CSV files keep image paths relative to the data root, so a data set can
// move and be found again with --data); otherwise p unchanged.
func RelPath(root, p string) string {
	if root == "" || p == "" || !filepath.IsAbs(p) {
		return p
	}
	r, err := filepath.Rel(root, p)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return p
	}
	return r
}

// Resolve finds the file an image path of a run names (items.csv,
// assignments.csv, run.json). data, when not "", is where the data set is
// now (report/draw/assign --data DIR); otherwise the run's settings.data.
//   - a relative path is taken under data (or settings.data), then, for
//     runs moved together with their data, under runDir, catDir (the
//     category's folder, itself relative to the data root when relative)
//     and the working directory;
//   - an absolute path under settings.data (runs written before paths were
//     relative) is moved under data when data is given.
//
// When no candidate exists, the first one is returned, so that the error
// of whoever opens it names where the file was expected.
func Resolve(runDir string, run *Run, catDir, p, data string) string {
	if p == "" {
		return p
	}
	old := ""
	if run != nil {
		old = run.Settings.Data
	}
	base := data
	if base == "" {
		base = old
	}
	if filepath.IsAbs(p) {
		if data != "" && old != "" {
			if r := RelPath(old, p); r != p {
				return filepath.Join(data, r)
			}
		}
		return p
	}
	var cands []string
	if base != "" {
		cands = append(cands, filepath.Join(base, p))
	}
	if runDir != "" {
		cands = append(cands, filepath.Join(runDir, p))
	}
	if catDir != "" {
		if !filepath.IsAbs(catDir) && base != "" {
			catDir = filepath.Join(base, catDir)
		}
		cands = append(cands, filepath.Join(catDir, p))
	}
	cands = append(cands, p)
	for _, c := range cands {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return cands[0]
}
