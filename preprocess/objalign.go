package preprocess

import "math"

// Object alignment: the object crop of an elongated part (a screw) after
// turning it to one canonical pose, so that every image shows the part
// the same way round and the backbone's patches of normal parts look
// alike across images:
//
//   - the part's foreground (findObject) gives its centroid and principal
//     axis (second moments);
//   - a compact part (axes' spreads within objElongation: a nut) is turned
//     instead by its strongest rotational harmonic (order 3..8: a 4-lug
//     nut's pose is fixed modulo 90°); one without (a disc) gets the plain
//     object crop;
//   - the image is turned so that the axis is horizontal, the end with the
//     longer tail of the foreground's distribution along it (third moment
//     > 0; e.g. a screw's tip, the head being the heavier end) to the
//     right: a rotation, never a mirror image;
//   - the square around the turned part's extent, with ObjectMargin and the
//     centre crop's keep as in ObjectBox, is sampled bilinearly from the
//     original pixels; what falls outside the image is the background colour.
const (
	objElongation = 2.0
	// objMaxOrder and objHarmonic: a compact part is turned by its
	// strongest rotational harmonic of order 3..objMaxOrder when that
	// harmonic's magnitude (radius-weighted, over the radius sum) is at
	// least objHarmonic.
	objMaxOrder = 8
	objHarmonic = 0.02
)

// alignObject is the object alignment of p; ok is false when no part was
// found (p is returned unchanged).
func alignObject(p plane, keep float64) (plane, bool) {
	fg, ok := findObject(p)
	if !ok {
		return p, false
	}
	if !(keep > 0 && keep <= 1) {
		keep = 1
	}
	// Foreground cells' centres in image pixels.
	var xs, ys []float64
	f := float64(fg.f)
	for i, on := range fg.mask {
		if on {
			xs = append(xs, (float64(i%fg.w)+0.5)*f)
			ys = append(ys, (float64(i/fg.w)+0.5)*f)
		}
	}
	n := float64(len(xs))
	var cx, cy float64
	for i := range xs {
		cx += xs[i]
		cy += ys[i]
	}
	cx, cy = cx/n, cy/n
	var sxx, syy, sxy float64
	for i := range xs {
		dx, dy := xs[i]-cx, ys[i]-cy
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	sxx, syy, sxy = sxx/n, syy/n, sxy/n
	// Eigenvalues of the covariance.
	mid, rad := (sxx+syy)/2, math.Hypot((sxx-syy)/2, sxy)
	l1, l2 := mid+rad, mid-rad
	var ux, uy float64
	if l1 >= objElongation*l2 {
		theta := 0.5 * math.Atan2(2*sxy, sxx-syy)
		ux, uy = math.Cos(theta), math.Sin(theta)
		var m3 float64
		for i := range xs {
			t := (xs[i]-cx)*ux + (ys[i]-cy)*uy
			m3 += t * t * t
		}
		if m3 < 0 {
			ux, uy = -ux, -uy
		}
	} else {
		// A compact part: its strongest rotational harmonic of order
		// 3..objMaxOrder (the mass around the centroid, weighted by the
		// radius) fixes its pose modulo 2π/m; none strong enough (a
		// disc): the plain object crop.
		best, phase, order := 0.0, 0.0, 0
		for m := 3; m <= objMaxOrder; m++ {
			var re, im, sr float64
			for i := range xs {
				dx, dy := xs[i]-cx, ys[i]-cy
				r, a := math.Hypot(dx, dy), math.Atan2(dy, dx)
				re += r * math.Cos(float64(m)*a)
				im += r * math.Sin(float64(m)*a)
				sr += r
			}
			if h := math.Hypot(re, im) / sr; h > best {
				best, phase, order = h, math.Atan2(im, re), m
			}
		}
		if !(best >= objHarmonic) {
			r, _ := objectBox(p, keep)
			return p.sub(r), true
		}
		phi := phase / float64(order)
		ux, uy = math.Cos(phi), math.Sin(phi)
	}
	vx, vy := -uy, ux // u turned by +90°: a rotation of the frame
	tmin, tmax, smin, smax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for i := range xs {
		dx, dy := xs[i]-cx, ys[i]-cy
		t, s := dx*ux+dy*uy, dx*vx+dy*vy
		tmin, tmax = min(tmin, t-f/2), max(tmax, t+f/2)
		smin, smax = min(smin, s-f/2), max(smax, s+f/2)
	}
	side := max(tmax-tmin, smax-smin) * (1 + 2*ObjectMargin) / keep
	side = min(side, 2*float64(max(p.w, p.h)))
	L := max(8, int(side+0.5))
	// Centre of the extent, in image pixels.
	tc, sc := (tmin+tmax)/2, (smin+smax)/2
	ox, oy := cx+tc*ux+sc*vx, cy+tc*uy+sc*vy
	out := plane{L, L, p.ch, make([]uint8, p.ch*L*L)}
	var bg [3]uint8
	for c := 0; c < p.ch; c++ {
		bg[c] = uint8(math.Round(fg.bg[c]))
	}
	half := float64(L) / 2
	for Y := 0; Y < L; Y++ {
		dy := float64(Y) + 0.5 - half
		for X := 0; X < L; X++ {
			dx := float64(X) + 0.5 - half
			// Source position, pixel centres at integer + 0.5.
			sx := ox + dx*ux + dy*vx - 0.5
			sy := oy + dx*uy + dy*vy - 0.5
			o := p.ch * (Y*L + X)
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			if x0 < 0 || y0 < 0 || x0+1 >= p.w || y0+1 >= p.h {
				copy(out.pix[o:o+p.ch], bg[:p.ch])
				continue
			}
			ax, ay := sx-float64(x0), sy-float64(y0)
			i00 := p.ch * (y0*p.w + x0)
			i10, i01, i11 := i00+p.ch, i00+p.ch*p.w, i00+p.ch*p.w+p.ch
			for c := 0; c < p.ch; c++ {
				v := (1-ay)*((1-ax)*float64(p.pix[i00+c])+ax*float64(p.pix[i10+c])) +
					ay*((1-ax)*float64(p.pix[i01+c])+ax*float64(p.pix[i11+c]))
				out.pix[o+c] = uint8(min(255, max(0, math.Round(v))))
			}
		}
	}
	return out, true
}

// AlignObject returns m turned and cropped to its part's canonical pose
// (the object alignment above), and whether a part was found (else m
// itself). keep is as ObjectBox's.
func AlignObject(m *RGB, keep float64) (*RGB, bool) {
	p, ok := alignObject(plane{m.W, m.H, 3, m.Pix}, keep)
	if !ok {
		return m, false
	}
	return &RGB{W: p.w, H: p.h, Pix: p.pix}, true
}
