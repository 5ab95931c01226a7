package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/checkpoint/load"
	"github.com/anomclust/anomclust/weights"
)

func init() {
	register(command{name: "weights", summary: "list, download (pull) and verify pretrained backbone weights", run: runWeights})
}

const weightsUsage = `Usage: anomclust weights <list|pull|verify> ...

  list                          registered backbones, their size and where their file is
  pull NAME...                  download into the cache (unless already found)
  verify [NAME...] [--weights FILE]
                                check files' SHA-256 and every tensor name and shape
                                (no NAME: every backbone whose file is present)

Files are looked for in --weights FILE, then the directories of
` + weights.EnvWeightsPath + ` (colon-separated), then the cache (` + weights.EnvCache + `,
default <user cache dir>/anomclust).
`

func runWeights(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Print(weightsUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "list":
		return weightsList(args[1:])
	case "pull":
		return weightsPull(args[1:])
	case "verify":
		return weightsVerify(args[1:])
	}
	fmt.Fprintf(os.Stderr, "anomclust weights: unknown subcommand %q\n\n%s", args[0], weightsUsage)
	return errUsage
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments, and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// archString describes an entry's architecture in a few words.
func archString(e weights.Entry) string {
	if e.Arch == nil {
		return "?"
	}
	return e.Arch.String()
}

func sizeString(n int64) string {
	if n <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func weightsList(args []string) error {
	fs := newFlags("weights list", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := weights.NewStore()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tARCHITECTURE\tSIZE\tFILE")
	for _, e := range weights.All() {
		where := "not present (anomclust weights pull " + e.Name + ")"
		size := e.Size
		if p, _, err := st.Find(e); err == nil {
			where = p
			if fi, err := os.Stat(p); err == nil {
				size = fi.Size()
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			where = "error: " + err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, archString(e), sizeString(size), where)
	}
	return tw.Flush()
}

func weightsPull(args []string) error {
	fs := newFlags("weights pull", "NAME...")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fs.Usage()
		return errUsage
	}
	st, err := weights.NewStore()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	for _, n := range names {
		e, err := weights.Lookup(n)
		if err != nil {
			return err
		}
		if p, where, err := st.Find(e); err == nil {
			fmt.Printf("%s: already present in the %s: %s\n", n, where, p)
			continue
		}
		p, err := st.Download(ctx, e)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %s\n", n, p)
	}
	return nil
}

func weightsVerify(args []string) error {
	fs := newFlags("weights verify", "[NAME...] [--weights FILE]")
	file := fs.String("weights", "", "verify this file as the checkpoint of the one NAME given")
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *file != "" && len(names) != 1 {
		fmt.Fprintln(os.Stderr, "anomclust weights verify: --weights FILE needs exactly one NAME")
		return errUsage
	}
	st, err := weights.NewStore()
	if err != nil {
		return err
	}
	all := len(names) == 0
	if all {
		names = weights.Names()
	}
	checked := 0
	for _, n := range names {
		e, err := weights.Lookup(n)
		if err != nil {
			return err
		}
		path := *file
		if path == "" {
			p, _, err := st.Find(e)
			if errors.Is(err, os.ErrNotExist) && all {
				continue
			}
			if err != nil {
				return err
			}
			path = p
		}
		if err := verifyOne(st, e, path, *file != ""); err != nil {
			return err
		}
		checked++
	}
	if checked == 0 {
		return fmt.Errorf("no weight files present to verify (looked in %s and the cache %s)", weights.EnvWeightsPath, st.CacheDir)
	}
	return nil
}

// verifyOne checks path's digest (an error for registry files, a warning
// for a file given with --weights, which may deliberately differ) and then
// every tensor's name and shape, strictly.
func verifyOne(st *weights.Store, e weights.Entry, path string, explicit bool) error {
	sum, known, err := st.CheckFile(path, e)
	digest := "no reference SHA-256 (" + sum[:min(16, len(sum))] + "…)"
	if err != nil {
		if !explicit {
			return err
		}
		fmt.Fprintf(os.Stderr, "warning: %v\n", err)
		digest = "SHA-256 differs from the official file"
	} else if known {
		digest = "SHA-256 ok"
	}
	sd, err := load.Load(path)
	if err != nil {
		return err
	}
	if err := weights.Check(sd, e, true); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	what := fmt.Sprintf("%d tensors, names and shapes ok", len(sd))
	if _, graph := e.Arch.(backbone.GraphChecker); graph {
		what = fmt.Sprintf("%d constant tensors, TFLite graph ok", len(sd))
	}
	fmt.Printf("%s: %s: %s; %s\n", e.Name, path, what, strings.TrimSpace(digest))
	return nil
}
