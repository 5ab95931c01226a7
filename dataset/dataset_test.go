package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// touch creates empty files (their content is never read by this package).
func touch(t *testing.T, root string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func labels(items []Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Label+"/"+filepath.Base(it.Path))
	}
	return out
}

// mvtecCategory lays out one category; the file names are out of order
// and mixed-case on purpose.
func mvtecCategory(t *testing.T, dir string) {
	touch(t, dir,
		"train/good/001.png", "train/good/000.png", "train/good/notes.txt",
		"test/scratch/001.PNG", "test/scratch/000.png",
		"test/good/000.png",
		"test/combined/000.png",
		"test/hole/b.jpg", "test/hole/a.JPEG", "test/hole/c.bmp", "test/hole/.hidden.png",
		"ground_truth/scratch/000_mask.png", "ground_truth/hole/a_mask.png",
	)
}

func TestMVTecRoot(t *testing.T) {
	root := t.TempDir()
	mvtecCategory(t, filepath.Join(root, "bottle"))
	mvtecCategory(t, filepath.Join(root, "alpha"))
	touch(t, root, "readme.txt", "results/foo.csv") // ignored: not a category
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != MVTecRoot || len(d.Categories) != 2 || d.Categories[0].Name != "alpha" || d.Categories[1].Name != "bottle" {
		t.Fatalf("layout %v, categories %d", d.Layout, len(d.Categories))
	}
	c := d.Categories[1]
	want := []string{"combined/000.png", "good/000.png", "hole/a.JPEG", "hole/b.jpg", "hole/c.bmp", "scratch/000.png", "scratch/001.PNG"}
	if got := labels(c.Test); !slices.Equal(got, want) {
		t.Errorf("test items\n got %v\nwant %v", got, want)
	}
	if got := labels(c.Train); !slices.Equal(got, []string{"good/000.png", "good/001.png"}) {
		t.Errorf("train items %v", got)
	}
	if !slices.Equal(c.Labels, []string{"combined", "good", "hole", "scratch"}) {
		t.Errorf("labels %v", c.Labels)
	}
	// Masks: scratch/000 and hole/a have one; the rest none.
	for _, it := range c.Test {
		hasMask := it.MaskPath != ""
		wantMask := (it.Label == "scratch" && strings.HasPrefix(filepath.Base(it.Path), "000")) || (it.Label == "hole" && strings.HasPrefix(filepath.Base(it.Path), "a."))
		if hasMask != wantMask {
			t.Errorf("%s: mask %q", it.Path, it.MaskPath)
		}
		if it.Good != (it.Label == Good) || it.Category != "bottle" {
			t.Errorf("%s: good %v category %s", it.Path, it.Good, it.Category)
		}
	}

	s := c.ClusterSet(SetOptions{})
	if !slices.Equal(s.Labels, []string{"good", "hole", "scratch"}) || len(s.Items) != 6 {
		t.Fatalf("cluster set labels %v, %d items", s.Labels, len(s.Items))
	}
	for _, it := range s.Items {
		if s.Labels[it.LabelIndex] != it.Label {
			t.Errorf("%s: LabelIndex %d -> %s", it.Path, it.LabelIndex, s.Labels[it.LabelIndex])
		}
	}
	if err := s.Check(); err != nil {
		t.Error(err)
	}
	s = c.ClusterSet(SetOptions{DefectsOnly: true})
	if !slices.Equal(s.Labels, []string{"hole", "scratch"}) || len(s.Items) != 5 || s.Items[0].LabelIndex != 0 {
		t.Errorf("defects only: labels %v, %d items", s.Labels, len(s.Items))
	}
	s = c.ClusterSet(SetOptions{KeepCombined: true})
	if len(s.Labels) != 4 || len(s.Items) != 7 {
		t.Errorf("keep combined: labels %v", s.Labels)
	}
	if tr, err := c.TrainSet(); err != nil || len(tr) != 2 || tr[0].LabelIndex != 1 {
		t.Errorf("train set %v, %v", tr, err)
	}

	sel, err := d.Select([]string{"bottle"})
	if err != nil || len(sel) != 1 || sel[0] != c {
		t.Errorf("Select(bottle) = %v, %v", sel, err)
	}
	if _, err := d.Select([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "alpha, bottle") {
		t.Errorf("Select(nope) error %v should list the categories", err)
	}
}

func TestSingleCategory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "widget")
	mvtecCategory(t, dir)
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Layout != MVTecCategory || len(d.Categories) != 1 || d.Categories[0].Name != "widget" || len(d.Categories[0].Test) != 7 {
		t.Fatalf("%v %+v", d.Layout, d.Categories)
	}
}

func TestClassFolders(t *testing.T) {
	root := filepath.Join(t.TempDir(), "steel")
	touch(t, root, "rust/2.jpg", "rust/1.jpg", "crazing/x.bmp", "crazing/Thumbs.db", "good/g.png")
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Categories[0]
	if d.Layout != ClassFolders || c.Name != "steel" || len(c.Train) != 0 {
		t.Fatalf("layout %v name %s train %d", d.Layout, c.Name, len(c.Train))
	}
	if got := labels(c.Test); !slices.Equal(got, []string{"crazing/x.bmp", "good/g.png", "rust/1.jpg", "rust/2.jpg"}) {
		t.Errorf("items %v", got)
	}
	if _, err := c.TrainSet(); err == nil {
		t.Error("class folders have no train set, want an error")
	}
	if s := c.ClusterSet(SetOptions{DefectsOnly: true}); len(s.Labels) != 2 {
		t.Errorf("defects only labels %v", s.Labels)
	}
}

// TestErrors: every error names the folder at fault.
func TestErrors(t *testing.T) {
	base := t.TempDir()
	cases := []struct {
		name  string
		setup func(root string)
		want  string // substring of the error
	}{
		{"missing", func(string) {}, "no such file"},
		{"empty", func(r string) { os.MkdirAll(r, 0o755) }, "is empty"},
		{"no images", func(r string) { touch(t, r, "a/readme.txt") }, "has no PNG, JPEG or BMP images"},
		{"loose images", func(r string) { touch(t, r, "a.png", "b.png") }, "no sub-folders"},
		{"empty type folder", func(r string) {
			touch(t, r, "train/good/0.png", "test/good/0.png")
			os.MkdirAll(filepath.Join(r, "test", "scratch"), 0o755)
		}, filepath.Join("test", "scratch")},
		{"only non-images", func(r string) { touch(t, r, "x.txt") }, "no images under"},
	}
	for _, c := range cases {
		root := filepath.Join(base, strings.ReplaceAll(c.name, " ", "_"))
		c.setup(root)
		_, err := Open(root)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), filepath.Base(root)) {
			t.Errorf("%s: error %v, want one naming %s and containing %q", c.name, err, root, c.want)
		}
	}

	// A category with test/good only: opens, but cannot be clustered.
	root := filepath.Join(base, "onlygood")
	touch(t, root, "test/good/0.png", "test/good/1.png")
	d, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	err = d.Categories[0].ClusterSet(SetOptions{}).Check()
	if !errors.Is(err, ErrOneClass) || !strings.Contains(err.Error(), root) {
		t.Errorf("one class: error %v should wrap ErrOneClass and name %s", err, root)
	}
	if err := d.Categories[0].ClusterSet(SetOptions{DefectsOnly: true}).Check(); err == nil {
		t.Error("defects only on a good-only category: want an error")
	}
}

// sharedData returns ../shared/data/<name> relative to the module root, or
// skips when the shared folder is absent.
func sharedData(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "data", name)
	if !isDir(p) {
		t.Skipf("%s absent (needs the shared data beside the project)", p)
	}
	return p
}

func TestSharedMVTec(t *testing.T) {
	d, err := Open(sharedData(t, "mvtec_ad"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := d.Select([]string{"screw"})
	if err != nil {
		t.Fatal(err)
	}
	c := cs[0]
	s := c.ClusterSet(SetOptions{})
	// shared/README.md: train/good 80, test/good 20, five defect types x 10.
	if d.Layout != MVTecRoot || len(c.Train) != 80 || len(s.Items) != 70 || len(s.Labels) != 6 {
		t.Fatalf("layout %v train %d test %d labels %v", d.Layout, len(c.Train), len(s.Items), s.Labels)
	}
	good := 0
	for _, it := range s.Items {
		if it.Good {
			good++
		}
	}
	if good != 20 {
		t.Errorf("good %d, want 20", good)
	}
	if s := c.ClusterSet(SetOptions{DefectsOnly: true}); len(s.Items) != 50 || len(s.Labels) != 5 {
		t.Errorf("defects only: %d items, labels %v", len(s.Items), s.Labels)
	}
}

func TestSharedNEU(t *testing.T) {
	d, err := Open(sharedData(t, "neu"))
	if err != nil {
		t.Fatal(err)
	}
	s := d.Categories[0].ClusterSet(SetOptions{})
	if d.Layout != ClassFolders || len(s.Labels) != 6 || len(s.Items) != 1800 {
		t.Fatalf("layout %v labels %v items %d", d.Layout, s.Labels, len(s.Items))
	}
	for i, it := range s.Items {
		if it.LabelIndex != i/300 {
			t.Fatalf("item %d (%s) label index %d, want %d", i, it.Path, it.LabelIndex, i/300)
		}
	}
}
