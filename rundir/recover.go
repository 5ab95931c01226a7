package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Interrupted replacement. Commit replaces an earlier run with two renames:
// out -> .<name>.anomclust-old-<pid>, then the staged run -> out. A crash
// (power cut, SIGKILL) between them leaves no out and the earlier run in
// the old sibling. Recover puts it back; ReadRun's error names it.

// orphanOld is the newest .<name>.anomclust-old-<pid> sibling of out that
// holds a run and whose process is gone, when out itself is absent or an
// empty folder ("" otherwise).
func orphanOld(out string) string {
	if st, err := os.Stat(out); err == nil {
		if !st.IsDir() {
			return ""
		}
		if entries, err := os.ReadDir(out); err != nil || len(entries) > 0 {
			return ""
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return ""
	}
	parent, name := filepath.Dir(out), filepath.Base(out)
	entries, err := os.ReadDir(parent)
	if err != nil {
		return ""
	}
	best, bestTime := "", int64(0)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "."+name+oldTag)
		if !ok || !e.IsDir() {
			continue
		}
		pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
		if err != nil || pid == os.Getpid() || alive(pid) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		st, err := os.Stat(filepath.Join(dir, RunFile))
		if err != nil || !IsRun(dir) {
			continue
		}
		if t := st.ModTime().UnixNano(); best == "" || t > bestTime {
			best, bestTime = dir, t
		}
	}
	return best
}

// Recover restores an earlier run that an interrupted replacement (--force,
// killed between Commit's two renames) left in a sibling folder, when out
// is absent or empty. It returns a sentence saying what it did ("" when
// there was nothing to do).
func Recover(out string) (string, error) {
	out, err := filepath.Abs(out)
	if err != nil {
		return "", err
	}
	old := orphanOld(out)
	if old == "" {
		return "", nil
	}
	if err := os.Remove(out); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("restore the earlier run %s: %w", old, err)
	}
	if err := os.Rename(old, out); err != nil {
		return "", fmt.Errorf("restore the earlier run from %s (an interrupted --force replacement moved it there): %w; move it back by hand: mv %q %q", old, err, old, out)
	}
	return fmt.Sprintf("restored the earlier run in %s from %s, where a replacement (--force) that was interrupted had moved it", out, filepath.Base(old)), nil
}

// missingRunHint explains a missing run.json in out when an interrupted
// replacement left the earlier run beside it ("" otherwise).
func missingRunHint(out string) string {
	abs, err := filepath.Abs(out)
	if err != nil {
		return ""
	}
	old := orphanOld(abs)
	if old == "" {
		return ""
	}
	return fmt.Sprintf("; a replacement of this run (--force) was interrupted and left the earlier run in %s: `mv %q %q` restores it (the next anomclust run into %s does that by itself)", old, old, abs, out)
}
