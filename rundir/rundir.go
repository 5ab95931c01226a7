// Package rundir is the on-disk layout of one `anomclust run`: what the
// pipeline writes and what reports, notebooks and later runs read back.
// The layout is a contract; its version is Format.
//
//	OUT/run.json                          Run: tool, settings, backbone, categories, timings
//	OUT/summary.csv, OUT/summary.md       NMI/ARI/F1 per category, mode, tau, and the means
//	OUT/<cat>/items.csv                   index,path,label,mask: the clustered images, in order
//	OUT/<cat>/<mode>/scores.npy           (N, M) float32 patch scores of unsupervised and semi (alpha's input)
//	OUT/<cat>/<mode>/tau_<tau>/           unsupervised and semi, one folder per tau
//	OUT/<cat>/average/                    average (tau does not matter)
//	    alpha.npy        (N, M) float32   patch weights; row i is items.csv index i, M = grid_h*grid_w row-major
//	    X.npy            (N, D) float32   image embeddings
//	    assignments.csv  path,label,cluster, in items.csv order
//	    metrics.json     Metrics
//	    linkage.npy      (N-1, 4) float64 scipy linkage matrix (Ward only)
//
// Every file is written atomically (a temporary file in the same folder,
// then a rename), so an interrupted run leaves whole files or none.
package rundir

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/anomclust/anomclust/internal/atomicfile"
)

// Format names this layout's version; it changes when a file's meaning does.
const Format = "anomclust-run/1"

// File names of the layout.
const (
	RunFile         = "run.json"
	SummaryCSVFile  = "summary.csv"
	SummaryMDFile   = "summary.md"
	ItemsFile       = "items.csv"
	AlphaFile       = "alpha.npy"
	XFile           = "X.npy"
	AssignmentsFile = "assignments.csv"
	MetricsFile     = "metrics.json"
	LinkageFile     = "linkage.npy"
	// ScoresFile is OUT/<cat>/<mode>/scores.npy: the patch scores (N x M
	// float32) of the unsupervised and semi modes, alpha's input.
	ScoresFile = "scores.npy"
)

// Weighting modes (docs/METHOD.md §4), as written in paths and files.
const (
	ModeUnsupervised = "unsupervised"
	ModeSemi         = "semi"
	ModeAverage      = "average"
)

// Protocols (docs/METHOD.md §5), as written in run.json and metrics.json.
const (
	ProtocolMVTec       = "mvtec: good kept, combined dropped"
	ProtocolDefectsOnly = "defects-only"
	// ProtocolAll: every image clustered (class folders, manifests,
	// unlabelled folders: there is no combined type to drop).
	ProtocolAll = "every image clustered"
	// ProtocolAllDefectsOnly: every image but the good ones clustered.
	ProtocolAllDefectsOnly = "every image clustered but good (defects-only)"
)

// BadImage is an image that could not be read, left out by --skip-bad.
type BadImage struct {
	Path  string `json:"path"` // relative to the data root when under it
	Error string `json:"error"`
}

// Run is run.json.
type Run struct {
	Format    string   `json:"format"`     // Format
	Tool      string   `json:"tool"`       // "anomclust"
	Version   string   `json:"version"`    // the tool's version
	GoVersion string   `json:"go_version"` // runtime.Version()
	Command   []string `json:"command,omitempty"`
	Settings  Settings `json:"settings"`
	Backbone  Backbone `json:"backbone"`
	Layers    []string `json:"layers"`
	Protocol  string   `json:"protocol"` // ProtocolMVTec, ProtocolDefectsOnly, ProtocolAll...
	// Layout is how the data was read: "MVTec AD root", "class-per-folder",
	// "unlabelled images", "manifest"...; LayoutWhy says why (detected or
	// asked for). Both "" in runs written before they existed.
	Layout    string `json:"layout,omitempty"`
	LayoutWhy string `json:"layout_detected,omitempty"`
	// Labelled is false when the images had no labels: no metrics,
	// summary or metrics.json were written. nil in older runs (labelled).
	Labelled *bool `json:"labelled,omitempty"`
	// Skipped are the unreadable images --skip-bad left out.
	Skipped []BadImage `json:"skipped_images,omitempty"`
	// Reference says which images the unsupervised score compares each
	// clustered image with (docs/METHOD.md §4: every other test image, good and
	// combined included); "" when the unsupervised mode was not run.
	Reference string `json:"unsupervised_reference,omitempty"`
	// Categories are in processing order (the order of --categories, else
	// sorted by name).
	Categories []Category `json:"categories"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end"`
	// WallSeconds is End - Start; Stages sums each stage's wall seconds
	// over the categories (keys: see Category.Stages).
	WallSeconds float64            `json:"wall_seconds"`
	Stages      map[string]float64 `json:"stage_seconds"`
}

// Settings are every option of the run after the preset was applied and
// explicit flags overrode it.
type Settings struct {
	// Data is the data root (absolute): the folder given with --data, or
	// the manifest's folder. Image paths elsewhere in the run are relative
	// to it when they lie under it.
	Data        string    `json:"data"`
	Manifest    string    `json:"manifest,omitempty"` // --manifest FILE
	Labels      string    `json:"labels,omitempty"`   // --labels: auto, none, folders, mvtec
	Normal      string    `json:"normal,omitempty"`   // --normal DIR
	SkipBad     bool      `json:"skip_bad,omitempty"`
	Out         string    `json:"out"`
	Categories  []string  `json:"categories"` // as asked; empty = all
	Preset      string    `json:"preset"`
	Backbone    string    `json:"backbone"`
	Weights     string    `json:"weights"` // as given with --weights; "" = found by the weights store
	Layers      []string  `json:"layers"`
	PretrainDim int       `json:"pretrain_dim"`
	TargetDim   int       `json:"target_dim"`
	PatchSize   int       `json:"patchsize"`
	ImageSize   int       `json:"image_size"`             // centre-crop side, pixels
	Resize      int       `json:"resize"`                 // short side before the crop, pixels
	LayerNorm   bool      `json:"layernorm"`              // the seed's per-map LayerNorm quirk
	ObjectCrop  bool      `json:"object_crop,omitempty"`  // --object-crop: crop to the foreground object first
	ObjectAlign bool      `json:"object_align,omitempty"` // --object-align: turn the part to a canonical pose, then crop
	ObjectAuto  bool      `json:"object_auto,omitempty"`  // --object-auto: --object-align where the object gate says so (Category.ObjectAlign)
	TTA         string    `json:"tta,omitempty"`          // --tta: test-time augmentation of Z (package tta; "" = none; Category.TTA)
	Modes       []string  `json:"modes"`
	Taus        []float64 `json:"taus"`
	TrainRatio  float64   `json:"train_ratio"`
	Coreset     float64   `json:"coreset"` // 0 = full memory bank
	// Refs is the unsupervised score's number of reference images per
	// image (a seeded sample); 0 = every other image (exact). Proj and
	// SemiProj are the two-stage search's PCA dimensions; 0 = exact.
	Refs     int    `json:"refs"`
	Proj     int    `json:"proj"`
	SemiProj int    `json:"semi_proj"`
	CacheMax int64  `json:"cache_max,omitempty"` // bytes; 0 = no eviction
	Cluster  string `json:"cluster"`             // a name in cluster.Methods(): "ward", "kmeans", "spectral" (Category.Cluster)
	K        int    `json:"k"`                   // 0 = number of labels per category (or estimated, KAuto)
	// KAuto: K estimated from X per result (package kselect) in the
	// inclusive range KRange.
	KAuto  bool   `json:"k_auto,omitempty"`
	KRange [2]int `json:"k_range,omitempty"`
	// ExportClusters: every result folder has clusters/ (ExportDir).
	ExportClusters bool   `json:"export_clusters,omitempty"`
	Seed           uint64 `json:"seed"`
	DefectsOnly    bool   `json:"defects_only"`
	MaxPerClass    int    `json:"max_per_class"` // 0 = all images
	Cache          string `json:"cache"`         // feature cache root; "" = none
	Batch          int    `json:"batch"`
	Report         bool   `json:"report"`
	// Score and weighting options beyond METHOD.md (the auto preset).
	Weighting  string `json:"weighting,omitempty"`   // "" or "softmax": softmax(s/tau)
	NormalizeX bool   `json:"normalize_x,omitempty"` // X rows L2-normalised before clustering
	XPool      string `json:"x_pool,omitempty"`      // image descriptor (package xpool); "" = weighted mean
	// ScoreInterval is MuSc's interval fraction r of the unsupervised
	// score (0 or 1: the plain mean over the reference images).
	ScoreInterval float64 `json:"score_interval,omitempty"`
	// PerCategory: the auto preset chose the alignment, score interval,
	// recommended unsupervised tau and X descriptor per category
	// (Category.Choice); Fixed names the ones given explicitly.
	PerCategory  bool     `json:"per_category,omitempty"`
	Fixed        []string `json:"fixed,omitempty"`
	RecommendTau float64  `json:"recommend_tau"` // tau of the recommended setting (semi)
	// RecommendTauUnsupervised is the recommended tau when the recommended
	// mode is unsupervised (no train images).
	RecommendTauUnsupervised float64 `json:"recommend_tau_unsupervised"`
}

// Backbone is the network used and the file its weights came from.
type Backbone struct {
	Name        string `json:"name"`
	WeightsFile string `json:"weights_file"`
	// WeightsSHA256 is the file's SHA-256 (hex) when it was computed.
	WeightsSHA256 string `json:"weights_sha256,omitempty"`
	// ID identifies weights a program passed in memory (pipeline
	// Options.NetID) instead of a file; "" for files.
	ID string `json:"id,omitempty"`
	// Random is set when the caller said the backbone had random weights
	// (tests, speed measurements).
	Random bool `json:"random,omitempty"`
}

// Category is one clustered category of run.json.
type Category struct {
	Name string `json:"name"`
	Dir  string `json:"dir"` // relative to settings.data when under it
	// Unlabelled is set when the category's images have no labels:
	// Labels is empty and there is no metrics.json.
	Unlabelled bool `json:"unlabelled,omitempty"`
	// RecommendedMode and RecommendedTau are the setting the tool
	// recommends without labels (the row summary.csv marks recommended;
	// also set for unlabelled categories, which have no summary rows).
	// RecommendedTau is 0 for the average mode.
	RecommendedMode string  `json:"recommended_mode,omitempty"`
	RecommendedTau  float64 `json:"recommended_tau,omitempty"`
	// NImages is N, the number of clustered images (items.csv rows).
	NImages int `json:"n_images"`
	// Labels are the distinct true labels, sorted; LabelCounts their sizes.
	Labels      []string `json:"labels"`
	LabelCounts []int    `json:"label_counts"`
	K           int      `json:"k"` // clusters asked for (0 under Settings.KAuto)
	// KChoices are the K estimates, one per (mode, tau) result, under
	// Settings.KAuto.
	KChoices []KChoice `json:"k_choices,omitempty"`
	// GridH x GridW is the patch grid: alpha.npy has M = GridH*GridW columns,
	// row-major over (y, x) of the ImageSize x ImageSize crop.
	GridH     int `json:"grid_h"`
	GridW     int `json:"grid_w"`
	Dim       int `json:"dim"` // D, the patch embedding length
	ImageSize int `json:"image_size"`
	Resize    int `json:"resize"`
	// ObjectAlign: the category's images were aligned to their part
	// (--object-align, or --object-auto's gate said so).
	ObjectAlign bool `json:"object_align,omitempty"`
	// Choice is the auto preset's per-category configuration and why
	// (Settings.PerCategory; nil otherwise). XPool and ScoreInterval are
	// the category's own when set, replacing Settings'; Layers too.
	Choice        *CategoryChoice `json:"choice,omitempty"`
	XPool         string          `json:"x_pool,omitempty"`
	ScoreInterval float64         `json:"score_interval,omitempty"`
	// Layers are the category's own backbone taps (the auto preset's
	// texture configuration) when they differ from the run's (Run.Layers).
	Layers []string `json:"layers,omitempty"`
	// TTA is the category's own test-time augmentation of Z (package tta;
	// the auto preset's configurations: d4-max, rot4) when it differs from the
	// run's (Settings.TTA); "none" when the run's is another.
	TTA string `json:"tta,omitempty"`
	// Placement is the rule assign places new images in this category's
	// clusters by (model.RuleWardStd, model.RuleWard or model.RuleMembers; "" = ward-std,
	// the rule of runs before it was recorded).
	Placement string `json:"placement,omitempty"`
	// Cluster is the category's own clustering method (a name in
	// cluster.Methods(); the auto preset's texture configuration) when it
	// differs from the run's (Settings.Cluster).
	Cluster string `json:"cluster,omitempty"`
	// Backbone is the category's own network (the auto preset's texture
	// configuration) when it differs from the run's (Run.Backbone); its
	// Z, scores and X come from it, and assign opens it.
	Backbone *Backbone `json:"backbone,omitempty"`
	// NBank is the number of train/good images in the semi-supervised
	// memory bank (0 when semi was not run); BankImages are their paths.
	NBank      int      `json:"n_bank"`
	BankImages []string `json:"bank_images,omitempty"`
	// NReference is the number of test images of the unsupervised score's
	// set: the NImages clustered ones plus ReferenceOnly, the test images
	// that only act as "other images" (combined, and good under the
	// defects-only protocol). 0 when the unsupervised mode was not run.
	NReference    int      `json:"n_reference,omitempty"`
	ReferenceOnly []string `json:"reference_only,omitempty"`
	// CacheHits and CacheMisses count feature cache lookups (test and bank
	// images).
	CacheHits   int `json:"cache_hits"`
	CacheMisses int `json:"cache_misses"`
	// CacheBytes is what this category's Z take in the feature cache
	// (test, reference and bank images, M x D float32 each, entry headers
	// aside); 0 without a cache. Least recently used entries are evicted
	// above Settings.CacheMax.
	CacheBytes int64 `json:"cache_bytes,omitempty"`
	// ScoreCacheHits counts the modes whose patch scores came from the
	// score cache.
	ScoreCacheHits int `json:"score_cache_hits,omitempty"`
	// Stages are wall seconds per stage: "features" (decode, backbone,
	// patch embeddings, cache), "scores" (patch scores of every mode),
	// "alpha" (alpha and X for every tau), "cluster", "metrics", "write".
	Stages map[string]float64 `json:"stage_seconds"`
}

// TauName formats tau for paths and tables: strconv 'g' with the shortest
// exact representation (0 -> "0", 0.2 -> "0.2", 2 -> "2").
func TauName(tau float64) string {
	if tau == 0 {
		tau = 0 // -0 names the same folder as 0
	}
	return strconv.FormatFloat(tau, 'g', -1, 64)
}

// CategoryDir is OUT/<cat>.
func CategoryDir(out, category string) string { return filepath.Join(out, category) }

// ResultDir is the folder of one (category, mode, tau) result:
// OUT/<cat>/<mode>/tau_<tau> for unsupervised and semi, OUT/<cat>/average
// for average (tau is ignored).
func ResultDir(out, category, mode string, tau float64) string {
	if !Mode(mode).HasTau() {
		return filepath.Join(out, category, mode)
	}
	return filepath.Join(out, category, mode, "tau_"+TauName(tau))
}

// Result names one (category, mode, tau) result of a run.
type Result struct {
	Category string
	Mode     string
	Tau      float64 // meaningless (0) for average
	HasTau   bool    // false for average
	Dir      string
}

// Results lists the results a run made, category by category, in the order
// modes then taus: the folders ResultDir gives under out.
func (r *Run) Results(out string) []Result {
	var res []Result
	for _, c := range r.Categories {
		for _, m := range r.Settings.Modes {
			if !Mode(m).HasTau() {
				res = append(res, Result{Category: c.Name, Mode: m, Dir: ResultDir(out, c.Name, m, 0)})
				continue
			}
			for _, t := range r.Settings.Taus {
				res = append(res, Result{Category: c.Name, Mode: m, Tau: t, HasTau: true, Dir: ResultDir(out, c.Name, m, t)})
			}
		}
	}
	return res
}

// WriteRun writes OUT/run.json.
func WriteRun(out string, r *Run) error {
	return writeJSON(filepath.Join(out, RunFile), r)
}

// ReadRun reads OUT/run.json.
func ReadRun(out string) (*Run, error) {
	var r Run
	if err := readJSON(filepath.Join(out, RunFile), &r); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if hint := missingRunHint(out); hint != "" {
				return nil, fmt.Errorf("%w%s", err, hint)
			}
		}
		return nil, err
	}
	if r.Format != Format {
		return nil, fmt.Errorf("%s: format %q, this program reads %q", filepath.Join(out, RunFile), r.Format, Format)
	}
	return &r, nil
}

// Item is one row of items.csv: the clustered image Index (row of alpha.npy
// and X.npy), its file, true label and mask file ("" when none).
type Item struct {
	Index int
	Path  string // relative to the data root when under it (Resolve finds the file)
	Label string
	Mask  string
}

// WriteItems writes items.csv (header index,path,label,mask).
func WriteItems(path string, items []Item) error {
	rows := [][]string{{"index", "path", "label", "mask"}}
	for _, it := range items {
		rows = append(rows, []string{strconv.Itoa(it.Index), it.Path, it.Label, it.Mask})
	}
	return WriteCSV(path, rows)
}

// ReadItems reads items.csv.
func ReadItems(path string) ([]Item, error) {
	rows, err := readCSV(path, []string{"index", "path", "label", "mask"})
	if err != nil {
		return nil, err
	}
	items := make([]Item, len(rows))
	for i, r := range rows {
		idx, err := strconv.Atoi(r[0])
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: index %q: %w", path, i+2, r[0], err)
		}
		items[i] = Item{Index: idx, Path: r[1], Label: r[2], Mask: r[3]}
	}
	return items, nil
}

// Assignment is one row of assignments.csv (see AssignmentHeader for the
// meaning of Distance, Confidence and Score).
type Assignment struct {
	Path       string
	Label      string // true label ("" when unlabelled)
	Cluster    int    // in [0, K)
	Distance   float64
	Confidence float64
	Score      float64 // NaN when the mode has no patch scores (average)
}

// Metrics is metrics.json: the scores of one (category, mode, tau) result.
type Metrics struct {
	Category string   `json:"category"`
	Mode     string   `json:"mode"`
	Tau      *float64 `json:"tau"` // null for average
	Cluster  string   `json:"cluster_method"`
	Protocol string   `json:"protocol"`
	K        int      `json:"k"`
	N        int      `json:"n"`
	NMI      float64  `json:"nmi"`
	ARI      float64  `json:"ari"`
	F1       float64  `json:"f1"` // micro-F1 after Hungarian matching (= accuracy)
	// Labels are the confusion rows (the category's labels, sorted);
	// confusion columns are clusters 0..K-1.
	Labels    []string `json:"labels"`
	Confusion [][]int  `json:"confusion"`
	// Matching gives each cluster its matched label ("" when the cluster
	// is unmatched, i.e. K > number of labels).
	Matching []ClusterMatch `json:"matching"`
}

// ClusterMatch is one cluster's Hungarian-matched label.
type ClusterMatch struct {
	Cluster int    `json:"cluster"`
	Label   string `json:"label"`
	Size    int    `json:"size"`
	Correct int    `json:"correct"` // images of the matched label in the cluster
}

// WriteMetrics writes metrics.json.
func WriteMetrics(path string, m *Metrics) error { return writeJSON(path, m) }

// ReadMetrics reads metrics.json.
func ReadMetrics(path string) (*Metrics, error) {
	var m Metrics
	if err := readJSON(path, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// WriteCSV writes rows (the first is the header) atomically.
func WriteCSV(path string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes())
}

// readCSV reads a CSV file whose header must be want and returns the rows
// after it.
func readCSV(path string, want []string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(want)
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read %s: empty (no header)", path)
	}
	for i, h := range want {
		if rows[0][i] != h {
			return nil, fmt.Errorf("read %s: header %v, want %v", path, rows[0], want)
		}
	}
	return rows[1:], nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'))
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// Kinds of category the auto preset tells apart (CategoryChoice.Kind).
const (
	KindObject  = "object"  // one part on a plain background
	KindTexture = "texture" // anything else: surfaces, boards, scenes
)

// CategoryChoice records the auto preset's per-category configuration:
// the kind the object gate decided on, its evidence (the fraction of
// sampled images where a part was found and the coefficient of variation
// of its area; nil when fewer than two parts were found) and the settings
// the caller fixed instead.
type CategoryChoice struct {
	Kind   string   `json:"kind"`
	Found  float64  `json:"gate_found"`
	AreaCV *float64 `json:"gate_area_cv,omitempty"`
	Why    string   `json:"why"`
	Fixed  []string `json:"fixed,omitempty"`
}

// ClusterMethod is the clustering method category c was clustered with:
// its own (Category.Cluster) or the run's (Settings.Cluster).
func (r *Run) ClusterMethod(c *Category) string {
	if c != nil && c.Cluster != "" {
		return c.Cluster
	}
	return r.Settings.Cluster
}
