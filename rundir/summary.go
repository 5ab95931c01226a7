package rundir

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/internal/atomicfile"
	"github.com/anomclust/anomclust/metrics"
)

// ObjectCategories are MVTec AD's 10 object categories.
func ObjectCategories() []string {
	return []string{"bottle", "cable", "capsule", "hazelnut", "metal_nut", "pill", "screw", "toothbrush", "transistor", "zipper"}
}

// TextureCategories are MVTec AD's 5 texture categories.
func TextureCategories() []string {
	return []string{"carpet", "grid", "leather", "tile", "wood"}
}

// Kinds of summary rows.
const (
	KindCategory = "category" // one category's scores
	KindMean     = "mean"     // a mean over a group of categories
)

// Mean groups: Row.Category of a KindMean row.
const (
	GroupObject  = "object"  // MVTec's object categories present in the run
	GroupTexture = "texture" // MVTec's texture categories present in the run
	GroupAll     = "all"     // every category of the run
)

// Weightings of mean rows (docs/METHOD.md §5).
const (
	WeightPlain    = "plain"    // unweighted mean over categories (the paper's way)
	WeightByImages = "weighted" // mean weighted by image count (the seed's way)
)

// Row is one line of summary.csv.
type Row struct {
	Kind string // KindCategory or KindMean
	// Category is the category name, or the group (GroupObject, GroupTexture,
	// GroupAll) of a mean row.
	Category string
	// Weighting is "" for a category row, WeightPlain or WeightByImages
	// for a mean row.
	Weighting   string
	Mode        string
	Tau         float64
	HasTau      bool // false for average
	NCategories int  // 1 for a category row
	NImages     int  // N of the category, or the total over the group
	NMI         float64
	ARI         float64
	F1          float64
	// Recommended marks the one setting per category that the tool
	// recommends without labels (pipeline: the preset's rule); mean rows
	// carry it when every category of the group recommends that setting.
	Recommended bool
}

// TauText is the row's tau as tables show it: TauName, or "-" without one.
func (r Row) TauText() string {
	if !r.HasTau {
		return "-"
	}
	return TauName(r.Tau)
}

// setting is the (mode, tau) a row belongs to.
func (r Row) setting() string {
	if !r.HasTau {
		return r.Mode
	}
	return r.Mode + " tau=" + TauName(r.Tau)
}

// Summarize returns the category rows followed, per (mode, tau) in the
// order first seen, by the plain and image-weighted means over the object
// categories, the texture categories (each when at least one is present)
// and all categories.
func Summarize(cats []Row) ([]Row, error) {
	out := slices.Clone(cats)
	var order []string
	by := map[string][]Row{}
	for _, r := range cats {
		if r.Kind != KindCategory {
			return nil, fmt.Errorf("summarize: row %s/%s is not a category row", r.Category, r.setting())
		}
		k := r.setting()
		if _, ok := by[k]; !ok {
			order = append(order, k)
		}
		by[k] = append(by[k], r)
	}
	groups := []struct {
		name string
		in   func(string) bool
	}{
		{GroupObject, func(c string) bool { return slices.Contains(ObjectCategories(), c) }},
		{GroupTexture, func(c string) bool { return slices.Contains(TextureCategories(), c) }},
		{GroupAll, func(string) bool { return true }},
	}
	for _, k := range order {
		rows := by[k]
		for _, g := range groups {
			var scores []metrics.Scores
			var counts []int
			total := 0
			for _, r := range rows {
				if g.in(r.Category) {
					scores = append(scores, metrics.Scores{NMI: r.NMI, ARI: r.ARI, F1: r.F1})
					counts = append(counts, r.NImages)
					total += r.NImages
				}
			}
			if len(scores) == 0 {
				continue
			}
			plain, weighted, err := metrics.Average(scores, counts)
			if err != nil {
				return nil, fmt.Errorf("summarize %s %s: %w", g.name, k, err)
			}
			base := Row{Kind: KindMean, Category: g.name, Mode: rows[0].Mode, Tau: rows[0].Tau, HasTau: rows[0].HasTau,
				NCategories: len(scores), NImages: total}
			base.Recommended = true
			for _, r := range rows {
				if g.in(r.Category) && !r.Recommended {
					base.Recommended = false
				}
			}
			p, w := base, base
			p.Weighting, p.NMI, p.ARI, p.F1 = WeightPlain, plain.NMI, plain.ARI, plain.F1
			w.Weighting, w.NMI, w.ARI, w.F1 = WeightByImages, weighted.NMI, weighted.ARI, weighted.F1
			out = append(out, p, w)
		}
	}
	return out, nil
}

var summaryHeader = []string{"kind", "category", "weighting", "mode", "tau", "n_categories", "n_images", "nmi", "ari", "f1", "recommended"}

// WriteSummaryCSV writes summary.csv: one line per Row, tau empty for
// average, scores with full float64 precision, recommended 1 or 0.
func WriteSummaryCSV(path string, rows []Row) error {
	recs := [][]string{summaryHeader}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		tau := ""
		if r.HasTau {
			tau = TauName(r.Tau)
		}
		rec := "0"
		if r.Recommended {
			rec = "1"
		}
		recs = append(recs, []string{r.Kind, r.Category, r.Weighting, r.Mode, tau,
			strconv.Itoa(r.NCategories), strconv.Itoa(r.NImages), f(r.NMI), f(r.ARI), f(r.F1), rec})
	}
	return WriteCSV(path, recs)
}

// ReadSummaryCSV reads summary.csv (also the files of earlier versions,
// without the recommended column).
func ReadSummaryCSV(path string) ([]Row, error) {
	recs, err := readCSV(path, summaryHeader)
	if err != nil {
		var errOld error
		if recs, errOld = readCSV(path, summaryHeader[:len(summaryHeader)-1]); errOld != nil {
			return nil, err
		}
	}
	rows := make([]Row, len(recs))
	for i, rec := range recs {
		r := Row{Kind: rec[0], Category: rec[1], Weighting: rec[2], Mode: rec[3]}
		bad := func(field string, err error) error {
			return fmt.Errorf("read %s: row %d: %s: %w", path, i+2, field, err)
		}
		if rec[4] != "" {
			if r.Tau, err = strconv.ParseFloat(rec[4], 64); err != nil {
				return nil, bad("tau", err)
			}
			r.HasTau = true
		}
		if r.NCategories, err = strconv.Atoi(rec[5]); err != nil {
			return nil, bad("n_categories", err)
		}
		if r.NImages, err = strconv.Atoi(rec[6]); err != nil {
			return nil, bad("n_images", err)
		}
		for j, p := range []*float64{&r.NMI, &r.ARI, &r.F1} {
			if *p, err = strconv.ParseFloat(rec[7+j], 64); err != nil {
				return nil, bad(summaryHeader[7+j], err)
			}
		}
		if len(rec) > 10 {
			switch rec[10] {
			case "1":
				r.Recommended = true
			case "0":
			default:
				return nil, bad("recommended", fmt.Errorf("%q is not 0 or 1", rec[10]))
			}
		}
		rows[i] = r
	}
	return rows, nil
}

// SummaryMarkdown renders the rows as one table per category and per mean
// (rows: mode and tau; columns: NMI, ARI, F1), the best value of each
// column in bold. Scores are shown with 3 decimals.
func SummaryMarkdown(rows []Row, protocol string) string {
	var b strings.Builder
	b.WriteString("# Clustering scores\n\n")
	if protocol != "" {
		fmt.Fprintf(&b, "Protocol: %s. ", protocol)
	}
	b.WriteString("NMI (arithmetic), ARI, and micro-F1 after Hungarian matching of clusters to labels. " +
		"Means: *plain* is the unweighted mean over categories (the paper's way), " +
		"*weighted* the mean weighted by image count (the seed's way). Best value per column in bold. " +
		"The setting marked ✓ is the one the tool recommends without labels (the best in bold is chosen with them).\n")
	for _, t := range SummaryBlocks(rows) {
		title := fmt.Sprintf("%s (%d images)", t.Category, t.NImages)
		if t.Kind == KindMean {
			title = fmt.Sprintf("Mean over %s categories (%s, %d categories, %d images)", t.Category, t.Weighting, t.NCategories, t.NImages)
			if t.Category == GroupAll {
				title = fmt.Sprintf("Mean over all categories (%s, %d categories, %d images)", t.Weighting, t.NCategories, t.NImages)
			}
		}
		fmt.Fprintf(&b, "\n## %s\n\n| mode | tau | NMI | ARI | F1 | recommended |\n|---|---|---:|---:|---:|:---:|\n", title)
		for i, r := range t.Rows {
			fmt.Fprintf(&b, "| %s | %s |", r.Mode, r.TauText())
			for j, v := range r.Scores() {
				s := strconv.FormatFloat(v, 'f', 3, 64)
				if t.Best[i][j] {
					s = "**" + s + "**"
				}
				fmt.Fprintf(&b, " %s |", s)
			}
			if r.Recommended {
				b.WriteString(" ✓ |\n")
			} else {
				b.WriteString("  |\n")
			}
		}
	}
	return b.String()
}

// round3 rounds to the 3 decimals shown, so that values printed equal are
// all marked best.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// WriteSummary writes OUT/summary.csv and OUT/summary.md from the category
// rows (the means are added by Summarize) and returns all rows.
func WriteSummary(out string, cats []Row, protocol string) ([]Row, error) {
	rows, err := Summarize(cats)
	if err != nil {
		return nil, err
	}
	if err := WriteSummaryCSV(filepath.Join(out, SummaryCSVFile), rows); err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(filepath.Join(out, SummaryMDFile), []byte(SummaryMarkdown(rows, protocol))); err != nil {
		return nil, err
	}
	return rows, nil
}
