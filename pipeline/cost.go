package pipeline

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/tensor"
)

// scoreCost is what the patch scores of one mode will cost.
type scoreCost struct {
	Pairs   int64         // image pairs compared (each M x M patch distances)
	FLOP    float64       // 2·M·M·D per pair
	PerPair time.Duration // measured on one pair, one worker
	Workers int
	Est     time.Duration // Pairs x PerPair: one pair's product already runs on every core, so more pair workers share the same cores
}

// scorePairs counts the image pairs of a mode: unsupervised, every
// unordered pair touching one of the q clustered images among the nRef
// images of its reference set, or with refs > 0 (alpha's sampled
// references, rounded up to an even 2h < nRef-1) about q·2h pairs less
// those counted twice; semi, every clustered image against every bank
// image (before any coreset reduction, so an upper bound then).
func scorePairs(mode string, q, nRef, nBank, refs int) int64 {
	if rundir.Mode(mode).Source() == rundir.SourceBank {
		return int64(q) * int64(nBank)
	}
	Q, N := int64(q), int64(nRef)
	if h := int64(refs+1) / 2; refs > 0 && 2*h < N-1 {
		// Each query has 2h neighbours on alpha's circle; a pair of two
		// queries (a share (Q-1)/(N-1) of them) is counted once.
		return Q*2*h - Q*2*h*(Q-1)/(N-1)/2
	}
	return Q*(Q-1)/2 + Q*(N-Q)
}

// estimateScores measures one pair's exact score on the first two images
// (the best of 2-8 timings within about 50 ms, one worker) and scales it
// to the mode's pairs.
func estimateScores(o *Options, mode string, z alpha.Source, nRef, nBank int) (scoreCost, error) {
	M, D := z.Dims()
	if M > MaxPatches {
		return scoreCost{}, fmt.Errorf("%d patches per image (the first layer's grid at --image-size %d): the scores would hold %d x %d distances per worker; at most %d patches, lower --image-size or take a deeper first layer",
			M, o.ImageSize, M, M, MaxPatches)
	}
	refs := 0
	if rundir.Mode(mode).Source() == rundir.SourceOthers {
		refs = o.Refs
	}
	c := scoreCost{Pairs: scorePairs(mode, z.Len(), nRef, nBank, refs), Workers: o.Workers}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	c.FLOP = float64(c.Pairs) * 2 * float64(M) * float64(M) * float64(D)
	if z.Len() < 2 || c.Pairs == 0 {
		return c, nil
	}
	two := make([]*tensor.Tensor, 2)
	for i := range two {
		v, err := z.Z(i, make([]float32, M*D))
		if err != nil {
			return c, err
		}
		two[i] = tensor.From(slices.Clone(v), M, D)
	}
	// The best of several wall-clock timings (one pair's product already
	// uses every core, as the step's will): the first pays for warming up,
	// and a shared machine preempts some.
	c.PerPair = time.Duration(1<<62 - 1)
	var spent time.Duration
	for i := 0; i < 2 || (i < 8 && spent < 50*time.Millisecond); i++ {
		t := time.Now()
		if _, err := alpha.Unsupervised(two, alpha.Options{Workers: 1}); err != nil {
			return c, err
		}
		d := time.Since(t)
		spent += d
		c.PerPair = min(c.PerPair, d)
	}
	// Not divided by the workers: one pair's product uses every core, and
	// the estimate was 2-3x low with 2 workers (review, load 6-8).
	c.Est = time.Duration(float64(c.PerPair) * float64(c.Pairs))
	return c, nil
}

// announceScores prints, before the scores of a mode are computed (not
// when they come from the score cache), what they will cost.
func announceScores(o *Options, mode string, in *catInputs, cat string, log io.Writer) error {
	if !rundir.Mode(mode).Scored() {
		return nil
	}
	c, err := estimateScores(o, mode, in.z, in.zRef.Len(), in.bank.Len())
	if err != nil {
		return err
	}
	M, D := in.z.Dims()
	var notes []string
	if rundir.Mode(mode).Source() == rundir.SourceBank && o.Coreset > 0 && o.Coreset < 1 {
		notes = append(notes, "counted before the coreset reduction of the memory bank")
	}
	if proj := map[rundir.Source]int{rundir.SourceOthers: o.Proj, rundir.SourceBank: o.SemiProj}[rundir.Mode(mode).Source()]; proj > 0 && proj < D {
		notes = append(notes, "at the exact search's rate, and the PCA pre-search is faster")
	}
	note := ""
	if len(notes) > 0 {
		note = " (likely less: " + strings.Join(notes, "; ") + ")"
	}
	fmt.Fprintf(log, "%s: %s patch scores: %d image pairs of %d x %d patches, D = %d (%.3g TFLOP); one pair took %s, so about %s on %d workers%s\n",
		cat, mode, c.Pairs, M, M, D, c.FLOP/1e12, c.PerPair.Round(time.Microsecond*100), roundDur(c.Est), c.Workers, note)
	return nil
}

// roundDur rounds d for a log line (to 0.1 s under a minute, else to s).
func roundDur(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
