package pipeline

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// Features are one category's inputs to the weighting and clustering
// stages, as Run computes them: for experiments that sweep those stages in
// memory (anomclust eval).
type Features struct {
	Name   string
	Labels []string
	Truth  []int    // label index of each clustered image
	Paths  []string // the clustered images
	K      int
	// Z are the clustered images' patch embeddings; ZRef is Z followed by
	// the reference-only images' (the unsupervised score's other images);
	// Bank is the semi-supervised memory bank (nil without train images).
	Z, ZRef, Bank []*tensor.Tensor
	BankPaths     []string
	Grid          int // patches per side (M = Grid²)
	// ObjectAlign: the images were aligned to their part (Options.
	// ObjectAlign, or the object gate of Options.ObjectAuto).
	ObjectAlign bool
}

// Prepared holds a backbone ready to embed more images (crops).
type Prepared struct {
	Categories []Features
	ex         *extractor
}

// Prepare does what Run does before the scores, for every category of o:
// the clustered set, the reference-only images, the memory bank and their
// patch embeddings (from the feature cache when it has them). Modes in o
// decide whether the bank and the references are loaded.
func Prepare(ctx context.Context, o Options) (*Prepared, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	plans, err := makePlans(&o, log)
	if err != nil {
		return nil, err
	}
	ex, err := openExtractor(ctx, &o, log)
	if err != nil {
		return nil, err
	}
	p := &Prepared{ex: ex}
	for _, pl := range plans {
		f, err := prepareCategory(ctx, &o, pl, ex)
		if err != nil {
			return nil, fmt.Errorf("category %s: %w", pl.cat.Name, err)
		}
		p.Categories = append(p.Categories, f)
	}
	return p, nil
}

func prepareCategory(ctx context.Context, o *Options, p plan, ex *extractor) (Features, error) {
	f := Features{Name: p.cat.Name, Labels: p.set.Labels, K: p.k}
	for _, it := range p.set.Items {
		f.Truth = append(f.Truth, it.LabelIndex)
		f.Paths = append(f.Paths, it.Path)
	}
	ex, aligned, err := gateCategory(ctx, o, ex, p.cat.Name, f.Paths, p.gate)
	if err != nil {
		return f, err
	}
	f.ObjectAlign = aligned
	if f.Z, err = ex.Z(ctx, f.Paths, p.cat.Name+" features", o.Progress); err != nil {
		return f, err
	}
	f.ZRef = f.Z
	if rundir.AnyFrom(o.Modes, rundir.SourceOthers) && len(p.ref) > 0 {
		var refPaths []string
		for _, it := range p.ref {
			refPaths = append(refPaths, it.Path)
		}
		extra, err := ex.Z(ctx, refPaths, p.cat.Name+" reference features", o.Progress)
		if err != nil {
			return f, err
		}
		f.ZRef = append(slices.Clip(f.Z), extra...)
	}
	if p.semi {
		for _, it := range p.train {
			f.BankPaths = append(f.BankPaths, it.Path)
		}
		if f.Bank, err = ex.Z(ctx, f.BankPaths, p.cat.Name+" normal-image features", o.Progress); err != nil {
			return f, err
		}
	}
	if f.Grid, err = gridOf(f.Z[0].Shape[0]); err != nil {
		return f, err
	}
	return f, nil
}

// EmbedRGB returns the patch embeddings of already decoded images (e.g.
// crops), each resized whole to the network's input size (no centre crop)
// with the run's backbone, layers and patch settings. Nothing is cached.
func (p *Prepared) EmbedRGB(imgs []*preprocess.RGB) ([]*tensor.Tensor, error) {
	return p.ex.embedRGB(imgs)
}

func (x *extractor) embedRGB(imgs []*preprocess.RGB) ([]*tensor.Tensor, error) {
	size := x.opt.ImageSize
	out := make([]*tensor.Tensor, 0, len(imgs))
	for start := 0; start < len(imgs); start += x.opt.Batch {
		batch := imgs[start:min(len(imgs), start+x.opt.Batch)]
		in := make([]*tensor.Tensor, len(batch))
		for k, m := range batch {
			if m == nil || m.W < 1 || m.H < 1 {
				return nil, fmt.Errorf("embed: image %d is empty", start+k)
			}
			in[k] = x.pre.Normalize(preprocess.Resize(m, size, size))
		}
		zs, err := x.embed(in, x.tta[:1])
		if err != nil {
			return nil, fmt.Errorf("embed: backbone %s: %w", x.net.bb.Name(), err)
		}
		out = append(out, zs[0]...)
	}
	return out, nil
}

// Resize and ImageSize are the preprocessing's short side and centre crop.
func (p *Prepared) Resize() int    { return p.ex.opt.Resize }
func (p *Prepared) ImageSize() int { return p.ex.opt.ImageSize }
