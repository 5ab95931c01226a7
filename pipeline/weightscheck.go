package pipeline

import (
	"fmt"

	"github.com/anomclust/anomclust/weights"
)

// checkWeightsFile is `anomclust weights verify NAME --weights FILE`'s
// structural check: the file loads and holds every tensor of the backbone
// with its shape and no other (e.g. a MobileNet V1 file given for
// mobilenet_v2 is refused).
func checkWeightsFile(path string, e weights.Entry) error {
	if err := weights.VerifyFile(path, e, true); err != nil {
		return fmt.Errorf("--weights %s is not a %s checkpoint (`anomclust weights verify %s --weights %s` refuses it too): %w",
			path, e.Name, e.Name, path, err)
	}
	return nil
}
