package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
)

func TestHelpListsCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"help"}, &out, &errb); code != 0 {
		t.Fatalf("help exit %d", code)
	}
	for name := range commands {
		if !strings.Contains(out.String(), name) {
			t.Errorf("help does not list %q:\n%s", name, out.String())
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runMain([]string{"frobnicate"}, &out, &errb); code != 2 {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
	if !strings.Contains(errb.String(), "frobnicate") {
		t.Errorf("error does not name the command: %s", errb.String())
	}
}

func TestNeedFlag(t *testing.T) {
	for _, c := range []struct {
		given bool
		args  []string
		ok    bool
	}{{true, nil, true}, {false, nil, false}, {true, []string{"extra"}, false}} {
		fs := newFlags("x", "--out DIR")
		var out bytes.Buffer
		fs.SetOutput(&out)
		fs.Parse(c.args)
		err := needFlag(fs, c.given, "--out DIR")
		if c.ok != (err == nil) || (err != nil && err != errUsage) {
			t.Errorf("given %v, args %v: err %v", c.given, c.args, err)
		}
		want := "anomclust x: --out DIR is required\nUsage: anomclust x --out DIR"
		if c.given {
			want = "anomclust x: unexpected argument \"extra\": this command takes flags only\nUsage:"
		}
		if !c.ok && !strings.HasPrefix(out.String(), want) {
			t.Errorf("given %v, args %v: output %q does not explain", c.given, c.args, out.String())
		}
	}
}

// TestExitCode: each kind of outcome maps to its exit code and message; an
// interrupted run (context.Canceled, however wrapped) is exit 130 and says
// "interrupted", not an error line.
func TestExitCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
		want string // stderr
	}{
		{nil, 0, ""},
		{fmt.Errorf("parse: %w", flag.ErrHelp), 0, ""},
		{errUsage, 2, ""},
		{fmt.Errorf("draw 3 images: %w", context.Canceled), 130, "anomclust x: interrupted\n"},
		{errors.New("disk full"), 1, "anomclust x: disk full\n"},
		{errors.New("x: disk full"), 1, "anomclust x: disk full\n"}, // the package named once
		{errors.New("xy: disk full"), 1, "anomclust x: xy: disk full\n"},
	} {
		var errb bytes.Buffer
		if code := exitCode(&errb, "x", c.err); code != c.code || errb.String() != c.want {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", c.err, code, errb.String(), c.code, c.want)
		}
	}
}

// TestSynthInterrupted sends the process SIGINT while `anomclust synth`
// draws a set big enough to take seconds: the command must stop, exit 130
// and say "interrupted". The test's own signal.Notify keeps the default
// action (exiting the test binary) off, should a signal arrive before or
// after synth's handler is installed, so the signal is repeated until the
// command returns.
func TestSynthInterrupted(t *testing.T) {
	// The repeated signals would end the test binary through the hard
	// exit (TestSignalExit checks it in a child process).
	noExit := func(int) {}
	exitHook.Store(&noExit)
	defer exitHook.Store(nil)
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				syscall.Kill(os.Getpid(), syscall.SIGINT)
			}
		}
	}()
	var out, errb bytes.Buffer
	dir := filepath.Join(t.TempDir(), "set")
	code := runMain([]string{"synth", "--out", dir, "--categories", "3", "--per-type", "200", "--size", "256"}, &out, &errb)
	close(done)
	<-stopped // no SIGINT may arrive after signal.Stop
	if code != 130 || errb.String() != "anomclust synth: interrupted\n" {
		t.Errorf("exit %d, stderr %q; want 130 and an interrupted line", code, errb.String())
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("interrupted synth left %s (stat: %v)", dir, err)
	}
}

// TestRunPipelineInterrupted: a cancelled pipeline returns an error that
// runMain reports as interrupted (exit 130), after a note on what was
// written.
func TestRunPipelineInterrupted(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 2, PerType: 2, Size: 64, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	o, err := pipeline.Preset("")
	if err != nil {
		t.Fatal(err)
	}
	o.Data, o.Out = data, filepath.Join(dir, "out")
	o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
	o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
	o.Modes, o.Taus = []string{rundir.ModeAverage}, []float64{1}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	_, err = runPipeline(ctx, o, &stdout, &stderr)
	if code := exitCode(&stderr, "run", err); code != 130 {
		t.Errorf("exit %d (err %v), want 130", code, err)
	}
	if want := "the run was not finished: " + o.Out + " is as it was before"; !strings.Contains(stderr.String(), want) ||
		!strings.HasSuffix(stderr.String(), "anomclust run: interrupted\n") {
		t.Errorf("stderr %q, want the note %q and then the interrupted line", stderr.String(), want)
	}
}

// TestHelpToStdout: -h of every command and subcommand prints its usage on
// stdout, nothing on stderr, exit 0; `help CMD` too.
func TestHelpToStdout(t *testing.T) {
	var cases [][]string
	for name := range commands {
		cases = append(cases, []string{name, "-h"}, []string{"help", name})
	}
	cases = append(cases, []string{"weights", "list", "-h"}, []string{"weights", "pull", "-h"}, []string{"weights", "verify", "-h"},
		[]string{"bench", "backbone", "-h"}, []string{"cache", "du", "-h"}, []string{"bench", "scale", "-h"}, []string{"bench", "gemm", "-h"}, []string{"bench", "alpha", "-h"}, []string{"run", "--help"})
	for _, args := range cases {
		var out, errb bytes.Buffer
		code := runMain(args, &out, &errb)
		if code != 0 || errb.Len() != 0 || !strings.Contains(out.String(), "Usage: anomclust") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errb.String())
		}
	}
}

// TestMissingFlagLine: a missing required flag is named in the first line
// of stderr, before the usage; exit 2.
func TestMissingFlagLine(t *testing.T) {
	for _, c := range []struct {
		args  []string
		first string
	}{
		{[]string{"run", "--out", "x"}, "anomclust run: --data DIR (or --manifest FILE) is required"},
		{[]string{"run", "--data", "x"}, "anomclust run: --out DIR is required"},
		{[]string{"report"}, "anomclust report: --run DIR is required"},
		{[]string{"draw"}, "anomclust draw: --run DIR is required"},
		{[]string{"synth"}, "anomclust synth: --out DIR is required"},
		{[]string{"features", "--out", "x", "a.png"}, "anomclust features: --backbone NAME is required"},
		{[]string{"weights", "pull"}, "anomclust weights pull: a backbone NAME is required"},
		{[]string{"weights"}, "anomclust weights: a subcommand (list, pull, verify) is required"},
		{[]string{"bench"}, "anomclust bench: a target is required"},
		{[]string{"bench", "backbone"}, "anomclust bench backbone: a backbone NAME is required"},
		{[]string{"cache"}, "anomclust cache: a subcommand (du, prune) is required"},
		{[]string{"demo", "extra"}, "anomclust demo: unexpected argument \"extra\""},
	} {
		var out, errb bytes.Buffer
		code := runMain(c.args, &out, &errb)
		first, rest, _ := strings.Cut(errb.String(), "\n")
		if code != 2 || !strings.HasPrefix(first, c.first) || !strings.HasPrefix(rest, "Usage: anomclust") || out.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want 2 and first line %q, then the usage", c.args, code, errb.String(), out.String(), c.first)
		}
	}
}

// TestSizeBounds: absurd sizes fail at once with the flag named.
func TestSizeBounds(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"synth", "--out", filepath.Join(t.TempDir(), "s"), "--per-type", "100000"}, "--per-type 100000: want 1 to 10000"},
		{[]string{"bench", "backbone", "resnet18", "--size", "100000"}, "--size 100000: want 32 to 1024"},
		{[]string{"bench", "alpha", "--d", "100000"}, "--d 100000: want 1 to 8192"},
		{[]string{"bench", "nn", "-d", "100000"}, "-d 100000: want 1 to 8192"},
		{[]string{"report", "--run", t.TempDir(), "--per-cluster", "100000"}, "--per-cluster 100000: at most 1000"},
		{[]string{"run", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "o"), "--target-dim", "100000", "--cache", "none"}, "--target-dim 100000: at most 8192"},
		{[]string{"run", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "o"), "--k", "100000", "--cache", "none"}, "--k 100000: at most 1000"},
	} {
		var out, errb bytes.Buffer
		start := time.Now()
		code := runMain(c.args, &out, &errb)
		if code != 1 || !strings.Contains(errb.String(), c.want) || time.Since(start) > 2*time.Second {
			t.Errorf("%v: exit %d after %v, stderr %q; want 1 and %q", c.args, code, time.Since(start), errb.String(), c.want)
		}
	}
}
