package rundir

import (
	"fmt"
	"strings"
)

// ChoiceSettings says in plain words how the category's images were
// processed (Category.ObjectAlign, ScoreInterval, XPool), with the flag
// of each, for the run log and the report: e.g. "aligned to their part
// (--object-align), unsupervised score the mean of each patch's lowest
// 30% of distances (--score-interval 0.3), X the weighted mean (--x-pool
// mean)". Settings the caller fixed (Choice.Fixed) are named at the end.
func (c *Category) ChoiceSettings() string {
	var b strings.Builder
	if c.ObjectAlign {
		b.WriteString("images aligned to their part (--object-align)")
	} else {
		b.WriteString("whole images, not aligned")
	}
	if r := c.ScoreInterval; r > 0 && r < 1 {
		fmt.Fprintf(&b, ", unsupervised score the mean of each patch's lowest %g%% of distances (--score-interval %g)", 100*r, r)
	} else {
		b.WriteString(", unsupervised score the plain mean distance")
	}
	pool := c.XPool
	if pool == "" {
		pool = "mean"
	}
	fmt.Fprintf(&b, ", X %s (--x-pool %s)", xPoolWords(pool), pool)
	if c.Backbone != nil {
		fmt.Fprintf(&b, ", backbone %s", c.Backbone.Name)
	}
	if len(c.Layers) > 0 {
		fmt.Fprintf(&b, ", backbone taps %s (--layers %s)", strings.Join(c.Layers, "+"), strings.Join(c.Layers, ","))
	}
	if c.TTA != "" && c.TTA != "none" {
		fmt.Fprintf(&b, ", patch features averaged over the image's %s copies (--tta %s)", c.TTA, c.TTA)
	}
	if c.Cluster != "" {
		fmt.Fprintf(&b, ", clustered with %s (--cluster %s)", c.Cluster, c.Cluster)
	}
	if c.Choice != nil && len(c.Choice.Fixed) > 0 {
		fmt.Fprintf(&b, "; kept as given: %s", strings.Join(c.Choice.Fixed, ", "))
	}
	return b.String()
}

// xPoolWords names an image descriptor (package xpool's kinds) for
// ChoiceSettings; an unknown one is left as is.
func xPoolWords(pool string) string {
	main, _, avg := strings.Cut(pool, "+avg:")
	if avg {
		return xPoolWords(main) + " with their plain mean"
	}
	name, _, _ := strings.Cut(pool, ":")
	switch name {
	case "mean":
		return "the weighted mean of the patches"
	case "meanstd":
		return "the weighted mean and standard deviation of the patches"
	case "meanstd-u":
		return "the weighted mean and the plain standard deviation of the patches"
	case "umean-std":
		return "the plain mean and the weighted standard deviation of the patches"
	case "gem":
		return "a weighted GeM of the patches"
	}
	return pool
}

// KindWords is the kind with its article, as in "treated as an object".
func (c *CategoryChoice) KindWords() string {
	if c.Kind != "" && strings.ContainsRune("aeiou", rune(c.Kind[0])) {
		return "an " + c.Kind
	}
	return "a " + c.Kind
}
