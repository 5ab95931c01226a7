package synth

import (
	"math"
	"math/rand/v2"
)

// canvas is a size x size linear-RGB image in [0, 1] (interleaved, row-major)
// with a defect-coverage mask in [0, 1].
type canvas struct {
	n    int
	pix  []float32 // 3*n*n
	mask []float32 // n*n
}

func newCanvas(n int) *canvas {
	return &canvas{n: n, pix: make([]float32, 3*n*n), mask: make([]float32, n*n)}
}

// blend paints colour col over pixel i with opacity a and records a as
// defect coverage.
func (c *canvas) blend(i int, col [3]float32, a float32) {
	if a <= 0 {
		return
	}
	a = min(a, 1)
	p := c.pix[3*i : 3*i+3 : 3*i+3]
	for k := range 3 {
		p[k] += (col[k] - p[k]) * a
	}
	c.mask[i] = max(c.mask[i], a)
}

// uniform returns a float in [lo, hi).
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// valueNoise is smooth lattice noise: random values on a grid of cell
// pixels, interpolated with a smoothstep. Each image draws its own lattice,
// so textures differ from image to image.
type valueNoise struct {
	cells, stride int
	cell          float64
	v             []float32
}

func newValueNoise(r *rand.Rand, size int, cell float64) *valueNoise {
	cells := int(float64(size)/cell) + 3
	v := make([]float32, cells*cells)
	for i := range v {
		v[i] = float32(r.Float64())
	}
	return &valueNoise{cells: cells, stride: cells, cell: cell, v: v}
}

// at samples the noise at pixel coordinates (x, y) >= 0, in [0, 1].
func (q *valueNoise) at(x, y float64) float32 {
	fx, fy := x/q.cell, y/q.cell
	ix, iy := int(fx), int(fy)
	tx, ty := float32(fx-float64(ix)), float32(fy-float64(iy))
	ix, iy = ix%(q.cells-1), iy%(q.cells-1)
	tx, ty = tx*tx*(3-2*tx), ty*ty*(3-2*ty)
	v00, v10 := q.v[iy*q.stride+ix], q.v[iy*q.stride+ix+1]
	v01, v11 := q.v[(iy+1)*q.stride+ix], q.v[(iy+1)*q.stride+ix+1]
	a := v00 + (v10-v00)*tx
	b := v01 + (v11-v01)*tx
	return a + (b-a)*ty
}

// fbm is a sum of value-noise octaves (cell sizes halving, amplitudes
// halving), normalised to [0, 1].
type fbm []*valueNoise

func newFBM(r *rand.Rand, size int, cell float64, octaves int) fbm {
	f := make(fbm, octaves)
	for o := range f {
		f[o] = newValueNoise(r, size, cell/float64(int(1)<<o))
	}
	return f
}

func (f fbm) at(x, y float64) float32 {
	var s, norm float32
	amp := float32(1)
	for _, q := range f {
		s += amp * q.at(x, y)
		norm += amp
		amp /= 2
	}
	return s / norm
}

// addNoise adds Gaussian sensor noise of standard deviation sigma.
func (c *canvas) addNoise(r *rand.Rand, sigma float64) {
	for i := range c.pix {
		c.pix[i] += float32(r.NormFloat64() * sigma)
	}
}

// vec is a point in pixel coordinates.
type vec struct{ x, y float64 }

// stroke paints a polyline of the given width (pixels) with anti-aliased
// edges: coverage is 1 within width/2 of the line, falling to 0 over one
// pixel. Joints are not painted twice (coverage is the maximum over segments).
func (c *canvas) stroke(pts []vec, width float64, col [3]float32, alpha float32) {
	cov := make([]float32, c.n*c.n)
	h := width/2 + 1
	for s := 0; s+1 < len(pts); s++ {
		a, b := pts[s], pts[s+1]
		x0, x1 := int(math.Floor(min(a.x, b.x)-h)), int(math.Ceil(max(a.x, b.x)+h))
		y0, y1 := int(math.Floor(min(a.y, b.y)-h)), int(math.Ceil(max(a.y, b.y)+h))
		dx, dy := b.x-a.x, b.y-a.y
		l2 := dx*dx + dy*dy
		for y := max(y0, 0); y <= min(y1, c.n-1); y++ {
			for x := max(x0, 0); x <= min(x1, c.n-1); x++ {
				px, py := float64(x)+0.5-a.x, float64(y)+0.5-a.y
				t := 0.0
				if l2 > 0 {
					t = math.Max(0, math.Min(1, (px*dx+py*dy)/l2))
				}
				ex, ey := px-t*dx, py-t*dy
				d := math.Sqrt(ex*ex + ey*ey)
				v := float32(math.Max(0, math.Min(1, width/2+0.5-d)))
				i := y*c.n + x
				if v > cov[i] {
					cov[i] = v
				}
			}
		}
	}
	for i, v := range cov {
		if v > 0 {
			c.blend(i, col, v*alpha)
		}
	}
}

// blob paints an irregular filled ellipse centred at p with radii rx, ry,
// rotated by theta; the boundary wobbles with a few random harmonics. The
// opacity falls off smoothly over soft pixels at the edge.
func (c *canvas) blob(r *rand.Rand, p vec, rx, ry, theta, soft float64, col [3]float32, alpha float32) {
	var amp, phase [3]float64
	for k := range amp {
		amp[k] = uniform(r, 0, 0.12)
		phase[k] = uniform(r, 0, 2*math.Pi)
	}
	cs, sn := math.Cos(theta), math.Sin(theta)
	rr := math.Max(rx, ry)*1.4 + soft + 1
	for y := max(int(p.y-rr), 0); y <= min(int(p.y+rr), c.n-1); y++ {
		for x := max(int(p.x-rr), 0); x <= min(int(p.x+rr), c.n-1); x++ {
			dx, dy := float64(x)+0.5-p.x, float64(y)+0.5-p.y
			u, v := dx*cs+dy*sn, -dx*sn+dy*cs
			ang := math.Atan2(v, u)
			wob := 1.0
			for k := range amp {
				wob += amp[k] * math.Sin(float64(k+2)*ang+phase[k])
			}
			// Distance outside the wobbly ellipse, in pixels (approximate).
			e := math.Sqrt((u*u)/(rx*rx)+(v*v)/(ry*ry)) / wob
			d := (e - 1) * math.Min(rx, ry)
			a := math.Max(0, math.Min(1, 0.5-d/soft))
			c.blend(y*c.n+x, col, float32(a)*alpha)
		}
	}
}
