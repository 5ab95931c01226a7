// Package dataset finds the images of a defect data set and their labels:
// an MVTec AD root (one folder per category), a single MVTec-style category
// folder, or a folder with one sub-folder of images per class. It builds
// the clustered set of docs/METHOD.md §5 (every test image, "good" a class of its
// own, "combined" dropped) and the train/good set the semi-supervised mode
// uses.
package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Layout is how a data folder is organised.
type Layout int

const (
	// MVTecRoot is <root>/<category>/{train/good, test/<type>, ground_truth/<type>}.
	MVTecRoot Layout = iota
	// MVTecCategory is a single category: <root>/{train/good, test/<type>, ...}.
	MVTecCategory
	// ClassFolders is <root>/<label>/<image>: every image is a test image,
	// there is no train set.
	ClassFolders
)

func (l Layout) String() string {
	switch l {
	case MVTecRoot:
		return "MVTec AD root"
	case MVTecCategory:
		return "MVTec category folder"
	case ClassFolders:
		return "class-per-folder"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// Good is the label of defect-free images.
const Good = "good"

// Combined is MVTec AD's label for images with several defect types at
// once; the clustering protocol drops it (docs/METHOD.md §5).
const Combined = "combined"

// Item is one image.
type Item struct {
	Path     string // the image file
	Category string // category name (the folder name)
	Label    string // defect type: the test/<type> or class folder name; "good" for defect-free
	// LabelIndex is the index of Label in the Labels of the Set or Category
	// the item came from; -1 for a train image whose category has no good test images.
	LabelIndex int
	Good       bool   // Label == "good"
	MaskPath   string // ground_truth/<type>/<name>_mask.png if it exists, else ""
}

// Category is one category's images.
type Category struct {
	Name string
	Dir  string
	// Labels are the distinct test labels, sorted; Test items index them.
	Labels []string
	// Test is every test image (combined included), sorted by label then
	// file name.
	Test []Item
	// Train is train/good, sorted by file name; empty for class folders.
	Train []Item
}

// Dataset is every category found under Root.
type Dataset struct {
	Root       string
	Layout     Layout
	Categories []*Category // sorted by name
}

// IsImage reports whether name has a PNG, JPEG or BMP extension (any case)
// and is not a hidden file.
func IsImage(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg", ".bmp":
		return true
	}
	return false
}

// Open finds the layout of root and lists its images. Errors name the
// folder at fault: a missing or empty root, a folder without images, a test
// type or class folder without images.
func Open(root string) (*Dataset, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open dataset: %s is not a folder", root)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	dirs, files := split(root, entries)
	if len(dirs) == 0 && len(files) == 0 {
		return nil, fmt.Errorf("open dataset: %s is empty", root)
	}
	d := &Dataset{Root: root}
	if isCategory(root) {
		d.Layout = MVTecCategory
		c, err := readCategory(root)
		if err != nil {
			return nil, err
		}
		d.Categories = []*Category{c}
		return d, nil
	}
	for _, name := range dirs {
		dir := filepath.Join(root, name)
		if !isCategory(dir) {
			continue
		}
		c, err := readCategory(dir)
		if err != nil {
			return nil, err
		}
		d.Categories = append(d.Categories, c)
	}
	if len(d.Categories) > 0 {
		d.Layout = MVTecRoot
		return d, nil
	}
	if len(dirs) > 0 {
		d.Layout = ClassFolders
		c, err := readClassFolders(root, dirs)
		if err != nil {
			return nil, err
		}
		d.Categories = []*Category{c}
		return d, nil
	}
	n := 0
	for _, f := range files {
		if IsImage(f) {
			n++
		}
	}
	if n > 0 {
		return nil, fmt.Errorf("open dataset: %s holds %d images but no sub-folders: put them in one sub-folder per class (the folder name is the label), or use an MVTec layout (train/good, test/<type>)", root, n)
	}
	return nil, fmt.Errorf("open dataset: no images under %s (expected an MVTec AD root, a category folder with train/ and test/, or one sub-folder of images per class)", root)
}

// split returns the visible sub-folder and file names of a listing, sorted;
// symbolic links are followed.
func split(dir string, entries []os.DirEntry) (dirs, files []string) {
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, name)); err == nil {
				isDir = st.IsDir()
			}
		}
		if isDir {
			dirs = append(dirs, name)
		} else {
			files = append(files, name)
		}
	}
	slices.Sort(dirs)
	slices.Sort(files)
	return dirs, files
}

func isDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// isCategory reports whether dir looks like an MVTec category (has train/
// or test/).
func isCategory(dir string) bool {
	return isDir(filepath.Join(dir, "train")) || isDir(filepath.Join(dir, "test"))
}

// listImages returns the image files directly in dir, sorted by name.
func listImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	_, files := split(dir, entries)
	var out []string
	for _, f := range files {
		if IsImage(f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// readCategory lists an MVTec category folder.
func readCategory(dir string) (*Category, error) {
	name := filepath.Base(filepath.Clean(dir))
	c := &Category{Name: name, Dir: dir}
	testDir := filepath.Join(dir, "test")
	if isDir(testDir) {
		entries, err := os.ReadDir(testDir)
		if err != nil {
			return nil, fmt.Errorf("category %s: %w", name, err)
		}
		types, _ := split(testDir, entries)
		for _, typ := range types {
			files, err := listImages(filepath.Join(testDir, typ))
			if err != nil {
				return nil, fmt.Errorf("category %s: %w", name, err)
			}
			if len(files) == 0 {
				return nil, fmt.Errorf("category %s: %s has no PNG, JPEG or BMP images", name, filepath.Join(testDir, typ))
			}
			masks := maskIndex(filepath.Join(dir, "ground_truth", typ))
			for _, f := range files {
				it := Item{Path: filepath.Join(testDir, typ, f), Category: name, Label: typ, Good: typ == Good}
				stem := strings.TrimSuffix(f, filepath.Ext(f))
				if m, ok := masks[stem]; ok {
					it.MaskPath = filepath.Join(dir, "ground_truth", typ, m)
				}
				c.Test = append(c.Test, it)
			}
		}
	}
	goodDir := filepath.Join(dir, "train", Good)
	if isDir(goodDir) {
		files, err := listImages(goodDir)
		if err != nil {
			return nil, fmt.Errorf("category %s: %w", name, err)
		}
		for _, f := range files {
			c.Train = append(c.Train, Item{Path: filepath.Join(goodDir, f), Category: name, Label: Good, Good: true})
		}
	}
	if len(c.Test) == 0 && len(c.Train) == 0 {
		return nil, fmt.Errorf("category %s: no images in %s or %s", name, testDir, goodDir)
	}
	c.index()
	return c, nil
}

// maskIndex maps an image stem to its mask file name in a ground_truth
// type folder (<stem>_mask.<ext>); empty if the folder does not exist.
func maskIndex(dir string) map[string]string {
	files, err := listImages(dir)
	if err != nil {
		return nil
	}
	m := make(map[string]string, len(files))
	for _, f := range files {
		stem := strings.TrimSuffix(f, filepath.Ext(f))
		if s, ok := strings.CutSuffix(stem, "_mask"); ok {
			m[s] = f
		}
	}
	return m
}

// readClassFolders lists a class-per-folder root: every sub-folder is a label.
func readClassFolders(root string, dirs []string) (*Category, error) {
	name := filepath.Base(filepath.Clean(root))
	c := &Category{Name: name, Dir: root}
	for _, label := range dirs {
		files, err := listImages(filepath.Join(root, label))
		if err != nil {
			return nil, fmt.Errorf("class folders %s: %w", root, err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("class folders %s: class folder %s has no PNG, JPEG or BMP images", root, filepath.Join(root, label))
		}
		for _, f := range files {
			c.Test = append(c.Test, Item{Path: filepath.Join(root, label, f), Category: name, Label: label, Good: label == Good})
		}
	}
	c.index()
	return c, nil
}

// index sorts the test items by (label, name) and fills Labels and
// LabelIndex.
func (c *Category) index() {
	sortItems(c.Test)
	c.Labels = labelsOf(c.Test)
	setIndex(c.Test, c.Labels)
	gi := slices.Index(c.Labels, Good)
	for i := range c.Train {
		c.Train[i].LabelIndex = gi
	}
}

func sortItems(items []Item) {
	slices.SortStableFunc(items, func(a, b Item) int {
		if a.Label != b.Label {
			return strings.Compare(a.Label, b.Label)
		}
		return strings.Compare(filepath.Base(a.Path), filepath.Base(b.Path))
	})
}

func labelsOf(items []Item) []string {
	var ls []string
	for _, it := range items {
		if len(ls) == 0 || ls[len(ls)-1] != it.Label {
			ls = append(ls, it.Label)
		}
	}
	return ls // items are sorted by label, so ls is sorted and distinct
}

func setIndex(items []Item, labels []string) {
	for i := range items {
		items[i].LabelIndex = slices.Index(labels, items[i].Label)
	}
}

// Select returns the categories with the given names, in that order, or all
// of them if names is empty. An unknown name is an error listing the valid ones.
func (d *Dataset) Select(names []string) ([]*Category, error) {
	if len(names) == 0 {
		return d.Categories, nil
	}
	var out []*Category
	for _, n := range names {
		i := slices.IndexFunc(d.Categories, func(c *Category) bool { return c.Name == n })
		if i < 0 {
			valid := make([]string, len(d.Categories))
			for j, c := range d.Categories {
				valid[j] = c.Name
			}
			return nil, fmt.Errorf("no category %q in %s (found: %s)", n, d.Root, strings.Join(valid, ", "))
		}
		out = append(out, d.Categories[i])
	}
	return out, nil
}

// SetOptions choose the clustering protocol.
type SetOptions struct {
	// DefectsOnly drops the good images (the protocol of papers other than
	// the seed's); by default good is a class of its own.
	DefectsOnly bool
	// KeepCombined keeps MVTec's "combined" images, which the protocol drops.
	KeepCombined bool
}

// Set is the list of images to cluster for one category and their ground
// truth.
type Set struct {
	Category string
	Dir      string
	Labels   []string // distinct labels, sorted; K defaults to len(Labels)
	Items    []Item   // sorted by label then name; LabelIndex indexes Labels
}

// ClusterSet returns the images clustered under the protocol of docs/METHOD.md §5:
// every test image, good included as a class (unless o.DefectsOnly),
// combined dropped (unless o.KeepCombined).
func (c *Category) ClusterSet(o SetOptions) Set {
	s := Set{Category: c.Name, Dir: c.Dir}
	for _, it := range c.Test {
		if (o.DefectsOnly && it.Label == Good) || (!o.KeepCombined && it.Label == Combined) {
			continue
		}
		s.Items = append(s.Items, it)
	}
	s.Labels = labelsOf(s.Items)
	setIndex(s.Items, s.Labels)
	return s
}

// ErrOneClass is wrapped by Check when a set has fewer than two classes.
var ErrOneClass = errors.New("fewer than two classes to cluster")

// Check reports whether the set can be clustered: at least two images and
// two classes. The error names the category and its folder.
func (s Set) Check() error {
	if len(s.Items) == 0 {
		return fmt.Errorf("category %s (%s): no test images to cluster", s.Category, s.Dir)
	}
	if len(s.Labels) < 2 {
		return fmt.Errorf("category %s (%s): only the class %q: %w; add another test/<type> folder (or drop --defects-only)", s.Category, s.Dir, s.Labels[0], ErrOneClass)
	}
	return nil
}

// TrainSet returns the train/good images (for the semi-supervised mode);
// an error names the folder when there are none.
func (c *Category) TrainSet() ([]Item, error) {
	if len(c.Train) == 0 {
		return nil, fmt.Errorf("category %s: no train images (expected %s)", c.Name, filepath.Join(c.Dir, "train", Good))
	}
	return c.Train, nil
}
