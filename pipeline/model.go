package pipeline

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
)

// modelSaver writes a category's model/ folder (package model) at the end
// of its run: the reference patches of the unsupervised and semi modes.
type modelSaver struct {
	o    *Options
	p    plan
	z    alpha.Source // the clustered images' Z
	bank alpha.Source // the semi mode's normal images' Z (nil without)
	// stats holds each mode's score mean and standard deviation
	// (alpha.MeanStd of the run's scores), saved with its reference.
	stats map[string][2]float64
	// coreset is the bank coreset the semi scores selected (nil when they
	// came from the score cache or used the whole bank).
	coreset []int
}

// keepCoreset records the bank coreset the semi scores selected, so that
// save reuses it for the model's bank instead of selecting it again.
func (ms *modelSaver) keepCoreset(idx []int) { ms.coreset = slices.Clone(idx) }

// coresetSelections counts the coresets save selected itself (tests).
var coresetSelections atomic.Int64

// scoreStats records the mean and standard deviation of a mode's scores.
func (ms *modelSaver) scoreStats(mode string, s *alpha.Scores) {
	if ms.stats == nil {
		ms.stats = map[string][2]float64{}
	}
	mean, sd := alpha.MeanStd(s)
	ms.stats[mode] = [2]float64{mean, sd}
}

func newModelSaver(o *Options, p plan, z, bank alpha.Source) *modelSaver {
	return &modelSaver{o: o, p: p, z: z, bank: bank}
}

// save writes catDir/model/.
func (ms *modelSaver) save(ctx context.Context, catDir string, log io.Writer) error {
	o, p := ms.o, ms.p
	dir := filepath.Join(catDir, rundir.ModelDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	M, D := ms.z.Dims()
	buf := make([]float32, M*D)
	m := &model.Model{Format: model.Format, Category: p.cat.Name, GridM: M, Dim: D}
	if rundir.AnyFrom(o.Modes, rundir.SourceOthers) {
		// A seeded sample of the clustered images, each reduced to its
		// coreset: the "other images" of a new image's score.
		r := rand.New(rand.NewPCG(o.Seed, 0x6d6f64656c))
		pick := r.Perm(ms.z.Len())[:min(model.RefImages, ms.z.Len())]
		slices.Sort(pick)
		frac := model.RefFraction(M)
		per := max(int(float64(M)*frac), 1)
		data := make([]float32, 0, len(pick)*per*D)
		st := ms.stats[rundir.ModeUnsupervised]
		ref := &model.Reference{File: model.UnsupervisedFile, Patches: per, Coreset: frac, Seed: o.Seed, ScoreMean: st[0], ScoreSD: st[1]}
		for _, i := range pick {
			if err := ctx.Err(); err != nil {
				return err
			}
			zi, err := ms.z.Z(i, buf)
			if err != nil {
				return err
			}
			if frac == 1 {
				data = append(data, zi...)
			} else {
				idx, err := alpha.Coreset(zi, M, D, frac, o.Seed, o.Workers)
				if err != nil {
					return err
				}
				for _, row := range idx {
					data = append(data, zi[row*D:(row+1)*D]...)
				}
			}
			ref.Images = append(ref.Images, p.set.Items[i].Path)
		}
		if err := npy.Write(filepath.Join(dir, ref.File), data, len(pick), per, D); err != nil {
			return err
		}
		m.Unsupervised = ref
	}
	if p.semi && ms.bank != nil && ms.bank.Len() > 0 {
		frac := o.Coreset
		if frac == 0 || frac == 1 {
			frac = model.BankCoreset
		}
		nb := ms.bank.Len()
		all := make([]float32, 0, nb*M*D)
		for i := 0; i < nb; i++ {
			zi, err := ms.bank.Z(i, buf)
			if err != nil {
				return err
			}
			all = append(all, zi...)
		}
		idx := ms.coreset
		if frac != o.Coreset || idx == nil {
			coreset := alpha.CoresetBlocked
			if o.CoresetExact {
				coreset = alpha.Coreset
			}
			var err error
			if idx, err = coreset(all, nb*M, D, frac, o.Seed, o.Workers); err != nil {
				return err
			}
			coresetSelections.Add(1)
		}
		data := make([]float32, len(idx)*D)
		for k, row := range idx {
			copy(data[k*D:(k+1)*D], all[row*D:(row+1)*D])
		}
		st := ms.stats[rundir.ModeSemi]
		ref := &model.Reference{File: model.SemiFile, Patches: len(idx), Coreset: frac, Seed: o.Seed, ScoreMean: st[0], ScoreSD: st[1]}
		for _, it := range p.train {
			ref.Images = append(ref.Images, it.Path)
		}
		if err := npy.Write(filepath.Join(dir, ref.File), data, len(idx), D); err != nil {
			return err
		}
		m.Semi = ref
	}
	if err := model.Write(dir, m); err != nil {
		return err
	}
	// dir is in the temporary folder until the run is moved into place.
	shown := dir
	if o.in.out != "" {
		shown = filepath.Join(o.in.out, p.cat.Name, rundir.ModelDir)
	}
	fmt.Fprintf(log, "%s: model for assign in %s\n", p.cat.Name, shown)
	return nil
}
