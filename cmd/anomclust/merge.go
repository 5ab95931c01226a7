package main

import (
	"flag"
	"fmt"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/report"
)

func init() {
	register(command{name: "merge", summary: "finish a sharded run: scores of every shard, then clusters and every run output", run: runMerge})
}

const mergeSynopsis = "--out DIR|URL [--to DIR] [--report] [--force]"

// mergeFlags are the flags of `merge`.
type mergeFlags struct {
	fs            *flag.FlagSet
	out, to       *string
	force, report *bool
}

func newMergeFlags() *mergeFlags {
	fs := newFlags("merge", mergeSynopsis)
	return &mergeFlags{fs: fs,
		out:    fs.String("out", "", "the sharded run's folder, as given to every run --stage ... --out: a local folder or a bucket URL"),
		to:     fs.String("to", "", "write the merged run to this local folder instead of into --out (beside its shards/ folder; uploaded for a bucket)"),
		force:  fs.Bool("force", false, "replace an earlier merge (in --out, or the run in --to)"),
		report: fs.Bool("report", false, "also write report.html (as run --report; given to the stages, it is written anyway)"),
	}
}

// runMerge is `anomclust merge`: after every `run --stage score` shard,
// the clustering and the run's files, from the shared run folder alone
// (no data, no backbone needed; --export-clusters and the report's
// thumbnails read the images).
func runMerge(args []string) error {
	f := newMergeFlags()
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	out, to, force, rep := f.out, f.to, f.force, f.report
	if err := needFlag(f.fs, *out != "", "--out DIR|URL"); err != nil {
		return err
	}
	ctx, stop := signalContext("merge")
	defer stop()
	res, o, err := pipeline.Merge(ctx, *out, pipeline.MergeOptions{
		To: *to, Force: *force, Report: *rep, Version: version,
		Command: append([]string{"anomclust", "merge"}, args...),
		Log:     cliStderr, Progress: progressWriter(cliStderr),
		Finish: func(dir string, withReport bool) error {
			if !withReport {
				return nil
			}
			if err := report.Write(dir, "", report.Options{}); err != nil {
				return fmt.Errorf("report: %w", err)
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	if len(res.Summary) > 0 {
		printSummary(cliStdout, res.Summary)
	}
	fmt.Fprintf(cliStdout, "\noutputs: %s (run.json, summary.md, summary.csv, <category>/<mode>/tau_<tau>/)\n", o.Out)
	if o.Report {
		fmt.Fprintf(cliStdout, "report: %s/report.html\n", o.Out)
	}
	return nil
}
