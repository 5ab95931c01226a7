package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
	"github.com/anomclust/anomclust/weights"
	"github.com/anomclust/anomclust/xpool"
)

// AssignOptions say which run's clusters new images are placed in.
type AssignOptions struct {
	Run      string // the run folder (OUT of `anomclust run`)
	Category string // "" = the run's only category
	// Mode and Tau pick the result whose clusters are used: "" and nil =
	// the setting the run recommended for the category (else the
	// unsupervised mode if the run has it, then semi, then average, at the
	// run's first tau).
	Mode string
	Tau  *float64
	// Images are the new images.
	Images []string
	// Weights overrides the run's weights file; its SHA-256 must still
	// equal the run's.
	Weights string
	Store   *weights.Store
	// Net and NetID stand in for the backbone as in Options (tests); NetID
	// must equal the run's.
	Net   backbone.Backbone
	NetID string
	// Placement overrides the rule the run recorded for the category
	// (model.RuleWardStd, model.RuleWard, model.RuleMembers; "" = the run's).
	Placement string
	// CategoryNet and CategoryNetID stand in for the backbone of a category
	// recorded with its own (run.json's categories[].backbone, the auto
	// preset's texture configuration), as Net and NetID for the run's.
	CategoryNet   backbone.Backbone
	CategoryNetID string
	// Cache is the feature cache root ("" = none); Workers as in Options.
	Cache    string
	Workers  int
	Progress io.Writer
	Log      io.Writer
}

// Assigned is one new image's place.
type Assigned struct {
	Path string
	model.Placement
	// Score is the image's anomaly score, its maximum patch score against
	// the saved reference (NaN for the average mode).
	Score float64
}

// AssignResult is what Assign returns.
type AssignResult struct {
	Category string
	Mode     string
	Tau      float64 // meaningless for average
	// Recommended: Mode and Tau are the setting the run recommended for
	// the category (run.json's recommended_mode and recommended_tau).
	Recommended bool
	K           int
	Rows        []Assigned
	// X is the new images' image embeddings, len(Rows) x D (row-major),
	// as they were placed.
	X []float32
	D int
}

// ErrWeightsMismatch: the backbone's weights differ from the run's.
var ErrWeightsMismatch = errors.New("weights differ from the run's")

// Assign places new images in the clusters of a finished run: their patch
// embeddings with the run's settings and backbone (weights checked by
// SHA-256), patch scores against the reference the run saved in
// <cat>/model/ (see package model), X with the chosen result's tau, and
// the cluster of that result whose Ward objective, with each feature
// standardised by its pooled within-cluster standard deviation, grows
// least by taking the image (model.Clusters.Place: distance to its centre,
// confidence, and New beyond the cluster's own members' 95th percentile
// distance).
func Assign(ctx context.Context, ao AssignOptions) (*AssignResult, error) {
	if len(ao.Images) == 0 {
		return nil, errors.New("assign: no images given")
	}
	log := ao.Log
	if log == nil {
		log = io.Discard
	}
	run, err := rundir.ReadRun(ao.Run)
	if err != nil {
		return nil, fmt.Errorf("assign: run folder %s: %w", ao.Run, err)
	}
	cat, err := pickCategory(run, ao.Category)
	if err != nil {
		return nil, err
	}
	mode, tau, err := pickResult(run, cat, ao.Mode, ao.Tau)
	if err != nil {
		return nil, err
	}
	catDir := rundir.CategoryDir(ao.Run, cat.Name)
	mdl, err := model.Read(filepath.Join(catDir, rundir.ModelDir))
	if err != nil {
		return nil, err
	}
	resDir := rundir.ResultDir(ao.Run, cat.Name, mode, tau)
	cl, err := loadClusters(resDir)
	if err != nil {
		return nil, err
	}
	cl.Rule = cat.Placement
	if ao.Placement != "" {
		cl.Rule = ao.Placement
	}
	if err := model.CheckRule(cl.Rule); err != nil {
		return nil, fmt.Errorf("assign: category %s: %w", cat.Name, err)
	}

	s := run.Settings
	// The auto preset's per-category choice (run.json's category)
	// replaces the run's descriptor and score interval.
	if cat.XPool != "" {
		s.XPool = cat.XPool
	}
	if cat.ScoreInterval != 0 {
		s.ScoreInterval = cat.ScoreInterval
	}
	layers := run.Layers
	if len(cat.Layers) > 0 {
		layers = cat.Layers
	}
	if cat.TTA != "" {
		s.TTA = cat.TTA
	}
	if err := validateTTA(s.TTA, nil); err != nil {
		return nil, fmt.Errorf("assign: the run's test-time augmentation: %w", err)
	}
	if !(s.ScoreInterval >= 0 && s.ScoreInterval <= 1) {
		return nil, fmt.Errorf("assign: the run's score interval %v is not in [0, 1]", s.ScoreInterval)
	}
	if s.XPool != "" {
		if _, err := xpool.Parse(s.XPool); err != nil {
			return nil, fmt.Errorf("assign: the run's x-pool: %w", err)
		}
	}
	o := Options{Data: ".", Out: ".", Backbone: s.Backbone, Weights: s.Weights, Layers: layers,
		PretrainDim: s.PretrainDim, TargetDim: s.TargetDim, PatchSize: s.PatchSize, ImageSize: s.ImageSize,
		Resize: s.Resize, LayerNorm: s.LayerNorm, ObjectCrop: s.ObjectCrop, ObjectAlign: s.ObjectAlign || cat.ObjectAlign, TTA: s.TTA, Batch: s.Batch, Workers: ao.Workers, Cache: ao.Cache,
		Net: ao.Net, NetID: ao.NetID, Store: ao.Store}
	if ao.Weights != "" {
		o.Weights = ao.Weights
	}
	want := run.Backbone
	if cat.Backbone != nil { // the category's own (the auto preset's texture configuration)
		want = *cat.Backbone
		if ao.Weights != "" {
			fmt.Fprintf(log, "%s: ran on its own backbone %s; --weights %s names the run's (%s), so %s's file is looked up as a run's would be (ANOMCLUST_WEIGHTS_PATH, the cache, the download)\n",
				cat.Name, want.Name, ao.Weights, run.Backbone.Name, want.Name)
		}
		o.Backbone, o.Weights, o.Net, o.NetID = want.Name, "", ao.CategoryNet, ao.CategoryNetID
	}
	if o.Batch <= 0 {
		o.Batch = 8
	}
	n, err := openNet(ctx, &o, log)
	if err != nil {
		return nil, err
	}
	switch {
	case want.WeightsSHA256 != "" && n.sha256 != want.WeightsSHA256:
		return nil, fmt.Errorf("assign: %w: %s has SHA-256 %s, the run used %s (%s)",
			ErrWeightsMismatch, n.file, n.sha256, want.WeightsSHA256, want.WeightsFile)
	case want.WeightsSHA256 == "" && n.id != want.ID:
		return nil, fmt.Errorf("assign: %w: backbone id %q, the run used %q", ErrWeightsMismatch, n.id, want.ID)
	}
	ex, err := newExtractor(n, &o, log)
	if err != nil {
		return nil, err
	}
	z, err := ex.Z(ctx, ao.Images, "assign features", ao.Progress)
	if err != nil {
		return nil, err
	}
	if M, D := z[0].Shape[0], z[0].Shape[1]; M != mdl.GridM || D != mdl.Dim || xPoolKind(s.XPool).Dim(D) != cl.D {
		return nil, fmt.Errorf("assign: new images give %d x %d patch embeddings (X of %d values), the run %d x %d (X of %d)",
			M, D, xPoolKind(s.XPool).Dim(D), mdl.GridM, mdl.Dim, cl.D)
	}
	sc, err := referenceScores(ctx, filepath.Join(catDir, rundir.ModelDir), mdl, mode, z, ao.Workers, intervalOf(&Options{ScoreInterval: s.ScoreInterval}))
	if err != nil {
		return nil, err
	}
	a, err := assignWeights(run.Settings, mdl, mode, sc, tau)
	if err != nil {
		return nil, err
	}
	xs, err := xpool.Embed(alpha.Tensors(z), [][]float64{a}, xPoolKind(s.XPool), alpha.Options{Workers: ao.Workers, Done: ctx.Done()})
	if err != nil {
		return nil, err
	}
	x := xs[0]
	postX(&Options{NormalizeX: s.NormalizeX}, x)
	D := x.Shape[1]
	res := &AssignResult{Category: cat.Name, Mode: mode, Tau: tau, Recommended: isRecommended(cat, mode, tau), K: cl.K, X: x.Data, D: D}
	for i, p := range ao.Images {
		r := Assigned{Path: p, Placement: cl.Place(x.Data[i*D : (i+1)*D]), Score: math.NaN()}
		if rundir.Mode(mode).Scored() {
			r.Score = maxOf(sc.Row(i))
		}
		res.Rows = append(res.Rows, r)
	}
	return res, nil
}

// pickCategory finds the category by name ("" = the only one).
func pickCategory(run *rundir.Run, name string) (*rundir.Category, error) {
	var names []string
	for i := range run.Categories {
		c := &run.Categories[i]
		if c.Name == name || (name == "" && len(run.Categories) == 1) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	if name == "" {
		return nil, fmt.Errorf("assign: the run has %d categories (%v): say which with --category", len(names), names)
	}
	return nil, fmt.Errorf("assign: category %q not in the run (it has %v)", name, names)
}

// pickResult resolves the mode and tau of the result to use: by default
// the setting the run recommended for the category (run.json's
// recommended_mode and recommended_tau), else the unsupervised mode if the
// run has it (then semi, then average) at the run's first tau.
func pickResult(run *rundir.Run, cat *rundir.Category, mode string, tau *float64) (string, float64, error) {
	modes := run.Settings.Modes
	recommended := cat != nil && cat.RecommendedMode != "" && (mode == "" || mode == cat.RecommendedMode)
	if mode == "" && recommended {
		mode = cat.RecommendedMode
	}
	if mode == "" {
		for _, m := range rundir.Modes() {
			if slices.Contains(modes, m) {
				mode = m
				break
			}
		}
	}
	if !slices.Contains(modes, mode) {
		return "", 0, fmt.Errorf("assign: mode %q not in the run (it has %v)", mode, modes)
	}
	if !rundir.Mode(mode).HasTau() {
		return mode, 1, nil // alpha is uniform for every tau
	}
	if tau == nil {
		if recommended {
			return mode, cat.RecommendedTau, nil
		}
		return mode, run.Settings.Taus[0], nil
	}
	for _, t := range run.Settings.Taus {
		if rundir.TauName(t) == rundir.TauName(*tau) {
			return mode, t, nil
		}
	}
	return "", 0, fmt.Errorf("assign: tau %s not in the run (it has %v)", rundir.TauName(*tau), run.Settings.Taus)
}

// isRecommended reports whether mode and tau are the setting the run
// recommended for cat.
func isRecommended(cat *rundir.Category, mode string, tau float64) bool {
	if cat == nil || cat.RecommendedMode == "" || mode != cat.RecommendedMode {
		return false
	}
	return !rundir.Mode(mode).HasTau() || rundir.TauName(tau) == rundir.TauName(cat.RecommendedTau)
}

// assignWeights turns new images' scores into alpha as the run did for
// its own images (Settings.Weighting): set-std standardises them with the
// run's score statistics of the mode, saved in the model, not with their
// own (a batch of one image, or of one defect type, has other statistics).
func assignWeights(s rundir.Settings, m *model.Model, mode string, sc *alpha.Scores, tau float64) ([]float64, error) {
	if s.Weighting != "" && !slices.Contains(Weightings(), s.Weighting) {
		return nil, fmt.Errorf("assign: the run's weighting %q is unknown to this version", s.Weighting)
	}
	return weigh(s.Weighting, sc, tau, func() (float64, float64, error) {
		if !rundir.Mode(mode).Scored() {
			return 0, 1, nil // no scores to standardise: (s - 0) / 1 leaves them as they are
		}
		ref := m.Unsupervised
		if rundir.Mode(mode).Source() == rundir.SourceBank {
			ref = m.Semi
		}
		if ref == nil || !(ref.ScoreSD > 0) {
			return 0, 0, fmt.Errorf("assign: the run used --weighting %s but its model has no score statistics for %s (made by an older version: run it again)", WeightSetStd, mode)
		}
		return ref.ScoreMean, ref.ScoreSD, nil
	})
}

// loadClusters fits the clusters of a result folder from its X.npy and
// assignments.csv.
func loadClusters(dir string) (*model.Clusters, error) {
	x, shape, err := npy.Read[float32](filepath.Join(dir, rundir.XFile))
	if err != nil {
		return nil, fmt.Errorf("assign: %w", err)
	}
	as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
	if err != nil {
		return nil, fmt.Errorf("assign: %w", err)
	}
	if len(shape) != 2 || shape[0] != len(as) {
		return nil, fmt.Errorf("assign: %s has shape %v for %d assignments", filepath.Join(dir, rundir.XFile), shape, len(as))
	}
	pred := make([]int, len(as))
	k := 0
	for i, a := range as {
		pred[i] = a.Cluster
		k = max(k, a.Cluster+1)
	}
	return model.Fit(x, shape[0], shape[1], pred, k)
}

// referenceScores are the new images' patch scores against the model's
// reference of the mode (all zero for average); the unsupervised ones
// reduce the distances to the reference images with MuSc's interval r
// (1: their mean), as the run did.
func referenceScores(ctx context.Context, dir string, m *model.Model, mode string, z []*tensor.Tensor, workers int, r float64) (*alpha.Scores, error) {
	N, M := len(z), z[0].Shape[0]
	opt := alpha.Options{Workers: workers, Done: ctx.Done()}
	wrap := func(err error) error {
		if errors.Is(err, alpha.ErrStopped) && ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if !rundir.Mode(mode).Known() {
		return nil, fmt.Errorf("assign: unknown mode %q (known: %s)", mode, strings.Join(rundir.Modes(), ", "))
	}
	switch rundir.Mode(mode).Source() {
	case rundir.SourceNone:
		return alpha.Average(N, M), nil
	case rundir.SourceBank:
		if m.Semi == nil {
			return nil, fmt.Errorf("assign: the run saved no semi-supervised bank")
		}
		data, shape, err := npy.Read[float32](filepath.Join(dir, m.Semi.File))
		if err != nil {
			return nil, fmt.Errorf("assign: %w", err)
		}
		// One block: SemiSupervised wants bank blocks of one shape, and
		// the coreset's size need not divide into images.
		bank := []*tensor.Tensor{tensor.From(data, shape[0], shape[1])}
		s, err := alpha.SemiSupervised(z, bank, opt)
		return s, wrap(err)
	default: // rundir.SourceOthers
		if m.Unsupervised == nil {
			return nil, fmt.Errorf("assign: the run saved no unsupervised reference")
		}
		data, shape, err := npy.Read[float32](filepath.Join(dir, m.Unsupervised.File))
		if err != nil {
			return nil, fmt.Errorf("assign: %w", err)
		}
		if len(shape) != 3 {
			return nil, fmt.Errorf("assign: %s: shape %v, want (images, patches, dim)", m.Unsupervised.File, shape)
		}
		R, P, D := shape[0], shape[1], shape[2]
		out := &alpha.Scores{N: N, M: M, S: make([]float64, N*M)}
		var pm *alpha.PairMinima // the distances per reference, for r < 1
		if r != 1 {
			pm = &alpha.PairMinima{Q: N, M: M, Refs: make([][]int, N), D: make([][]float32, N)}
			for i := range N {
				pm.Refs[i], pm.D[i] = make([]int, R), make([]float32, R*M)
				for j := range R {
					pm.Refs[i][j] = j
				}
			}
		}
		for j := 0; j < R; j++ {
			ref := tensor.From(data[j*P*D:(j+1)*P*D], P, D)
			s, err := alpha.SemiSupervised(z, []*tensor.Tensor{ref}, opt)
			if err != nil {
				return nil, wrap(err)
			}
			if pm != nil {
				for i := 0; i < N; i++ {
					for k := 0; k < M; k++ {
						pm.D[i][j*M+k] = float32(s.S[i*M+k])
					}
				}
				continue
			}
			for k, v := range s.S {
				out.S[k] += v / float64(R)
			}
		}
		if pm != nil {
			return alpha.IntervalScores(pm, r)
		}
		return out, nil
	}
}
