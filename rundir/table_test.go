package rundir

import (
	"slices"
	"testing"
)

func TestSummaryBlocksAndGrid(t *testing.T) {
	rows := []Row{
		{Kind: KindCategory, Category: "a", Mode: ModeSemi, Tau: 1, HasTau: true, NImages: 10, NMI: 0.5004, ARI: 0.2, F1: 0.9},
		{Kind: KindCategory, Category: "a", Mode: ModeSemi, Tau: 2, HasTau: true, NImages: 10, NMI: 0.4996, ARI: 0.3, F1: 0.1},
		{Kind: KindCategory, Category: "b", Mode: ModeAverage, NImages: 5, NMI: 0.1},
		{Kind: KindMean, Category: GroupAll, Weighting: WeightPlain, Mode: ModeSemi, Tau: 1, HasTau: true, NCategories: 2, NImages: 15},
		{Kind: KindMean, Category: GroupAll, Weighting: WeightByImages, Mode: ModeSemi, Tau: 1, HasTau: true, NCategories: 2, NImages: 15},
	}
	bs := SummaryBlocks(rows)
	if len(bs) != 4 || bs[0].Category != "a" || len(bs[0].Rows) != 2 || bs[3].Weighting != WeightByImages {
		t.Fatalf("blocks %+v", bs)
	}
	// 0.5004 and 0.4996 both show as 0.500: both best.
	if want := [][3]bool{{true, false, true}, {true, true, false}}; !slices.Equal(bs[0].Best, want) {
		t.Errorf("best marks %v, want %v", bs[0].Best, want)
	}
	if bs[1].Best[0] != [3]bool{} {
		t.Errorf("single-row block marked best: %v", bs[1].Best)
	}
	g := NewSummaryGrid(rows, 6)
	if !slices.Equal(g.Columns, []string{"a", "b", GridMean}) || len(g.Lines) != 3 {
		t.Fatalf("grid columns %v, %d lines", g.Columns, len(g.Lines))
	}
	if _, ok := g.Lines[0].Cells[GridMean]; !ok || g.Lines[2].Mode != ModeAverage {
		t.Errorf("grid lines %+v", g.Lines)
	}
	if g := NewSummaryGrid(rows, 1); !slices.Equal(g.Columns, []string{GridMean}) {
		t.Errorf("with more categories than the limit: columns %v, want only the mean", g.Columns)
	}
}
