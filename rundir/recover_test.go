package rundir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// deadPID is the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot start a process to get a dead pid: %v", err)
	}
	pid := cmd.Process.Pid
	if alive(pid) {
		t.Skipf("pid %d reused already", pid)
	}
	return pid
}

// writeMarkedRun writes a minimal run into dir with a marker file.
func writeMarkedRun(t *testing.T, dir, marker string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteRun(dir, &Run{Format: Format, Tool: "anomclust"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "marker"), []byte(marker), 0o644); err != nil {
		t.Fatal(err)
	}
}

// crashBetweenRenames leaves out as Commit leaves it when its process is
// killed between its two renames: the earlier run ("earlier") moved to the
// old sibling of a dead process, the finished new run ("new") still in its
// staging folder, out absent.
func crashBetweenRenames(t *testing.T) (out, old string) {
	t.Helper()
	out = filepath.Join(t.TempDir(), "runs", "r")
	writeMarkedRun(t, out, "earlier")
	pid := deadPID(t)
	tmp := filepath.Join(filepath.Dir(out), ".r"+tmpTag+strconv.Itoa(pid)+"-123")
	writeMarkedRun(t, tmp, "new")
	old = filepath.Join(filepath.Dir(out), ".r"+oldTag+strconv.Itoa(pid))
	if err := os.Rename(out, old); err != nil {
		t.Fatal(err)
	}
	return out, old
}

func marker(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "marker"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInterruptedReplace: after a crash between Commit's two renames,
// opening the run says where the earlier run is and how to restore it;
// the next Stage restores it (and still refuses to replace it without
// force); with force it is replaced as usual.
func TestInterruptedReplace(t *testing.T) {
	out, old := crashBetweenRenames(t)
	_, err := ReadRun(out)
	if err == nil || !strings.Contains(err.Error(), old) || !strings.Contains(err.Error(), "mv ") {
		t.Fatalf("ReadRun after the crash: %v", err)
	}
	_, err = Stage(out, false)
	if err == nil || !strings.Contains(err.Error(), "restored the earlier run") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("Stage without force after the crash: %v", err)
	}
	if got := marker(t, out); got != "earlier" {
		t.Fatalf("out holds the %q run after recovery", got)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("old sibling still there: %v", err)
	}

	out, _ = crashBetweenRenames(t)
	s, err := Stage(out, true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Recovered, "restored") {
		t.Errorf("Recovered = %q", s.Recovered)
	}
	writeMarkedRun(t, s.Dir, "newer")
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := marker(t, out); got != "newer" {
		t.Errorf("out holds the %q run after the forced replacement", got)
	}
	left, _ := os.ReadDir(filepath.Dir(out))
	if len(left) != 1 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("siblings left beside the run: %v", names)
	}
}

// TestRecoverLeavesLiveAndOccupied: an old sibling of a live process (a
// replacement under way) and one beside a non-empty out are left alone.
func TestRecoverLeavesLiveAndOccupied(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	live := filepath.Join(filepath.Dir(out), ".r"+oldTag+strconv.Itoa(os.Getppid()))
	writeMarkedRun(t, live, "earlier")
	if note, err := Recover(out); note != "" || err != nil {
		t.Errorf("live process: %q %v", note, err)
	}
	if err := os.Rename(live, filepath.Join(filepath.Dir(out), ".r"+oldTag+strconv.Itoa(deadPID(t)))); err != nil {
		t.Fatal(err)
	}
	writeMarkedRun(t, out, "current")
	if note, err := Recover(out); note != "" || err != nil || marker(t, out) != "current" {
		t.Errorf("occupied out: %q %v", note, err)
	}
}
