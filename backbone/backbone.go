// Package backbone defines what every feature extractor of the pipeline
// offers (ResNet, ViT, MobileNet live in subpackages): a forward pass over a
// batch of preprocessed images that returns the feature maps of the layers
// asked for, by name, stopping after the last one needed.
package backbone

import "github.com/anomclust/anomclust/tensor"

// Backbone is a pretrained network used as a frozen feature extractor.
//
// Images are channels-last float32 tensors of shape (H, W, 3), already
// preprocessed as Preprocess describes (resized, cropped, normalised).
// Feature maps come back channels-last too, (H', W', C) per layer, for the
// PatchCore aggregation (docs/METHOD.md §3).
type Backbone interface {
	// Name is the registry name of the backbone, e.g. "wide_resnet50_2".
	Name() string
	// Layers lists the tap names Forward accepts, in forward order
	// (checkpoint names such as "layer2" or "blocks.10"; see each
	// implementation for its aliases).
	Layers() []string
	// Preprocess is the image preparation the weights were trained with.
	Preprocess() Preprocess
	// Forward runs the network on each image and returns, per image, the
	// requested layers' maps keyed by the names given in layers. It stops
	// after the last requested layer. An unknown layer name or an image
	// of the wrong rank or channel count is an error, not a panic.
	Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error)
}

// Preprocess describes how an RGB image becomes a backbone's input, the way
// torchvision's transforms do it: Resize(Resize) of the short side (PIL
// antialiased bilinear), CenterCrop(Crop), ToTensor (x/255, so [0,1]),
// then Normalize: x = (x - Mean[c]) / Std[c].
type Preprocess struct {
	Resize int        // short side after resizing, pixels
	Crop   int        // side of the square centre crop, pixels
	Mean   [3]float32 // per-channel mean on the [0,1] scale
	Std    [3]float32 // per-channel standard deviation on the [0,1] scale
}

// ImageNet is the preprocessing of torchvision's ImageNet models and of
// PatchCore: Resize(256), CenterCrop(224), ImageNet mean and std.
func ImageNet() Preprocess {
	return Preprocess{
		Resize: 256,
		Crop:   224,
		Mean:   [3]float32{0.485, 0.456, 0.406},
		Std:    [3]float32{0.229, 0.224, 0.225},
	}
}
