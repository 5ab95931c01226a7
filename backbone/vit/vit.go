// Package vit is the Vision Transformer of DINO (facebookresearch/dino
// vision_transformer.py), timm's supervised ViT (same key names for the
// parts used here) and DINOv2 (facebookresearch/dinov2: layer scale
// ls1/ls2, mask_token, optional register tokens), as a frozen feature
// extractor.
//
// A model is patch_embed.proj -> [CLS, (registers,) patch tokens] + pos_embed
// -> blocks.0 .. blocks.{depth-1} -> norm, with pre-norm blocks
// x += ls1(attn(norm1(x))); x += ls2(mlp(norm2(x))). Tapped token sequences
// become channels-last maps (H/p, W/p, C) with the CLS and register tokens
// dropped (docs/METHOD.md §2).
package vit

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/tensor"
)

// Config is the architecture of a ViT checkpoint.
type Config struct {
	Name       string
	Patch      int     // patch size in pixels (8, 14, 16)
	Dim        int     // embedding dimension C
	Depth      int     // number of blocks
	Heads      int     // attention heads; head dim = Dim/Heads
	MLPRatio   float64 // MLP hidden = int(Dim*MLPRatio); 4 for all models here
	Eps        float64 // LayerNorm eps; 1e-6 for DINO, timm and DINOv2
	ImgSize    int     // training resolution: pos_embed has (ImgSize/Patch)^2 + 1 rows
	Registers  int     // DINOv2 register tokens (0 or 4 in the releases)
	LayerScale bool    // DINOv2's ls1.gamma / ls2.gamma
	// InterpolateOffset is DINO's "+0.1" kludge in interpolate_pos_encoding:
	// when non-zero the position grid is resized with
	// scale_factor=((h0+offset)/M, (w0+offset)/M) (torch then maps source
	// coordinates with that scale, not with h0/M); zero means size=(h0, w0)
	// as in the DINOv2 register models.
	InterpolateOffset float64
	// InterpolateAntialias resizes the position grid with antialias=True
	// (the DINOv2 register models).
	InterpolateAntialias bool
	// Preprocess is the image preparation the weights expect.
	Preprocess backbone.Preprocess
	// NumClasses is the width of the classifier head a checkpoint holds
	// (timm: 1000; 0 for DINO and DINOv2). Params lists it; New ignores it.
	NumClasses int
	// MaskToken marks DINOv2 checkpoints, which hold a mask_token for
	// masked training. Params lists it; New ignores it.
	MaskToken bool
}

// DINO returns the config of facebookresearch/dino's vit_small (dim 384, 6
// heads) or vit_base (768, 12) with the given patch size (8 or 16):
// dino_vits8, dino_vits16, dino_vitb8, dino_vitb16.
func DINO(name string, base bool, patch int) Config {
	c := Config{Name: name, Patch: patch, Dim: 384, Depth: 12, Heads: 6, MLPRatio: 4, Eps: 1e-6,
		ImgSize: 224, InterpolateOffset: 0.1, Preprocess: backbone.ImageNet()}
	if base {
		c.Dim, c.Heads = 768, 12
	}
	return c
}

// TimmBase returns timm's supervised vit_base_patch{8,16}_224 (the seed's
// "ViT Base"). Its key names match DINO's for everything used here (the
// head is ignored). timm trained it with mean = std = 0.5 and a bicubic
// resize; Preprocess keeps the ImageNet preparation the seed applies to
// every backbone, which a registry may override.
func TimmBase(name string, patch int) Config {
	c := DINO(name, true, patch)
	c.NumClasses = 1000
	return c
}

// DINOv2 returns facebookresearch/dinov2's dinov2_vit{s,b}14 (registers =
// 0: pos_embed for 518 px, layer scale, offset-0.1 interpolation) or
// dinov2_vit{s,b}14_reg (registers = 4: size= interpolation with
// antialiasing), as hubconf builds them.
func DINOv2(name string, base bool, registers int) Config {
	c := DINO(name, base, 14)
	c.ImgSize, c.LayerScale, c.MaskToken, c.Registers = 518, true, true, registers
	if registers > 0 {
		c.InterpolateOffset, c.InterpolateAntialias = 0, true
	}
	return c
}

// block is one pre-norm transformer block (DINO's Block, DINOv2's
// NestedTensorBlock in eval mode); ls1/ls2 are nil without layer scale.
type block struct {
	norm1, norm2 *tensor.LayerNorm
	qkv, proj    *tensor.Linear
	fc1, fc2     *tensor.Linear
	ls1, ls2     []float32
}

// Model is a ViT ready for inference; safe for concurrent use.
type Model struct {
	cfg        Config
	patchEmbed *tensor.Conv2d
	clsToken   []float32 // (C)
	posEmbed   []float32 // (1 + M*M, C): CLS position, then an M x M grid
	gridM      int
	registers  []float32 // (Registers, C)
	blocks     []block
	norm       *tensor.LayerNorm
	rowChunk   int // tokens per row-wise chunk in a block (see block.forward)
}

// New builds a ViT of architecture cfg from a state_dict with DINO/timm/DINOv2
// keys (a "module." or "backbone." prefix is stripped). Shapes are checked;
// unused keys (head.*, mask_token, DINO head) are ignored.
func New(cfg Config, sd checkpoint.StateDict) (*Model, error) {
	sd = stripPrefix(sd)
	if cfg.Dim <= 0 || cfg.Heads <= 0 || cfg.Dim%cfg.Heads != 0 || cfg.Patch <= 0 || cfg.Depth <= 0 {
		return nil, fmt.Errorf("vit %s: invalid config %+v", cfg.Name, cfg)
	}
	if cfg.MLPRatio == 0 {
		cfg.MLPRatio = 4
	}
	if cfg.Eps == 0 {
		cfg.Eps = 1e-6
	}
	C := cfg.Dim
	l := loader{sd: sd}
	m := &Model{cfg: cfg, rowChunk: defaultRowChunk}
	if w := l.get("patch_embed.proj.weight", C, 3, cfg.Patch, cfg.Patch); w != nil {
		b := l.get("patch_embed.proj.bias", C)
		if l.err == nil {
			m.patchEmbed, l.err = tensor.NewConv2d(tensor.ConvSpec{InC: 3, OutC: C, KH: cfg.Patch, KW: cfg.Patch, Stride: cfg.Patch}, w, b)
		}
	}
	m.clsToken = l.get("cls_token", 1, 1, C)
	if pe, err := sd.Get("pos_embed"); err == nil {
		if len(pe.Shape) != 3 || pe.Shape[2] != C {
			l.fail(fmt.Errorf("pos_embed has shape %v, want (1, 1+M*M, %d)", pe.Shape, C))
		} else {
			n := pe.Shape[1] - 1
			m.gridM = int(math.Round(math.Sqrt(float64(n))))
			if m.gridM*m.gridM != n {
				l.fail(fmt.Errorf("pos_embed has %d patch positions, not a square grid", n))
			}
			m.posEmbed = pe.Data
		}
	} else {
		l.fail(err)
	}
	if cfg.Registers > 0 {
		m.registers = l.get("register_tokens", 1, cfg.Registers, C)
	}
	hidden := int(float64(C) * cfg.MLPRatio)
	for i := 0; i < cfg.Depth; i++ {
		p := "blocks." + strconv.Itoa(i) + "."
		b := block{
			norm1: l.layerNorm(p+"norm1", C, cfg.Eps),
			qkv:   l.linear(p+"attn.qkv", 3*C, C),
			proj:  l.linear(p+"attn.proj", C, C),
			norm2: l.layerNorm(p+"norm2", C, cfg.Eps),
			fc1:   l.linear(p+"mlp.fc1", hidden, C),
			fc2:   l.linear(p+"mlp.fc2", C, hidden),
		}
		if cfg.LayerScale {
			b.ls1 = l.get(p+"ls1.gamma", C)
			b.ls2 = l.get(p+"ls2.gamma", C)
		}
		m.blocks = append(m.blocks, b)
	}
	m.norm = l.layerNorm("norm", C, cfg.Eps)
	if l.err != nil {
		return nil, fmt.Errorf("vit %s: %w", cfg.Name, l.err)
	}
	return m, nil
}

// defaultRowChunk is the number of tokens processed together by the
// row-wise steps of a block (~1.3 images of ViT-B/8).
const defaultRowChunk = 1024

// stripPrefix removes a "module." or "backbone." prefix that DINO training
// checkpoints and wrapped models put before every key.
func stripPrefix(sd checkpoint.StateDict) checkpoint.StateDict {
	if _, ok := sd["cls_token"]; ok {
		return sd
	}
	for _, pre := range []string{"module.", "backbone.", "module.backbone."} {
		if _, ok := sd[pre+"cls_token"]; ok {
			out := checkpoint.StateDict{}
			for k, v := range sd {
				if rest, ok := strings.CutPrefix(k, pre); ok {
					out[rest] = v
				}
			}
			return out
		}
	}
	return sd
}

// loader reads tensors from a state dict, keeping the first error.
type loader struct {
	sd  checkpoint.StateDict
	err error
}

func (l *loader) fail(err error) {
	if l.err == nil {
		l.err = err
	}
}

func (l *loader) get(name string, shape ...int) []float32 {
	if l.err != nil {
		return nil
	}
	t, err := l.sd.Get(name, shape...)
	if err != nil {
		l.fail(err)
		return nil
	}
	return t.Data
}

func (l *loader) linear(name string, out, in int) *tensor.Linear {
	w, b := l.get(name+".weight", out, in), l.get(name+".bias", out)
	if l.err != nil {
		return nil
	}
	lin, err := tensor.NewLinear(out, in, w, b)
	if err != nil {
		l.fail(fmt.Errorf("%s: %w", name, err))
	}
	return lin
}

func (l *loader) layerNorm(name string, c int, eps float64) *tensor.LayerNorm {
	w, b := l.get(name+".weight", c), l.get(name+".bias", c)
	if l.err != nil {
		return nil
	}
	ln, err := tensor.NewLayerNorm(w, b, eps)
	if err != nil {
		l.fail(fmt.Errorf("%s: %w", name, err))
	}
	return ln
}

// Config returns the architecture the model was built with.
func (m *Model) Config() Config { return m.cfg }

// Layers lists the taps in forward order: blocks.0 .. blocks.{depth-1}
// (block outputs, before the final norm), then norm.
func (m *Model) Layers() []string {
	names := make([]string, 0, len(m.blocks)+1)
	for i := range m.blocks {
		names = append(names, "blocks."+strconv.Itoa(i))
	}
	return append(names, "norm")
}

// layerIndex maps a tap name to the number of blocks to run (depth+1 for
// norm), or -1.
func (m *Model) layerIndex(name string) int {
	if name == "norm" {
		return len(m.blocks) + 1
	}
	if rest, ok := strings.CutPrefix(name, "blocks."); ok {
		if i, err := strconv.Atoi(rest); err == nil && i >= 0 && i < len(m.blocks) && strconv.Itoa(i) == rest {
			return i + 1
		}
	}
	return -1
}

// ForwardBatch runs the network on a batch x of shape (N, H, W, 3)
// (channels-last, normalised) and returns the requested taps as
// (N, H/p, W/p, C) maps, stopping after the last block needed. As in DINO,
// a size that is not a multiple of the patch drops the remainder.
func (m *Model) ForwardBatch(x *tensor.Tensor, layers []string) (map[string]*tensor.Tensor, error) {
	if len(x.Shape) != 4 || x.Shape[3] != 3 {
		return nil, fmt.Errorf("vit %s: input shape %v, want (N, H, W, 3)", m.cfg.Name, x.Shape)
	}
	n, H, W := x.Shape[0], x.Shape[1], x.Shape[2]
	p := m.cfg.Patch
	if H < p || W < p {
		return nil, fmt.Errorf("vit %s: input %dx%d smaller than a %d px patch", m.cfg.Name, H, W, p)
	}
	last := 0
	for _, name := range layers {
		i := m.layerIndex(name)
		if i < 0 {
			return nil, fmt.Errorf("vit %s: unknown layer %q (blocks.0 .. blocks.%d, norm)", m.cfg.Name, name, len(m.blocks)-1)
		}
		last = max(last, i)
	}
	out := make(map[string]*tensor.Tensor, len(layers))
	if last == 0 {
		return out, nil
	}
	gh, gw := H/p, W/p
	pos, err := m.positions(gh, gw, H, W)
	if err != nil {
		return nil, err
	}
	C := m.cfg.Dim
	R := m.cfg.Registers
	T := 1 + R + gh*gw
	patches := m.patchEmbed.Forward(x) // (N, gh, gw, C)
	// prepare_tokens: [CLS, patches] + pos_embed, then (DINOv2) the
	// registers inserted after CLS without a position embedding.
	tok := tensor.New(n, T, C)
	for i := 0; i < n; i++ {
		seq := tok.Data[i*T*C : (i+1)*T*C]
		for c := 0; c < C; c++ {
			seq[c] = m.clsToken[c] + pos[c]
		}
		copy(seq[C:(1+R)*C], m.registers)
		src := patches.Data[i*gh*gw*C : (i+1)*gh*gw*C]
		dst := seq[(1+R)*C:]
		pp := pos[C:]
		for j := range dst {
			dst[j] = src[j] + pp[j]
		}
	}
	grid := func(t *tensor.Tensor) *tensor.Tensor {
		g := tensor.New(n, gh, gw, C)
		for i := 0; i < n; i++ {
			copy(g.Data[i*gh*gw*C:(i+1)*gh*gw*C], t.Data[(i*T+1+R)*C:(i+1)*T*C])
		}
		return g
	}
	sc := newScratch(n, T, C, m.blocks[0].fc1.Out, m.rowChunk)
	for i := 0; i < len(m.blocks) && i < last; i++ {
		m.blocks[i].forward(tok, m.cfg.Heads, m.rowChunk, sc)
		if name := "blocks." + strconv.Itoa(i); slices.Contains(layers, name) {
			out[name] = grid(tok)
		}
	}
	if last > len(m.blocks) {
		out["norm"] = grid(m.norm.Forward(tok))
	}
	return out, nil
}

// forward updates the token batch x (N, T, C) in place:
// x += ls1(attn(norm1(x))); x += ls2(mlp(norm2(x))).
//
// Row-wise steps (everything but the attention itself) run on chunks of
// rowChunk tokens, so the MLP's 4C-wide hidden map (sc.hidden) holds one
// chunk (12 MB for ViT-B) rather than the batch (77 MB for 8 images of
// ViT-B/8).
// Chunks are tall enough for both cores; speed was measured unchanged from
// 256 to whole-batch chunks.
func (b *block) forward(x *tensor.Tensor, heads int, rowChunk int, sc *scratch) {
	n, t, c := x.Shape[0], x.Shape[1], x.Shape[2]
	rows := n * t
	hid := b.fc1.Out
	forChunks(rows, rowChunk, func(lo, hi int) {
		y := tensor.From(sc.norm[:(hi-lo)*c], hi-lo, c)
		b.norm1.ForwardInto(y, tensor.From(x.Data[lo*c:hi*c], hi-lo, c))
		b.qkv.ForwardInto(tensor.From(sc.qkv.Data[lo*3*c:hi*3*c], hi-lo, 3*c), y)
	})
	tensor.AttentionInto(sc.attn, sc.qkv, heads)
	forChunks(rows, rowChunk, func(lo, hi int) {
		xs := tensor.From(x.Data[lo*c:hi*c], hi-lo, c)
		y := tensor.From(sc.norm[:(hi-lo)*c], hi-lo, c)
		b.addResidual(xs, b.proj, tensor.From(sc.attn.Data[lo*c:hi*c], hi-lo, c), b.ls1, y)
		b.norm2.ForwardInto(y, xs)
		h := tensor.From(sc.hidden[:(hi-lo)*hid], hi-lo, hid)
		b.fc1.ForwardGELUInto(h, y)
		b.addResidual(xs, b.fc2, h, b.ls2, y)
	})
}

// scratch holds a forward pass's intermediate maps, allocated once and
// reused by every block: the qkv and attention maps of the whole batch and
// the per-chunk LayerNorm and MLP hidden rows. Fresh ones per block would be
// allocated and zeroed again each time (~80 MB per block for 8 images of
// ViT-B/8), which cost a few percent of the forward pass.
type scratch struct {
	qkv, attn    *tensor.Tensor // (N, T, 3C), (N, T, C)
	norm, hidden []float32      // rowChunk x C, rowChunk x hidden
}

func newScratch(n, t, c, hidden, rowChunk int) *scratch {
	chunk := n * t
	if rowChunk > 0 {
		chunk = min(chunk, rowChunk)
	}
	return &scratch{qkv: tensor.New(n, t, 3*c), attn: tensor.New(n, t, c),
		norm: make([]float32, chunk*c), hidden: make([]float32, chunk*hidden)}
}

// addResidual sets x += ls(l(in)): without layer scale the GEMM adds the
// product and bias into x in its epilogue (no intermediate tensor); with it
// the product goes through buf (x's shape) first.
func (b *block) addResidual(x *tensor.Tensor, l *tensor.Linear, in *tensor.Tensor, ls []float32, buf *tensor.Tensor) {
	if ls == nil {
		l.AddForward(x, in)
		return
	}
	l.ForwardInto(buf, in)
	scaleChannels(buf, ls)
	tensor.Add(x, buf)
}

// forChunks calls f on consecutive ranges [lo, hi) of at most chunk of
// [0, n) (all of it when chunk <= 0).
func forChunks(n, chunk int, f func(lo, hi int)) {
	if chunk <= 0 {
		chunk = n
	}
	for lo := 0; lo < n; lo += chunk {
		f(lo, min(lo+chunk, n))
	}
}

// scaleChannels multiplies every row of x by gamma (LayerScale); nil gamma
// is the identity.
func scaleChannels(x *tensor.Tensor, gamma []float32) {
	if gamma == nil {
		return
	}
	c := len(gamma)
	for r := 0; r+c <= len(x.Data); r += c {
		row := x.Data[r : r+c]
		for i, g := range gamma {
			row[i] *= g
		}
	}
}

// positions returns the (1 + gh*gw, C) position embeddings for a gh x gw
// token grid of an H x W input: the checkpoint's when the grid is the same
// and the image square, otherwise interpolate_pos_encoding of DINO/DINOv2.
func (m *Model) positions(gh, gw, H, W int) ([]float32, error) {
	M, C := m.gridM, m.cfg.Dim
	// DINO: "if npatch == N and w == h: return self.pos_embed" (pixel sizes).
	if gh*gw == M*M && H == W {
		return m.posEmbed, nil
	}
	g := tensor.From(m.posEmbed[C:], M, M, C)
	var r *tensor.Tensor
	switch off := m.cfg.InterpolateOffset; {
	case m.cfg.InterpolateAntialias:
		var sh, sw float64
		if off != 0 {
			sh, sw = (float64(gh)+off)/float64(M), (float64(gw)+off)/float64(M)
		}
		r = resizeBicubicAA(g, gh, gw, sh, sw)
	case off != 0:
		r = tensor.ResizeScale(g, (float64(gh)+off)/float64(M), (float64(gw)+off)/float64(M), tensor.Bicubic)
	default:
		r = tensor.Resize(g, gh, gw, tensor.Bicubic)
	}
	if r.Shape[0] != gh || r.Shape[1] != gw {
		// DINO asserts the same.
		return nil, fmt.Errorf("vit %s: position grid %dx%d interpolated to %dx%d, want %dx%d",
			m.cfg.Name, M, M, r.Shape[0], r.Shape[1], gh, gw)
	}
	return append(slices.Clip(m.posEmbed[:C]), r.Data...), nil
}

// Backbone adapts a Model to the backbone.Backbone interface.
func (m *Model) Backbone() backbone.Backbone { return adapter{m} }

type adapter struct{ m *Model }

func (a adapter) Name() string                    { return a.m.cfg.Name }
func (a adapter) Layers() []string                { return a.m.Layers() }
func (a adapter) Preprocess() backbone.Preprocess { return a.m.cfg.Preprocess }
func (a adapter) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	return backbone.ForwardEach(images, layers, a.m.ForwardBatch)
}
