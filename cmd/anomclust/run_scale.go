package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/pipeline"
)

// scaleFlags are run's flags for the score approximations and the cache
// size (issue 13): --refs, --proj, --semi-proj, --exact, --cache-max.
type scaleFlags struct {
	refs, proj, semiProj, cacheMax *string
	exact, coresetExact            *bool
}

func addScaleFlags(fs *flag.FlagSet) *scaleFlags {
	d, _ := pipeline.Preset("")
	exactOr := func(v int) string {
		if v == 0 {
			return "exact"
		}
		return strconv.Itoa(v)
	}
	refs := "all"
	if d.Refs > 0 {
		refs = strconv.Itoa(d.Refs)
	}
	return &scaleFlags{
		refs:         fs.String("refs", refs, "unsupervised: reference images per image, a seeded sample of the other images (\"all\" = every other image, exact, O(N²))"),
		proj:         fs.String("proj", exactOr(d.Proj), "unsupervised: two-stage nearest-patch search, candidates from a PCA projection to this many dimensions, exact distances for them (\"exact\" = every distance in full dimension)"),
		semiProj:     fs.String("semi-proj", exactOr(d.SemiProj), "semi: two-stage search against the memory bank, as --proj (\"exact\" = full dimension)"),
		exact:        fs.Bool("exact", false, "exact patch scores: --refs all --proj exact --semi-proj exact --coreset-exact"),
		coresetExact: fs.Bool("coreset-exact", false, "semi: select the --coreset with the plain sequential greedy search (default: the blocked GEMM search, the same selection up to float32 rounding, much faster on big banks)"),
		cacheMax:     fs.String("cache-max", "20G", "cap of the cache folder's size (features and scores); the least recently used entries are removed after the run (\"0\" = no cap)"),
	}
}

// apply overrides the preset's options with the flags given (set) and
// sets the cache cap.
func (s *scaleFlags) apply(o *pipeline.Options, set map[string]bool) error {
	parse := func(name, v, word string) (int, error) {
		if strings.EqualFold(v, word) {
			return 0, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("--%s %q: want a positive number or %q", name, v, word)
		}
		return n, nil
	}
	for _, f := range []struct {
		name, word string
		v          *string
		dst        *int
	}{{"refs", "all", s.refs, &o.Refs}, {"proj", "exact", s.proj, &o.Proj}, {"semi-proj", "exact", s.semiProj, &o.SemiProj}} {
		if !set[f.name] {
			continue
		}
		n, err := parse(f.name, *f.v, f.word)
		if err != nil {
			return err
		}
		*f.dst = n
	}
	var err error
	if *s.exact {
		o.Refs, o.Proj, o.SemiProj = 0, 0, 0
	}
	if *s.exact || *s.coresetExact {
		o.CoresetExact = true
	}
	if o.CacheMax, err = featcache.ParseSize(*s.cacheMax); err != nil {
		return fmt.Errorf("--cache-max: %w", err)
	}
	return nil
}
