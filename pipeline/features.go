package pipeline

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/preprocess"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/tta"
	"github.com/anomclust/anomclust/weights"
)

// zVersion changes whenever the code computing Z changes in a way that
// changes Z, so that older cache entries become misses.
const zVersion = "anomclust-z/2" // 2: Winograd F(4x4) convs in ResNets (Z differs ~1e-6)

// objectCropVersion changes whenever preprocess.ObjectBox changes the
// boxes it finds (its cache entries become misses).
const objectCropVersion = "2" // 2: compact parts turned by their rotational harmonic

// net is the backbone of a run and what identifies its weights.
type net struct {
	bb     backbone.Backbone
	file   string // weights file ("" when given as Options.Net)
	sha256 string // the file's SHA-256 ("" when given as Options.Net)
	id     string // what identifies the weights in the cache key: sha256 or Options.NetID
	random bool   // Options.NetRandom
}

// openNet builds the backbone: Options.Net as given, or the registry's
// architecture with its weights found by the weights store.
func openNet(ctx context.Context, o *Options, log io.Writer) (*net, error) {
	if o.in.merge != nil {
		return o.in.merge.net(), nil // the embed stage's, recorded (shard.go)
	}
	if o.Net != nil {
		// Without NetID nothing tells two Nets of one Name apart, so
		// their Z must not share cache entries (newExtractor refuses the
		// cache then).
		return &net{bb: o.Net, id: o.NetID, random: o.NetRandom}, nil
	}
	a, err := zoo.Lookup(o.Backbone)
	if err != nil {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownBackbone, o.Backbone, strings.Join(zoo.Names(), ", "))
	}
	e := a.Entry
	store := o.Store
	if store == nil {
		if store, err = weights.NewStore(); err != nil {
			return nil, err
		}
	}
	path, err := store.Resolve(ctx, e, o.Weights)
	if err != nil {
		return nil, fmt.Errorf("weights for %s: %w", o.Backbone, err)
	}
	sum, _, err := store.CheckFile(path, e)
	switch {
	case err != nil && o.Weights != "" && sum != "":
		// A file given explicitly may differ from the registry's on
		// purpose (fine-tuned, converted); its own SHA-256 is in the cache
		// key, so its Z never mix with the official file's. It must still
		// pass `weights verify` for this backbone (every tensor's name and
		// shape). Files found in the cache or the weights path must match.
		if cerr := checkWeightsFile(path, e); cerr != nil {
			return nil, cerr
		}
		fmt.Fprintf(log, "warning: %v; its tensors fit %s, using it as given\n", err, o.Backbone)
	case err != nil:
		return nil, fmt.Errorf("weights for %s: %w", o.Backbone, err)
	}
	// Only the stages up to the deepest tap are built (a ResNet's later
	// stages would cost memory and build time for nothing).
	bb, err := zoo.Open(ctx, o.Backbone, path, o.Layers...)
	if err != nil {
		return nil, fmt.Errorf("backbone %s from %s: %w", o.Backbone, path, err)
	}
	return &net{bb: bb, file: path, sha256: sum, id: sum}, nil
}

// checkLayers verifies the layer names against the backbone. Names not in
// Layers() (e.g. MobileNet's "op<i>") are tried with a forward pass on a
// blank image, which the backbone rejects with its own error if unknown.
func checkLayers(n *net, o *Options) error {
	known := n.bb.Layers()
	var other []string
	for _, l := range o.Layers {
		if !slices.Contains(known, l) {
			other = append(other, l)
		}
	}
	if len(other) == 0 {
		return nil
	}
	blank := tensor.New(o.ImageSize, o.ImageSize, 3)
	if _, err := n.bb.Forward([]*tensor.Tensor{blank}, other); err != nil {
		return fmt.Errorf("backbone %s: %w %q (valid: %s)", n.bb.Name(), ErrUnknownLayer, strings.Join(other, ","), strings.Join(known, ", "))
	}
	return nil
}

// cacheSettings lists every setting that changes Z, for the cache key.
func cacheSettings(n *net, o *Options) []string {
	p := n.bb.Preprocess()
	f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
	s := []string{
		zVersion,
		"backbone=" + n.bb.Name(),
		"weights=" + n.id,
		"layers=" + strings.Join(o.Layers, ","),
		"image_size=" + strconv.Itoa(o.ImageSize),
		"resize=" + strconv.Itoa(o.Resize),
		fmt.Sprintf("mean=%s,%s,%s", f(p.Mean[0]), f(p.Mean[1]), f(p.Mean[2])),
		fmt.Sprintf("std=%s,%s,%s", f(p.Std[0]), f(p.Std[1]), f(p.Std[2])),
		"patchsize=" + strconv.Itoa(o.PatchSize),
		"pretrain=" + strconv.Itoa(o.PretrainDim),
		"target=" + strconv.Itoa(o.TargetDim),
		"layernorm=" + strconv.FormatBool(o.LayerNorm),
	}
	if o.ObjectCrop {
		// Only when on, so the keys of earlier runs stay valid.
		s = append(s, "object_crop="+objectCropVersion)
	}
	if o.ObjectAlign {
		s = append(s, "object_align="+objectCropVersion)
	}
	if v, _ := tta.Parse(o.TTA); !v.IsNone() {
		s = append(s, "tta="+string(v))
	}
	if finerLater(n.bb.Layers(), o.Layers) {
		// Such a layer is block-averaged onto the grid (patchfeat); it
		// was resized bilinearly before. Only then, so
		// the keys of every other run stay valid.
		s = append(s, "finer_later=area")
	}
	return s
}

// finerLater reports whether a tap after the first comes before it in the
// backbone's forward order (all of Layers), so it may be a finer map than
// the grid's; taps Layers does not list count as in order.
func finerLater(all, taps []string) bool {
	if len(taps) < 2 {
		return false
	}
	first := slices.Index(all, taps[0])
	if first < 0 {
		return false
	}
	for _, l := range taps[1:] {
		if i := slices.Index(all, l); i >= 0 && i < first {
			return true
		}
	}
	return false
}

// extractor computes Z for image files: from the cache when it has a valid
// entry, else decode + preprocess + backbone + patch embeddings, stored in
// the cache.
type extractor struct {
	net   *net
	opt   *Options
	pre   preprocess.Options
	cache *featcache.Cache // nil: no cache
	log   io.Writer
	memo  keyMemo // the images' cache keys, hashed once per run
	// tta are the test-time augmentations computed from one set of
	// backbone passes (ttaVariants): the extractor's own first, then
	// those only stored in side (Options.TTAAlso; nil without a cache).
	tta   []tta.Variant
	side  []*featcache.Cache
	logMu sync.Mutex // log lines from the pre-flight check's goroutines

	hits, misses int
}

// openExtractor opens the backbone of o (openNet), checks the requested
// taps (checkLayers) and returns the patch feature extractor over it.
func openExtractor(ctx context.Context, o *Options, log io.Writer) (*extractor, error) {
	n, err := openNet(ctx, o, log)
	if err != nil {
		return nil, err
	}
	if err := checkLayers(n, o); err != nil {
		return nil, err
	}
	return newExtractor(n, o, log)
}

func newExtractor(n *net, o *Options, log io.Writer) (*extractor, error) {
	p := n.bb.Preprocess()
	x := &extractor{net: n, opt: o, log: log,
		pre: preprocess.Options{Resize: o.Resize, Crop: o.ImageSize, Mean: p.Mean, Std: p.Std, ObjectCrop: o.ObjectCrop, ObjectAlign: o.ObjectAlign}}
	if o.Cache != "" && n.id == "" {
		fmt.Fprintf(log, "feature cache not used: Options.Net %q has no NetID to tell its weights apart\n", n.bb.Name())
	}
	return x, x.open()
}

// open sets the extractor's augmentations and opens its feature cache
// (and the side caches of Options.TTAAlso) for its options: every
// setting of cacheSettings is in the key.
func (x *extractor) open() error {
	x.tta = ttaVariants(x.opt)
	x.cache, x.side = nil, nil
	if x.opt.Cache == "" || x.net.id == "" {
		return nil
	}
	c, err := featcache.Open(x.opt.Cache, cacheSettings(x.net, x.opt)...)
	if err != nil {
		return err
	}
	x.cache = c
	for _, v := range x.tta[1:] {
		o := *x.opt
		o.TTA, o.TTAAlso = string(v), nil
		c, err := featcache.Open(o.Cache, cacheSettings(x.net, &o)...)
		if err != nil {
			return err
		}
		x.side = append(x.side, c)
	}
	return nil
}

// decoded is one preprocessed image on its way to the backbone.
type decoded struct {
	idx int
	x   *tensor.Tensor
	err error
}

// Z returns the patch embeddings of every path, (M, D) each, in order.
// Memory: the preprocessed images of at most two batches at a time (one
// being decoded while the other runs), plus the Z's.
func (x *extractor) Z(ctx context.Context, paths []string, what string, progress io.Writer) ([]*tensor.Tensor, error) {
	z, _, err := x.zKeys(ctx, paths, what, progress, true)
	return z, err
}

// zKeys is Z that also returns the images' cache keys. With keep false
// (only with a cache) it makes sure every Z is in the cache and keeps none
// of them: the returned slice is all nil (see cacheSource).
func (x *extractor) zKeys(ctx context.Context, paths []string, what string, progress io.Writer, keep bool) ([]*tensor.Tensor, []featcache.ImageKey, error) {
	z := make([]*tensor.Tensor, len(paths))
	keys := make([]featcache.ImageKey, len(paths))
	var todo []int
	var scratch []float32
	for i, p := range paths {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		k, err := x.memo.keyOf(p)
		if err != nil {
			return nil, nil, fmt.Errorf("read image %s: %w", p, err)
		}
		keys[i] = k
		if x.cache != nil {
			var data []float32
			var rows, cols int
			if keep {
				data, rows, cols, err = x.cache.Get(k)
			} else {
				data, rows, cols, err = x.cache.GetInto(k, scratch)
				scratch = data
			}
			if err == nil && cols == x.opt.TargetDim {
				if keep {
					z[i] = tensor.From(data, rows, cols)
				}
				x.hits++
				continue
			}
			if err != nil && err != featcache.ErrMiss {
				// Get wraps ErrMiss with the reason when an entry exists
				// but is corrupt, truncated or stale; plain ErrMiss is absent.
				fmt.Fprintf(x.log, "feature cache: %v; recomputing\n", err)
			}
		}
		x.misses++
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		return z, keys, nil
	}
	bar := newBar(progress, len(todo), what)
	defer bar.Finish()

	// A decoder goroutine keeps up to one batch of preprocessed images
	// ready while the backbone works on the current batch.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan decoded, x.opt.Batch)
	go func() {
		defer close(ch)
		for _, i := range todo {
			r, err := x.pre.Load(paths[i])
			select {
			case ch <- decoded{idx: i, x: r.X, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	batch := make([]decoded, 0, x.opt.Batch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		imgs := make([]*tensor.Tensor, len(batch))
		for k, d := range batch {
			imgs[k] = d.x
		}
		zv, err := x.embed(imgs, x.tta)
		if err != nil {
			return fmt.Errorf("backbone %s on %s: %w", x.net.bb.Name(), paths[batch[0].idx], err)
		}
		for k, d := range batch {
			zi := zv[0][k]
			z[d.idx] = zi
			if x.cache != nil {
				if err := x.cache.Put(keys[d.idx], zi.Data, zi.Shape[0], zi.Shape[1]); err != nil {
					return err
				}
				for j, c := range x.side {
					zj := zv[j+1][k]
					if err := c.Put(keys[d.idx], zj.Data, zj.Shape[0], zj.Shape[1]); err != nil {
						return err
					}
				}
				if !keep {
					z[d.idx] = nil
				}
			}
		}
		bar.Add(len(batch))
		batch = batch[:0]
		return nil
	}
	for d := range ch {
		if d.err != nil {
			return nil, nil, d.err // names the file (preprocess.Load)
		}
		batch = append(batch, d)
		if len(batch) == x.opt.Batch {
			if err := flush(); err != nil {
				return nil, nil, err
			}
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if err := flush(); err != nil {
		return nil, nil, err
	}
	return z, keys, nil
}

// barT is a progress bar.
type barT = progressbar.ProgressBar

// newUnitsBar is a bar counting units of score work (image pairs or
// queries).
func newUnitsBar(w io.Writer, n int, what string) *barT {
	if w == nil {
		w = io.Discard
	}
	return progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// newBar returns a progress bar of n images on w, or a silent one when w
// is nil; its rate appears once it can be estimated (imgBar).
func newBar(w io.Writer, n int, what string) *imgBar {
	return newBarClock(w, n, what, time.Now)
}

func newBarClock(w io.Writer, n int, what string, now func() time.Time) *imgBar {
	if w == nil {
		w = io.Discard
	}
	return newImgBar(progressbar.NewOptions(n,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("img"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	), now)
}

// gridOf returns the side of the square patch grid of M patches (crops
// are square, so the first layer's grid is too).
func gridOf(m int) (int, error) {
	g := int(math.Round(math.Sqrt(float64(m))))
	if g*g != m {
		return 0, fmt.Errorf("%d patches do not form a square grid", m)
	}
	return g, nil
}
