package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/featcache"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"golang.org/x/term"
)

func init() {
	register(command{name: "assign", summary: "place new images in the clusters of a finished run", run: runAssign})
}

// assignHeader is the header of assign's CSV (see README, "Assign new
// images"): distance and confidence as in assignments.csv; new is 1 when
// the image lies farther from its cluster's centre than 95% of the
// cluster's own members.
var assignHeader = []string{"path", "label", "cluster", "distance", "confidence", "new", "score"}

func runAssign(args []string) error {
	fs := newFlags("assign", "--run OUT (IMAGES... | --data DIR) [--out CSV] [--category C] [--mode M] [--tau T]")
	runDir := fs.String("run", "", "run folder (written by anomclust run; needs its <category>/model/)")
	data := fs.String("data", "", "folder of new images (searched recursively; label = an image's folder name below DIR)")
	out := fs.String("out", "", "CSV file to write (default: stdout)")
	category := fs.String("category", "", "category of the run (default: its only one)")
	mode := fs.String("mode", "", "result whose clusters are used: unsupervised, semi or average (default: the run's recommended setting, else unsupervised if run)")
	tau := fs.String("tau", "", "tau of that result (default: the recommended tau, else the run's first tau)")
	weightsFile := fs.String("weights", "", "weights file (default: the run's, found as run does); its SHA-256 must match the run's")
	cache := fs.String("cache", "", "feature cache folder (default as run; \"none\" disables)")
	placement := fs.String("placement", "", "rule placing an image: ward-std (Ward merge cost, features standardised by their within-cluster SD), ward (in X's own metric) or members (the cluster of most of its 5 nearest run images in X) (default: the run's per category: members for textures, ward-std otherwise)")
	images, err := parseInterspersed(fs, args) // flags after the images too, as the usage line shows
	if err != nil {
		return err
	}
	if *runDir == "" || (*data == "") == (len(images) == 0) {
		fmt.Fprintln(fs.Output(), "anomclust assign: --run and either --data DIR or image files are required")
		fs.Usage()
		return errUsage
	}
	if err := model.CheckRule(*placement); err != nil {
		return fmt.Errorf("--placement: %w", err)
	}
	ao := pipeline.AssignOptions{Run: *runDir, Category: *category, Mode: *mode, Weights: *weightsFile, Placement: *placement}
	if *tau != "" {
		t, err := strconv.ParseFloat(*tau, 64)
		if err != nil {
			return fmt.Errorf("--tau %q: %w", *tau, err)
		}
		ao.Tau = &t
	}
	labels := map[string]string{}
	if *data != "" {
		imgs, err := listImages(*data)
		if err != nil {
			return err
		}
		for _, p := range imgs {
			if l := filepath.Dir(p); l != filepath.Clean(*data) {
				labels[p] = filepath.Base(l)
			}
		}
		ao.Images = imgs
	} else {
		for _, p := range images {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("image %s: %w", p, err)
			}
		}
		ao.Images = images
	}
	switch *cache {
	case "none", "off":
	case "":
		c, err := featcache.DefaultDir()
		if err != nil {
			return err
		}
		ao.Cache = c
	default:
		ao.Cache = *cache
	}
	ao.Log = os.Stderr
	if term.IsTerminal(int(os.Stderr.Fd())) {
		ao.Progress = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := pipeline.Assign(ctx, ao)
	if err != nil {
		return err
	}
	rows := [][]string{assignHeader}
	nNew := 0
	for _, r := range res.Rows {
		isNew := "0"
		if r.New {
			isNew = "1"
			nNew++
		}
		rows = append(rows, []string{r.Path, labels[r.Path], strconv.Itoa(r.Cluster), fmtG(r.Relative),
			fmtG(r.Confidence), isNew, fmtG(r.Score)})
	}
	fmt.Fprintln(os.Stderr, assignSummary(res, *mode == "" && *tau == "", nNew))
	if *out == "" {
		return writeCSVTo(os.Stdout, rows)
	}
	if err := rundir.WriteCSV(*out, rows); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s\n", *out)
	return nil
}

// assignSummary is assign's closing line: how many images went into which
// result's clusters, saying why that result when the flags chose none
// (the run's recommended setting, or the default when it marks none).
func assignSummary(res *pipeline.AssignResult, defaulted bool, nNew int) string {
	why := ""
	switch {
	case res.Recommended:
		why = ", the run's recommended setting"
	case defaulted:
		why = ", the default: the run marks no recommended setting"
	}
	return fmt.Sprintf("%s placed among the %d clusters of %s (%s, tau %s%s); %d new (beyond their cluster's 95th percentile)",
		plural(len(res.Rows), "image", "images"), res.K, res.Category, res.Mode, rundir.Mode(res.Mode).TauText(res.Tau), why, nNew)
}

// plural is "1 image", "2 images", "0 images".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// listImages lists the images under dir recursively, sorted.
func listImages(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && dataset.IsImage(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--data %s: %w", dir, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--data %s: no images found", dir)
	}
	return out, nil
}

func fmtG(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func writeCSVTo(w io.Writer, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	return nil
}
