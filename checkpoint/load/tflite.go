package load

import (
	"fmt"

	"github.com/anomclust/anomclust/checkpoint"
)

// loadTFLite is where the TFLite reader (package checkpoint/tflite, being
// written separately) plugs in once it offers a state-dict loader.
func loadTFLite(path string) (checkpoint.StateDict, error) {
	return nil, fmt.Errorf("%s is a TFLite flatbuffer; reading it as a state dict is not available yet (package checkpoint/tflite has no loader)", path)
}
