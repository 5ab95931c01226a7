// Package synth draws a small synthetic defect data set in MVTec AD layout,
// for integration tests and a demo that needs no downloaded data:
// procedural textures (a woven fabric, wood grain) and an object (a turned
// metal disc), each with several visually distinct defect types and
// ground-truth masks.
//
// Layout written under the output folder, per category:
//
//	<cat>/train/good/NNN.png
//	<cat>/test/good/NNN.png
//	<cat>/test/<type>/NNN.png
//	<cat>/ground_truth/<type>/NNN_mask.png   (255 where the defect is)
//	synth.json                               (the settings; see Generate)
//
// Every image is drawn from its own PCG stream seeded by (Seed, its path),
// so the set is identical for the same options, whatever the order or
// parallelism of drawing.
package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Options size the data set.
type Options struct {
	Categories int    // how many categories, 1..3 (weave, wood, disc in that order)
	Train      int    // train/good images per category
	PerType    int    // test images per defect type, and test/good images
	Size       int    // image side in pixels (at least 64)
	Seed       uint64 // same seed and options: byte-identical files
}

// Default is 2 categories of 20 train images, 10 good and 3 defect types x
// 10 test images, 256 px.
func Default() Options {
	return Options{Categories: 2, Train: 20, PerType: 10, Size: 256, Seed: 0}
}

// CategoryNames returns the names of the first n categories.
func CategoryNames(n int) []string {
	var out []string
	for i, k := range kinds() {
		if i < n {
			out = append(out, k.name)
		}
	}
	return out
}

// DefectTypes returns the defect types of a category name, nil if unknown.
func DefectTypes(category string) []string {
	for _, k := range kinds() {
		if k.name == category {
			return append([]string(nil), k.defects...)
		}
	}
	return nil
}

func (o Options) validate() error {
	if nk := len(kinds()); o.Categories < 1 || o.Categories > nk {
		return fmt.Errorf("synth: categories %d: want 1 to %d", o.Categories, nk)
	}
	if o.Train < 0 || o.PerType < 1 {
		return fmt.Errorf("synth: train %d, per-type %d: want train >= 0 and per-type >= 1", o.Train, o.PerType)
	}
	if o.Size < 64 || o.Size > 4096 {
		return fmt.Errorf("synth: size %d: want 64 to 4096 pixels", o.Size)
	}
	return nil
}

// manifest is synth.json: what made the folder, so that a second run with
// the same settings can tell it has nothing to do.
type manifest struct {
	Generator  string              `json:"generator"`
	Options    Options             `json:"options"`
	Categories map[string][]string `json:"categories"` // name -> defect types
}

// generatorVersion changes whenever the drawing changes, so that an old
// folder is not mistaken for a current one.
const generatorVersion = "anomclust synth 1"

// Result says what Generate did.
type Result struct {
	Dir      string
	Images   int  // image files written (masks not counted)
	UpToDate bool // dir already held this exact set; nothing was written
}

// job is one image to draw.
type job struct {
	kind   kind
	rel    string // path of the image relative to the output folder
	defect string // "" for a good image
}

// Generate writes the data set to dir.
//
// The folder appears atomically: everything is written to a hidden temporary
// folder beside dir, which is renamed to dir at the end (on error or
// cancellation the temporary folder is removed). If dir already exists it
// must be empty, or hold a set this generator made with the same options,
// in which case Generate does nothing and reports UpToDate; anything else is
// refused rather than merged, so that no stale image survives in the set.
func Generate(ctx context.Context, dir string, o Options) (Result, error) {
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	man := manifest{Generator: generatorVersion, Options: o, Categories: map[string][]string{}}
	var jobs []job
	for i, k := range kinds() {
		if i >= o.Categories {
			break
		}
		man.Categories[k.name] = k.defects
		for j := 0; j < o.Train; j++ {
			jobs = append(jobs, job{kind: k, rel: filepath.Join(k.name, "train", "good", fmt.Sprintf("%03d.png", j))})
		}
		for j := 0; j < o.PerType; j++ {
			jobs = append(jobs, job{kind: k, rel: filepath.Join(k.name, "test", "good", fmt.Sprintf("%03d.png", j))})
		}
		for _, d := range k.defects {
			for j := 0; j < o.PerType; j++ {
				jobs = append(jobs, job{kind: k, defect: d, rel: filepath.Join(k.name, "test", d, fmt.Sprintf("%03d.png", j))})
			}
		}
	}
	manBytes, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return Result{}, err
	}
	manBytes = append(manBytes, '\n')
	res := Result{Dir: dir, Images: len(jobs)}

	switch entries, err := os.ReadDir(dir); {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return Result{}, fmt.Errorf("synth: %w", err)
	case len(entries) > 0:
		old, err := os.ReadFile(filepath.Join(dir, "synth.json"))
		if err == nil && bytes.Equal(old, manBytes) {
			res.UpToDate = true
			return res, nil
		}
		if err == nil {
			return Result{}, fmt.Errorf("synth: %s holds a synthetic set made with other settings; remove it or choose another output folder", dir)
		}
		return Result{}, fmt.Errorf("synth: %s exists and is not empty; choose a new or empty output folder", dir)
	}

	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(filepath.Clean(dir))+".synth-")
	if err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	if err := drawAll(ctx, tmp, o, jobs); err != nil {
		return Result{}, err
	}
	if err := os.WriteFile(filepath.Join(tmp, "synth.json"), manBytes, 0o644); err != nil {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	// Go's os.Rename refuses to replace a folder, even an empty one: remove
	// the empty one first (Remove fails if something appeared in it since).
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Result{}, fmt.Errorf("synth: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return Result{}, fmt.Errorf("synth: move the finished set into place: %w", err)
	}
	ok = true
	return res, nil
}

// drawAll draws the jobs on all CPUs into root.
func drawAll(ctx context.Context, root string, o Options, jobs []job) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan job)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := drawJob(root, o, j); err != nil {
					once.Do(func() { firstErr = err; cancel() })
				}
			}
		}()
	}
	for _, j := range jobs {
		select {
		case ch <- j:
			continue
		case <-ctx.Done():
		}
		break
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// stream returns the random source of one image: a PCG seeded by the set's
// seed and a hash of the image's path, independent of drawing order.
func stream(seed uint64, rel string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(filepath.ToSlash(rel)))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Draw renders one image of a category: a defect-free one if defect is "",
// else one with that defect, and its mask (nil for a good image). It is
// exported for tests and demos that want images without files.
func Draw(category, defect string, size int, r *rand.Rand) (*image.RGBA, *image.Gray, error) {
	for _, k := range kinds() {
		if k.name == category {
			if defect != "" && !contains(k.defects, defect) {
				return nil, nil, fmt.Errorf("synth: category %s has no defect type %q (has %v)", category, defect, k.defects)
			}
			img, mask := draw(k, defect, size, r)
			return img, mask, nil
		}
	}
	return nil, nil, fmt.Errorf("synth: unknown category %q (known: %v)", category, CategoryNames(len(kinds())))
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func draw(k kind, typ string, size int, r *rand.Rand) (*image.RGBA, *image.Gray) {
	c := newCanvas(size)
	centre, radius := k.background(c, r)
	clear(c.mask) // the mask records the defect only
	if typ != "" {
		defect(c, r, typ, centre, radius)
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := 0; i < size*size; i++ {
		for k := range 3 {
			v := c.pix[3*i+k]*255 + 0.5
			img.Pix[4*i+k] = uint8(max(0, min(255, v)))
		}
		img.Pix[4*i+3] = 255
	}
	if typ == "" {
		return img, nil
	}
	mask := image.NewGray(image.Rect(0, 0, size, size))
	for i, a := range c.mask {
		if a >= 0.25 {
			mask.Pix[i] = 255
		}
	}
	return img, mask
}

// drawJob draws one image (and its mask) and writes it under root.
func drawJob(root string, o Options, j job) error {
	img, mask := draw(j.kind, j.defect, o.Size, stream(o.Seed, j.rel))
	if err := writePNG(filepath.Join(root, j.rel), img); err != nil {
		return err
	}
	if mask == nil {
		return nil
	}
	name := filepath.Base(j.rel)
	rel := filepath.Join(j.kind.name, "ground_truth", j.defect, name[:len(name)-len(".png")]+"_mask.png")
	return writePNG(filepath.Join(root, rel), mask)
}

func writePNG(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return fmt.Errorf("synth: encode %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}
