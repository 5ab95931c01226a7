package zoo

import (
	"github.com/anomclust/anomclust/backbone/mobilenet"
	"github.com/anomclust/anomclust/backbone/resnet"
	"github.com/anomclust/anomclust/backbone/vit"
)

// The families this program knows. A new family is a package declaring its
// Config (a backbone.Arch, with its checkpoint's Params) and its
// backbone.Family, one line here, and its named checkpoints in the weights
// registry.
func init() {
	Register(resnet.Family)
	Register(vit.Family)
	Register(mobilenet.Family)
}
