package backbone

import (
	"fmt"

	"github.com/anomclust/anomclust/checkpoint"
)

// ArchAs returns a as the family's own architecture type C, or an error
// naming the family when a belongs to another one (a Family's New and
// RandomWeights receive the Arch interface).
func ArchAs[C Arch](family string, a Arch) (C, error) {
	c, ok := a.(C)
	if !ok {
		return c, fmt.Errorf("%s: architecture %T is not a %T", family, a, c)
	}
	return c, nil
}

// Arch is the architecture of one backbone as its family package
// describes it (resnet.Config, vit.Config, mobilenet.Config): the single
// place that says which tensors a checkpoint of it holds. The weights
// registry stores an Arch per named backbone; package zoo builds it
// through the Family registered under Arch.Family().
type Arch interface {
	// Family is the name of the family the architecture belongs to
	// ("resnet", "vit", "mobilenet"), as registered with zoo.Register.
	Family() string
	// Params lists every tensor a checkpoint of this architecture holds,
	// in the order PyTorch's state_dict() gives them. It is empty for
	// families whose graph comes from the weight file itself (TFLite);
	// those implement GraphChecker.
	Params() ([]checkpoint.Param, error)
	// String describes the architecture in a few words ("ViT-B/8 (dino
	// keys)") for listings.
	String() string
}

// GraphChecker is implemented by architectures whose graph comes from the
// weight file (the TFLite MobileNets): having no fixed key list, they
// check a loaded file loosely. The error names the backbone and what is
// missing.
type GraphChecker interface {
	CheckGraph(sd checkpoint.StateDict) error
}

// Family is what a backbone family's package provides to build its
// architectures; package zoo looks it up by Arch.Family(). Adding a family
// is one new package declaring its Family plus one zoo.Register line.
type Family struct {
	// Name is the family's name, the Family() of its Arch values.
	Name string
	// New builds a backbone of architecture arch from a state dict with
	// the checkpoint's keys. When only is given the backbone needs to
	// offer only those layers (it may stop building after the deepest).
	// Nil for families built from a file (see Load).
	New func(arch Arch, sd checkpoint.StateDict, only []string) (Backbone, error)
	// RandomWeights returns a state dict with arch's Params (those the
	// backbone uses) holding random values, deterministic in seed: for
	// speed measurements and tests without a download. Nil when the graph
	// comes from the file.
	RandomWeights func(arch Arch, seed uint64) (checkpoint.StateDict, error)
	// Load builds the backbone straight from a weight file that holds its
	// graph (TFLite); nil for families built from a state dict (New).
	Load func(arch Arch, path string) (Backbone, error)
}
