package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrNotEmpty is wrapped when an output folder already holds files.
var ErrNotEmpty = errors.New("output folder not empty")

// Staging is a run being written into a temporary sibling folder of its
// output folder; Commit renames it into place, so an interrupted run never
// touches an earlier run in that folder.
type Staging struct {
	Final string // the output folder asked for (absolute)
	Dir   string // where the run writes until Commit
	// Recovered says that Stage first restored an earlier run an
	// interrupted replacement had left aside (Recover); "" when not.
	Recovered string
}

// tmpTag and oldTag mark the sibling folders Stage and Commit make:
// .<name><tag><pid>-<random>.
const (
	tmpTag = ".anomclust-tmp-"
	oldTag = ".anomclust-old-"
)

// IsRun reports whether dir holds a run (a run.json of this tool's format).
func IsRun(dir string) bool {
	_, err := ReadRun(dir)
	return err == nil
}

// CheckOut says whether a run may be written to out: it must be absent, an
// empty folder, or (only with force) a folder holding an earlier run. A
// non-empty folder that is not a run is always refused.
func CheckOut(out string, force bool) error {
	st, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("output folder %s is a file", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return fmt.Errorf("output folder: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if !IsRun(out) {
		return fmt.Errorf("%w: %s holds %d entries (e.g. %s) and no %s of a run: refusing to write into it, even with --force; choose another --out",
			ErrNotEmpty, out, len(entries), entries[0].Name(), RunFile)
	}
	if !force {
		return fmt.Errorf("%w: %s holds an earlier run (%s): --force replaces it, or choose another --out", ErrNotEmpty, out, RunFile)
	}
	return nil
}

// Stage restores an earlier run an interrupted replacement left aside
// (Recover), checks out (CheckOut) and makes the temporary sibling folder the
// run writes to. Temporary folders of earlier runs whose process is gone
// (killed before they could clean up) are removed first.
func Stage(out string, force bool) (*Staging, error) {
	out, err := filepath.Abs(out)
	if err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	note, err := Recover(out)
	if err != nil {
		return nil, err
	}
	if err := CheckOut(out, force); err != nil {
		if note != "" {
			return nil, fmt.Errorf("%s; %w", note, err)
		}
		return nil, err
	}
	parent, name := filepath.Dir(out), filepath.Base(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	removeStale(parent, name)
	dir, err := os.MkdirTemp(parent, "."+name+tmpTag+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("output folder: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("output folder: %w", err)
	}
	return &Staging{Final: out, Dir: dir, Recovered: note}, nil
}

// Commit puts the finished run in place: an earlier run in Final is moved
// aside, the new one renamed in, the earlier one deleted. Should the second
// rename fail, the earlier run is moved back.
func (s *Staging) Commit() error {
	// Checked again: something may have appeared in Final meanwhile.
	if err := CheckOut(s.Final, true); err != nil {
		return err
	}
	var old string
	if _, err := os.Stat(s.Final); err == nil {
		old = filepath.Join(filepath.Dir(s.Final), "."+filepath.Base(s.Final)+oldTag+strconv.Itoa(os.Getpid()))
		os.RemoveAll(old)
		if err := os.Rename(s.Final, old); err != nil {
			return fmt.Errorf("move the earlier run aside: %w", err)
		}
	}
	if err := os.Rename(s.Dir, s.Final); err != nil {
		if old != "" {
			os.Rename(old, s.Final)
		}
		return fmt.Errorf("put the run in place: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("remove the earlier run (moved to %s): %w", old, err)
		}
	}
	return nil
}

// Abort removes the temporary folder (after an error or cancellation).
func (s *Staging) Abort() { os.RemoveAll(s.Dir) }

// removeStale deletes parent/.<name>.anomclust-{tmp,old}-<pid>-* folders
// whose process no longer runs.
func removeStale(parent, name string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	for _, e := range entries {
		for _, tag := range []string{tmpTag, oldTag} {
			rest, ok := strings.CutPrefix(e.Name(), "."+name+tag)
			if !ok {
				continue
			}
			pid, err := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
			if err != nil || pid == os.Getpid() || alive(pid) {
				continue
			}
			os.RemoveAll(filepath.Join(parent, e.Name()))
		}
	}
}

// alive reports whether process pid exists (signal 0 delivers nothing).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
