package preprocess

import (
	"image"
	"slices"
)

// Object crop: a label-free, training-free crop of the part in an image of
// one object on a plain background (MVTec's screw, metal_nut), so that the
// part, not the background, fills the network's input.
//
//  1. The image is box-averaged down to at most objScan pixels a side.
//  2. The background colour is the per-channel median of a border band
//     (objBorder of the side); a pixel's contrast is its largest channel
//     difference to it, smoothed over 3x3.
//  3. Foreground = contrast above max(objMinContrast, median + 5·1.4826·MAD
//     of the band's contrasts): the band's own spread (texture, vignetting)
//     sets the bar, robustly against a part that touches the border.
//  4. The 8-connected foreground components at least objKeep of the
//     largest one's area are kept (specks of dust are not); their bounding
//     box, grown by ObjectMargin of its long side on every side, squared
//     around its centre, divided by the fraction keep of it that the
//     centre crop after the resize keeps (Crop/Resize), and shifted inside
//     the image, is the crop: the network sees the box and its margin.
//
// When no component covers objMinArea of the image, or the square would
// be most of the image anyway, the whole image is kept (ok false).
const (
	objScan        = 256
	objBorder      = 0.04
	objMinContrast = 24
	objKeep        = 0.1
	objMinArea     = 0.002
	// ObjectMargin is the margin around the part's box, a fraction of the
	// box's long side on each side.
	ObjectMargin = 0.08
	// objMinSide is the smallest crop side, a fraction of the image's
	// short side (a tiny part is not magnified beyond 4x).
	objMinSide = 0.25
)

// ObjectBox returns the square crop of m around its foreground object (see
// the object crop above), and whether one was found; without one it returns
// the whole image's rectangle. keep in (0, 1] is the fraction of the
// crop's side the later centre crop keeps (Crop/Resize; 1 = none).
func ObjectBox(m *RGB, keep float64) (image.Rectangle, bool) {
	return objectBox(toPlane(m), keep)
}

// objectKeep is the fraction of the resized image's side the centre crop
// of o keeps, for ObjectBox.
func (o Options) objectKeep() float64 {
	if o.Resize <= 0 || o.Crop <= 0 || o.Crop >= o.Resize {
		return 1
	}
	return float64(o.Crop) / float64(o.Resize)
}

// CropRGB returns the pixels of m inside r (clipped to m).
func CropRGB(m *RGB, r image.Rectangle) *RGB {
	p := plane{m.W, m.H, 3, m.Pix}.sub(r)
	return &RGB{W: p.w, H: p.h, Pix: p.pix}
}

// sub copies the pixels of p inside r (clipped to p).
func (p plane) sub(r image.Rectangle) plane {
	r = r.Intersect(image.Rect(0, 0, p.w, p.h))
	if r == image.Rect(0, 0, p.w, p.h) {
		return p
	}
	w, h := r.Dx(), r.Dy()
	out := plane{w, h, p.ch, make([]uint8, p.ch*w*h)}
	for y := 0; y < h; y++ {
		src := p.ch * ((r.Min.Y+y)*p.w + r.Min.X)
		copy(out.pix[p.ch*y*w:p.ch*(y+1)*w], p.pix[src:src+p.ch*w])
	}
	return out
}

// objectBox is ObjectBox on a plane.
func objectBox(p plane, keep float64) (image.Rectangle, bool) {
	whole := image.Rect(0, 0, p.w, p.h)
	fg, ok := findObject(p)
	if !ok {
		return whole, false
	}
	var box image.Rectangle
	for i, on := range fg.mask {
		if on {
			x, y := i%fg.w, i/fg.w
			box = box.Union(image.Rect(x, y, x+1, y+1))
		}
	}
	// Back to full resolution (the last block may be partial).
	f := fg.f
	box = image.Rect(box.Min.X*f, box.Min.Y*f, min(p.w, box.Max.X*f), min(p.h, box.Max.Y*f))
	return squareAround(box, p.w, p.h, keep)
}

// foreground is the part found in an image, on the scan grid: block f x f
// of the image is cell (x, y) of the w x h mask.
type foreground struct {
	w, h, f int
	mask    []bool
	bg      [3]float64 // background colour per channel
}

// findObject finds the foreground of p (steps 1-4 of the object crop
// without the box); ok is false when there is none.
func findObject(p plane) (foreground, bool) {
	if p.w < 8 || p.h < 8 {
		return foreground{}, false
	}
	f := (max(p.w, p.h) + objScan - 1) / objScan
	small := boxDown(p, f)
	sw, sh := small.w, small.h
	band := max(1, int(objBorder*float64(min(sw, sh))+0.5))
	inBand := func(x, y int) bool { return x < band || y < band || x >= sw-band || y >= sh-band }

	// Background colour: per-channel median of the band.
	var bg [3]float64
	vals := make([]float64, 0, 4*band*(sw+sh))
	for c := 0; c < small.ch; c++ {
		vals = vals[:0]
		for y := 0; y < sh; y++ {
			for x := 0; x < sw; x++ {
				if inBand(x, y) {
					vals = append(vals, small.pix[small.ch*(y*sw+x)+c])
				}
			}
		}
		bg[c] = median(vals)
	}
	// Contrast to the background, smoothed 3x3.
	raw := make([]float64, sw*sh)
	for i := range raw {
		d := 0.0
		for c := 0; c < small.ch; c++ {
			v := small.pix[small.ch*i+c] - bg[c]
			if v < 0 {
				v = -v
			}
			d = max(d, v)
		}
		raw[i] = d
	}
	con := make([]float64, sw*sh)
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			s, n := 0.0, 0
			for yy := max(0, y-1); yy <= min(sh-1, y+1); yy++ {
				for xx := max(0, x-1); xx <= min(sw-1, x+1); xx++ {
					s += raw[yy*sw+xx]
					n++
				}
			}
			con[y*sw+x] = s / float64(n)
		}
	}
	vals = vals[:0]
	for y := 0; y < sh; y++ {
		for x := 0; x < sw; x++ {
			if inBand(x, y) {
				vals = append(vals, con[y*sw+x])
			}
		}
	}
	med := median(vals)
	for i, v := range vals {
		vals[i] = max(v-med, med-v)
	}
	thr := max(objMinContrast, med+5*1.4826*median(vals))

	// Components of the foreground; keep those >= objKeep of the largest.
	label := make([]int32, sw*sh)
	type comp struct {
		area int
	}
	var comps []comp
	var stack []int
	for i := range con {
		if label[i] != 0 || !(con[i] > thr) {
			continue
		}
		id := int32(len(comps) + 1)
		var c comp
		label[i] = id
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := j%sw, j/sw
			c.area++
			for yy := max(0, y-1); yy <= min(sh-1, y+1); yy++ {
				for xx := max(0, x-1); xx <= min(sw-1, x+1); xx++ {
					k := yy*sw + xx
					if label[k] == 0 && con[k] > thr {
						label[k] = id
						stack = append(stack, k)
					}
				}
			}
		}
		comps = append(comps, c)
	}
	largest := 0
	for _, c := range comps {
		largest = max(largest, c.area)
	}
	if largest == 0 || float64(largest) < objMinArea*float64(sw*sh) {
		return foreground{}, false
	}
	fg := foreground{w: sw, h: sh, f: f, mask: make([]bool, sw*sh), bg: bg}
	for i, id := range label {
		if id > 0 && float64(comps[id-1].area) >= objKeep*float64(largest) {
			fg.mask[i] = true
		}
	}
	return fg, true
}

// squareAround grows box by ObjectMargin, squares it around its centre,
// divides its side by keep (at least objMinSide of the short side, at most
// the short side) and shifts it inside the w x h image. ok is false when
// the square is at least 95% of a square image's side (the crop would
// change next to nothing: the whole image is returned).
func squareAround(box image.Rectangle, w, h int, keep float64) (image.Rectangle, bool) {
	if !(keep > 0 && keep <= 1) {
		keep = 1
	}
	short := min(w, h)
	long := max(box.Dx(), box.Dy())
	side := int(float64(long)*(1+2*ObjectMargin)/keep + 0.5)
	side = max(side, int(objMinSide*float64(short)+0.5))
	if float64(side) >= 0.95*float64(short) {
		if w == h {
			return image.Rect(0, 0, w, h), false
		}
		side = short
	}
	cx, cy := (box.Min.X+box.Max.X)/2, (box.Min.Y+box.Max.Y)/2
	x0 := min(max(cx-side/2, 0), w-side)
	y0 := min(max(cy-side/2, 0), h-side)
	return image.Rect(x0, y0, x0+side, y0+side), true
}

// boxDown averages f x f blocks of p (partial blocks at the right and
// bottom edges average what they have) into float values.
type fplane struct {
	w, h, ch int
	pix      []float64
}

func boxDown(p plane, f int) fplane {
	w, h := (p.w+f-1)/f, (p.h+f-1)/f
	out := fplane{w, h, p.ch, make([]float64, p.ch*w*h)}
	cnt := make([]float64, w*h)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			j := (y/f)*w + x/f
			cnt[j]++
			for c := 0; c < p.ch; c++ {
				out.pix[p.ch*j+c] += float64(p.pix[p.ch*(y*p.w+x)+c])
			}
		}
	}
	for j, n := range cnt {
		for c := 0; c < p.ch; c++ {
			out.pix[p.ch*j+c] /= n
		}
	}
	return out
}

// median of v (reordered); 0 for an empty slice.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// PartArea returns the area of m's foreground part (the object crop's
// components) as a fraction of the image, and whether one was found.
func PartArea(m *RGB) (float64, bool) {
	fg, ok := findObject(toPlane(m))
	if !ok {
		return 0, false
	}
	n := 0
	for _, on := range fg.mask {
		if on {
			n++
		}
	}
	return float64(n) / float64(len(fg.mask)), true
}
