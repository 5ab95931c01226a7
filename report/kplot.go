package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/anomclust/anomclust/rundir"
)

// kPlot renders the K estimate's deciding criterion against K as an inline
// SVG (package kselect, k.json): a line over the candidates, the chosen K
// as a filled orange dot and the runner-up as a hollow one.
func kPlot(kc *rundir.KChoice, setting string) (string, error) {
	p := plot.New()
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	p.Title.Text = fmt.Sprintf("K = %d (runner-up %d): %s, %s", kc.K, kc.RunnerUp, kc.Criterion, setting)
	p.Title.TextStyle.Font = font.From(sans, 10)
	p.X.Label.Text = "K"
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, 10)
		ax.Tick.Label.Font = font.From(sans, 8)
		ax.LineStyle.Color = color.Gray{120}
		ax.Tick.LineStyle.Color = color.Gray{120}
	}
	p.Add(plotter.NewGrid())
	var xy, chosen, runner plotter.XYs
	for i, k := range kc.Ks {
		if i >= len(kc.Values) || math.IsNaN(kc.Values[i]) {
			continue
		}
		pt := plotter.XY{X: float64(k), Y: kc.Values[i]}
		xy = append(xy, pt)
		switch k {
		case kc.K:
			chosen = append(chosen, pt)
		case kc.RunnerUp:
			runner = append(runner, pt)
		}
	}
	if len(xy) == 0 {
		return "", fmt.Errorf("K plot: no finite criterion value")
	}
	blue := color.RGBA{0x1f, 0x77, 0xb4, 255}
	orange := color.RGBA{0xff, 0x7f, 0x0e, 255}
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return "", fmt.Errorf("K plot: %w", err)
	}
	l.Color, l.Width = blue, vg.Points(1.5)
	s.Color, s.Shape, s.Radius = blue, draw.CircleGlyph{}, vg.Points(2)
	p.Add(l, s)
	for _, m := range []struct {
		pts   plotter.XYs
		shape draw.GlyphDrawer
	}{{chosen, draw.CircleGlyph{}}, {runner, draw.RingGlyph{}}} {
		if len(m.pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(m.pts)
		if err != nil {
			return "", err
		}
		sc.Color, sc.Shape, sc.Radius = orange, m.shape, vg.Points(4.5)
		p.Add(sc)
	}
	c := vgsvg.New(3.1*vg.Inch, 2.2*vg.Inch)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("K plot: %w", err)
	}
	return inlineSVG(buf.String()), nil
}
