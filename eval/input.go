package eval

import (
	"fmt"

	"github.com/anomclust/anomclust/pipeline"
)

// Input holds the preprocessing options of an ablation: the backbone's
// input size and the object crop. They are pipeline.Options fields (the
// same names, the same preprocessing as `run`), applied to every set, and
// part of the feature cache key there.
type Input struct {
	// ImageSize is the centre-crop side (the network's input); 0 = the
	// preset's (224).
	ImageSize int
	// Resize is the short side before the centre crop; 0 = the preset's
	// ratio 256/224 applied to ImageSize (256 at 224).
	Resize int
	// ObjectCrop crops each image to its foreground's square box before
	// the resize (pipeline.Options.ObjectCrop).
	ObjectCrop bool
	// ObjectAlign turns the part to a canonical pose, then crops it
	// (pipeline.Options.ObjectAlign).
	ObjectAlign bool
	// ObjectAuto aligns the parts of the categories the object gate
	// picks (pipeline.Options.ObjectAuto).
	ObjectAuto bool
}

// apply sets the input options on o.
func (in Input) apply(o *pipeline.Options) error {
	if in.ImageSize > 0 {
		o.ImageSize = in.ImageSize
		o.Resize = DefaultResize(in.ImageSize)
	}
	if in.Resize > 0 {
		o.Resize = in.Resize
	}
	if o.Resize < o.ImageSize {
		return fmt.Errorf("resize %d smaller than image size %d", o.Resize, o.ImageSize)
	}
	o.ObjectCrop, o.ObjectAlign, o.ObjectAuto = in.ObjectCrop, in.ObjectAlign, in.ObjectAuto
	return nil
}

// DefaultResize is the short side PatchCore's Resize(256)+CenterCrop(224)
// ratio gives for a crop side: round(size*256/224).
func DefaultResize(size int) int {
	return (size*256 + 112) / 224
}
