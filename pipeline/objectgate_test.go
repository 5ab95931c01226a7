package pipeline_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
)

// writeSet writes a class-per-folder set of 2 classes x 6 images, 96 px:
// parts (a dark bar turned at random on a plain bright background, the
// same part in every image) or defects on a surface (a dark blob of a
// random size, 3 to 30 px across, as xsdd's).
func writeSet(t *testing.T, parts bool) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 10))
	for _, class := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(root, class), 0o755); err != nil {
			t.Fatal(err)
		}
		for k := 0; k < 6; k++ {
			img := image.NewGray(image.Rect(0, 0, 96, 96))
			a := rng.Float64() * math.Pi
			r := 1.5 + rng.Float64()*13.5
			c, s := math.Cos(a), math.Sin(a)
			for y := 0; y < 96; y++ {
				for x := 0; x < 96; x++ {
					v := uint8(190 + rng.IntN(5))
					dx, dy := float64(x)-48, float64(y)-48
					if u, w := dx*c+dy*s, -dx*s+dy*c; parts && math.Abs(u) < 30 && math.Abs(w) < 6 {
						v = 60
					}
					if !parts && math.Hypot(dx+10, dy-5) < r {
						v = 60
					}
					img.SetGray(x, y, color.Gray{v})
				}
			}
			f, err := os.Create(filepath.Join(root, class, fmt.Sprintf("%d.png", k)))
			if err != nil {
				t.Fatal(err)
			}
			if err := png.Encode(f, img); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	return root
}

// TestObjectAuto: the gate aligns a category of parts (run.json's
// category says so, and its X and cache entries are those of an explicit
// --object-align run) and leaves defects on a surface whole (those of a
// plain run).
func TestObjectAuto(t *testing.T) {
	for _, parts := range []bool{true, false} {
		t.Run(fmt.Sprintf("parts=%v", parts), func(t *testing.T) {
			data := writeSet(t, parts)
			run := func(cache string, edit func(o *pipeline.Options)) (rundir.Category, []byte) {
				t.Helper()
				o := fakeOptions(t, &poolNet{})
				o.Data, o.Cache, o.Categories = data, cache, nil
				o.Modes = []string{rundir.ModeAverage}
				edit(&o)
				res, err := pipeline.Run(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				run, err := rundir.ReadRun(o.Out)
				if err != nil {
					t.Fatal(err)
				}
				c := run.Categories[0]
				if c.ObjectAlign != res.Run.Categories[0].ObjectAlign {
					t.Fatal("run.json and the result disagree")
				}
				x, err := os.ReadFile(filepath.Join(rundir.ResultDir(o.Out, c.Name, rundir.ModeAverage, 0), "X.npy"))
				if err != nil {
					t.Fatal(err)
				}
				return c, x
			}
			c1, c2 := filepath.Join(t.TempDir(), "c1"), filepath.Join(t.TempDir(), "c2")
			first, x1 := run(c1, func(o *pipeline.Options) { o.ObjectAlign = parts })
			auto, x2 := run(c2, func(o *pipeline.Options) { o.ObjectAuto = true })
			if auto.ObjectAlign != parts {
				t.Errorf("gate: object_align %v, want %v", auto.ObjectAlign, parts)
			}
			if first.CacheMisses != 12 || auto.CacheMisses != 12 || string(x1) != string(x2) {
				t.Errorf("gated run's X differs from the explicit run's (misses %d, %d)", first.CacheMisses, auto.CacheMisses)
			}
			again, _ := run(c1, func(o *pipeline.Options) { o.ObjectAuto = true })
			if again.CacheHits != 12 || again.CacheMisses != 0 {
				t.Errorf("gated run on the explicit run's cache: %d hits, %d misses; want 12, 0 (same key)", again.CacheHits, again.CacheMisses)
			}
		})
	}
}
