package preprocess

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"io"
	"os"

	// Registered decoders: the formats the datasets use.
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
)

// RGB is an 8-bit RGB image with packed pixels (R, G, B per pixel, row-major,
// no padding), the Go counterpart of a PIL image in mode "RGB".
type RGB struct {
	W, H int
	Pix  []uint8 // len 3*W*H
}

// NewRGB returns a black w x h image.
func NewRGB(w, h int) *RGB {
	return &RGB{W: w, H: h, Pix: make([]uint8, 3*w*h)}
}

// At returns the colour at (x, y); it is meant for tests and drawing, not hot loops.
func (m *RGB) At(x, y int) (r, g, b uint8) {
	i := 3 * (y*m.W + x)
	return m.Pix[i], m.Pix[i+1], m.Pix[i+2]
}

// Image returns a copy of m as an *image.RGBA (opaque), ready for drawing
// overlays with image/draw.
func (m *RGB) Image() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i, j := 0, 0; i < len(m.Pix); i, j = i+3, j+4 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2], out.Pix[j+3] = m.Pix[i], m.Pix[i+1], m.Pix[i+2], 0xff
	}
	return out
}

// Grey16 says how a 16-bit greyscale image becomes 8-bit RGB.
type Grey16 int

const (
	// Grey16HighByte keeps the high byte (v >> 8), which is what PIL does for
	// 16-bit RGB(A) PNGs and what a user of a 16-bit greyscale image expects.
	Grey16HighByte Grey16 = iota
	// Grey16ClipPIL mirrors PIL 9.4: a 16-bit greyscale PNG opens in mode
	// "I" and convert("RGB") clips each value to 0..255 (Convert.c i2rgb), so
	// anything above 255 turns white. Use it only to reproduce a PIL pipeline.
	Grey16ClipPIL
)

// DecodeFile decodes a PNG, JPEG or BMP file and converts it to 8-bit RGB as
// PIL's Image.open(path).convert("RGB") does (see ToRGB).
func DecodeFile(path string, g Grey16) (*RGB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	defer f.Close()
	m, err := Decode(bufio.NewReaderSize(f, 64<<10), g)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return m, nil
}

// Decode decodes a PNG, JPEG or BMP stream to 8-bit RGB (see ToRGB).
func Decode(r io.Reader, g Grey16) (*RGB, error) {
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, err
	}
	return ToRGB(img, g), nil
}

// ToRGB converts any decoded image to 8-bit RGB the way PIL's
// convert("RGB") does: greyscale is replicated to three channels, palette
// entries are looked up, alpha is dropped without compositing (the colour
// channels are taken as stored, non-premultiplied), 16-bit colour keeps the
// high byte (PIL's "RGB;16B" unpacker). 16-bit greyscale follows g.
// JPEG's YCbCr and CMYK go through Go's colour conversion, which differs from
// libjpeg by a few levels.
func ToRGB(img image.Image, g Grey16) *RGB {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := NewRGB(w, h)
	p := out.Pix
	switch m := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[(y)*m.Stride : y*m.Stride+w]
			o := p[3*y*w : 3*(y+1)*w]
			for x, v := range row {
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+2*w]
			o := p[3*y*w : 3*(y+1)*w]
			for x := 0; x < w; x++ {
				v := row[2*x] // big-endian: high byte first
				if g == Grey16ClipPIL {
					if row[2*x] != 0 {
						v = 255
					} else {
						v = row[2*x+1]
					}
				}
				o[3*x], o[3*x+1], o[3*x+2] = v, v, v
			}
		}
	case *image.NRGBA:
		copy4(p, m.Pix, m.Stride, w, h)
	case *image.RGBA:
		copy4(p, m.Pix, m.Stride, w, h)
		// Unpremultiply the rare translucent pixels (opaque ones are exact).
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				i := y*m.Stride + 4*x
				if a := m.Pix[i+3]; a != 0xff {
					c := color.NRGBAModel.Convert(color.RGBA{m.Pix[i], m.Pix[i+1], m.Pix[i+2], a}).(color.NRGBA)
					j := 3 * (y*w + x)
					p[j], p[j+1], p[j+2] = c.R, c.G, c.B
				}
			}
		}
	case *image.NRGBA64:
		copy8(p, m.Pix, m.Stride, w, h)
	case *image.RGBA64:
		// Go's PNG decoder returns RGBA64 only for opaque 16-bit colour, where
		// premultiplied and straight values agree.
		copy8(p, m.Pix, m.Stride, w, h)
	case *image.Paletted:
		var lut [256][3]uint8
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			if nc, ok := c.(color.NRGBA); ok {
				n = nc // exact even for transparent entries
			}
			lut[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			o := p[3*y*w : 3*(y+1)*w]
			for x, v := range row {
				c := lut[v]
				o[3*x], o[3*x+1], o[3*x+2] = c[0], c[1], c[2]
			}
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			o := p[3*y*w : 3*(y+1)*w]
			for x := 0; x < w; x++ {
				yi := m.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := m.COffset(b.Min.X+x, b.Min.Y+y)
				o[3*x], o[3*x+1], o[3*x+2] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	default:
		for y := 0; y < h; y++ {
			o := p[3*y*w : 3*(y+1)*w]
			for x := 0; x < w; x++ {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				o[3*x], o[3*x+1], o[3*x+2] = c.R, c.G, c.B
			}
		}
	}
	return out
}

// copy4 packs 4-byte pixels (R, G, B, A) into 3-byte RGB.
func copy4(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+4*w]
		o := dst[3*y*w : 3*(y+1)*w]
		for x := 0; x < w; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// copy8 packs 8-byte big-endian 16-bit pixels into 3-byte RGB, keeping the
// high byte of each channel.
func copy8(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+8*w]
		o := dst[3*y*w : 3*(y+1)*w]
		for x := 0; x < w; x++ {
			o[3*x], o[3*x+1], o[3*x+2] = row[8*x], row[8*x+2], row[8*x+4]
		}
	}
}
