// Package zoom finds the anomalous region of an image from its patch scores
// and cuts it out of the original, full-resolution image, so that a small
// defect on a large image can be embedded at a scale where the backbone
// sees it (a few patches of a 28 x 28 grid after the resize to 224 become
// most of the crop's grid).
//
// The region is the window of the patch grid with the highest total score
// (computed with a summed-area table); it is mapped back through the
// preprocessing (Resize of the short side, centre crop) to the original
// pixels, widened by a margin and made square.
package zoom

import (
	"fmt"
	"math"

	"github.com/anomclust/anomclust/preprocess"
)

// Window returns the top-left cell (row, col) of the w x w window of the
// g x g score grid (row-major) with the highest score sum; ties go to the
// first in row-major order.
func Window(scores []float64, g, w int) (row, col int, err error) {
	if g < 1 || len(scores) != g*g {
		return 0, 0, fmt.Errorf("zoom: %d scores for a %d x %d grid", len(scores), g, g)
	}
	if w < 1 || w > g {
		return 0, 0, fmt.Errorf("zoom: window %d for a %d x %d grid", w, g, g)
	}
	// sat[(r)*(g+1)+c] = sum of scores[r' < r, c' < c].
	sat := make([]float64, (g+1)*(g+1))
	for r := 0; r < g; r++ {
		for c := 0; c < g; c++ {
			v := scores[r*g+c]
			if math.IsNaN(v) {
				return 0, 0, fmt.Errorf("zoom: score (%d, %d) is NaN", r, c)
			}
			sat[(r+1)*(g+1)+c+1] = v + sat[r*(g+1)+c+1] + sat[(r+1)*(g+1)+c] - sat[r*(g+1)+c]
		}
	}
	best := math.Inf(-1)
	for r := 0; r+w <= g; r++ {
		for c := 0; c+w <= g; c++ {
			s := sat[(r+w)*(g+1)+c+w] - sat[r*(g+1)+c+w] - sat[(r+w)*(g+1)+c] + sat[r*(g+1)+c]
			if s > best {
				best, row, col = s, r, c
			}
		}
	}
	return row, col, nil
}

// Geometry is how an original image of W x H pixels became the network
// input: Resize(Resize) of the short side, then a Crop x Crop centre crop,
// split into a Grid x Grid patch grid.
type Geometry struct {
	W, H, Resize, Crop, Grid int
}

// Rect is a pixel rectangle [X0, X1) x [Y0, Y1) of the original image.
type Rect struct{ X0, Y0, X1, Y1 int }

// Box maps the w x w patch window at (row, col) to a square of the
// original image: the window's pixels, widened by margin (a fraction of
// the window's side on each side), made square, at least minSide pixels
// (a fraction of the short side), and shifted to lie inside the image.
func (gm Geometry) Box(row, col, w int, margin, minSide float64) (Rect, error) {
	if gm.W < 1 || gm.H < 1 || gm.Resize < 1 || gm.Crop < 1 || gm.Grid < 1 {
		return Rect{}, fmt.Errorf("zoom: bad geometry %+v", gm)
	}
	rw, rh := preprocess.ResizedSize(gm.W, gm.H, gm.Resize)
	ox, oy := preprocess.CropOrigin(rw, gm.Crop), preprocess.CropOrigin(rh, gm.Crop)
	cell := float64(gm.Crop) / float64(gm.Grid)
	sx, sy := float64(gm.W)/float64(rw), float64(gm.H)/float64(rh)
	// Window in original pixels.
	x0 := (float64(ox) + float64(col)*cell) * sx
	x1 := (float64(ox) + float64(col+w)*cell) * sx
	y0 := (float64(oy) + float64(row)*cell) * sy
	y1 := (float64(oy) + float64(row+w)*cell) * sy
	cx, cy := (x0+x1)/2, (y0+y1)/2
	side := max(x1-x0, y1-y0) * (1 + 2*margin)
	short := float64(min(gm.W, gm.H))
	side = min(max(side, minSide*short), short)
	s := int(math.Round(side))
	r := Rect{X0: int(math.Round(cx - side/2)), Y0: int(math.Round(cy - side/2))}
	r.X0 = min(max(r.X0, 0), gm.W-s)
	r.Y0 = min(max(r.Y0, 0), gm.H-s)
	r.X1, r.Y1 = r.X0+s, r.Y0+s
	return r, nil
}

// Crop copies the rectangle r out of m.
func Crop(m *preprocess.RGB, r Rect) (*preprocess.RGB, error) {
	if r.X0 < 0 || r.Y0 < 0 || r.X1 > m.W || r.Y1 > m.H || r.X1 <= r.X0 || r.Y1 <= r.Y0 {
		return nil, fmt.Errorf("zoom: crop %+v outside the %d x %d image", r, m.W, m.H)
	}
	w, h := r.X1-r.X0, r.Y1-r.Y0
	out := preprocess.NewRGB(w, h)
	for y := 0; y < h; y++ {
		copy(out.Pix[3*y*w:3*(y+1)*w], m.Pix[3*((r.Y0+y)*m.W+r.X0):3*((r.Y0+y)*m.W+r.X1)])
	}
	return out, nil
}
