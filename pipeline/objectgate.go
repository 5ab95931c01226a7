package pipeline

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/anomclust/anomclust/preprocess"
)

// The object gate (Options.ObjectAuto) decides per category, without
// labels, whether its images show one part on a plain background, the
// case --object-align is for: the part finder of the object crop must
// find a part in at least gateFound of a sample of the category's images,
// with an area (fraction of the image) whose coefficient of variation is
// at most gateCV, since every image shows the same part. Measured on
// ../shared/data (docs/QUALITY.md): screw and metal_nut 100% found, CV
// 0.05 and 0.02; neu, xsdd, deeppcb 36%, 58%, 89% found, CV 0.97, 1.53,
// 0.57.
const (
	gateSample = 24
	gateFound  = 0.95
	gateCV     = 0.2
)

// objectGate is the gate's decision on a category's images (up to
// gateSample of them, evenly spaced), with the found fraction and the
// area's coefficient of variation it was taken on.
func objectGate(ctx context.Context, paths []string, g preprocess.Grey16) (align bool, found, cv float64, err error) {
	n := min(len(paths), gateSample)
	if n == 0 {
		return false, 0, 0, nil
	}
	var areas []float64
	for k := 0; k < n; k++ {
		if err := ctx.Err(); err != nil {
			return false, 0, 0, err
		}
		p := paths[k*len(paths)/n]
		m, err := preprocess.DecodeFile(p, g)
		if err != nil {
			return false, 0, 0, fmt.Errorf("object gate: %w", err)
		}
		if a, ok := preprocess.PartArea(m); ok {
			areas = append(areas, a)
		}
	}
	found = float64(len(areas)) / float64(n)
	if len(areas) < 2 {
		return false, found, math.Inf(1), nil
	}
	var mu, ss float64
	for _, a := range areas {
		mu += a
	}
	mu /= float64(len(areas))
	for _, a := range areas {
		ss += (a - mu) * (a - mu)
	}
	cv = math.Sqrt(ss/float64(len(areas))) / mu
	return found >= gateFound && cv <= gateCV, found, cv, nil
}

// gateResult is the object gate's decision on a category (object: one
// part on a plain background) with its evidence: the fraction of the
// sampled images with a part found and the area's coefficient of
// variation (+Inf when fewer than two parts were found).
type gateResult struct {
	object    bool
	found, cv float64
}

// gateNeeded reports whether o's runs ask the object gate.
func gateNeeded(o *Options) bool {
	return o.PerCategory || (o.ObjectAuto && !o.ObjectAlign)
}

// gateOf is the gate's result on a category: known when it was taken
// before, else objectGate's on paths.
func gateOf(ctx context.Context, name string, paths []string, g preprocess.Grey16, known *gateResult) (gateResult, error) {
	if known != nil {
		return *known, nil
	}
	object, found, cv, err := objectGate(ctx, paths, g)
	if err != nil {
		return gateResult{}, fmt.Errorf("category %s: %w", name, err)
	}
	return gateResult{object: object, found: found, cv: cv}, nil
}

// gateCategory applies Options.ObjectAuto to one category: it returns the
// extractor to embed its images with (ex itself, or ex with the object
// alignment on) and whether the alignment is on. known is as for
// chooseCategory.
func gateCategory(ctx context.Context, o *Options, ex *extractor, name string, paths []string, known *gateResult) (*extractor, bool, error) {
	if !o.ObjectAuto || o.ObjectAlign {
		return ex, o.ObjectAlign, nil
	}
	g, err := gateOf(ctx, name, paths, ex.pre.Grey16, known)
	if err != nil {
		return nil, false, err
	}
	verdict := "no: whole images"
	if g.object {
		verdict = "yes: --object-align"
	}
	fmt.Fprintf(ex.log, "%s: object gate: part found in %.0f%% of the sampled images, area CV %.2f -> %s\n", name, 100*g.found, g.cv, verdict)
	if !g.object {
		return ex, false, nil
	}
	x, err := ex.withObjectAlign()
	return x, true, err
}

// withObjectAlign returns a copy of x that aligns each image's part
// before the resize, with its own feature cache key (cacheSettings sees
// ObjectAlign) and its own hit counters.
func (x *extractor) withObjectAlign() (*extractor, error) {
	o := *x.opt
	o.ObjectAlign = true
	y := &extractor{net: x.net, opt: &o, pre: x.pre, log: x.log}
	y.pre.ObjectAlign = true
	return y, y.open()
}

// withTTA returns an extractor over the same net with another test-time
// augmentation (the auto preset's per-category one), its own feature
// cache entries.
func (x *extractor) withTTA(v string) (*extractor, error) {
	o := *x.opt
	o.TTA, o.TTAAlso = v, nil
	if err := validateTTA(o.TTA, nil); err != nil {
		return nil, err
	}
	y := &extractor{net: x.net, opt: &o, pre: x.pre, log: x.log}
	return y, y.open()
}

// withNet returns an extractor over the backbone of co (a category's own,
// categoryConfig.backbone), with co's settings and its own feature cache
// key; a sharded run's merge takes the net the embed stage recorded for
// the category.
func (x *extractor) withNet(ctx context.Context, category string, co *Options) (*extractor, error) {
	var n *net
	var err error
	if m := x.opt.in.merge; m != nil {
		n, err = m.categoryNet(category)
	} else {
		n, err = openNet(ctx, co, x.log)
	}
	if err != nil {
		return nil, err
	}
	if err := checkLayers(n, co); err != nil {
		return nil, err
	}
	return newExtractor(n, co, x.log)
}

// withLayers returns an extractor over the same net with other taps (the
// auto preset's per-category layers), its own feature cache entries.
func (x *extractor) withLayers(layers []string) (*extractor, error) {
	o := *x.opt
	o.Layers = slices.Clone(layers)
	if err := checkLayers(x.net, &o); err != nil {
		return nil, err
	}
	y := &extractor{net: x.net, opt: &o, pre: x.pre, log: x.log}
	return y, y.open()
}
