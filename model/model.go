package model

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/anomclust/anomclust/internal/atomicfile"
)

// Format names the model folder's layout version.
const Format = "anomclust-model/1"

// File names in OUT/<cat>/model/.
const (
	File             = "model.json"
	UnsupervisedFile = "reference_unsupervised.npy" // (R, P, D) float32
	SemiFile         = "bank_semi.npy"              // (P, D) float32
)

// Defaults of the saved references.
const (
	// RefImages is the number of clustered images whose patches stand in
	// for "every other image" of the unsupervised score of a new image.
	RefImages = 32
	// RefCoreset is the fraction of each reference image's patches kept
	// (PatchCore's greedy coreset, per image) when it has more than
	// RefKeepAll patches (784 -> 196 at 224 px with a stride-8 grid).
	RefCoreset = 0.25
	// RefKeepAll: images of at most this many patches are kept whole.
	RefKeepAll = 256
	// BankCoreset is the fraction of the semi-supervised memory bank's
	// patches kept when the run itself used the whole bank.
	BankCoreset = 0.1
)

// Model is model.json: what `anomclust assign` needs besides run.json (the
// settings) and each result's X.npy and assignments.csv (the clusters).
type Model struct {
	Format   string `json:"format"`
	Category string `json:"category"`
	Backbone string `json:"backbone"`
	// WeightsSHA256 (or NetID for a backbone passed in memory) must match
	// the backbone assign runs.
	WeightsSHA256 string `json:"weights_sha256,omitempty"`
	NetID         string `json:"net_id,omitempty"`
	GridM         int    `json:"patches"` // M, patches per image
	Dim           int    `json:"dim"`     // D
	// Unsupervised: the new image's score of patch m is the mean over the
	// reference images of the distance to the nearest of their kept
	// patches (METHOD §4's mean over other images, on a seeded sample of
	// RefImages clustered images, each coreset-reduced to RefCoreset).
	Unsupervised *Reference `json:"unsupervised,omitempty"`
	// Semi: the distance to the nearest patch of the (coreset-reduced)
	// memory bank of normal images (METHOD §4).
	Semi *Reference `json:"semi,omitempty"`
}

// Reference is one mode's saved reference patches.
type Reference struct {
	File    string   `json:"file"`
	Images  []string `json:"images"`  // the images the patches came from
	Patches int      `json:"patches"` // kept patches: per image (unsupervised) or in all (semi)
	Coreset float64  `json:"coreset"` // fraction of patches kept
	Seed    uint64   `json:"seed"`
	// ScoreMean and ScoreSD are the mean and standard deviation of all
	// the category's patch scores of this mode in the run (alpha.MeanStd):
	// the set-std weighting standardises a new image's scores with them,
	// so that its tau means what it meant for the clustered images.
	ScoreMean float64 `json:"score_mean"`
	ScoreSD   float64 `json:"score_sd"`
}

// Write writes dir/model.json.
func Write(dir string, m *Model) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, File), append(b, '\n'))
}

// Read reads dir/model.json.
func Read(dir string) (*Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, File))
	if err != nil {
		return nil, fmt.Errorf("model: %w (was the run made before assign existed?)", err)
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, File), err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%s: format %q, this program reads %q", filepath.Join(dir, File), m.Format, Format)
	}
	return &m, nil
}

// RefFraction is the fraction of an image's M patches kept in the
// unsupervised reference: 1 up to RefKeepAll patches, else RefCoreset.
func RefFraction(m int) float64 {
	if m <= RefKeepAll {
		return 1
	}
	return RefCoreset
}
