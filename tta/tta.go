// Package tta is test-time augmentation by the symmetries of the square
// (the dihedral group D4: four rotations, each with or without a mirror):
// a backbone runs on transformed copies of a square network input, each
// copy's patch grid is mapped back onto the original's, and the copies
// are combined per patch. Texture defects (scratches, PCB opens and
// shorts) do not depend on their orientation, CNN features do.
//
// Averaging over a whole group G makes the result equivariant for any
// extractor F: with A(I) = 1/|G| Σ_g g⁻¹·F(g·I), A(h·I) = h·A(I) for
// every h in G (substitute g' = g·h), so a transformed input only permutes
// the patches, and whatever pools over the patches (scores, weights, the
// image descriptor X) is invariant.
package tta

import (
	"fmt"
	"slices"
	"strings"

	"github.com/anomclust/anomclust/tensor"
)

// Op is one element of D4 acting on an n x n grid; see Src.
type Op int

// The eight elements: Rot90 turns the grid a quarter counter-clockwise,
// Mirror flips it left-right, MirrorRot90 is Mirror after Rot90, and so on.
const (
	Identity Op = iota
	Rot90
	Rot180
	Rot270
	Mirror
	MirrorRot90
	MirrorRot180
	MirrorRot270
)

// Src returns the cell (sy, sx) of the input that lands at (y, x) of the
// transformed n x n grid: out[y][x] = in[Src(y, x)].
func (op Op) Src(n, y, x int) (sy, sx int) {
	if op >= Mirror {
		x = n - 1 - x // the mirror acts last: undo it first
	}
	switch op % 4 {
	case 1: // counter-clockwise quarter turn: out[y][x] = in[x][n-1-y]
		return x, n - 1 - y
	case 2:
		return n - 1 - y, n - 1 - x
	case 3:
		return n - 1 - x, y
	}
	return y, x
}

// Variant is a set of elements whose copies are combined.
type Variant string

// The variants: None runs the input as is; Flip adds the mirror, Rot4 the
// three turns, D4 all seven others. "-max" after a name (e.g. "d4-max")
// takes the per-component maximum over the copies instead of the mean.
const (
	None Variant = "none"
	Flip Variant = "flip"
	Rot4 Variant = "rot4"
	D4   Variant = "d4"
	// D4Max is D4 combined by the maximum: the auto preset's texture
	// configuration (docs/QUALITY.md).
	D4Max Variant = "d4-max"
)

var groups = map[Variant][]Op{
	None: {Identity},
	Flip: {Identity, Mirror},
	Rot4: {Identity, Rot90, Rot180, Rot270},
	D4:   {Identity, Rot90, Rot180, Rot270, Mirror, MirrorRot90, MirrorRot180, MirrorRot270},
}

// Parse checks a variant name ("" is None).
func Parse(s string) (Variant, error) {
	if s == "" {
		return None, nil
	}
	v := Variant(s)
	if _, ok := groups[v.group()]; !ok || (v.Max() && v.group() == None) {
		return "", fmt.Errorf("tta: unknown variant %q (want none, flip, rot4, d4, or flip-max, rot4-max, d4-max)", s)
	}
	return v, nil
}

// Names lists the variants Parse accepts.
func Names() []string {
	return []string{string(None), string(Flip), string(Rot4), string(D4), "flip-max", "rot4-max", "d4-max"}
}

func (v Variant) group() Variant { return Variant(strings.TrimSuffix(string(v), "-max")) }

// Max reports whether the copies are combined by their maximum.
func (v Variant) Max() bool { return strings.HasSuffix(string(v), "-max") }

// Ops are the elements whose copies v combines, Identity first.
func (v Variant) Ops() []Op { return slices.Clone(groups[v.group()]) }

// IsNone reports whether v runs the input alone.
func (v Variant) IsNone() bool { return v == "" || v == None }

// Apply returns op applied to the square (n, n, C) tensor t (an image or
// a feature map, channels last).
func Apply(op Op, t *tensor.Tensor) (*tensor.Tensor, error) {
	if len(t.Shape) != 3 || t.Shape[0] != t.Shape[1] {
		return nil, fmt.Errorf("tta: want a square (n, n, C) tensor, got shape %v", t.Shape)
	}
	n, c := t.Shape[0], t.Shape[2]
	out := tensor.New(n, n, c)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sy, sx := op.Src(n, y, x)
			copy(out.Data[(y*n+x)*c:(y*n+x+1)*c], t.Data[(sy*n+sx)*c:(sy*n+sx+1)*c])
		}
	}
	return out, nil
}

// Combine maps each copy's patch rows back onto the original grid and
// combines them per patch and component (mean, or max for a "-max"
// variant). zs[k] is the (n*n, D) patch matrix of the input transformed by
// ops[k], rows row-major over its n x n grid: its row (y, x) describes the
// original's cell ops[k].Src(n, y, x).
func Combine(v Variant, ops []Op, zs []*tensor.Tensor) (*tensor.Tensor, error) {
	if len(zs) == 0 || len(zs) != len(ops) {
		return nil, fmt.Errorf("tta: %d copies for %d transforms", len(zs), len(ops))
	}
	m, d := zs[0].Shape[0], zs[0].Shape[1]
	n := 0
	for n*n < m {
		n++
	}
	if n*n != m {
		return nil, fmt.Errorf("tta: %d patches do not form a square grid", m)
	}
	out := tensor.New(m, d)
	max := v.Max()
	for k, z := range zs {
		if len(z.Shape) != 2 || z.Shape[0] != m || z.Shape[1] != d {
			return nil, fmt.Errorf("tta: copy %d has shape %v, want (%d, %d)", k, z.Shape, m, d)
		}
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				sy, sx := ops[k].Src(n, y, x)
				src := z.Data[(y*n+x)*d : (y*n+x+1)*d]
				dst := out.Data[(sy*n+sx)*d : (sy*n+sx+1)*d]
				switch {
				case k == 0:
					copy(dst, src)
				case max:
					for j, s := range src {
						dst[j] = maxf(dst[j], s)
					}
				default:
					for j, s := range src {
						dst[j] += s
					}
				}
			}
		}
	}
	if !max {
		inv := 1 / float32(len(zs))
		for j := range out.Data {
			out.Data[j] *= inv
		}
	}
	return out, nil
}

func maxf(a, b float32) float32 {
	if b > a {
		return b
	}
	return a
}
