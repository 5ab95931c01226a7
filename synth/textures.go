package synth

import (
	"math"
	"math/rand/v2"
)

// A kind is one synthetic category: how its defect-free images look, where
// defects may go and which defect types it has.
type kind struct {
	name    string
	defects []string
	// background paints a defect-free image and returns the region defects
	// are placed in (centre and radius, pixels).
	background func(c *canvas, r *rand.Rand) (centre vec, radius float64)
}

// kinds are the categories in the order --categories takes them.
func kinds() []kind {
	return []kind{
		{name: "weave", defects: []string{"contamination", "hole", "scratch"}, background: weave},
		{name: "wood", defects: []string{"contamination", "crack", "hole"}, background: wood},
		{name: "disc", defects: []string{"crack", "hole", "scratch"}, background: disc},
	}
}

// weave is a woven fabric: over-under threads in two directions, with a
// random period, rotation, shift, tint and brightness per image.
func weave(c *canvas, r *rand.Rand) (vec, float64) {
	n := float64(c.n)
	period := n / uniform(r, 14, 20)
	theta := uniform(r, -0.25, 0.25)
	ox, oy := uniform(r, 0, period*2), uniform(r, 0, period*2)
	bright := float32(uniform(r, 0.85, 1.15))
	base := [3]float32{0.62, 0.58, 0.50}
	for k := range base {
		base[k] *= bright * float32(uniform(r, 0.92, 1.08))
	}
	fuzz := newValueNoise(r, c.n, period/3)
	cs, sn := math.Cos(theta), math.Sin(theta)
	for y := 0; y < c.n; y++ {
		for x := 0; x < c.n; x++ {
			u := (float64(x)*cs+float64(y)*sn)/period + ox
			v := (-float64(x)*sn+float64(y)*cs)/period + oy
			// Which thread is on top alternates cell by cell.
			top := (int(math.Floor(u))+int(math.Floor(v)))&1 == 0
			var t float64
			if top {
				t = math.Sin(math.Pi * (v - math.Floor(v)))
			} else {
				t = math.Sin(math.Pi * (u - math.Floor(u)))
			}
			shade := float32(0.55+0.45*t) * (0.9 + 0.2*fuzz.at(float64(x), float64(y)))
			i := 3 * (y*c.n + x)
			for k := range 3 {
				c.pix[i+k] = base[k] * shade
			}
		}
	}
	c.addNoise(r, 0.015)
	return vec{n / 2, n / 2}, n * 0.36
}

// wood is a wood-grain texture: distorted stripes along a random
// direction, from fractal value noise, with random tint and brightness.
func wood(c *canvas, r *rand.Rand) (vec, float64) {
	n := float64(c.n)
	noise := newFBM(r, c.n*4, n/3, 4)
	theta := uniform(r, -0.3, 0.3)
	period := n / uniform(r, 9, 14)
	bright := float32(uniform(r, 0.85, 1.15))
	base := [3]float32{0.66, 0.45, 0.28}
	for k := range base {
		base[k] *= bright * float32(uniform(r, 0.92, 1.08))
	}
	off := uniform(r, 0, n)
	cs, sn := math.Cos(theta), math.Sin(theta)
	for y := 0; y < c.n; y++ {
		for x := 0; x < c.n; x++ {
			u := float64(x)*cs + float64(y)*sn + n
			v := -float64(x)*sn + float64(y)*cs + n
			// Stretched along the grain (u) so the noise bends the stripes.
			d := float64(noise.at(u/4+off, v))
			t := 0.5 + 0.5*math.Sin(2*math.Pi*(v/period+2.5*d))
			shade := float32(0.7 + 0.3*t*t)
			i := 3 * (y*c.n + x)
			for k := range 3 {
				c.pix[i+k] = base[k] * shade
			}
		}
	}
	c.addNoise(r, 0.02)
	return vec{n / 2, n / 2}, n * 0.36
}

// disc is an object: a turned metal disc with a centre hole and a notch on
// its rim, on a dark background; position, size, rotation (the notch) and
// lighting change per image.
func disc(c *canvas, r *rand.Rand) (vec, float64) {
	n := float64(c.n)
	ctr := vec{n/2 + uniform(r, -0.05, 0.05)*n, n/2 + uniform(r, -0.05, 0.05)*n}
	rad := n * uniform(r, 0.34, 0.38)
	notch := uniform(r, 0, 2*math.Pi)
	light := uniform(r, 0, 2*math.Pi)
	bright := uniform(r, 0.85, 1.15)
	ringPhase := uniform(r, 0, 2*math.Pi)
	bg := [3]float32{0.13, 0.14, 0.17}
	for y := 0; y < c.n; y++ {
		for x := 0; x < c.n; x++ {
			dx, dy := float64(x)+0.5-ctr.x, float64(y)+0.5-ctr.y
			d := math.Hypot(dx, dy)
			ang := math.Atan2(dy, dx)
			metal := bright * (0.55 + 0.06*math.Cos(d/rad*math.Pi*14+ringPhase) + 0.12*math.Cos(ang-light) + 0.1*(1-d/rad))
			// Coverage of the disc minus the centre hole and the notch.
			a := math.Max(0, math.Min(1, rad-d+0.5)) * math.Max(0, math.Min(1, d-0.12*rad+0.5))
			da := math.Remainder(ang-notch, 2*math.Pi)
			if math.Abs(da)*d < 0.04*rad && d > 0.86*rad {
				a = 0
			}
			i := 3 * (y*c.n + x)
			for k := range 3 {
				tint := []float64{1.0, 1.0, 1.04}[k]
				c.pix[i+k] = bg[k] + float32(a)*(float32(metal*tint)-bg[k])
			}
		}
	}
	c.addNoise(r, 0.015)
	return ctr, rad * 0.75
}

// defect paints one defect of the named type somewhere inside the disc
// (centre, radius); every type differs from the others in brightness,
// colour, shape and scale, so that a pretrained CNN can tell them apart.
func defect(c *canvas, r *rand.Rand, typ string, centre vec, radius float64) {
	n := float64(c.n)
	// A random point of the placement region.
	at := func(frac float64) vec {
		a := uniform(r, 0, 2*math.Pi)
		d := radius * frac * math.Sqrt(r.Float64())
		return vec{centre.x + d*math.Cos(a), centre.y + d*math.Sin(a)}
	}
	switch typ {
	case "scratch": // a long, thin, bright, gently curved line
		p := at(0.5)
		a := uniform(r, 0, math.Pi)
		l := n * uniform(r, 0.25, 0.4)
		bend := uniform(r, -0.15, 0.15) * l
		var pts []vec
		for k := 0; k <= 16; k++ {
			t := float64(k)/16 - 0.5
			off := bend * (1 - 4*t*t)
			pts = append(pts, vec{p.x + t*l*math.Cos(a) - off*math.Sin(a), p.y + t*l*math.Sin(a) + off*math.Cos(a)})
		}
		c.stroke(pts, uniform(r, 1.2, 2.2)*n/256, [3]float32{0.97, 0.97, 0.95}, 0.95)
	case "hole": // a compact, round, very dark blob with a lighter rim
		p := at(0.8)
		rr := n * uniform(r, 0.035, 0.06)
		c.blob(r, p, rr*1.25, rr*uniform(r, 1.1, 1.3), uniform(r, 0, math.Pi), 1.5, [3]float32{0.55, 0.5, 0.45}, 0.5)
		c.blob(r, p, rr, rr*uniform(r, 0.85, 1.0), uniform(r, 0, math.Pi), 1.5, [3]float32{0.03, 0.03, 0.03}, 1)
	case "crack": // a jagged, thin, dark polyline with a side branch
		p := at(0.6)
		a := uniform(r, 0, 2*math.Pi)
		step := n * uniform(r, 0.025, 0.04)
		pts := []vec{p}
		for k := 0; k < 10+r.IntN(5); k++ {
			a += uniform(r, -0.9, 0.9)
			p = vec{p.x + step*math.Cos(a), p.y + step*math.Sin(a)}
			pts = append(pts, p)
		}
		w := uniform(r, 1.5, 2.5) * n / 256
		dark := [3]float32{0.06, 0.05, 0.05}
		c.stroke(pts, w, dark, 0.95)
		q := pts[len(pts)/2]
		b := a + uniform(r, 1, 2)
		branch := []vec{q}
		for k := 0; k < 4; k++ {
			b += uniform(r, -0.8, 0.8)
			q = vec{q.x + step*0.8*math.Cos(b), q.y + step*0.8*math.Sin(b)}
			branch = append(branch, q)
		}
		c.stroke(branch, w*0.7, dark, 0.9)
	case "contamination": // a large, soft, saturated coloured smear
		p := at(0.6)
		hues := [][3]float32{{0.85, 0.15, 0.1}, {0.15, 0.7, 0.2}, {0.15, 0.3, 0.9}}
		col := hues[r.IntN(len(hues))]
		a := uniform(r, 0, math.Pi)
		rr := n * uniform(r, 0.05, 0.08)
		for k := 0; k < 4; k++ {
			s := uniform(r, -1.2, 1.2) * rr
			q := vec{p.x + s*math.Cos(a), p.y + s*math.Sin(a)}
			c.blob(r, q, rr*uniform(r, 0.8, 1.3), rr*uniform(r, 0.4, 0.7), a+uniform(r, -0.3, 0.3), rr*0.5, col, float32(uniform(r, 0.6, 0.8)))
		}
	default:
		panic("synth: unknown defect type " + typ)
	}
}
