package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func rels(t *testing.T, root string, items []Item) []string {
	t.Helper()
	var out []string
	for _, it := range items {
		r, err := filepath.Rel(root, it.Path)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it.Label+":"+filepath.ToSlash(r))
	}
	return out
}

func TestOpenWithAuto(t *testing.T) {
	flat := t.TempDir()
	touch(t, flat, "b.png", "a.jpg", "notes.txt", ".hidden.png")
	nested := t.TempDir()
	touch(t, nested, "2024/01/x.png", "2024/02/y.png", "top.png")
	classes := t.TempDir()
	touch(t, classes, "scratch/1.png", "scratch/2.png", "dent/1.png")
	deep := t.TempDir()
	touch(t, deep, "line1/cam/1.png", "line2/cam/1.png")
	one := t.TempDir()
	touch(t, one, "only/1.png", "only/2.png")
	mv := t.TempDir()
	mvtecCategory(t, mv)
	for _, c := range []struct {
		name, root string
		layout     Layout
		labelled   bool
		items      []string
		why        string
	}{
		{"flat", flat, Unlabelled, false, []string{":a.jpg", ":b.png"}, "flat folder of 2 images"},
		{"nested", nested, Unlabelled, false, []string{":2024/01/x.png", ":2024/02/y.png", ":top.png"}, "both at the top"},
		{"classes", classes, ClassFolders, true, []string{"dent:dent/1.png", "scratch:scratch/1.png", "scratch:scratch/2.png"}, "one sub-folder per class"},
		{"deep", deep, Unlabelled, false, []string{":line1/cam/1.png", ":line2/cam/1.png"}, "nested more than one folder deep"},
		{"one sub-folder", one, Unlabelled, false, []string{":only/1.png", ":only/2.png"}, "single sub-folder"},
		{"mvtec", mv, MVTecCategory, true, nil, "train/ or test/"},
	} {
		d, err := OpenWith(c.root, OpenOptions{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d.Layout != c.layout || d.Labelled != c.labelled || !strings.Contains(d.Detected, c.why) {
			t.Errorf("%s: layout %v labelled %v detected %q", c.name, d.Layout, d.Labelled, d.Detected)
		}
		got := rels(t, c.root, d.Categories[0].Test)
		if c.items != nil && !slices.Equal(got, c.items) {
			t.Errorf("%s: items %v, want %v", c.name, got, c.items)
		}
		set := d.Categories[0].ClusterSet(SetOptions{})
		if set.Unlabelled == c.labelled {
			t.Errorf("%s: set unlabelled %v", c.name, set.Unlabelled)
		}
		if !c.labelled {
			for _, it := range set.Items {
				if it.LabelIndex != -1 || it.Label != "" {
					t.Errorf("%s: unlabelled item %+v", c.name, it)
				}
			}
			if err := set.Check(); err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		}
	}
}

func TestOpenWithExplicit(t *testing.T) {
	classes := t.TempDir()
	touch(t, classes, "scratch/a/1.png", "scratch/2.png", "dent/1.png")
	d, err := OpenWith(classes, OpenOptions{Labels: LabelsFolders})
	if err != nil {
		t.Fatal(err)
	}
	if got := rels(t, classes, d.Categories[0].Test); !slices.Equal(got, []string{"dent:dent/1.png", "scratch:scratch/a/1.png", "scratch:scratch/2.png"}) { // by label, then file name
		t.Errorf("folders: %v", got)
	}
	d, err = OpenWith(classes, OpenOptions{Labels: LabelsNone})
	if err != nil || d.Labelled || d.Layout != Unlabelled || len(d.Categories[0].Test) != 3 {
		t.Fatalf("none: %+v %v", d, err)
	}
	flat := t.TempDir()
	touch(t, flat, "1.png", "2.png")
	if _, err := OpenWith(flat, OpenOptions{Labels: LabelsMVTec}); err == nil || !strings.Contains(err.Error(), "--labels mvtec") {
		t.Errorf("mvtec on a flat folder: %v", err)
	}
	if _, err := OpenWith(flat, OpenOptions{Labels: LabelsFolders}); err == nil || !strings.Contains(err.Error(), "outside any class folder") {
		t.Errorf("folders on a flat folder: %v", err)
	}
	if _, err := OpenWith(flat, OpenOptions{Labels: "bogus"}); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("bogus labels: %v", err)
	}
	mv := t.TempDir()
	mvtecCategory(t, mv)
	d, err = OpenWith(mv, OpenOptions{Labels: LabelsNone})
	if err != nil || d.Labelled || d.Layout != MVTecCategory {
		t.Fatalf("mvtec without labels: %+v %v", d, err)
	}
	c := d.Categories[0]
	if len(c.Train) != 2 || len(c.Test) != 7 || c.Labels != nil {
		t.Errorf("mvtec without labels: %d train, %d test, labels %v", len(c.Train), len(c.Test), c.Labels)
	}
	if s := c.ClusterSet(SetOptions{}); !s.Unlabelled || len(s.Items) != 7 { // combined kept: no labels to drop it by
		t.Errorf("mvtec without labels: set %+v", s)
	}
}

func TestOpenWithNormal(t *testing.T) {
	root := t.TempDir()
	touch(t, root, "1.png", "2.png", "3.png", "ok/a.png", "ok/b.png")
	d, err := OpenWith(root, OpenOptions{Normal: filepath.Join(root, "ok")})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Categories[0]
	// The normal folder is neither a class nor clustered: a flat set.
	if d.Layout != Unlabelled || !strings.Contains(d.Detected, "flat") || len(c.Test) != 3 || len(c.Train) != 2 {
		t.Errorf("layout %v (%s), %d test, %d train", d.Layout, d.Detected, len(c.Test), len(c.Train))
	}
	tr, err := c.TrainSet()
	if err != nil || len(tr) != 2 {
		t.Errorf("train set %v %v", tr, err)
	}
	if _, err := OpenWith(root, OpenOptions{Normal: filepath.Join(root, "nope")}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing normal folder: %v", err)
	}
	two := t.TempDir()
	mvtecCategory(t, filepath.Join(two, "a"))
	mvtecCategory(t, filepath.Join(two, "b"))
	if _, err := OpenWith(two, OpenOptions{Normal: filepath.Join(root, "ok")}); err == nil || !strings.Contains(err.Error(), "2 categories") {
		t.Errorf("normal with two categories: %v", err)
	}
}

func TestManifest(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	touch(t, dir, "img/a.png", "img/b.png", "img/c.png", "good/n.png")
	touch(t, other, "far.png")
	write := func(text string) string {
		p := filepath.Join(dir, "list.csv")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := write("path,split,label\n# a comment\nimg/a.png,,scratch\nimg/b.png,test,dent\n" + filepath.Join(other, "far.png") + ",,dent\ngood/n.png,train,\n")
	d, err := OpenWith("", OpenOptions{Manifest: m})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Categories[0]
	if d.Layout != Manifest || !d.Labelled || d.Root != dir || len(c.Test) != 3 || len(c.Train) != 1 || !slices.Equal(c.Labels, []string{"dent", "scratch"}) {
		t.Fatalf("labelled manifest: %+v, category %+v", d, c)
	}
	if c.Test[0].Path != filepath.Join(dir, "img/b.png") || c.Test[1].Path != filepath.Join(other, "far.png") {
		t.Errorf("paths %v", rels(t, dir, c.Test))
	}
	m = write("img/a.png\nimg/c.png\n")
	d, err = OpenWith("", OpenOptions{Manifest: m})
	if err != nil || d.Labelled || len(d.Categories[0].Test) != 2 || d.Categories[0].Test[0].LabelIndex != -1 {
		t.Fatalf("path-only manifest: %+v %v", d, err)
	}
	m = write("img/a.png,scratch\nimg/missing.png\nimg/a.png\nnotes.txt\nimg/b.png,x,weird\nimg/c.png\n")
	_, err = OpenWith("", OpenOptions{Manifest: m})
	if err == nil {
		t.Fatal("bad manifest accepted")
	}
	for _, want := range []string{"line 2: ", "missing.png: no such file", "line 3: img/a.png listed again (first on line 1)",
		"line 4: notes.txt is not a PNG", "line 5: split \"weird\"", "line 6: no label, while line 1 has one"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := OpenWith("", OpenOptions{Manifest: filepath.Join(dir, "none.csv")}); err == nil || !strings.Contains(err.Error(), "none.csv") {
		t.Errorf("missing manifest: %v", err)
	}
}
