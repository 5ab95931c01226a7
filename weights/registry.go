// Package weights is the registry of pretrained backbones this program can
// use (name -> architecture, configuration, layers, preprocessing, weight
// file, where to download it, its size and SHA-256, licence), and finds or
// downloads their weight files: an explicit file, then the directories in
// ANOMCLUST_WEIGHTS_PATH, then the cache (ANOMCLUST_CACHE), then the URL.
//
// The table is plain Go (see table below). Each entry's architecture is
// the Config of the backbone package that implements it (resnet.Config,
// vit.Config, mobilenet.Config; see backbone.Arch), which alone lists the
// tensor names and shapes a checkpoint of it holds (ExpectedShapes, Check).
package weights

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/mobilenet"
	"github.com/anomclust/anomclust/backbone/resnet"
	"github.com/anomclust/anomclust/backbone/vit"
)

// File formats; Entry.Format is one of these.
const (
	FormatTorch       = "torch"       // torch.save (zip or legacy)
	FormatSafetensors = "safetensors" // huggingface safetensors
	FormatTFLite      = "tflite"      // TFLite flatbuffer
)

// Entry describes one named backbone and its weight file.
type Entry struct {
	Name        string // registry name, e.g. "dino_vitb8"
	Description string // one line for `anomclust weights list`

	// Arch is the architecture, as the Config of the backbone package that
	// implements it; Arch.Family() names that package's family.
	Arch backbone.Arch

	// Layers are the feature taps the backbone offers, in forward order
	// (checkpoint module names: "layer2", "blocks.10", "norm"; MobileNet
	// taps are named by the backbone package, e.g. "stride8").
	// DefaultLayers are the ones the method uses unless told otherwise.
	Layers        []string
	DefaultLayers []string

	// Preprocess is how images were prepared when the weights were trained
	// or evaluated by their authors. The seed-compatible pipeline uses
	// PatchCore's ImageNet preprocessing for every backbone instead
	// (docs/METHOD.md §1); this is for callers who want the native one.
	Preprocess Preprocess

	Format   string // FormatTorch, FormatSafetensors or FormatTFLite
	FileName string // name of the file in the cache and in ANOMCLUST_WEIGHTS_PATH dirs
	URL      string // official download location
	// Size is the file's size in bytes, 0 when not known.
	Size int64
	// SHA256 is the file's SHA-256 in lower-case hex: all 64 digits, or a
	// prefix (torchvision publishes the first 8 in its file names), or ""
	// when unknown; then the digest seen on first download is recorded in
	// the cache and checked from then on.
	SHA256  string
	License string
}

// Preprocess is backbone.Preprocess plus the resampling filter: Resize
// the short side to Resize pixels, CenterCrop to Crop, scale to [0,1],
// then x = (x - Mean[c]) / Std[c].
type Preprocess struct {
	Resize        int
	Crop          int
	Mean          [3]float32
	Std           [3]float32
	Interpolation string // resampling filter the authors used: "bilinear" or "bicubic"
}

var (
	imagenetMean  = [3]float32{0.485, 0.456, 0.406}
	imagenetStd   = [3]float32{0.229, 0.224, 0.225}
	inceptionMean = [3]float32{0.5, 0.5, 0.5}
)

func vitLayers(depth int) []string {
	l := make([]string, 0, depth+1)
	for i := range depth {
		l = append(l, "blocks."+strconv.Itoa(i))
	}
	return append(l, "norm")
}

// dino is a DINO ViT (facebookresearch/dino hubconf): ViT-S (384, 6 heads)
// or ViT-B (768, 12 heads), 12 blocks, trained at 224 px.
func dino(name, file string, base bool, patch int) Entry {
	return Entry{
		Name:          name,
		Description:   fmt.Sprintf("DINO self-supervised ViT-%s/%d (Caron et al. 2021)", map[bool]string{false: "S", true: "B"}[base], patch),
		Arch:          vit.DINO(name, base, patch),
		Layers:        vitLayers(12),
		DefaultLayers: []string{"blocks.10", "blocks.11"},
		// DINO's eval_linear.py: Resize(256, bicubic), CenterCrop(224), ImageNet stats.
		Preprocess: Preprocess{Resize: 256, Crop: 224, Mean: imagenetMean, Std: imagenetStd, Interpolation: "bicubic"},
		Format:     FormatTorch,
		FileName:   file + ".pth",
		URL:        "https://dl.fbaipublicfiles.com/dino/" + file + "/" + file + ".pth",
		License:    "Apache-2.0",
	}
}

// timmViTB is timm's supervised ViT-B (ImageNet-21k pretraining, ImageNet-1k
// fine-tuning, the "augreg2" recipe that is timm's default tag).
func timmViTB(patch int) Entry {
	tag := fmt.Sprintf("vit_base_patch%d_224.augreg2_in21k_ft_in1k", patch)
	name := fmt.Sprintf("vit_base_patch%d_224", patch)
	return Entry{
		Name:          name,
		Description:   fmt.Sprintf("supervised ViT-B/%d, timm %s", patch, tag),
		Arch:          vit.TimmBase(name, patch),
		Layers:        vitLayers(12),
		DefaultLayers: []string{"blocks.10", "blocks.11"},
		// timm pretrained_cfg of augreg models: crop_pct 0.9 (resize 248),
		// bicubic, mean = std = 0.5.
		Preprocess: Preprocess{Resize: 248, Crop: 224, Mean: inceptionMean, Std: inceptionMean, Interpolation: "bicubic"},
		Format:     FormatSafetensors,
		FileName:   tag + ".safetensors",
		URL:        "https://huggingface.co/timm/" + tag + "/resolve/main/model.safetensors",
		License:    "Apache-2.0",
	}
}

// dinov2 is a DINOv2 ViT (facebookresearch/dinov2 hubconf): patch 14,
// positions for 518 px (37x37), LayerScale, optionally 4 registers.
func dinov2(base, reg bool) Entry {
	s := "s"
	if base {
		s = "b"
	}
	name, file, regs := "dinov2_vit"+s+"14", "dinov2_vit"+s+"14_pretrain", 0
	if reg {
		name, file, regs = name+"_reg", "dinov2_vit"+s+"14_reg4_pretrain", 4
	}
	return Entry{
		Name:          name,
		Description:   fmt.Sprintf("DINOv2 ViT-%s/14%s (Oquab et al. 2023)", map[bool]string{false: "S", true: "B"}[base], map[bool]string{false: "", true: " with 4 registers"}[reg]),
		Arch:          vit.DINOv2(name, base, regs),
		Layers:        vitLayers(12),
		DefaultLayers: []string{"blocks.10", "blocks.11"},
		Preprocess:    Preprocess{Resize: 256, Crop: 224, Mean: imagenetMean, Std: imagenetStd, Interpolation: "bicubic"},
		Format:        FormatTorch,
		FileName:      file + ".pth",
		URL:           "https://dl.fbaipublicfiles.com/dinov2/dinov2_vit" + s + "14/" + file + ".pth",
		License:       "Apache-2.0",
	}
}

// torchvisionResNet is a torchvision IMAGENET1K_V1 ResNet; hash is the
// SHA-256 prefix in its file name.
func torchvisionResNet(hash, desc string, cfg resnet.Config) Entry {
	name := cfg.Name
	file := name + "-" + hash + ".pth"
	return Entry{
		Name:          name,
		Description:   desc,
		Arch:          cfg,
		Layers:        []string{"layer1", "layer2", "layer3", "layer4"},
		DefaultLayers: []string{"layer2", "layer3"},
		Preprocess:    Preprocess{Resize: 256, Crop: 224, Mean: imagenetMean, Std: imagenetStd, Interpolation: "bilinear"},
		Format:        FormatTorch,
		FileName:      file,
		URL:           "https://download.pytorch.org/models/" + file,
		SHA256:        hash,
		License:       "BSD-3-Clause",
	}
}

// coral is a quantised MobileNet from google-coral/test_data, the files
// of which ../shared/weights holds copies (sizes and SHA-256 from there).
func coral(name, file, desc string, version, minTensors int, signature []int, size int64, sha string) Entry {
	return Entry{
		Name:          name,
		Description:   desc,
		Arch:          mobilenet.Config{Name: name, Version: version, Quantized: true, MinTensors: minTensors, Signature: signature},
		Layers:        []string{"stride8", "stride16", "stride32", "output"},
		DefaultLayers: []string{"stride8", "stride16"},
		// The uint8 input has scale 1/128 and zero point 128: the same as
		// resizing to 224 and normalising with mean = std = 0.5 (to 1/255).
		Preprocess: Preprocess{Resize: 224, Crop: 224, Mean: inceptionMean, Std: inceptionMean, Interpolation: "bilinear"},
		Format:     FormatTFLite,
		FileName:   file,
		URL:        "https://github.com/google-coral/test_data/raw/master/" + file,
		Size:       size,
		SHA256:     sha,
		License:    "Apache-2.0",
	}
}

// table is the registry. It is built afresh on every call, so callers may
// modify what they get without affecting anyone else.
func table() []Entry {
	return []Entry{
		dino("dino_vits16", "dino_deitsmall16_pretrain", false, 16),
		dino("dino_vits8", "dino_deitsmall8_pretrain", false, 8),
		dino("dino_vitb16", "dino_vitbase16_pretrain", true, 16),
		dino("dino_vitb8", "dino_vitbase8_pretrain", true, 8),
		timmViTB(16),
		timmViTB(8),
		dinov2(false, false),
		dinov2(true, false),
		dinov2(false, true),
		dinov2(true, true),
		torchvisionResNet("95faca4d", "Wide ResNet-50-2, torchvision IMAGENET1K_V1 (the one PatchCore uses)", resnet.WideResNet50_2()),
		torchvisionResNet("f37072fd", "ResNet-18, torchvision IMAGENET1K_V1", resnet.ResNet18()),
		torchvisionResNet("0676ba61", "ResNet-50, torchvision IMAGENET1K_V1", resnet.ResNet50()),
		coral("mobilenet_v1", "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
			"MobileNet V1 1.0/224 int8 embedding extractor (Coral)", 1, 20, []int{1024, 1, 1, 1024}, 3251736,
			"f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319"),
		coral("mobilenet_v2", "mobilenet_v2_1.0_224_quant.tflite",
			"MobileNet V2 1.0/224 uint8 ImageNet classifier (Coral)", 2, 100, []int{1280, 1, 1, 320}, 3610798,
			"7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776"),
		// The TF2 Keras MobileNet V2 (post-training int8): same layout as
		// the Coral V2 (its stride8/16/32 taps have 192/576/1280 channels),
		// other weights, global pool as MEAN.
		coral("tf2_mobilenet_v2", "tf2_mobilenet_v2_1.0_224_ptq.tflite",
			"MobileNet V2 1.0/224 TF2 Keras, int8 post-training quantised ImageNet classifier (Coral)", 2, 100, []int{1280, 1, 1, 320}, 4070174,
			"5d3137241276e79c86d14a74fe43581398ae0e815191d3dba45495b810840e8c"),
	}
}

// All returns every registry entry, sorted by name.
func All() []Entry {
	t := table()
	sort.Slice(t, func(i, j int) bool { return t[i].Name < t[j].Name })
	return t
}

// Names returns the registry's names, sorted.
func Names() []string {
	var n []string
	for _, e := range All() {
		n = append(n, e.Name)
	}
	return n
}

// Lookup returns the entry registered under name.
func Lookup(name string) (Entry, error) {
	for _, e := range table() {
		if e.Name == name {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("unknown backbone %q (known: %v)", name, Names())
}
