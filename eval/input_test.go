package eval

import (
	"testing"

	"github.com/anomclust/anomclust/pipeline"
)

// TestInputApply: the input options reach the pipeline options run uses
// (so eval and run preprocess alike); the resize follows the image size
// at PatchCore's 256/224 unless given; a resize below the crop is refused.
func TestInputApply(t *testing.T) {
	base, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in                Input
		size, resize      int
		crop, align, fail bool
	}{
		{Input{}, 224, 256, false, false, false},
		{Input{ImageSize: 320}, 320, 366, false, false, false},
		{Input{ImageSize: 448}, 448, 512, false, false, false},
		{Input{ImageSize: 224, Resize: 224, ObjectCrop: true}, 224, 224, true, false, false},
		{Input{ObjectAlign: true}, 224, 256, false, true, false},
		{Input{ImageSize: 320, Resize: 300}, 0, 0, false, false, true},
	} {
		o := base
		err := c.in.apply(&o)
		if c.fail {
			if err == nil {
				t.Errorf("%+v: no error", c.in)
			}
			continue
		}
		if err != nil || o.ImageSize != c.size || o.Resize != c.resize || o.ObjectCrop != c.crop || o.ObjectAlign != c.align {
			t.Errorf("%+v: image size %d resize %d crop %v align %v (%v), want %d %d %v %v", c.in, o.ImageSize, o.Resize, o.ObjectCrop, o.ObjectAlign, err, c.size, c.resize, c.crop, c.align)
		}
	}
}
