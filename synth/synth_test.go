package synth

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/dataset"
)

// small is a quick set: every category, 2 train, 2 per type, 64 px.
func small() Options {
	return Options{Categories: 3, Train: 2, PerType: 2, Size: 64, Seed: 7}
}

// readTree maps every file under root (relative path) to its bytes.
func readTree(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLayoutAndReadBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set")
	res, err := Generate(context.Background(), dir, small())
	if err != nil {
		t.Fatal(err)
	}
	// 3 categories x (2 train + 2 good + 3 types x 2).
	if res.Images != 3*(2+2+3*2) || res.UpToDate {
		t.Errorf("result %+v", res)
	}
	d, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != dataset.MVTecRoot {
		t.Fatalf("layout %v", d.Layout)
	}
	var names []string
	for _, c := range d.Categories {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"disc", "weave", "wood"}) {
		t.Fatalf("categories %v", names)
	}
	for _, c := range d.Categories {
		s := c.ClusterSet(dataset.SetOptions{})
		want := append([]string{"good"}, DefectTypes(c.Name)...)
		slices.Sort(want)
		if !slices.Equal(s.Labels, want) || len(s.Items) != 2*len(want) || len(c.Train) != 2 {
			t.Errorf("%s: labels %v, %d test, %d train", c.Name, s.Labels, len(s.Items), len(c.Train))
		}
		if err := s.Check(); err != nil {
			t.Error(err)
		}
		for _, it := range s.Items {
			if it.Good {
				if it.MaskPath != "" {
					t.Errorf("%s: good image has mask %s", it.Path, it.MaskPath)
				}
				continue
			}
			if it.MaskPath == "" {
				t.Errorf("%s: defect image without mask", it.Path)
				continue
			}
			checkMask(t, it.MaskPath, 64)
		}
	}
}

// checkMask: a defect's mask is a 0/255 image covering a small but
// non-empty part of the image (0.1% to 15%).
func checkMask(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	g, ok := m.(*image.Gray)
	if !ok || g.Rect.Dx() != size {
		t.Fatalf("%s: %T %v", path, m, m.Bounds())
	}
	on := 0
	for _, v := range g.Pix {
		if v != 0 && v != 255 {
			t.Fatalf("%s: mask value %d", path, v)
		}
		if v == 255 {
			on++
		}
	}
	if frac := float64(on) / float64(len(g.Pix)); frac < 0.001 || frac > 0.15 {
		t.Errorf("%s: mask covers %.4f of the image", path, frac)
	}
}

func TestDeterminism(t *testing.T) {
	base := t.TempDir()
	a, b, c := filepath.Join(base, "a"), filepath.Join(base, "b"), filepath.Join(base, "c")
	o := small()
	for _, dir := range []string{a, b} {
		if _, err := Generate(context.Background(), dir, o); err != nil {
			t.Fatal(err)
		}
	}
	o.Seed++
	if _, err := Generate(context.Background(), c, o); err != nil {
		t.Fatal(err)
	}
	ta, tb, tc := readTree(t, a), readTree(t, b), readTree(t, c)
	if len(ta) != len(tb) || len(ta) == 0 {
		t.Fatalf("%d vs %d files", len(ta), len(tb))
	}
	same := 0
	for p, x := range ta {
		if !bytes.Equal(x, tb[p]) {
			t.Errorf("%s differs between two runs with the same seed", p)
		}
		if strings.HasSuffix(p, ".png") && bytes.Equal(x, tc[p]) {
			same++
		}
	}
	if same != 0 {
		t.Errorf("%d images identical under another seed", same)
	}
	// Every image of a set differs from every other (no repeated stream).
	seen := map[string]string{}
	for p, x := range ta {
		if strings.HasSuffix(p, ".png") && !strings.Contains(p, "ground_truth") {
			if q, dup := seen[string(x)]; dup {
				t.Errorf("%s and %s are identical", p, q)
			}
			seen[string(x)] = p
		}
	}
}

// TestDefectsChangePixels: drawing the same stream with and without a defect
// changes pixels inside the mask and (almost) none outside it.
func TestDefectsChangePixels(t *testing.T) {
	for _, k := range kinds() {
		for _, d := range k.defects {
			good, _, err := Draw(k.name, "", 128, rand.New(rand.NewPCG(3, 4)))
			if err != nil {
				t.Fatal(err)
			}
			bad, mask, err := Draw(k.name, d, 128, rand.New(rand.NewPCG(3, 4)))
			if err != nil {
				t.Fatal(err)
			}
			in, out := 0, 0
			for i, m := range mask.Pix {
				changed := !bytes.Equal(good.Pix[4*i:4*i+3], bad.Pix[4*i:4*i+3])
				if m == 255 && changed {
					in++
				}
				if m == 0 && changed {
					out++
				}
			}
			// Outside the mask only the faint anti-aliased fringe (opacity < 0.25) may change.
			if in == 0 || out > in {
				t.Errorf("%s/%s: %d changed pixels inside the mask, %d outside", k.name, d, in, out)
			}
		}
	}
	if _, _, err := Draw("weave", "crack", 64, rand.New(rand.NewPCG(0, 0))); err == nil {
		t.Error("weave has no crack: want an error")
	}
	if _, _, err := Draw("nope", "", 64, rand.New(rand.NewPCG(0, 0))); err == nil {
		t.Error("unknown category: want an error")
	}
}

func TestExistingFolder(t *testing.T) {
	base := t.TempDir()
	ctx := context.Background()
	dir := filepath.Join(base, "set")
	o := small()
	o.Categories = 1
	if _, err := Generate(ctx, dir, o); err != nil {
		t.Fatal(err)
	}
	if res, err := Generate(ctx, dir, o); err != nil || !res.UpToDate {
		t.Errorf("same settings again: %+v, %v; want UpToDate", res, err)
	}
	o2 := o
	o2.Seed++
	if _, err := Generate(ctx, dir, o2); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other settings: error %v", err)
	}
	foreign := filepath.Join(base, "foreign")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "x.txt"), nil, 0o644)
	if _, err := Generate(ctx, foreign, o); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty folder: error %v", err)
	}
	empty := filepath.Join(base, "empty")
	os.MkdirAll(empty, 0o755)
	if _, err := Generate(ctx, empty, o); err != nil {
		t.Errorf("empty folder: %v", err)
	}
	// Bad options are refused before touching the disk.
	for _, bad := range []Options{{Categories: 0, PerType: 1, Size: 64}, {Categories: 4, PerType: 1, Size: 64}, {Categories: 1, PerType: 0, Size: 64}, {Categories: 1, PerType: 1, Size: 8}} {
		if _, err := Generate(ctx, filepath.Join(base, "bad"), bad); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "bad")); err == nil {
		t.Error("refused options still created a folder")
	}
}

// TestCancel: a cancelled run leaves neither the set nor its temporary folder.
func TestCancel(t *testing.T) {
	base := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, filepath.Join(base, "set"), small()); err == nil {
		t.Fatal("cancelled run succeeded")
	}
	if entries, _ := os.ReadDir(base); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
