package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Where the labels of a data folder come from (OpenOptions.Labels).
const (
	// LabelsAuto detects the layout: MVTec when there are train/ or test/
	// folders, one class per sub-folder when every sub-folder holds images
	// and the root none, no labels otherwise.
	LabelsAuto = "auto"
	// LabelsNone: the images have no labels; sub-folders mean nothing.
	// On an MVTec layout the train/test split is kept, the types dropped.
	LabelsNone = "none"
	// LabelsFolders: the first sub-folder under the root is the label
	// (images may sit deeper inside it).
	LabelsFolders = "folders"
	// LabelsMVTec: an MVTec AD root or category folder, required.
	LabelsMVTec = "mvtec"
)

// LabelSources lists the values of OpenOptions.Labels.
func LabelSources() []string { return []string{LabelsAuto, LabelsNone, LabelsFolders, LabelsMVTec} }

// More layouts (see Layout).
const (
	// Unlabelled is a folder of images without labels, flat or nested.
	Unlabelled Layout = iota + ClassFolders + 1
	// Manifest is a CSV list of images (path[,label][,split]).
	Manifest
)

// OpenOptions say how to read a data folder (OpenWith).
type OpenOptions struct {
	// Labels is one of LabelSources; "" is LabelsAuto.
	Labels string
	// Normal, when not "", is a folder of defect-free images: they become
	// the train set (the semi-supervised memory bank) of the one category
	// and are left out of the clustered images if they lie under the root.
	Normal string
	// Manifest, when not "", is a CSV file listing the images instead of
	// a data folder (see OpenManifest); the root is its folder.
	Manifest string
}

// OpenWith opens a data folder (or o.Manifest) as o says. Dataset.Detected
// says which layout was found and why; Dataset.Labelled whether the images
// have labels.
func OpenWith(root string, o OpenOptions) (*Dataset, error) {
	if o.Labels == "" {
		o.Labels = LabelsAuto
	}
	if !slices.Contains(LabelSources(), o.Labels) {
		return nil, fmt.Errorf("labels %q: want one of %s", o.Labels, strings.Join(LabelSources(), ", "))
	}
	var normal string
	if o.Normal != "" {
		var err error
		if normal, err = filepath.Abs(o.Normal); err != nil {
			return nil, fmt.Errorf("normal images %s: %w", o.Normal, err)
		}
		if !isDir(normal) {
			return nil, fmt.Errorf("normal images: %s is not a folder", o.Normal)
		}
	}
	var d *Dataset
	var err error
	if o.Manifest != "" {
		if o.Labels == LabelsFolders || o.Labels == LabelsMVTec {
			return nil, fmt.Errorf("--labels %s does not apply to a manifest (its label column gives the labels; --labels none ignores them)", o.Labels)
		}
		d, err = OpenManifest(o.Manifest)
		if err == nil && o.Labels == LabelsNone {
			d.dropLabels()
			d.Detected += "; labels ignored (--labels none)"
		}
	} else {
		d, err = openFolder(root, o.Labels, normal)
	}
	if err != nil {
		return nil, err
	}
	if normal != "" {
		if err := d.setNormal(normal); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// openFolder opens a data folder with the given label source.
func openFolder(root, labels, normal string) (*Dataset, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open dataset: %s is not a folder", root)
	}
	mvtec := isCategory(root)
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	dirs, files := split(root, entries)
	if len(dirs) == 0 && len(files) == 0 {
		return nil, fmt.Errorf("open dataset: %s is empty", root)
	}
	// The normal folder, when it is a sub-folder of the root, is no class.
	dirs = slices.DeleteFunc(dirs, func(n string) bool { return sameDir(filepath.Join(root, n), normal) })
	if !mvtec {
		for _, n := range dirs {
			if isCategory(filepath.Join(root, n)) {
				mvtec = true
				break
			}
		}
	}
	switch labels {
	case LabelsMVTec:
		if !mvtec {
			return nil, fmt.Errorf("open dataset: --labels mvtec but %s has no train/ or test/ folder (nor a category folder holding them)", root)
		}
		d, err := Open(root)
		if err == nil {
			d.Labelled, d.Detected = true, d.Layout.String()+" (--labels mvtec)"
		}
		return d, err
	case LabelsNone:
		if mvtec {
			d, err := Open(root)
			if err != nil {
				return nil, err
			}
			d.dropLabels()
			d.Detected = d.Layout.String() + " without its defect types (--labels none): test images clustered, train/good kept as normal images"
			return d, nil
		}
		return openUnlabelled(root, normal, "every image under the folder, sub-folders ignored (--labels none)")
	case LabelsFolders:
		return openFolders(root, dirs, files, normal)
	}
	// auto
	if mvtec {
		d, err := Open(root)
		if err == nil {
			d.Labelled = true
			d.Detected = d.Layout.String() + ": found train/ or test/ folders; the test/<type> folders are the labels"
		}
		return d, err
	}
	nRoot := countImages(files)
	direct, deep := 0, 0
	for _, n := range dirs {
		fi, err := listImages(filepath.Join(root, n))
		if err != nil {
			return nil, fmt.Errorf("open dataset: %w", err)
		}
		if len(fi) > 0 {
			direct++
		}
		if hasNestedImages(filepath.Join(root, n)) {
			deep++
		}
	}
	switch {
	case nRoot == 0 && len(dirs) >= 2 && direct == len(dirs) && deep == 0:
		d, err := openFolders(root, dirs, files, normal)
		if err == nil {
			d.Detected = fmt.Sprintf("one sub-folder per class: %d sub-folders, each holding images, none at the top; the folder names are the labels (--labels none ignores them)", len(dirs))
		}
		return d, err
	case nRoot > 0 && len(dirs) == 0:
		return openUnlabelled(root, normal, fmt.Sprintf("a flat folder of %d images without labels", nRoot))
	}
	var why string
	switch {
	case nRoot > 0:
		why = fmt.Sprintf("images both at the top (%d) and in sub-folders", nRoot)
	case len(dirs) == 1:
		why = "a single sub-folder (one class cannot be clustered against)"
	case deep > 0:
		why = "images nested more than one folder deep"
	default:
		why = "sub-folders without images"
	}
	return openUnlabelled(root, normal, "no labels: "+why+"; every image under the folder is clustered (--labels folders takes the top sub-folders as classes)")
}

// openUnlabelled lists every image under root (recursively, hidden files
// and folders skipped, the normal folder left out), sorted by path.
func openUnlabelled(root, normal, why string) (*Dataset, error) {
	paths, err := walkImages(root, normal)
	if err != nil {
		return nil, fmt.Errorf("open dataset: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("open dataset: no PNG, JPEG or BMP images under %s", root)
	}
	name := filepath.Base(filepath.Clean(root))
	c := &Category{Name: name, Dir: root}
	for _, p := range paths {
		c.Test = append(c.Test, Item{Path: p, Category: name, LabelIndex: -1})
	}
	return &Dataset{Root: root, Layout: Unlabelled, Categories: []*Category{c}, Detected: why}, nil
}

// openFolders reads one class per top sub-folder, images at any depth
// inside it.
func openFolders(root string, dirs, files []string, normal string) (*Dataset, error) {
	if n := countImages(files); n > 0 {
		return nil, fmt.Errorf("open dataset: --labels folders but %d images lie directly in %s, outside any class folder (e.g. %s)", n, root, firstImage(files))
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("open dataset: --labels folders but %s has no sub-folders", root)
	}
	name := filepath.Base(filepath.Clean(root))
	c := &Category{Name: name, Dir: root}
	for _, label := range dirs {
		paths, err := walkImages(filepath.Join(root, label), normal)
		if err != nil {
			return nil, fmt.Errorf("class folders %s: %w", root, err)
		}
		if len(paths) == 0 {
			return nil, fmt.Errorf("class folders %s: class folder %s has no PNG, JPEG or BMP images", root, filepath.Join(root, label))
		}
		for _, p := range paths {
			c.Test = append(c.Test, Item{Path: p, Category: name, Label: label, Good: label == Good})
		}
	}
	c.index()
	return &Dataset{Root: root, Layout: ClassFolders, Categories: []*Category{c}, Labelled: true,
		Detected: "one sub-folder per class (--labels folders)"}, nil
}

// walkImages lists the images under dir at any depth, sorted by path,
// skipping hidden entries and the folder skip.
func walkImages(dir, skip string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() {
			if p != dir && sameDir(p, skip) {
				return filepath.SkipDir
			}
			return nil
		}
		if IsImage(e.Name()) {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// hasNestedImages reports whether a sub-folder of dir holds images.
func hasNestedImages(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	sub, _ := split(dir, entries)
	for _, s := range sub {
		if ps, _ := walkImages(filepath.Join(dir, s), ""); len(ps) > 0 {
			return true
		}
	}
	return false
}

func countImages(files []string) int {
	n := 0
	for _, f := range files {
		if IsImage(f) {
			n++
		}
	}
	return n
}

func firstImage(files []string) string {
	for _, f := range files {
		if IsImage(f) {
			return f
		}
	}
	return ""
}

// sameDir reports whether a and b name the same folder (b "" never does).
func sameDir(a, b string) bool {
	if b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// dropLabels makes every image unlabelled (LabelIndex -1), keeping the
// train/test split.
func (d *Dataset) dropLabels() {
	d.Labelled = false
	for _, c := range d.Categories {
		c.Labels = nil
		for i := range c.Test {
			c.Test[i].Label, c.Test[i].Good, c.Test[i].LabelIndex = "", false, -1
		}
		slices.SortStableFunc(c.Test, func(a, b Item) int { return strings.Compare(a.Path, b.Path) })
		for i := range c.Train {
			c.Train[i].LabelIndex = -1
		}
	}
}

// setNormal makes the images under normal the train set of the one
// category and drops them from its test images.
func (d *Dataset) setNormal(normal string) error {
	if len(d.Categories) != 1 {
		return fmt.Errorf("--normal names the normal images of one category, but %s has %d categories: run one at a time (--categories)", d.Root, len(d.Categories))
	}
	paths, err := walkImages(normal, "")
	if err != nil {
		return fmt.Errorf("normal images: %w", err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("normal images: no PNG, JPEG or BMP images under %s", normal)
	}
	c := d.Categories[0]
	c.Train = c.Train[:0]
	in := map[string]bool{}
	gi := slices.Index(c.Labels, Good)
	for _, p := range paths {
		in[p] = true
		c.Train = append(c.Train, Item{Path: p, Category: c.Name, Label: Good, Good: true, LabelIndex: gi})
	}
	n := len(c.Test)
	c.Test = slices.DeleteFunc(c.Test, func(it Item) bool { return in[it.Path] })
	if len(c.Test) < n && d.Labelled {
		c.index()
	}
	d.Normal = normal
	return nil
}

// OpenManifest reads a CSV list of images: one row per image with its path
// and, optionally, its label and split ("test", the default, for images to
// cluster; "train" or "normal" for defect-free images, the semi-supervised
// memory bank). A first row "path,label,split" (any order, any subset with
// path) is a header naming the columns; without it the columns are path,
// label, split in that order. Relative paths are relative to the
// manifest's folder, which is the data root. Lines starting with # are
// comments. Every problem is reported with its line number, all at once.
// Labels are all given or all absent (for the test rows).
func OpenManifest(file string) (*Dataset, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", file, err)
	}
	root := filepath.Dir(abs)
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.TrimLeadingSpace = true
	col := map[string]int{"path": 0, "label": 1, "split": 2}
	ncol := 3
	var errs []string
	bad := func(line int, format string, a ...any) {
		errs = append(errs, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, a...))
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	c := &Category{Name: name, Dir: root}
	seen := map[string]int{}
	labelled, unlabelled := 0, 0
	firstUnlabelled, firstLabelled := 0, 0
	for first := true; ; first = false {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad(pe.Line, "%v", pe.Err)
				break
			}
			return nil, fmt.Errorf("manifest %s: %w", file, err)
		}
		line, _ := r.FieldPos(0)
		if first && strings.EqualFold(strings.TrimSpace(rec[0]), "path") {
			col = map[string]int{}
			for i, h := range rec {
				h = strings.ToLower(strings.TrimSpace(h))
				if h != "path" && h != "label" && h != "split" {
					bad(line, "unknown column %q in the header (known: path, label, split)", h)
					continue
				}
				if _, dup := col[h]; dup {
					bad(line, "column %q named twice", h)
				}
				col[h] = i
			}
			ncol = len(rec)
			continue
		}
		if len(rec) > ncol {
			bad(line, "%d fields, want at most %d (path,label,split)", len(rec), ncol)
			continue
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := get("path")
		if p == "" {
			bad(line, "empty path")
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		p = filepath.Clean(p)
		if prev, dup := seen[p]; dup {
			bad(line, "%s listed again (first on line %d)", get("path"), prev)
			continue
		}
		seen[p] = line
		if !IsImage(filepath.Base(p)) {
			bad(line, "%s is not a PNG, JPEG or BMP file", get("path"))
			continue
		}
		if st, err := os.Stat(p); err != nil {
			bad(line, "%s: no such file", p)
			continue
		} else if st.IsDir() {
			bad(line, "%s is a folder", p)
			continue
		}
		label := get("label")
		switch split := strings.ToLower(get("split")); split {
		case "", "test":
			if label == "" {
				unlabelled++
				if firstUnlabelled == 0 {
					firstUnlabelled = line
				}
			} else {
				labelled++
				if firstLabelled == 0 {
					firstLabelled = line
				}
			}
			c.Test = append(c.Test, Item{Path: p, Category: name, Label: label, Good: label == Good})
		case "train", "normal", "good":
			c.Train = append(c.Train, Item{Path: p, Category: name, Label: Good, Good: true})
		default:
			bad(line, "split %q: want test, or train (normal images)", split)
		}
	}
	if labelled > 0 && unlabelled > 0 {
		bad(firstUnlabelled, "no label, while line %d has one: give every image to cluster a label, or none", firstLabelled)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("manifest %s: %d problems:\n  %s", file, len(errs), strings.Join(errs, "\n  "))
	}
	if len(c.Test) == 0 {
		return nil, fmt.Errorf("manifest %s: no images to cluster (every row is a train row, or the file is empty)", file)
	}
	d := &Dataset{Root: root, Layout: Manifest, Categories: []*Category{c}, Labelled: labelled > 0}
	if d.Labelled {
		c.index()
		d.Detected = fmt.Sprintf("manifest %s: %d images with labels, %d normal images", file, len(c.Test), len(c.Train))
	} else {
		for i := range c.Test {
			c.Test[i].LabelIndex = -1
		}
		for i := range c.Train {
			c.Train[i].LabelIndex = -1
		}
		d.Detected = fmt.Sprintf("manifest %s: %d images without labels, %d normal images", file, len(c.Test), len(c.Train))
	}
	return d, nil
}

// Keep returns the set with only items (a subset of s.Items, in order),
// its labels and label indices recomputed.
func (s Set) Keep(items []Item) Set {
	out := s
	out.Items = items
	if !s.Unlabelled {
		out.Labels = labelsOf(items)
		setIndex(out.Items, out.Labels)
	}
	return out
}
