package draw

import (
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Colormap maps a value t in [0, 1] to an opaque colour (t outside is
// clamped). Low alpha maps to the start of the map, the maximum to its end.
type Colormap func(t float64) color.RGBA

// viridisStops are matplotlib's viridis at t = 0, 0.1, ..., 1 (the 11-colour
// palette of R's viridisLite and d3-scale-chromatic). Viridis is perceptually
// uniform and its luminance increases monotonically, so "brighter" always
// means "more weight" and the map survives greyscale printing.
var viridisStops = [...][3]uint8{
	{0x44, 0x01, 0x54}, {0x48, 0x25, 0x76}, {0x41, 0x44, 0x87}, {0x35, 0x60, 0x8d},
	{0x2a, 0x78, 0x8e}, {0x21, 0x90, 0x8c}, {0x22, 0xa8, 0x84}, {0x43, 0xbf, 0x71},
	{0x7a, 0xd1, 0x51}, {0xbb, 0xdf, 0x27}, {0xfd, 0xe7, 0x25},
}

// Viridis is matplotlib's viridis, linearly interpolated between 11 stops
// (within 2 levels of the 256-entry table).
func Viridis(t float64) color.RGBA {
	t = clamp01(t)
	x := t * float64(len(viridisStops)-1)
	i := int(x)
	if i >= len(viridisStops)-1 {
		i = len(viridisStops) - 2
	}
	f := x - float64(i)
	a, b := viridisStops[i], viridisStops[i+1]
	lerp := func(p, q uint8) uint8 { return uint8(math.Round(float64(p)*(1-f) + float64(q)*f)) }
	return color.RGBA{lerp(a[0], b[0]), lerp(a[1], b[1]), lerp(a[2], b[2]), 255}
}

// Jet is the classic MATLAB/matplotlib jet map (dark blue, cyan, yellow,
// dark red) in its piecewise-linear form, the map PatchCore's and the
// Anomaly Clustering paper's heat-map figures use.
func Jet(t float64) color.RGBA {
	t = clamp01(t)
	ch := func(c float64) uint8 { return uint8(math.Round(255 * clamp01(1.5-math.Abs(4*t-c)))) }
	return color.RGBA{ch(3), ch(2), ch(1), 255}
}

// ColormapByName returns "viridis" or "jet" (case-insensitive).
func ColormapByName(name string) (Colormap, error) {
	switch strings.ToLower(name) {
	case "viridis", "":
		return Viridis, nil
	case "jet":
		return Jet, nil
	}
	return nil, fmt.Errorf("unknown colormap %q (want viridis or jet)", name)
}

func clamp01(t float64) float64 {
	if !(t > 0) { // also maps NaN to 0
		return 0
	}
	if t > 1 {
		return 1
	}
	return t
}
