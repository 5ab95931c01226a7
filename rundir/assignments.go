package rundir

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// AssignmentHeader is the header of assignments.csv:
//
//	path        the image
//	label       its true label ("" when the data set has none)
//	cluster     its cluster, in [0, K)
//	distance    ||X_i - c|| / s: the Euclidean distance of the image's X to
//	            its cluster's centre c (the mean X of the members), in units
//	            of the cluster's spread s (the root mean square of the
//	            members' distances to c); ~1 is typical, small is central
//	confidence  d2 / (d1 + d2), d1 and d2 the distances of X to its own and
//	            to the nearest other centre: 1 at its centre, 0.5 half way to
//	            the next one (1 when K = 1)
//	score       the image's anomaly score, its maximum patch score s (empty
//	            for the average mode, which has no scores)
//
// Files of format anomclust-run/1 before these columns had only the first
// three; ReadAssignments reads both.
var AssignmentHeader = []string{"path", "label", "cluster", "distance", "confidence", "score"}

// WriteAssignments writes assignments.csv (AssignmentHeader).
func WriteAssignments(path string, as []Assignment) error {
	rows := [][]string{AssignmentHeader}
	for _, a := range as {
		rows = append(rows, []string{a.Path, a.Label, strconv.Itoa(a.Cluster),
			fmtFloat(a.Distance), fmtFloat(a.Confidence), fmtFloat(a.Score)})
	}
	return WriteCSV(path, rows)
}

// fmtFloat writes v with 6 significant digits, NaN as "".
func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// ReadAssignments reads assignments.csv, with or without the distance,
// confidence and score columns (NaN when absent or empty).
func ReadAssignments(path string) ([]Assignment, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read %s: empty (no header)", path)
	}
	h := rows[0]
	if !slices.Equal(h, AssignmentHeader) && !slices.Equal(h, AssignmentHeader[:3]) {
		return nil, fmt.Errorf("read %s: header %v, want %v", path, h, AssignmentHeader)
	}
	as := make([]Assignment, len(rows)-1)
	for i, r := range rows[1:] {
		c, err := strconv.Atoi(r[2])
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: cluster %q: %w", path, i+2, r[2], err)
		}
		a := Assignment{Path: r[0], Label: r[1], Cluster: c, Distance: math.NaN(), Confidence: math.NaN(), Score: math.NaN()}
		for j, dst := range []*float64{&a.Distance, &a.Confidence, &a.Score} {
			if 3+j >= len(r) || r[3+j] == "" {
				continue
			}
			if *dst, err = strconv.ParseFloat(r[3+j], 64); err != nil {
				return nil, fmt.Errorf("%s: row %d: %s %q: %w", path, i+2, h[3+j], r[3+j], err)
			}
		}
		as[i] = a
	}
	return as, nil
}

// KFile and KCSVFile hold a result's K estimate (KChoice) when K was
// estimated: k.json, and k.csv with one row per candidate K and a column
// per criterion.
const (
	KFile    = "k.json"
	KCSVFile = "k.csv"
	// ExportDir is a result's folder of exported clusters:
	// clusters/cluster_<NN>/<image> (hard links or copies).
	ExportDir = "clusters"
	// ModelDir is a category's folder of what `anomclust assign` needs
	// (package model).
	ModelDir = "model"
)

// KChoice is the K estimate of one (mode, tau) result: k.json, and an
// entry of Category.KChoices in run.json.
type KChoice struct {
	Mode      string   `json:"mode"`
	Tau       *float64 `json:"tau"` // null for average
	K         int      `json:"k"`
	RunnerUp  int      `json:"runner_up"`
	Criterion string   `json:"criterion"`
	Ks        []int    `json:"ks"`
	// Values are Criterion's values per K of Ks (the decision).
	Values []float64 `json:"values"`
	// Scores are every criterion computed, per K of Ks (the evidence);
	// non-finite values are written as null.
	Scores map[string][]*float64 `json:"scores"`
}

// WriteK writes k.json and k.csv of a result folder.
func WriteK(dir string, c *KChoice) error {
	if err := writeJSON(filepath.Join(dir, KFile), c); err != nil {
		return err
	}
	names := make([]string, 0, len(c.Scores))
	for name := range c.Scores {
		names = append(names, name)
	}
	slices.Sort(names)
	rows := [][]string{append([]string{"k", "chosen"}, names...)}
	for i, k := range c.Ks {
		chosen := ""
		switch k {
		case c.K:
			chosen = "k"
		case c.RunnerUp:
			chosen = "runner-up"
		}
		row := []string{strconv.Itoa(k), chosen}
		for _, name := range names {
			v := math.NaN()
			if p := c.Scores[name][i]; p != nil {
				v = *p
			}
			row = append(row, fmtFloat(v))
		}
		rows = append(rows, row)
	}
	return WriteCSV(filepath.Join(dir, KCSVFile), rows)
}

// ReadK reads k.json of a result folder.
func ReadK(dir string) (*KChoice, error) {
	var c KChoice
	if err := readJSON(filepath.Join(dir, KFile), &c); err != nil {
		return nil, err
	}
	return &c, nil
}
