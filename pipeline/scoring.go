package pipeline

import (
	"fmt"
	"math"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/tensor"
)

// Weightings: how the patch scores become the weights alpha for each tau.
const (
	// WeightSoftmax is the method's softmax(s/tau) (METHOD §4).
	WeightSoftmax = "softmax"
	// WeightImageStd is softmax(z/tau) of each image's scores standardised
	// over its own patches (alpha.StandardizeRows): tau counts in standard
	// deviations of the image's score spread, so one tau fits sets whose
	// distances have different scales.
	WeightImageStd = "image-std"
	// WeightSetStd is softmax(z/tau) of the scores standardised against
	// the distribution of all the category's patch scores of the mode
	// (alpha.Standardize): one tau means the same in every set.
	WeightSetStd = "set-std"
)

// Weightings lists the weighting names.
func Weightings() []string { return []string{WeightSoftmax, WeightImageStd, WeightSetStd} }

// patchWeights turns scores into alpha for tau with the options' weighting
// (set-std: standardised with the statistics of s itself).
func patchWeights(o *Options, s *alpha.Scores, tau float64) ([]float64, error) {
	return weigh(o.Weighting, s, tau, func() (float64, float64, error) {
		mean, sd := alpha.MeanStd(s)
		return mean, sd, nil
	})
}

// weigh turns scores into alpha for tau with a weighting; setStats gives
// the mean and standard deviation that set-std standardises with (the
// run's own scores, or for assign the run's saved statistics).
func weigh(weighting string, s *alpha.Scores, tau float64, setStats func() (mean, sd float64, err error)) ([]float64, error) {
	switch weighting {
	case "", WeightSoftmax:
		return alpha.Alpha(s, tau)
	case WeightImageStd:
		return alpha.Alpha(alpha.StandardizeRows(s), tau)
	case WeightSetStd:
		mean, sd, err := setStats()
		if err != nil {
			return nil, err
		}
		return alpha.Alpha(alpha.StandardizeWith(s, mean, sd), tau)
	}
	return nil, fmt.Errorf("unknown weighting %q", weighting)
}

// postX L2-normalises the rows of X in place when o.NormalizeX is set.
func postX(o *Options, x *tensor.Tensor) {
	if !o.NormalizeX {
		return
	}
	n, d := x.Shape[0], x.Shape[1]
	for i := 0; i < n; i++ {
		row := x.Data[i*d : (i+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		if s == 0 {
			continue
		}
		inv := 1 / math.Sqrt(s)
		for j, v := range row {
			row[j] = float32(float64(v) * inv)
		}
	}
}

// autoScoring sets the auto preset's label-free score and weighting
// choices, measured with anomclust eval on ../shared/data
// (docs/QUALITY.md): the softmax of the scores standardised over the
// category (WeightSetStd), recommended at tau = 0.5 standard deviations
// for the semi-supervised scores (sharp: a clean normal bank) and 1 for the
// unsupervised ones (noisier); the unsupervised score against 20 sampled
// reference images (Options.Refs; the plain mean: MuSc's r = 0.3 helped
// metal_nut but cost the texture sets more, so it stays in anomclust eval);
// a 10% coreset of the memory bank; X as is. Tau 0.15 is the object
// categories' unsupervised one (categoryConfigs), computed for every
// category since run.json lists one set of taus for the run.
func autoScoring(o *Options) {
	o.Refs = 20
	o.Coreset = 0.1
	o.Weighting = WeightSetStd
	o.Taus = []float64{0.15, 0.5, 1}
	semi, unsup := 0.5, 1.0
	o.RecommendTau, o.RecommendTauUnsupervised = &semi, &unsup
}
