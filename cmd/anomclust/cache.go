package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/anomclust/anomclust/featcache"
)

func init() {
	register(command{name: "cache", summary: "show (du) or shrink (prune) the feature and score cache", run: runCache})
}

const cacheSynopsis = "du|prune [--cache DIR] [--max SIZE]"

func runCache(args []string) error { return runCacheTo(args, cliStdout) }

func runCacheTo(args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "du" && args[0] != "prune") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintf(stdout, "Usage: anomclust cache %s\n\n  du     size of the cache per feature settings and of the score cache\n  prune  remove the least recently used entries until the cache takes at most --max\n", cacheSynopsis)
			return nil
		}
		if len(args) == 0 {
			fmt.Fprintf(cliStderr, "anomclust cache: a subcommand (du, prune) is required\n")
		} else {
			fmt.Fprintf(cliStderr, "anomclust cache: unknown subcommand %q\n", args[0])
		}
		fmt.Fprintf(cliStderr, "Usage: anomclust cache %s\n", cacheSynopsis)
		return errUsage
	}
	sub := args[0]
	fs := newFlags("cache "+sub, "[flags]")
	dir := fs.String("cache", "", "cache folder (default: $ANOMCLUST_CACHE/features or the user cache dir, as run uses)")
	maxSize := fs.String("max", "20G", "prune: keep at most this much (e.g. 5G, 800M; 0 removes every entry)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	root := *dir
	if root == "" {
		var err error
		if root, err = featcache.DefaultDir(); err != nil {
			return err
		}
	}
	if sub == "prune" {
		limit, err := featcache.ParseSize(*maxSize)
		if err != nil {
			return fmt.Errorf("--max: %w", err)
		}
		removed, remaining, err := featcache.Prune(root, limit, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: removed %d entries (%s); %d entries (%s) remain\n", root,
			removed.Files, featcache.FormatSize(removed.Bytes), remaining.Files, featcache.FormatSize(remaining.Bytes))
		return nil
	}
	groups, total, err := featcache.DiskUsage(root)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	slices.Sort(names)
	fmt.Fprintf(stdout, "%-18s %8s %12s\n", "folder", "entries", "size")
	for _, n := range names {
		what := n
		if n != featcache.ScoreDir {
			what = n + " (Z)"
		}
		fmt.Fprintf(stdout, "%-18s %8d %12s\n", what, groups[n].Files, featcache.FormatSize(groups[n].Bytes))
	}
	fmt.Fprintf(stdout, "%-18s %8d %12s   in %s\n", "total", total.Files, featcache.FormatSize(total.Bytes), root)
	return nil
}
