package preprocess

import (
	"fmt"
	"math"
)

// This file ports Pillow 9.4's antialiased resampling (libImaging/Resample.c,
// ImagingResample with the BILINEAR filter) for 8-bit images: a separable
// convolution whose triangle filter is widened by the downscale factor,
// horizontal pass first, each pass rounded to 8 bits with 22-bit fixed-point
// coefficients. Every step below mirrors a line of that file so that the
// output is bit-identical to PIL's Image.resize(size, Image.BILINEAR).

// precisionBits is Resample.c's PRECISION_BITS (32 - 8 - 2).
const precisionBits = 32 - 8 - 2

// bilinearFilter is Resample.c's bilinear_filter (support 1).
func bilinearFilter(x float64) float64 {
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return 1 - x
	}
	return 0
}

// coeffs are the fixed-point filter taps of one pass: output sample i reads
// input samples start[i] .. start[i]+n[i]-1 with weights k[i*ksize : ...].
type coeffs struct {
	ksize int
	start []int
	n     []int
	k     []int32
}

// precomputeCoeffs mirrors precompute_coeffs followed by
// normalize_coeffs_8bpc for the box [0, inSize) mapped to outSize samples.
// Only the output samples in [lo, hi) are computed (the others are never
// read after a centre crop); sample i of the result is output sample lo+i.
func precomputeCoeffs(inSize, outSize, lo, hi int) coeffs {
	// filterscale = scale = (double)(in1 - in0) / outSize
	scale := float64(inSize) / float64(outSize)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := 1.0 * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, start: make([]int, hi-lo), n: make([]int, hi-lo), k: make([]int32, (hi-lo)*ksize)}
	w := make([]float64, ksize)
	for xx := lo; xx < hi; xx++ {
		// The explicit float64 conversions keep Go from fusing a*b+c into an
		// FMA, which would change the last bit relative to Pillow's C.
		center := 0 + float64((float64(xx)+0.5)*scale)
		ww := 0.0
		ss := 1.0 / filterscale
		xmin := int(center - support + 0.5) // C's (int) truncates toward zero, as Go does
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > inSize {
			xmax = inSize
		}
		xmax -= xmin
		for x := 0; x < xmax; x++ {
			v := bilinearFilter((float64(x+xmin) - center + 0.5) * ss)
			w[x] = v
			ww += v
		}
		kk := c.k[(xx-lo)*ksize : (xx-lo+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if ww != 0 {
				v /= ww
			}
			// normalize_coeffs_8bpc
			if v < 0 {
				kk[x] = int32(-0.5 + float64(v*(1<<precisionBits)))
			} else {
				kk[x] = int32(0.5 + float64(v*(1<<precisionBits)))
			}
		}
		c.start[xx-lo] = xmin
		c.n[xx-lo] = xmax
	}
	return c
}

// clip8 mirrors Resample.c's clip8: drop the fraction, clamp to 0..255.
func clip8(v int32) uint8 {
	v >>= precisionBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// plane is an 8-bit image with ch interleaved channels (1 or 3), the
// working buffer of the passes: a greyscale image is resampled as one
// channel and replicated afterwards, which gives the same bytes as
// resampling its three equal channels (the channels are independent).
type plane struct {
	w, h, ch int
	pix      []uint8
}

// resampleHorizontal mirrors ImagingResampleHorizontal_8bpc: rows
// y0 .. y0+dst.h-1 of src are filtered into dst.
func resampleHorizontal(dst, src plane, y0 int, c coeffs) {
	const half = 1 << (precisionBits - 1)
	for y := 0; y < dst.h; y++ {
		in := src.pix[src.ch*(y+y0)*src.w : src.ch*(y+y0+1)*src.w]
		out := dst.pix[dst.ch*y*dst.w : dst.ch*(y+1)*dst.w]
		if src.ch == 1 {
			for xx := range out {
				k := c.k[xx*c.ksize : xx*c.ksize+c.n[xx]]
				p := in[c.start[xx] : c.start[xx]+len(k)]
				s0 := int32(half)
				for x, kx := range k {
					s0 += int32(p[x]) * kx
				}
				out[xx] = clip8(s0)
			}
			continue
		}
		for xx := 0; xx < dst.w; xx++ {
			k := c.k[xx*c.ksize : xx*c.ksize+c.n[xx]]
			p := in[3*c.start[xx] : 3*(c.start[xx]+len(k))]
			s0, s1, s2 := int32(half), int32(half), int32(half)
			for x, kx := range k {
				q := p[3*x : 3*x+3 : 3*x+3]
				s0 += int32(q[0]) * kx
				s1 += int32(q[1]) * kx
				s2 += int32(q[2]) * kx
			}
			o := out[3*xx : 3*xx+3 : 3*xx+3]
			o[0], o[1], o[2] = clip8(s0), clip8(s1), clip8(s2)
		}
	}
}

// resampleVertical mirrors ImagingResampleVertical_8bpc: output row yy
// reads rows c.start[yy]-y0 ... of src (src's row 0 is input row y0).
func resampleVertical(dst, src plane, y0 int, c coeffs) {
	const half = 1 << (precisionBits - 1)
	stride := src.ch * src.w
	acc := make([]int32, stride)
	for yy := 0; yy < dst.h; yy++ {
		k := c.k[yy*c.ksize : yy*c.ksize+c.n[yy]]
		for i := range acc {
			acc[i] = half
		}
		// Row-at-a-time accumulation: the same integer sums as Pillow's
		// per-pixel loop (integer addition is exact and associative), with
		// contiguous memory access.
		for y, ky := range k {
			r := c.start[yy] - y0 + y
			row := src.pix[r*stride : (r+1)*stride]
			row = row[:len(acc)]
			for i, v := range row {
				acc[i] += int32(v) * ky
			}
		}
		out := dst.pix[yy*stride : (yy+1)*stride]
		out = out[:len(acc)]
		for i, v := range acc {
			out[i] = clip8(v)
		}
	}
}

// Resize resamples src to w x h like PIL's Image.resize((w, h),
// Image.BILINEAR) on an RGB image (bit-exact).
func Resize(src *RGB, w, h int) *RGB {
	return resizePlane(toPlane(src), w, h, 0, 0, w, h).rgb()
}

// toPlane views src as a plane: one channel if it is grey (R = G = B
// everywhere), which makes the resize three times cheaper.
func toPlane(src *RGB) plane {
	if !isGrey(src) {
		return plane{src.W, src.H, 3, src.Pix}
	}
	p := plane{src.W, src.H, 1, make([]uint8, src.W*src.H)}
	for i := range p.pix {
		p.pix[i] = src.Pix[3*i]
	}
	return p
}

// rgb returns p as an RGB image, replicating a single channel.
func (p plane) rgb() *RGB {
	if p.ch == 3 {
		return &RGB{W: p.w, H: p.h, Pix: p.pix}
	}
	out := NewRGB(p.w, p.h)
	for i, v := range p.pix {
		out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
	}
	return out
}

// isGrey reports whether every pixel has R == G == B; it stops at the first
// colour pixel, so colour images cost almost nothing.
func isGrey(m *RGB) bool {
	p := m.Pix
	for i := 0; i+2 < len(p); i += 3 {
		if p[i] != p[i+1] || p[i] != p[i+2] {
			return false
		}
	}
	return true
}

// resizePlane is resizeWindow on a plane: Pillow's ImagingResampleInner
// (horizontal pass first, on only the rows the vertical pass reads; passes
// skipped when that dimension keeps its size).
func resizePlane(src plane, w, h, x0, y0, cw, ch int) plane {
	needH := w != src.w
	needV := h != src.h
	cur, curY0 := src, 0
	var vc coeffs
	if needV {
		vc = precomputeCoeffs(src.h, h, y0, y0+ch)
	}
	if needH {
		hc := precomputeCoeffs(src.w, w, x0, x0+cw)
		// Only the input rows the vertical pass reads (Pillow's ybox_first,
		// ybox_last), or the cropped rows if there is no vertical pass.
		first, last := y0, y0+ch
		if needV {
			first, last = vc.start[0], vc.start[ch-1]+vc.n[ch-1]
		}
		tmp := plane{cw, last - first, src.ch, make([]uint8, src.ch*cw*(last-first))}
		resampleHorizontal(tmp, src, first, hc)
		cur, curY0 = tmp, first
	} else if x0 != 0 || cw != src.w {
		cur = plane{cw, src.h, src.ch, make([]uint8, src.ch*cw*src.h)}
		for y := 0; y < src.h; y++ {
			copy(cur.pix[src.ch*y*cw:src.ch*(y+1)*cw], src.pix[src.ch*(y*src.w+x0):])
		}
	}
	out := plane{cur.w, ch, cur.ch, make([]uint8, cur.ch*cur.w*ch)}
	if needV {
		resampleVertical(out, cur, curY0, vc)
		return out
	}
	// No vertical pass: rows y0 .. y0+ch of the input (cur starts at curY0).
	s := cur.ch * cur.w
	copy(out.pix, cur.pix[(y0-curY0)*s:(y0-curY0+ch)*s])
	return out
}

// ResizedSize is torchvision 0.14's Resize(size) output rule for an int size
// (transforms.functional._compute_resized_output_size): the short side
// becomes size, the long side int(size * long / short), truncated.
func ResizedSize(w, h, size int) (nw, nh int) {
	short, long := h, w
	if w <= h {
		short, long = w, h
	}
	newLong := int(float64(size*long) / float64(short))
	if w <= h {
		return size, newLong
	}
	return newLong, size
}

// CropOrigin is torchvision 0.14's centre_crop offset along one axis:
// int(round((size - crop) / 2.0)) with Python's round-half-to-even.
func CropOrigin(size, crop int) int {
	return int(math.RoundToEven(float64(size-crop) / 2))
}

// CenterCrop mirrors torchvision 0.14's center_crop on a PIL image: a
// crop x crop window at CropOrigin; an image smaller than the crop is first
// zero-padded, (crop-size)/2 before and the rest after.
func CenterCrop(src *RGB, crop int) *RGB {
	out := NewRGB(crop, crop)
	// Offsets of the window in src coordinates; negative means padding.
	x0, y0 := cropOffset(src.W, crop), cropOffset(src.H, crop)
	for y := 0; y < crop; y++ {
		sy := y + y0
		if sy < 0 || sy >= src.H {
			continue
		}
		for x := 0; x < crop; x++ {
			sx := x + x0
			if sx < 0 || sx >= src.W {
				continue
			}
			copy(out.Pix[3*(y*crop+x):3*(y*crop+x)+3], src.Pix[3*(sy*src.W+sx):])
		}
	}
	return out
}

// cropOffset is the window origin of a centre crop in source coordinates,
// negative when torchvision pads: pad left by (crop-size)//2 first.
func cropOffset(size, crop int) int {
	if crop > size {
		return -((crop - size) / 2)
	}
	return CropOrigin(size, crop)
}

// ResizeCrop is torchvision's Resize(resize) followed by CenterCrop(crop) on
// a PIL RGB image, bit-exact, computing only the pixels the crop keeps.
func ResizeCrop(src *RGB, resize, crop int) (*RGB, error) {
	return resizeCropPlane(toPlane(src), resize, crop)
}

func resizeCropPlane(src plane, resize, crop int) (*RGB, error) {
	if src.w < 1 || src.h < 1 {
		return nil, fmt.Errorf("resize: empty %dx%d image", src.w, src.h)
	}
	if resize < 1 || crop < 1 {
		return nil, fmt.Errorf("resize %d, crop %d: both must be positive", resize, crop)
	}
	w, h := ResizedSize(src.w, src.h, resize)
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("resize %dx%d to short side %d: long side rounds to %dx%d", src.w, src.h, resize, w, h)
	}
	if crop > w || crop > h {
		return CenterCrop(resizePlane(src, w, h, 0, 0, w, h).rgb(), crop), nil
	}
	return resizePlane(src, w, h, CropOrigin(w, crop), CropOrigin(h, crop), crop, crop).rgb(), nil
}
