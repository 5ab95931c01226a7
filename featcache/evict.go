package featcache

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// DefaultMaxBytes is the default size cap of a cache root (20 GB).
const DefaultMaxBytes = 20 << 30

// Usage is the size of a group of cache entries.
type Usage struct {
	Files int
	Bytes int64
}

// entry is one cache file found by walk.
type entry struct {
	path  string
	group string // top-level folder: a settings fingerprint or ScoreDir
	size  int64
	used  time.Time // modification time: last Put or Get
}

// isEntry reports whether a file name is a cache entry (Z or scores) or an
// unfinished temporary write of one.
func isEntry(name string) (entry, temp bool) {
	if strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") {
		return false, true
	}
	return strings.HasSuffix(name, ".z") || strings.HasSuffix(name, ".s"), false
}

// walk lists the entries under root (and the temporary files, separately).
// A missing root is empty.
func walk(root string) (entries, temps []entry, err error) {
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == root {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		isE, isT := isEntry(d.Name())
		if !isE && !isT {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		rel, _ := filepath.Rel(root, p)
		group, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		e := entry{path: p, group: group, size: info.Size(), used: info.ModTime()}
		if isE {
			entries = append(entries, e)
		} else {
			temps = append(temps, e)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cache %s: %w", root, err)
	}
	return entries, temps, nil
}

// DiskUsage returns the size of the entries under a cache root per
// top-level folder (one per feature settings fingerprint, and ScoreDir for
// the scores) and in total.
func DiskUsage(root string) (groups map[string]Usage, total Usage, err error) {
	es, _, err := walk(root)
	if err != nil {
		return nil, Usage{}, err
	}
	groups = map[string]Usage{}
	for _, e := range es {
		u := groups[e.group]
		u.Files++
		u.Bytes += e.size
		groups[e.group] = u
		total.Files++
		total.Bytes += e.size
	}
	return groups, total, nil
}

// Prune removes the least recently used entries under root (by
// modification time, which Put and GetInto set) until the entries take at
// most maxBytes, never removing one used at or after keep (the current
// run's), and removes temporary files of writes older than an hour. It
// returns what it removed and what remains; remaining > maxBytes means the
// entries in use alone exceed the cap.
func Prune(root string, maxBytes int64, keep time.Time) (removed, remaining Usage, err error) {
	es, temps, err := walk(root)
	if err != nil {
		return Usage{}, Usage{}, err
	}
	for _, t := range temps {
		if time.Since(t.used) > time.Hour && os.Remove(t.path) == nil {
			removed.Files++
			removed.Bytes += t.size
		}
	}
	for _, e := range es {
		remaining.Files++
		remaining.Bytes += e.size
	}
	slices.SortFunc(es, func(a, b entry) int { return a.used.Compare(b.used) })
	for _, e := range es {
		if remaining.Bytes <= maxBytes {
			break
		}
		if !e.used.Before(keep) {
			break // sorted: every later entry is in use too
		}
		if err := os.Remove(e.path); err != nil && !os.IsNotExist(err) {
			return removed, remaining, fmt.Errorf("cache: %w", err)
		}
		removed.Files++
		removed.Bytes += e.size
		remaining.Files--
		remaining.Bytes -= e.size
	}
	return removed, remaining, nil
}

// ParseSize parses a size such as "20G", "1.5GB", "500M", "800MiB" or a
// plain number of bytes (units are powers of 1024).
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "IB"), "B")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	var v float64
	if _, err := fmt.Sscanf(t, "%g", &v); err != nil || !(v >= 0) || strings.ContainsAny(t, " \t") {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional K, M, G or T suffix", s)
	}
	return int64(v * float64(mult)), nil
}

// FormatSize formats n bytes with a binary unit (e.g. "1.5 GiB").
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
