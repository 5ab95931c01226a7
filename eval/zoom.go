package eval

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/zoom"
)

// ZoomConfig sets the zoom on the defect (package zoom).
type ZoomConfig struct {
	Window  float64 // window side as a fraction of the patch grid's side (0.25: 7 of 28)
	Margin  float64 // added on each side, as a fraction of the window's side
	MinSide float64 // smallest crop side, as a fraction of the image's short side
	// R is the MuSc interval fraction of the crops' own unsupervised
	// scores (the crops are scored against each other).
	R float64
}

// zoomed is one zoom variant's X.
type zoomed struct {
	name string
	x    []float32
	d    int
	secs float64
}

// zoomRows crops every clustered image around its best-scoring window of
// the score variant v, embeds the crops and returns X from the crops
// (weighted by the crops' own unsupervised scores with pool p, or
// uniformly) alone and concatenated with the global X xg.
func zoomRows(ctx context.Context, c Config, prep *pipeline.Prepared, f pipeline.Features, v scored, p pool, xg []float32, D int) ([]zoomed, error) {
	t0 := time.Now()
	N, g := len(f.Z), f.Grid
	w := max(1, min(g, int(math.Round(c.Zoom.Window*float64(g)))))
	crops := make([]*preprocess.RGB, N)
	for i, path := range f.Paths {
		row, col, err := zoom.Window(v.s.Row(i), g, w)
		if err != nil {
			return nil, err
		}
		img, err := preprocess.DecodeFile(path, preprocess.Grey16HighByte)
		if err != nil {
			return nil, err
		}
		gm := zoom.Geometry{W: img.W, H: img.H, Resize: prep.Resize(), Crop: prep.ImageSize(), Grid: g}
		box, err := gm.Box(row, col, w, c.Zoom.Margin, c.Zoom.MinSide)
		if err != nil {
			return nil, err
		}
		if crops[i], err = zoom.Crop(img, box); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	zc, err := prep.EmbedRGB(crops)
	if err != nil {
		return nil, err
	}
	embedSecs := time.Since(t0).Seconds()
	Mc, Dc := zc[0].Shape[0], zc[0].Shape[1]
	var out []zoomed
	// Uniform crop pooling.
	t1 := time.Now()
	xu, err := alpha.ImageEmbeddings(zc, uniform(N, Mc))
	if err != nil {
		return nil, err
	}
	out = append(out, zoomed{"crop-avg", xu.Data, Dc, embedSecs + time.Since(t1).Seconds()})
	out = append(out, zoomed{"concat-avg", concatL2(xg, D, xu.Data, Dc, N), D + Dc, embedSecs + time.Since(t1).Seconds()})
	// The crops scored against each other.
	t2 := time.Now()
	pm, err := alpha.PairMinimaFrom(alpha.Tensors(zc), 0, N, c.unsupervisedOptions(alpha.Options{Workers: c.Workers, Seed: c.Seed, Done: ctx.Done()}))
	if err != nil {
		return nil, err
	}
	s, err := alpha.IntervalScores(pm, c.Zoom.R)
	if err != nil {
		return nil, err
	}
	a, err := p.weights(s)
	if err != nil {
		return nil, err
	}
	xw, err := alpha.ImageEmbeddings(zc, a)
	if err != nil {
		return nil, err
	}
	secs := embedSecs + time.Since(t2).Seconds()
	out = append(out, zoomed{"crop", xw.Data, Dc, secs})
	out = append(out, zoomed{"concat", concatL2(xg, D, xw.Data, Dc, N), D + Dc, secs})
	return out, nil
}

// concatL2 returns the rows [a_i/|a_i|, b_i/|b_i|].
func concatL2(a []float32, da int, b []float32, db, n int) []float32 {
	la, lb := l2Rows(a, n, da), l2Rows(b, n, db)
	out := make([]float32, 0, n*(da+db))
	for i := 0; i < n; i++ {
		out = append(out, la[i*da:(i+1)*da]...)
		out = append(out, lb[i*db:(i+1)*db]...)
	}
	return out
}
