package pipeline

import (
	"fmt"
	"slices"

	"github.com/anomclust/anomclust/patchfeat"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/tta"
)

// validateTTA checks Options.TTA and TTAAlso: known variants, and every
// TTAAlso variant's copies among TTA's (they share its backbone passes).
func validateTTA(v string, also []string) error {
	own, err := tta.Parse(v)
	if err != nil {
		return err
	}
	for _, a := range also {
		w, err := tta.Parse(a)
		if err != nil {
			return err
		}
		for _, op := range w.Ops() {
			if !slices.Contains(own.Ops(), op) {
				return fmt.Errorf("tta: variant %s needs copies that %s does not compute", w, own)
			}
		}
	}
	return nil
}

// ttaVariants are the variants an extractor computes from one set of
// backbone passes: its own (Options.TTA) first, then Options.TTAAlso.
func ttaVariants(o *Options) []tta.Variant {
	own, _ := tta.Parse(o.TTA) // validated
	vs := []tta.Variant{own}
	for _, a := range o.TTAAlso {
		w, _ := tta.Parse(a)
		vs = append(vs, w)
	}
	return vs
}

// embed computes the patch embeddings of preprocessed square images for
// each variant of vs (result [variant][image]): the backbone runs once on
// each copy that any variant needs (the union of their tta ops), each
// copy's Z is computed as usual (patchfeat.PatchEmbeddings) and the
// variant combines its copies, mapped back onto the input's grid
// (tta.Combine). The combination acts on Z, after the PatchCore
// aggregation, so that the result is exactly equivariant (a turned input
// permutes the patches; see package tta), whatever the net.
func (x *extractor) embed(imgs []*tensor.Tensor, vs []tta.Variant) ([][]*tensor.Tensor, error) {
	var ops []tta.Op
	for _, v := range vs {
		for _, op := range v.Ops() {
			if !slices.Contains(ops, op) {
				ops = append(ops, op)
			}
		}
	}
	// in holds every image's copies, op-major within an image.
	in := make([]*tensor.Tensor, 0, len(imgs)*len(ops))
	for _, img := range imgs {
		for _, op := range ops {
			if op == tta.Identity {
				in = append(in, img)
				continue
			}
			c, err := tta.Apply(op, img)
			if err != nil {
				return nil, fmt.Errorf("test-time augmentation: %w", err)
			}
			in = append(in, c)
		}
	}
	zs := make([]*tensor.Tensor, len(in))
	for start := 0; start < len(in); start += x.opt.Batch {
		part := in[start:min(len(in), start+x.opt.Batch)]
		maps, err := x.net.bb.Forward(part, x.opt.Layers)
		if err != nil {
			return nil, err
		}
		for k := range part {
			ls := make([]*tensor.Tensor, len(x.opt.Layers))
			for l, name := range x.opt.Layers {
				ls[l] = maps[k][name]
			}
			z, err := patchfeat.PatchEmbeddings(ls, patchfeat.Options{
				PatchSize: x.opt.PatchSize, PretrainDim: x.opt.PretrainDim, TargetDim: x.opt.TargetDim,
				LayerNorm: x.opt.LayerNorm, Workers: x.opt.Workers,
			})
			if err != nil {
				return nil, fmt.Errorf("patch embeddings of image %d: %w", (start+k)/len(ops), err)
			}
			zs[start+k] = z
			maps[k] = nil
		}
	}
	out := make([][]*tensor.Tensor, len(vs))
	for j, v := range vs {
		out[j] = make([]*tensor.Tensor, len(imgs))
		vops := v.Ops()
		for i := range imgs {
			if len(vops) == 1 {
				out[j][i] = zs[i*len(ops)] // Identity is ops[0] of every variant
				continue
			}
			copies := make([]*tensor.Tensor, len(vops))
			for k, op := range vops {
				copies[k] = zs[i*len(ops)+slices.Index(ops, op)]
			}
			z, err := tta.Combine(v, vops, copies)
			if err != nil {
				return nil, fmt.Errorf("test-time augmentation %s of image %d: %w", v, i, err)
			}
			out[j][i] = z
		}
	}
	return out, nil
}
