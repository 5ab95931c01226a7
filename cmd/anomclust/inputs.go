package main

import (
	"flag"
	"strings"

	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/pipeline"
)

// inputFlags are run's flags for inputs without MVTec labels, bad images
// and the output folder.
type inputFlags struct {
	labels, normal, manifest *string
	skipBad, force           *bool
}

func addInputFlags(fs *flag.FlagSet) *inputFlags {
	return &inputFlags{
		labels: fs.String("labels", dataset.LabelsAuto, "where labels come from: "+strings.Join(dataset.LabelSources(), ", ")+
			" (auto: MVTec when there are train/ or test/ folders, one class per sub-folder when every sub-folder holds images and the top none, else no labels; the log says what it found). Labels only feed the metrics"),
		normal:   fs.String("normal", "", "folder of defect-free images: the memory bank of the semi-supervised weighting, for any layout (semi then becomes the recommended setting)"),
		manifest: fs.String("manifest", "", "CSV list of images instead of --data: path[,label][,split] per line (optional header; split test or train), paths relative to the CSV's folder or absolute"),
		skipBad:  fs.Bool("skip-bad", false, "leave unreadable images out (listed in run.json and the report) instead of stopping"),
		force:    fs.Bool("force", false, "replace an earlier run in --out (a folder holding anything else is always refused)"),
	}
}

func (f *inputFlags) apply(o *pipeline.Options) {
	o.Labels, o.Normal, o.Manifest = *f.labels, *f.normal, *f.manifest
	o.SkipBad, o.Force = *f.skipBad, *f.force
}
