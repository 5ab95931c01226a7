// Package preprocess turns image files into the normalised tensors a
// backbone reads, exactly as PatchCore's torchvision pipeline does
// (docs/METHOD.md §1): PIL's convert("RGB"), Resize(resize) of the short side with
// PIL's antialiased bilinear filter, CenterCrop(crop), ToTensor (x/255) and
// Normalize(mean, std).
//
// The resize is a port of Pillow 9.4's ImagingResample and is bit-exact
// against it on PNG input; JPEG differs by the decoder (Go's vs libjpeg) by
// a few levels.
package preprocess

import (
	"bufio"
	"fmt"
	"image"
	"os"

	"github.com/anomclust/anomclust/tensor"
)

// Options are the preprocessing settings.
type Options struct {
	// Resize is the length of the short side after resizing (torchvision
	// Resize(int)), 256 by default.
	Resize int
	// Crop is the side of the centre crop (torchvision CenterCrop), which
	// is the network's input size, 224 by default.
	Crop int
	// Mean and Std normalise each RGB channel after scaling to [0, 1]:
	// (x/255 - Mean) / Std, as torchvision's Normalize.
	Mean, Std [3]float32
	// Grey16 chooses how 16-bit greyscale images become 8-bit.
	Grey16 Grey16
	// ObjectCrop first crops the image to the square around its
	// foreground object (ObjectBox, objcrop.go), or keeps it whole when
	// none is found; the resize and centre crop follow.
	ObjectCrop bool
	// ObjectAlign turns an elongated part to a canonical pose before
	// the object crop (AlignObject, objalign.go); it implies ObjectCrop.
	ObjectAlign bool
}

// ImageNet returns PatchCore's settings: Resize(256), CenterCrop(224),
// ImageNet mean (0.485, 0.456, 0.406) and std (0.229, 0.224, 0.225).
func ImageNet() Options {
	return Options{
		Resize: 256, Crop: 224,
		Mean: [3]float32{0.485, 0.456, 0.406},
		Std:  [3]float32{0.229, 0.224, 0.225},
	}
}

// Symmetric returns settings that map [0, 255] to [-1, 1] (mean 0.5,
// std 0.5), the input range of the TFLite MobileNets.
func Symmetric() Options {
	o := ImageNet()
	o.Mean = [3]float32{0.5, 0.5, 0.5}
	o.Std = [3]float32{0.5, 0.5, 0.5}
	return o
}

// Result is one preprocessed image.
type Result struct {
	// X is the normalised image, shape (Crop, Crop, 3), channels-last float32.
	X *tensor.Tensor
	// Cropped is the resized, centre-cropped 8-bit image X was computed
	// from: the pixels the network sees, for drawing overlays on (Cropped.Image())
	// or for a uint8 network input.
	Cropped *RGB
}

// Load decodes the image file at path and preprocesses it.
func (o Options) Load(path string) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("decode image: %w", err)
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return Result{}, fmt.Errorf("decode %s: %w", path, err)
	}
	r, err := o.ApplyImage(img)
	if err != nil {
		return Result{}, fmt.Errorf("preprocess %s: %w", path, err)
	}
	return r, nil
}

// ApplyImage preprocesses an already decoded image. An 8-bit greyscale
// image (MVTec's screw, NEU, ...) is resized as one channel, which gives
// the same bytes as PIL's convert("RGB") then resize, three times faster.
func (o Options) ApplyImage(img image.Image) (Result, error) {
	if g, ok := img.(*image.Gray); ok {
		if err := o.check(); err != nil {
			return Result{}, err
		}
		w, h := g.Rect.Dx(), g.Rect.Dy()
		p := plane{w, h, 1, make([]uint8, w*h)}
		for y := 0; y < h; y++ {
			copy(p.pix[y*w:(y+1)*w], g.Pix[y*g.Stride:])
		}
		switch {
		case o.ObjectAlign:
			p, _ = alignObject(p, o.objectKeep())
		case o.ObjectCrop:
			r, _ := objectBox(p, o.objectKeep())
			p = p.sub(r)
		}
		c, err := resizeCropPlane(p, o.Resize, o.Crop)
		if err != nil {
			return Result{}, err
		}
		return Result{X: o.Normalize(c), Cropped: c}, nil
	}
	return o.Apply(ToRGB(img, o.Grey16))
}

// Apply resizes, crops and normalises an RGB image.
func (o Options) Apply(m *RGB) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	c, err := ResizeCrop(o.Object(m), o.Resize, o.Crop)
	if err != nil {
		return Result{}, err
	}
	return Result{X: o.Normalize(c), Cropped: c}, nil
}

// Object is the object step of Apply: m aligned (ObjectAlign) or cropped
// (ObjectCrop) around its part, or m itself.
func (o Options) Object(m *RGB) *RGB {
	switch {
	case o.ObjectAlign:
		m, _ = AlignObject(m, o.objectKeep())
	case o.ObjectCrop:
		r, _ := ObjectBox(m, o.objectKeep())
		m = CropRGB(m, r)
	}
	return m
}

func (o Options) check() error {
	if o.Std[0] == 0 || o.Std[1] == 0 || o.Std[2] == 0 {
		return fmt.Errorf("normalise: std %v has a zero", o.Std)
	}
	return nil
}

// Normalize is torchvision's ToTensor followed by Normalize, in float32 as
// PyTorch computes it: (float32(v)/255 - mean) / std, channels-last
// (H, W, 3).
func (o Options) Normalize(m *RGB) *tensor.Tensor {
	t := tensor.New(m.H, m.W, 3)
	// A 256-entry table per channel: the same float32 operations, done once.
	var lut [3][256]float32
	for c := 0; c < 3; c++ {
		for v := 0; v < 256; v++ {
			x := float32(v) / 255
			lut[c][v] = (x - o.Mean[c]) / o.Std[c]
		}
	}
	d := t.Data
	for i := 0; i+2 < len(m.Pix); i += 3 {
		p := m.Pix[i : i+3 : i+3]
		d[i], d[i+1], d[i+2] = lut[0][p[0]], lut[1][p[1]], lut[2][p[2]]
	}
	return t
}
