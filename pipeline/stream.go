package pipeline

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// scoreVersion changes whenever the code computing the patch scores changes
// them, so that older score cache entries become misses.
const scoreVersion = "anomclust-scores/1"

// cacheSource streams Z from the feature cache (alpha.Source): the
// pipeline holds a few images at a time, not all of them.
type cacheSource struct {
	c     *featcache.Cache
	keys  []featcache.ImageKey
	paths []string
	m, d  int
}

func (s *cacheSource) Len() int         { return len(s.keys) }
func (s *cacheSource) Dims() (m, d int) { return s.m, s.d }

// Z reads image i's entry into buf.
func (s *cacheSource) Z(i int, buf []float32) ([]float32, error) {
	z, rows, cols, err := s.c.GetInto(s.keys[i], buf)
	if err != nil {
		return nil, fmt.Errorf("patch embeddings of %s vanished from the feature cache during the run (pruned by another process, or the disk?): %w", s.paths[i], err)
	}
	if rows != s.m || cols != s.d {
		return nil, fmt.Errorf("patch embeddings of %s in the cache are %dx%d, want %dx%d", s.paths[i], rows, cols, s.m, s.d)
	}
	return z, nil
}

// catInputs are a category's patch embeddings as sources: the clustered
// images, the unsupervised score's set (the clustered images first, then
// the reference-only ones) and the semi-supervised bank, with their cache
// keys (for the score cache).
type catInputs struct {
	z, zRef, bank           alpha.Source
	keys, refKeys, bankKeys []featcache.ImageKey
	fingerprint             [32]byte
	streamed                bool
}

// inputs makes sure every image's Z is computed (or in the cache) and
// returns the sources: streamed from the cache when there is one, else in
// memory.
func (x *extractor) inputs(ctx context.Context, paths, refPaths, bankPaths []string, cat string, progress io.Writer) (*catInputs, error) {
	if m := x.opt.in.merge; m != nil {
		return m.inputs(cat) // from a sharded run's store (shard.go)
	}
	in := &catInputs{streamed: x.cache != nil}
	keep := x.cache == nil
	z, keys, err := x.zKeys(ctx, paths, cat+" features", progress, keep)
	if err != nil {
		return nil, err
	}
	in.keys = keys
	var zr []*tensor.Tensor
	if len(refPaths) > 0 {
		if zr, in.refKeys, err = x.zKeys(ctx, refPaths, cat+" reference features", progress, keep); err != nil {
			return nil, err
		}
	}
	var zb []*tensor.Tensor
	if len(bankPaths) > 0 {
		if zb, in.bankKeys, err = x.zKeys(ctx, bankPaths, cat+" normal-image features", progress, keep); err != nil {
			return nil, err
		}
	}
	if keep {
		in.z = alpha.Tensors(z)
		in.zRef = alpha.Tensors(append(z[:len(z):len(z)], zr...))
		in.bank = alpha.Tensors(zb)
		if _, _, err := alpha.CheckSource("patch embeddings", in.zRef); err != nil {
			return nil, err
		}
		return in, nil
	}
	in.fingerprint = x.cache.Fingerprint()
	// The shape comes from the first entry (every entry has D columns, as
	// zKeys checked; the patch grid is the same for every image).
	_, rows, cols, err := x.cache.GetInto(keys[0], nil)
	if err != nil {
		return nil, fmt.Errorf("patch embeddings of %s: %w", paths[0], err)
	}
	src := func(ks []featcache.ImageKey, ps []string) *cacheSource {
		return &cacheSource{c: x.cache, keys: ks, paths: ps, m: rows, d: cols}
	}
	in.z = src(keys, paths)
	in.zRef = src(append(keys[:len(keys):len(keys)], in.refKeys...), append(paths[:len(paths):len(paths)], refPaths...))
	in.bank = src(in.bankKeys, bankPaths)
	return in, nil
}

// scoreKey is the score cache key of one mode's scores: every input that
// changes them.
func (in *catInputs) scoreKey(o *Options, mode string) featcache.ScoreKey {
	num := func(name string, v float64) []byte {
		return []byte(name + "=" + strconv.FormatFloat(v, 'g', -1, 64))
	}
	seed := binary.LittleEndian.AppendUint64(nil, o.Seed)
	parts := [][]byte{[]byte(scoreVersion), in.fingerprint[:], []byte(mode), featcache.Keys(in.keys)}
	_, d := in.z.Dims()
	switch rundir.Mode(mode).Source() {
	case rundir.SourceOthers:
		n := in.zRef.Len()
		refs, proj := o.Refs, o.Proj
		if refs == 0 || (refs+1)/2*2 >= n-1 {
			refs = 0 // every other image
		}
		if proj >= d {
			proj = 0
		}
		parts = append(parts, featcache.Keys(in.refKeys), num("refs", float64(refs)), num("proj", float64(proj)))
		if r := intervalOf(o); r != 1 {
			parts = append(parts, num("interval", r)) // absent for the plain mean: earlier entries stay valid
		}
		if refs != 0 || proj != 0 {
			parts = append(parts, seed)
		}
	case rundir.SourceBank:
		proj := o.SemiProj
		if proj >= d {
			proj = 0
		}
		coreset := o.Coreset
		if coreset == 1 {
			coreset = 0
		}
		parts = append(parts, featcache.Keys(in.bankKeys), num("coreset", coreset), num("proj", float64(proj)))
		if coreset != 0 && !o.CoresetExact {
			parts = append(parts, []byte("coreset-search=blocked")) // may round differently
		}
		if proj != 0 {
			parts = append(parts, []byte("pca=rows-sample-16384")) // alpha.PCARows since its first version
		}
		if coreset != 0 || proj != 0 {
			parts = append(parts, seed)
		}
	}
	return featcache.ScoreKeyOf(parts...)
}

// scores computes the patch scores of one mode for the clustered images,
// or takes them from the score cache; hit reports the latter. The
// unsupervised score of an image is a mean over other images of in.zRef
// (every one, or a sample of o.Refs).
func scores(ctx context.Context, o *Options, mode string, in *catInputs, cat string, log io.Writer, coresetPicked func([]int)) (s *alpha.Scores, hit bool, err error) {
	N := in.z.Len()
	M, _ := in.z.Dims()
	if !rundir.Mode(mode).Scored() { // uniform weights
		return alpha.Average(N, M), false, nil
	}
	if m := o.in.merge; m != nil {
		s, err := m.scores(cat, mode, M) // a sharded run's score shards (shard.go)
		return s, false, err
	}
	var sc *featcache.ScoreCache
	var key featcache.ScoreKey
	if in.streamed && o.Cache != "" {
		if sc, err = featcache.OpenScores(o.Cache); err != nil {
			return nil, false, err
		}
		key = in.scoreKey(o, mode)
		v, rows, cols, err := sc.Get(key)
		if err == nil && rows == N && cols == M {
			return &alpha.Scores{N: N, M: M, S: v}, true, nil
		}
		if err != nil && err != featcache.ErrMiss {
			fmt.Fprintf(log, "score cache: %v; recomputing\n", err)
		}
	}
	if err := announceScores(o, mode, in, cat, log); err != nil {
		return nil, false, err
	}
	var bar atomic.Pointer[barT]
	opt := alpha.ScaleOptions{Options: alpha.Options{Workers: o.Workers, Coreset: o.Coreset, CoresetExact: o.CoresetExact, CoresetPicked: coresetPicked, Seed: o.Seed, Done: ctx.Done(),
		Progress: func(n, total int) {
			b := bar.Load()
			if b == nil {
				nb := newUnitsBar(o.Progress, total, cat+" "+mode+" scores")
				if bar.CompareAndSwap(nil, nb) {
					b = nb
				} else {
					b = bar.Load()
				}
			}
			b.Add(n)
		}}}
	defer func() {
		if b := bar.Load(); b != nil {
			b.Finish()
		}
	}()
	if rundir.Mode(mode).Source() == rundir.SourceOthers {
		opt.Refs, opt.Proj = o.Refs, o.Proj
		if r := intervalOf(o); r != 1 {
			s, err = intervalScores(in.zRef, 0, N, r, opt)
		} else {
			s, err = alpha.UnsupervisedFrom(in.zRef, 0, N, opt)
		}
	} else {
		opt.Proj = o.SemiProj
		s, err = alpha.SemiFrom(in.z, 0, N, in.bank, opt)
	}
	if errors.Is(err, alpha.ErrStopped) && ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if err != nil {
		return nil, false, err
	}
	if sc != nil {
		if err := sc.Put(key, s.S, s.N, s.M); err != nil {
			return nil, false, err
		}
	}
	return s, false, nil
}

// scaleNote describes the score approximations of a mode for the log ("" when exact).
func scaleNote(o *Options, mode string, nRef, d int) string {
	switch rundir.Mode(mode).Source() {
	case rundir.SourceOthers:
		note := ""
		if o.Refs > 0 && (o.Refs+1)/2*2 < nRef-1 {
			note = fmt.Sprintf("%d sampled reference images of %d", (o.Refs+1)/2*2, nRef-1)
		}
		if o.Proj > 0 && o.Proj < d {
			if note != "" {
				note += ", "
			}
			note += fmt.Sprintf("two-stage search (PCA %d)", o.Proj)
		}
		return note
	case rundir.SourceBank:
		if o.SemiProj > 0 && o.SemiProj < d {
			return fmt.Sprintf("two-stage search (PCA %d)", o.SemiProj)
		}
	}
	return ""
}

// pruneCache applies Options.CacheMax after a run: the least recently used
// entries go, never one the run used (since start).
func pruneCache(o *Options, start time.Time, log io.Writer) {
	if o.Cache == "" || o.CacheMax <= 0 {
		return
	}
	removed, remaining, err := featcache.Prune(o.Cache, o.CacheMax, start)
	if err != nil {
		fmt.Fprintf(log, "cache prune: %v\n", err)
		return
	}
	if removed.Files > 0 {
		fmt.Fprintf(log, "cache: removed %d least recently used entries (%s) to stay under %s\n",
			removed.Files, featcache.FormatSize(removed.Bytes), featcache.FormatSize(o.CacheMax))
	}
	if remaining.Bytes > o.CacheMax {
		fmt.Fprintf(log, "cache: this run's entries alone take %s, above the cap of %s (--cache-max)\n",
			featcache.FormatSize(remaining.Bytes), featcache.FormatSize(o.CacheMax))
	}
}

// writeScores writes the patch scores of one mode.
func writeScores(o *Options, cat, mode string, s *alpha.Scores) error {
	dir := filepath.Join(rundir.CategoryDir(o.Out, cat), mode)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	v := make([]float32, len(s.S))
	for i, x := range s.S {
		v[i] = float32(x)
	}
	return npy.Write(filepath.Join(dir, rundir.ScoresFile), v, s.N, s.M)
}

// intervalScores are the unsupervised scores of the images [lo, hi) of
// src with MuSc's interval averaging r (Options.ScoreInterval): the pair
// minima of the same reference sample and search as UnsupervisedFrom
// (memory (hi-lo) x R x M float32 for R references per image), reduced by
// alpha.IntervalScores.
func intervalScores(src alpha.Source, lo, hi int, r float64, opt alpha.ScaleOptions) (*alpha.Scores, error) {
	pm, err := alpha.PairMinimaFrom(src, lo, hi, opt)
	if err != nil {
		return nil, err
	}
	return alpha.IntervalScores(pm, r)
}
