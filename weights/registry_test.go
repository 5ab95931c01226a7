package weights

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone/vit"
	"github.com/anomclust/anomclust/checkpoint/load"
)

func TestRegistryEntries(t *testing.T) {
	want := []string{"dino_vits16", "dino_vits8", "dino_vitb16", "dino_vitb8", "vit_base_patch16_224",
		"vit_base_patch8_224", "dinov2_vits14", "dinov2_vitb14", "wide_resnet50_2", "resnet18", "resnet50",
		"mobilenet_v1", "mobilenet_v2", "tf2_mobilenet_v2"}
	for _, n := range want {
		e, err := Lookup(n)
		if err != nil {
			t.Errorf("Lookup(%s): %v", n, err)
			continue
		}
		if e.URL == "" || e.FileName == "" || e.License == "" || len(e.Layers) == 0 || len(e.DefaultLayers) == 0 {
			t.Errorf("%s: incomplete entry %+v", n, e)
		}
		for _, l := range e.DefaultLayers {
			if !slices.Contains(e.Layers, l) {
				t.Errorf("%s: default layer %s not offered", n, l)
			}
		}
		if e.Preprocess.Crop == 0 || e.Preprocess.Resize < e.Preprocess.Crop || e.Preprocess.Std[0] == 0 {
			t.Errorf("%s: bad preprocessing %+v", n, e.Preprocess)
		}
		if _, err := ExpectedShapes(e); err != nil {
			t.Errorf("%s: %v", n, err)
		}
		if strings.HasPrefix(e.URL, "https://download.pytorch.org/") && !strings.Contains(e.FileName, "-"+e.SHA256+".") {
			t.Errorf("%s: torchvision file %s should carry its hash prefix %q", n, e.FileName, e.SHA256)
		}
	}
	// docs/METHOD.md's URLs, verbatim.
	for n, url := range map[string]string{
		"dino_vits16":     "https://dl.fbaipublicfiles.com/dino/dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth",
		"dino_vitb8":      "https://dl.fbaipublicfiles.com/dino/dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth",
		"wide_resnet50_2": "https://download.pytorch.org/models/wide_resnet50_2-95faca4d.pth",
		"dinov2_vitb14":   "https://dl.fbaipublicfiles.com/dinov2/dinov2_vitb14/dinov2_vitb14_pretrain.pth",
		"mobilenet_v2":    "https://github.com/google-coral/test_data/raw/master/mobilenet_v2_1.0_224_quant.tflite",
	} {
		if e, _ := Lookup(n); e.URL != url {
			t.Errorf("%s URL %s, want %s", n, e.URL, url)
		}
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "dino_vitb8") {
		t.Errorf("Lookup(nope) error %v should list the known names", err)
	}
	// Entries are fresh copies: changing one does not change the registry.
	e, _ := Lookup("dino_vitb8")
	e.Layers[0] = "x"
	e.DefaultLayers[0] = "y"
	if f, _ := Lookup("dino_vitb8"); f.Arch.(vit.Config).Dim != 768 || f.Layers[0] != "blocks.0" || f.DefaultLayers[0] != "blocks.10" {
		t.Error("Lookup returned shared state")
	}
}

// TestResNetShapesMatchTorchvision compares the derived key list with
// torchvision's own state_dict() (testdata/torchvision_shapes.json, from
// gen_weights.py), name by name and in order, and the parameter count
// with torchvision's.
func TestResNetShapesMatchTorchvision(t *testing.T) {
	b, err := os.ReadFile("testdata/torchvision_shapes.json")
	if err != nil {
		t.Fatal(err)
	}
	var golden map[string]struct {
		Shapes    [][2]json.RawMessage `json:"shapes"`
		NumParams int                  `json:"num_params"`
	}
	if err := json.Unmarshal(b, &golden); err != nil {
		t.Fatal(err)
	}
	for name, g := range golden {
		e, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ExpectedShapes(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(g.Shapes) {
			t.Errorf("%s: %d tensors, torchvision has %d", name, len(got), len(g.Shapes))
		}
		params := 0
		for i := range min(len(got), len(g.Shapes)) {
			var key string
			var shape []int
			json.Unmarshal(g.Shapes[i][0], &key)
			json.Unmarshal(g.Shapes[i][1], &shape)
			if got[i].Name != key || !slices.Equal(got[i].Shape, shape) {
				t.Errorf("%s #%d: %s %v, torchvision %s %v", name, i, got[i].Name, got[i].Shape, key, shape)
				break
			}
			if !strings.Contains(key, "running_") && !strings.HasSuffix(key, "num_batches_tracked") {
				n := 1
				for _, d := range shape {
					n *= d
				}
				params += n
			}
		}
		if params != g.NumParams {
			t.Errorf("%s: %d parameters, torchvision %d", name, params, g.NumParams)
		}
	}
}

// TestViTShapes checks the ViT key lists against known facts of the real
// checkpoints: token counts (197 for 224/16, 785 for 224/8, 1370 for
// DINOv2's 518/14), widths, the heads, and parameter counts: ViT-B/16
// with its 1000-class head has 86,567,656 (the figure timm reports); the
// ViT-S totals asserted are our own sums, consistent with the 21.7M (DINO)
// and 22.1M (DINOv2 ViT-S/14 with mask token) the papers give.
func TestViTShapes(t *testing.T) {
	count := func(name string) (map[string][]int, int) {
		e, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		ps, err := ExpectedShapes(e)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]int{}
		n := 0
		for _, p := range ps {
			m[p.Name] = p.Shape
			k := 1
			for _, d := range p.Shape {
				k *= d
			}
			n += k
		}
		return m, n
	}
	m, n := count("dino_vits16")
	if !slices.Equal(m["pos_embed"], []int{1, 197, 384}) || m["head.weight"] != nil || n != 21665664 {
		t.Errorf("dino_vits16: pos_embed %v, head %v, %d params", m["pos_embed"], m["head.weight"], n)
	}
	m, _ = count("dino_vitb8")
	if !slices.Equal(m["pos_embed"], []int{1, 785, 768}) || !slices.Equal(m["patch_embed.proj.weight"], []int{768, 3, 8, 8}) {
		t.Errorf("dino_vitb8: %v %v", m["pos_embed"], m["patch_embed.proj.weight"])
	}
	m, n = count("vit_base_patch16_224")
	if !slices.Equal(m["head.weight"], []int{1000, 768}) || n != 86567656 {
		t.Errorf("vit_base_patch16_224: head %v, %d params", m["head.weight"], n)
	}
	m, n = count("dinov2_vits14")
	if !slices.Equal(m["pos_embed"], []int{1, 1370, 384}) || m["blocks.11.ls2.gamma"] == nil || !slices.Equal(m["mask_token"], []int{1, 384}) || n != 22056576 {
		t.Errorf("dinov2_vits14: %v %v %v, %d params", m["pos_embed"], m["blocks.11.ls2.gamma"], m["mask_token"], n)
	}
	m, _ = count("dinov2_vitb14_reg")
	if !slices.Equal(m["register_tokens"], []int{1, 4, 768}) {
		t.Errorf("dinov2_vitb14_reg registers %v", m["register_tokens"])
	}
}

// tinyViT is the configuration of testdata/tiny_vit*.pt (gen_weights.py).
func tinyViT() Entry {
	return Entry{Name: "tiny_vit", Format: FormatTorch, FileName: "tiny_vit.pt",
		Arch: vit.Config{Name: "tiny_vit", Dim: 8, Depth: 2, Heads: 2, Patch: 4, ImgSize: 16, MLPRatio: 4, Eps: 1e-6}}
}

func TestCheckTinyViT(t *testing.T) {
	e := tinyViT()
	for _, f := range []string{"testdata/tiny_vit.pt", "testdata/tiny_vit_teacher.pt"} {
		if err := VerifyFile(f, e, true); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	err := VerifyFile("testdata/tiny_vit_badshape.pt", e, true)
	if err == nil || !strings.Contains(err.Error(), `"blocks.1.mlp.fc1.weight" has shape [16 8], want [32 8]`) {
		t.Errorf("bad shape: %v", err)
	}
	// A ViT-S config must not accept the tiny file; the first mismatch is named.
	s, _ := Lookup("dino_vits16")
	if err := VerifyFile("testdata/tiny_vit.pt", s, false); err == nil || !strings.Contains(err.Error(), `"cls_token" has shape [1 1 8], want [1 1 384]`) {
		t.Errorf("wrong architecture: %v", err)
	}
	// Strict mode names an unexpected tensor, non-strict tolerates it.
	sd, err := load.Load("testdata/tiny_vit.pt")
	if err != nil {
		t.Fatal(err)
	}
	sd["head.weight"] = sd["norm.weight"]
	if err := Check(sd, e, true); err == nil || !strings.Contains(err.Error(), `unexpected tensor "head.weight"`) {
		t.Errorf("strict: %v", err)
	}
	if err := Check(sd, e, false); err != nil {
		t.Errorf("non-strict: %v", err)
	}
	delete(sd, "blocks.0.attn.qkv.bias")
	if err := Check(sd, e, false); err == nil || !strings.Contains(err.Error(), `missing tensor "blocks.0.attn.qkv.bias"`) {
		t.Errorf("missing: %v", err)
	}
}

func TestCheckMobileNet(t *testing.T) {
	for _, name := range []string{"mobilenet_v1", "mobilenet_v2", "tf2_mobilenet_v2"} {
		e, _ := Lookup(name)
		p := "../../shared/weights/" + e.FileName
		if _, err := os.Stat(p); err != nil {
			t.Skipf("shared weights absent: %v", err)
		}
		if err := VerifyFile(p, e, true); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		s := &Store{CacheDir: t.TempDir()}
		if _, known, err := s.CheckFile(p, e); err != nil || !known {
			t.Errorf("%s: SHA-256 check: known %v, %v", name, known, err)
		}
	}
	// Each MobileNet file is refused as the other one (V1 has too few
	// tensors for V2; V2 has V1's tensor count but lacks its signature).
	for _, pair := range [][2]string{{"mobilenet_v1", "mobilenet_v2"}, {"mobilenet_v2", "mobilenet_v1"}} {
		file, _ := Lookup(pair[0])
		as, _ := Lookup(pair[1])
		err := VerifyFile("../../shared/weights/"+file.FileName, as, false)
		if err == nil || !strings.Contains(err.Error(), pair[1]+":") {
			t.Errorf("%s file verified as %s: %v", pair[0], pair[1], err)
		}
	}
	// A ViT checkpoint is not a MobileNet graph.
	e, _ := Lookup("mobilenet_v2")
	if err := VerifyFile("testdata/tiny_vit.pt", e, false); err == nil {
		t.Error("tiny ViT accepted as MobileNet V2")
	}
}
