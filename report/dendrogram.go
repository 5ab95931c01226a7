package report

import (
	"fmt"
	"image/color"
	"math"
	"strings"
)

// Dendrogram geometry, in SVG user units (CSS pixels at 100%).
const (
	dendroW      = 640
	dendroH      = 260
	dendroLeft   = 48 // room for the height axis
	dendroRight  = 8
	dendroTop    = 10
	dendroStrip  = 12 // the true-label colour strip under the leaves
	dendroBottom = dendroStrip + 6
)

// dendrogram draws a Ward merge tree as inline SVG, laid out as
// scipy.cluster.hierarchy.dendrogram does by default (the first cluster of
// each merge on the left, a merge drawn at its height, leaves evenly spaced).
// link is scipy's (n-1) x 4 linkage matrix, row-major. Branches below the
// cut into k clusters take the colour of their cluster (clusterColor of the
// leaves' cluster); the strip under the leaves shows each image's true label
// (leafColor), so a cluster mixing labels shows as a branch over a
// many-coloured strip.
func dendrogram(link []float64, n, k int, leafCluster []int, clusterColor func(int) color.RGBA, leafColor []color.RGBA) (string, error) {
	if n < 2 || len(link) != 4*(n-1) || len(leafCluster) != n || len(leafColor) != n {
		return "", fmt.Errorf("dendrogram: linkage of %d values, %d clusters of leaves, %d leaf colours for n=%d", len(link), len(leafCluster), len(leafColor), n)
	}
	nodes := 2*n - 1
	left, right := make([]int, nodes), make([]int, nodes)
	height := make([]float64, nodes)
	hmax := 0.0
	for i := range n - 1 {
		a, b := int(link[4*i]), int(link[4*i+1])
		if a < 0 || b < 0 || a >= n+i || b >= n+i {
			return "", fmt.Errorf("dendrogram: merge %d joins %d and %d, not earlier nodes", i, a, b)
		}
		left[n+i], right[n+i], height[n+i] = a, b, link[4*i+2]
		hmax = max(hmax, height[n+i])
	}
	if hmax <= 0 {
		hmax = 1
	}
	// Leaf order: depth-first from the root, left before right.
	order := make([]int, 0, n)
	stack := []int{nodes - 1}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if v < n {
			order = append(order, v)
			continue
		}
		stack = append(stack, right[v], left[v])
	}
	plotW := float64(dendroW - dendroLeft - dendroRight)
	plotH := float64(dendroH - dendroTop - dendroBottom)
	unit := plotW / float64(n)
	x := make([]float64, nodes)
	for pos, leaf := range order {
		x[leaf] = dendroLeft + (float64(pos)+0.5)*unit
	}
	y := func(h float64) float64 { return dendroTop + (1-h/hmax)*plotH }
	// A node's cluster is its leaves' common cluster, -1 when they differ
	// or when the node is one of the k-1 merges above the cut.
	cl := make([]int, nodes)
	copy(cl, leafCluster)
	cutBelow := n - k // merges 0..n-k-1 lie below the cut
	paths := map[color.RGBA]*strings.Builder{}
	var colours []color.RGBA
	grey := color.RGBA{150, 150, 150, 255}
	for i := range n - 1 {
		v := n + i
		a, b := left[v], right[v]
		x[v] = (x[a] + x[b]) / 2
		cl[v] = -1
		if i < cutBelow && cl[a] == cl[b] {
			cl[v] = cl[a]
		}
		col := grey
		if cl[v] >= 0 {
			col = clusterColor(cl[v])
		}
		pb, ok := paths[col]
		if !ok {
			pb = &strings.Builder{}
			paths[col] = pb
			colours = append(colours, col)
		}
		fmt.Fprintf(pb, "M%.1f %.1fV%.1fH%.1fV%.1f", x[a], y(height[a]), y(height[v]), x[b], y(height[b]))
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="dendro" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Ward dendrogram of %d images">`, dendroW, dendroH, n)
	// Height axis with a few round ticks.
	fmt.Fprintf(&s, `<g font-size="11" fill="#555" text-anchor="end">`)
	for _, t := range niceTicks(hmax, 4) {
		ty := y(t)
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e3e3e3"/>`, dendroLeft, dendroW-dendroRight, ty, ty)
		fmt.Fprintf(&s, `<text x="%d" y="%.1f">%s</text>`, dendroLeft-4, ty+3, fmtTick(t))
	}
	fmt.Fprintf(&s, `<text transform="translate(11 %.1f) rotate(-90)" text-anchor="middle">height</text></g>`, dendroTop+plotH/2)
	for _, col := range colours {
		fmt.Fprintf(&s, `<path d="%s" fill="none" stroke="%s" stroke-width="%.2g"/>`, paths[col].String(), hex(col), max(0.6, min(1.5, unit)))
	}
	if k > 1 && cutBelow >= 1 {
		hc := (height[n+cutBelow-1] + height[n+cutBelow]) / 2
		fmt.Fprintf(&s, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c0392b" stroke-dasharray="5 3"/>`, dendroLeft, dendroW-dendroRight, y(hc), y(hc))
		fmt.Fprintf(&s, `<text x="%d" y="%.1f" font-size="11" fill="#c0392b" text-anchor="end">cut: K = %d</text>`, dendroW-dendroRight-2, y(hc)-3, k)
	}
	// True-label strip: runs of equal colour as one rectangle each.
	sy := float64(dendroH - dendroStrip)
	for pos := 0; pos < n; {
		end := pos + 1
		for end < n && leafColor[order[end]] == leafColor[order[pos]] {
			end++
		}
		fmt.Fprintf(&s, `<rect x="%.2f" y="%.1f" width="%.2f" height="%d" fill="%s"/>`,
			dendroLeft+float64(pos)*unit, sy, float64(end-pos)*unit, dendroStrip, hex(leafColor[order[pos]]))
		pos = end
	}
	s.WriteString(`</svg>`)
	return s.String(), nil
}

// niceTicks returns 0 and multiples of a round step (1, 2 or 5 times a power
// of ten) up to top, about n of them.
func niceTicks(top float64, n int) []float64 {
	raw := top / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	var t []float64
	for v := 0.0; v <= top*(1+1e-9); v += step {
		t = append(t, v)
	}
	return t
}

func fmtTick(v float64) string { return fmt.Sprintf("%.3g", v) }

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }
