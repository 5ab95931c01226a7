package resnet

import "github.com/anomclust/anomclust/backbone/internal/backbonetest"

// Short names for the helpers shared with the other backbones' tests.
var (
	loadTorch  = backbonetest.LoadTorch
	readNPY    = backbonetest.ReadNPY
	nchwToNHWC = backbonetest.NCHWToNHWC
	relMaxErr  = backbonetest.RelMaxErr
)
