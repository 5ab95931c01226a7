package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
	"github.com/anomclust/anomclust/tensor"
)

// TestMain runs the child process of TestSignalExit when asked to.
func TestMain(m *testing.M) {
	if args := os.Getenv("ANOMCLUST_CLI_CHILD"); args != "" { // shard_test.go
		os.Exit(cliChild(args))
	}
	if mode := os.Getenv("ANOMCLUST_SIGNAL_CHILD"); mode != "" {
		os.Exit(signalChild(mode, os.Getenv("ANOMCLUST_SIGNAL_DIR")))
	}
	os.Exit(m.Run())
}

// slowNet is meanNet that, on its first call, says "ready" on stdout and
// then either spins for 30 s without looking at anything (a long kernel:
// "stuck") or waits until a signal was caught ("polite").
type slowNet struct {
	meanNet
	mode string
	once *sync.Once
}

func (s slowNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	s.once.Do(func() { fmt.Println("ready") })
	end := time.Now().Add(30 * time.Second)
	for time.Now().Before(end) {
		if s.mode == "polite" && caught.Load() != nil {
			break
		}
	}
	return s.meanNet.Forward(images, layers)
}

// signalChild runs a pipeline on a small synthetic set with slowNet under
// signalContext, as `anomclust run` does, and returns the exit code.
func signalChild(mode, dir string) int {
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 2, PerType: 2, Size: 64, Seed: 1}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	o, err := pipeline.Preset("")
	if err != nil {
		return 3
	}
	o.Data, o.Out = data, filepath.Join(dir, "out")
	o.Net, o.NetID, o.Layers = slowNet{mode: mode, once: &sync.Once{}}, "slow", []string{"p8"}
	o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
	o.Modes, o.Taus = []string{rundir.ModeAverage}, []float64{1}
	ctx, stop := signalContext("run")
	_, err = runPipeline(ctx, o, os.Stdout, os.Stderr)
	stop()
	return exitCode(os.Stderr, "run", err)
}

// TestSignalExit sends SIGTERM or SIGINT to a child process running a
// pipeline whose backbone is busy: the child must exit with 143 or 130
// within a second, both when the kernel ignores the cancellation (the
// hard exit after the grace period) and when it returns (a clean stop that
// removes the temporary run folder).
func TestSignalExit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, c := range []struct {
		mode string
		sig  syscall.Signal
		code int
	}{
		{"stuck", syscall.SIGTERM, 143},
		{"stuck", syscall.SIGINT, 130},
		{"polite", syscall.SIGTERM, 143},
		{"polite", syscall.SIGINT, 130},
	} {
		t.Run(fmt.Sprintf("%s_%v", c.mode, c.sig), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "ANOMCLUST_SIGNAL_CHILD="+c.mode, "ANOMCLUST_SIGNAL_DIR="+dir)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ready := make(chan bool, 1)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					if sc.Text() == "ready" {
						ready <- true
						break
					}
				}
				for sc.Scan() {
				}
				ready <- false
			}()
			select {
			case ok := <-ready:
				if !ok {
					cmd.Wait()
					t.Fatalf("child ended before its backbone ran: %s", stderr.String())
				}
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				t.Fatal("child not ready after 60 s")
			}
			start := time.Now()
			if err := cmd.Process.Signal(c.sig); err != nil {
				t.Fatal(err)
			}
			err = cmd.Wait()
			took := time.Since(start)
			var ee *exec.ExitError
			code := 0
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			t.Logf("exit %d after %v", code, took)
			// The program exits by itself 0.7 s after the signal at the latest
			// (the stuck child's backbone would run 30 s); the rest of the
			// allowance is for a loaded machine (1.17 s was seen at load 19).
			if code != c.code || !(took < 2500*time.Millisecond) {
				t.Errorf("exit %d after %v; want %d within 2.5 s (stderr: %s)", code, took, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "anomclust run: interrupted") {
				t.Errorf("stderr does not say interrupted: %s", stderr.String())
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("an interrupted first run left its output folder (stat %v)", err)
			}
			if c.mode == "polite" {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if e.Name() != "data" {
						t.Errorf("left after a clean stop: %s", e.Name())
					}
				}
			}
		})
	}
}
