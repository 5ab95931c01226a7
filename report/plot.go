package report

import (
	"bytes"
	"fmt"
	"image/color"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// modeColors are the line colours of the weighting modes in the tau plots
// (and their HTML legend): Tableau blue, orange, grey.
var modeColors = map[string]color.RGBA{
	"unsupervised": {0x1f, 0x77, 0xb4, 255},
	"semi":         {0xff, 0x7f, 0x0e, 255},
	"average":      {0x7f, 0x7f, 0x7f, 255},
}

// curve is one mode's score against tau; a single point without tau
// (average) is drawn as a horizontal dashed line.
type curve struct {
	Mode string
	Tau  []float64
	Y    []float64
	Flat bool
}

// tauPlot renders one metric against tau as an inline SVG element (no XML
// prolog), y from min(0, data) to 1 so categories compare at a glance.
func tauPlot(metric string, curves []curve) (string, error) {
	p := plot.New()
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	p.Title.Text = metric
	p.Title.TextStyle.Font = font.From(sans, 11)
	p.X.Label.Text = "τ"
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, 10)
		ax.Tick.Label.Font = font.From(sans, 8)
		ax.LineStyle.Color = color.Gray{120}
		ax.Tick.LineStyle.Color = color.Gray{120}
	}
	p.Y.Min, p.Y.Max = 0, 1
	var xmin, xmax float64
	first := true
	for _, c := range curves {
		if c.Flat {
			continue
		}
		for _, t := range c.Tau {
			if first || t < xmin {
				xmin = t
			}
			if first || t > xmax {
				xmax = t
			}
			first = false
		}
	}
	if first { // average only
		xmin, xmax = 0, 1
	}
	if xmax == xmin {
		xmax = xmin + 1
	}
	p.Add(plotter.NewGrid())
	for _, c := range curves {
		for _, y := range c.Y {
			p.Y.Min = min(p.Y.Min, y)
		}
		col := modeColors[c.Mode]
		if c.Flat {
			if len(c.Y) == 0 {
				continue
			}
			xy := plotter.XYs{{X: xmin, Y: c.Y[0]}, {X: xmax, Y: c.Y[0]}}
			l, err := plotter.NewLine(xy)
			if err != nil {
				return "", err
			}
			l.Color, l.Width, l.Dashes = col, vg.Points(1.2), []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(l)
			continue
		}
		xy := make(plotter.XYs, len(c.Tau))
		for i := range c.Tau {
			xy[i] = plotter.XY{X: c.Tau[i], Y: c.Y[i]}
		}
		l, s, err := plotter.NewLinePoints(xy)
		if err != nil {
			return "", fmt.Errorf("%s plot, %s: %w", metric, c.Mode, err)
		}
		l.Color, l.Width = col, vg.Points(1.5)
		s.Color, s.Shape, s.Radius = col, draw.CircleGlyph{}, vg.Points(2)
		p.Add(l, s)
	}
	p.X.Min, p.X.Max = xmin, xmax
	c := vgsvg.New(3.1*vg.Inch, 2.2*vg.Inch)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("%s plot: %w", metric, err)
	}
	return inlineSVG(buf.String()), nil
}

var fontFamily = regexp.MustCompile(`font-family:([^;"]+)`)

// inlineSVG makes a standalone SVG document fit inside HTML: the XML prolog
// and comments are dropped, the fixed pt size becomes a CSS-scalable one
// (the viewBox keeps the aspect), and font families fall back to metric-
// compatible system fonts (gonum lays text out with Liberation Sans, whose
// metrics are Arial's).
func inlineSVG(s string) string {
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = fontFamily.ReplaceAllString(s, `font-family:'$1',Arial,Helvetica,sans-serif`)
	s = regexp.MustCompile(`<svg width="[^"]*" height="[^"]*"`).ReplaceAllString(s, `<svg class="plot"`)
	return strings.TrimSpace(s)
}
