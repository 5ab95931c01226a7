package rundir

import (
	"math"
	"slices"
)

// SummaryBlock is one table of the summary: the rows of one category or of
// one mean (same Kind, Category and Weighting), in the order of the rows.
// summary.md and the report's full table both render these blocks.
type SummaryBlock struct {
	Kind, Category, Weighting string
	NCategories, NImages      int // of the block's first row
	Rows                      []Row
	// Best marks, per row, which of NMI, ARI, F1 is the best of the block
	// at the 3 decimals shown (ties all marked; nothing with a single row).
	Best [][3]bool
}

// Scores are a row's NMI, ARI and F1, the columns of every summary table.
func (r Row) Scores() [3]float64 { return [3]float64{r.NMI, r.ARI, r.F1} }

// SummaryBlocks groups rows into tables and marks each column's best value.
func SummaryBlocks(rows []Row) []SummaryBlock {
	var blocks []SummaryBlock
	idx := map[string]int{}
	for _, r := range rows {
		key := r.Kind + "\x00" + r.Category + "\x00" + r.Weighting
		i, ok := idx[key]
		if !ok {
			i = len(blocks)
			idx[key] = i
			blocks = append(blocks, SummaryBlock{Kind: r.Kind, Category: r.Category, Weighting: r.Weighting,
				NCategories: r.NCategories, NImages: r.NImages})
		}
		blocks[i].Rows = append(blocks[i].Rows, r)
	}
	for b := range blocks {
		best := [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
		for _, r := range blocks[b].Rows {
			for j, v := range r.Scores() {
				best[j] = max(best[j], round3(v))
			}
		}
		blocks[b].Best = make([][3]bool, len(blocks[b].Rows))
		if len(blocks[b].Rows) < 2 {
			continue
		}
		for i, r := range blocks[b].Rows {
			for j, v := range r.Scores() {
				blocks[b].Best[i][j] = round3(v) == best[j]
			}
		}
	}
	return blocks
}

// SummaryGrid is the summary as one matrix, as the CLI prints it after a
// run: a line per (mode, tau) in order of appearance, a column per category
// (none when there are more than maxCategories) and "mean" (the plain mean
// over all categories; present with several categories or no category
// column).
type SummaryGrid struct {
	Lines   []GridLine
	Columns []string
}

// GridLine is one (mode, tau) of a SummaryGrid; Cells holds the row of each
// column present.
type GridLine struct {
	Mode  string
	Tau   float64
	Cells map[string]Row
}

// GridMean is the column name of the plain mean over all categories.
const GridMean = "mean"

// NewSummaryGrid lays rows out as a SummaryGrid.
func NewSummaryGrid(rows []Row, maxCategories int) SummaryGrid {
	type key struct {
		mode string
		tau  float64
	}
	var g SummaryGrid
	var cats []string
	line := map[key]int{}
	for _, r := range rows {
		k := key{r.Mode, r.Tau}
		i, ok := line[k]
		if !ok {
			i = len(g.Lines)
			line[k] = i
			g.Lines = append(g.Lines, GridLine{Mode: r.Mode, Tau: r.Tau, Cells: map[string]Row{}})
		}
		name := r.Category
		switch {
		case r.Kind == KindCategory:
			if !slices.Contains(cats, name) {
				cats = append(cats, name)
			}
		case r.Category == GroupAll && r.Weighting == WeightPlain:
			name = GridMean
		default:
			continue
		}
		g.Lines[i].Cells[name] = r
	}
	g.Columns = cats
	if len(cats) > maxCategories {
		g.Columns = nil
	}
	if len(cats) > 1 || len(g.Columns) == 0 {
		g.Columns = append(slices.Clone(g.Columns), GridMean)
	}
	return g
}
