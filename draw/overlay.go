// Package draw renders what the clustering looked at: an image's patch weights
// alpha (docs/METHOD.md §4), upsampled to the crop the backbone saw, colour-mapped and
// blended over it, beside the ground-truth mask, one PNG per image
// (`anomclust draw`). The report package uses the same overlays as thumbnails.
package draw

import (
	"image"
	"image/color"
	imdraw "image/draw"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/anomclust/anomclust/preprocess"
)

// Upsample resizes a gh x gw grid (row-major) to h x w with bilinear
// interpolation, as torch.nn.functional.interpolate(mode="bilinear",
// align_corners=False) does: output pixel centres map back to
// (dst+0.5)*in/out-0.5 on the input grid, clamped at the borders. Each patch
// weight thus sits at the centre of the image area its grid cell covers.
func Upsample(grid []float32, gh, gw, h, w int) []float32 {
	out := make([]float32, h*w)
	ys := axisTaps(gh, h)
	xs := axisTaps(gw, w)
	for y, ty := range ys {
		r0 := grid[ty.i0*gw : ty.i0*gw+gw]
		r1 := grid[ty.i1*gw : ty.i1*gw+gw]
		row := out[y*w : y*w+w]
		for x, tx := range xs {
			top := r0[tx.i0]*(1-tx.f) + r0[tx.i1]*tx.f
			bot := r1[tx.i0]*(1-tx.f) + r1[tx.i1]*tx.f
			row[x] = top*(1-ty.f) + bot*ty.f
		}
	}
	return out
}

// tap is one output coordinate's two input neighbours and the weight of the
// second.
type tap struct {
	i0, i1 int
	f      float32
}

// axisTaps mirrors PyTorch's area_pixel_compute_source_index for
// align_corners=False along one axis of in -> out samples.
func axisTaps(in, out int) []tap {
	t := make([]tap, out)
	scale := float64(in) / float64(out)
	for d := range t {
		src := max((float64(d)+0.5)*scale-0.5, 0)
		i0 := min(int(src), in-1)
		i1 := min(i0+1, in-1)
		t[d] = tap{i0: i0, i1: i1, f: float32(src - float64(i0))}
	}
	return t
}

// Overlay blends the colour-mapped heat map over img: heat is img.H x img.W
// (row-major), each value is divided by scale and clamped to [0, 1] (v)
// before colour-mapping. The colour's weight against the image grows with
// the value, opacity*(0.2+0.8v): where alpha is high the map dominates, where
// it is low the image stays readable under a faint tint, so a peaked map
// (tau = 0 is one patch) does not veil the whole picture. With scale = the
// map's maximum this is the per-image max-normalised view of the method's
// figures.
func Overlay(img *preprocess.RGB, heat []float32, scale float32, cmap Colormap, opacity float64) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, img.W, img.H))
	if !(scale > 0) {
		scale = 1
	}
	// A 256-entry table avoids calling the colour map per pixel.
	var lut [256]color.RGBA
	for i := range lut {
		lut[i] = cmap(float64(i) / 255)
	}
	for i := 0; i < img.W*img.H; i++ {
		v := heat[i] / scale
		k := 0
		if v >= 1 {
			k = 255
		} else if v > 0 {
			k = int(v*255 + 0.5)
		}
		c := lut[k]
		a := float32(opacity) * (0.2 + 0.8*float32(k)/255)
		p := img.Pix[3*i : 3*i+3]
		o := out.Pix[4*i : 4*i+4]
		o[0] = uint8(float32(p[0])*(1-a) + float32(c.R)*a + 0.5)
		o[1] = uint8(float32(p[1])*(1-a) + float32(c.G)*a + 0.5)
		o[2] = uint8(float32(p[2])*(1-a) + float32(c.B)*a + 0.5)
		o[3] = 255
	}
	return out
}

// Layout of a Panel: tiles of side TileSide separated and framed by Gap
// pixels, each under a Caption pixels high text bar.
const (
	Gap     = 6
	Caption = 18
	// MinTile is the smallest tile side: smaller crops are enlarged by an
	// integer factor (nearest neighbour, so pixels stay pixels) to be
	// readable.
	MinTile = 160
)

// TileSide is the side of a Panel tile for a crop of side crop: crop
// times the smallest integer factor that reaches MinTile.
func TileSide(crop int) int {
	if crop <= 0 {
		return MinTile
	}
	return crop * max(1, (MinTile+crop-1)/crop)
}

// PanelSize is the size of a Panel of n tiles of the given side.
func PanelSize(n, side int) (w, h int) {
	return n*side + (n+1)*Gap, side + Caption + 2*Gap
}

// Tile is one image of a Panel with its caption.
type Tile struct {
	Image   image.Image
	Caption string
}

// Panel places the tiles side by side on white, each scaled (nearest
// neighbour) to side x side under its caption, in the layout PanelSize gives.
func Panel(side int, tiles ...Tile) *image.RGBA {
	w, h := PanelSize(len(tiles), side)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	imdraw.Draw(out, out.Bounds(), image.White, image.Point{}, imdraw.Src)
	face := basicfont.Face7x13
	for i, t := range tiles {
		x := Gap + i*(side+Gap)
		y := Gap + Caption
		r := image.Rect(x, y, x+side, y+side)
		if t.Image.Bounds().Size() == r.Size() {
			imdraw.Draw(out, r, t.Image, t.Image.Bounds().Min, imdraw.Src)
		} else {
			xdraw.NearestNeighbor.Scale(out, r, t.Image, t.Image.Bounds(), xdraw.Src, nil)
		}
		d := font.Drawer{Dst: out, Src: image.NewUniform(color.RGBA{40, 40, 40, 255}), Face: face,
			Dot: fixed.P(x, Gap+Caption-5)}
		d.DrawString(fitText(face, t.Caption, side))
	}
	return out
}

// fitText shortens s with "..." so it fits width pixels in face.
func fitText(face font.Face, s string, width int) string {
	if font.MeasureString(face, s).Ceil() <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && font.MeasureString(face, string(r)+"...").Ceil() > width {
		r = r[:len(r)-1]
	}
	return string(r) + "..."
}

// MaskImage turns a ground-truth mask (any RGB; defect pixels bright) into a
// white-on-black image of the same size.
func MaskImage(m *preprocess.RGB) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := 0; i < m.W*m.H; i++ {
		v := max(m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2])
		o := out.Pix[4*i : 4*i+4]
		o[0], o[1], o[2], o[3] = v, v, v, 255
	}
	return out
}

// Outline draws the border of the mask's bright region (threshold 128) on
// dst in colour c, so the defect's true extent can be compared with where
// alpha is high on the overlay.
func Outline(dst *image.RGBA, m *preprocess.RGB, c color.RGBA) {
	on := func(x, y int) bool {
		if x < 0 || y < 0 || x >= m.W || y >= m.H {
			return false
		}
		i := 3 * (y*m.W + x)
		return max(m.Pix[i], m.Pix[i+1], m.Pix[i+2]) >= 128
	}
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			if on(x, y) && (!on(x-1, y) || !on(x+1, y) || !on(x, y-1) || !on(x, y+1)) {
				dst.SetRGBA(x, y, c)
			}
		}
	}
}
