package mobilenet

import (
	"fmt"
	"slices"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
)

// FamilyName is the name the MobileNet family registers under
// (zoo.Register).
const FamilyName = "mobilenet"

// Family builds MobileNets for package zoo, from their TFLite files: the
// graph is the file's, so there is no state-dict constructor and no random
// weights.
var Family = backbone.Family{
	Name: FamilyName,
	Load: func(_ backbone.Arch, path string) (backbone.Backbone, error) { return Load(path) },
}

// Config is a MobileNet TFLite graph (int8/uint8 quantised) as the weights
// registry knows it. The graph itself comes from the file, so Config only
// says how to recognise the right file.
type Config struct {
	Name      string // registry name, for messages
	Version   int    // 1 or 2
	Quantized bool   // weights stored as int8/uint8 with scales
	// MinTensors is a loose lower bound on the number of constant tensors
	// the graph holds, a sanity check of CheckGraph.
	MinTensors int
	// Signature is the OHWI shape of a filter only this graph has (V1: the
	// last pointwise conv, 1024 -> 1024; V2: Conv_1, 320 -> 1280), so that
	// CheckGraph tells one MobileNet file from the other.
	Signature []int
}

// Family is the family name, for backbone.Arch.
func (c Config) Family() string { return FamilyName }

// String describes the architecture.
func (c Config) String() string { return fmt.Sprintf("MobileNet V%d TFLite", c.Version) }

// Params is empty: a TFLite graph has no fixed tensor names (see CheckGraph).
func (c Config) Params() ([]checkpoint.Param, error) { return nil, nil }

// CheckGraph checks a loaded TFLite graph loosely: enough constant
// tensors, a first convolution over 3 channels (the stem) and the
// version's signature filter.
func (c Config) CheckGraph(sd checkpoint.StateDict) error {
	if len(sd) < c.MinTensors {
		return fmt.Errorf("%s: the graph has %d constant tensors, want at least %d", c.Name, len(sd), c.MinTensors)
	}
	// TFLite CONV_2D filters are OHWI: the stem's is (32, 3, 3, 3).
	stem, signature := false, len(c.Signature) == 0
	for _, t := range sd {
		if len(t.Shape) == 4 && t.Shape[1] == 3 && t.Shape[2] == 3 && t.Shape[3] == 3 {
			stem = true
		}
		if !signature && slices.Equal(t.Shape, c.Signature) {
			signature = true
		}
	}
	if !stem {
		return fmt.Errorf("%s: no 3x3 convolution over 3 input channels (the stem) in the graph", c.Name)
	}
	if !signature {
		return fmt.Errorf("%s: no filter of shape %v in the graph: not a MobileNet V%d file", c.Name, c.Signature, c.Version)
	}
	return nil
}

var (
	_ backbone.Arch         = Config{}
	_ backbone.GraphChecker = Config{}
)
