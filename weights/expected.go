package weights

import (
	"fmt"
	"slices"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/checkpoint/load"
)

// Param is one tensor a checkpoint holds (name, shape, optional).
type Param = checkpoint.Param

// ExpectedShapes lists, in the order PyTorch's state_dict() would, every
// tensor a checkpoint of e's architecture holds: e.Arch.Params(), declared
// by the backbone package. Graphs read from the file (TFLite MobileNets)
// have no fixed naming and give nil; Check tests them loosely.
func ExpectedShapes(e Entry) ([]Param, error) {
	if e.Arch == nil {
		return nil, fmt.Errorf("backbone %q: registry entry has no architecture", e.Name)
	}
	return e.Arch.Params()
}

// Check tests that sd holds every tensor e's architecture needs, with the
// right shape; the error names the first tensor that is missing or has
// the wrong shape. With strict, a tensor the architecture does not have is
// an error too. Graphs read from the file (backbone.GraphChecker, the
// TFLite MobileNets) are checked loosely by their own CheckGraph.
func Check(sd checkpoint.StateDict, e Entry, strict bool) error {
	if g, ok := e.Arch.(backbone.GraphChecker); ok {
		return g.CheckGraph(sd)
	}
	want, err := ExpectedShapes(e)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(want))
	for _, p := range want {
		seen[p.Name] = true
		t, ok := sd[p.Name]
		if !ok {
			if p.Optional {
				continue
			}
			return fmt.Errorf("%s checkpoint: missing tensor %q (want shape %v)", e.Name, p.Name, p.Shape)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s checkpoint: tensor %q has shape %v, want %v", e.Name, p.Name, t.Shape, p.Shape)
		}
	}
	if strict {
		var extra []string
		for name := range sd {
			if !seen[name] {
				extra = append(extra, name)
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			return fmt.Errorf("%s checkpoint: unexpected tensor %q (and %d more) not in the architecture", e.Name, extra[0], len(extra)-1)
		}
	}
	return nil
}

// VerifyFile loads path as a checkpoint (any format package load reads)
// and checks it against e's architecture with Check.
func VerifyFile(path string, e Entry, strict bool) error {
	sd, err := load.Load(path)
	if err != nil {
		return err
	}
	if err := Check(sd, e, strict); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
