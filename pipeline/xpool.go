package pipeline

import "github.com/anomclust/anomclust/xpool"

// xPoolKind is the image descriptor of Options.XPool ("" = the weighted
// mean); the name was checked by validate (run) or comes from run.json.
func xPoolKind(name string) xpool.Kind {
	if name == "" {
		return xpool.Mean
	}
	return xpool.Kind(name)
}
