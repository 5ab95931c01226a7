package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"context"

	"github.com/anomclust/anomclust/backbone/zoo"
	"github.com/anomclust/anomclust/checkpoint"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/synth"
	"github.com/anomclust/anomclust/weights"
	"sigs.k8s.io/yaml"
)

// cliChild runs `anomclust` with the JSON list of arguments in a child
// process of the test binary (TestMain).
func cliChild(args string) int {
	var a []string
	if err := json.Unmarshal([]byte(args), &a); err != nil {
		return 3
	}
	return runMain(a, os.Stdout, os.Stderr)
}

// anomclust runs the command in a child process (nothing shared with the
// other invocations but the files) and returns its exit code and stderr.
func anomclustChild(t *testing.T, cacheDir string, args ...string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ANOMCLUST_CLI_CHILD="+string(b), weights.EnvCache+"="+cacheDir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// randomResNet18 writes random ResNet-18 weights as a safetensors file.
func randomResNet18(t *testing.T, path string) {
	t.Helper()
	sd, err := zoo.RandomWeights("resnet18", 3)
	if err != nil {
		t.Fatal(err)
	}
	dt := sd["conv1.weight"].DType
	sd["fc.weight"] = &checkpoint.Tensor{Name: "fc.weight", DType: dt, Shape: []int{1000, 512}, Data: make([]float32, 1000*512)}
	sd["fc.bias"] = &checkpoint.Tensor{Name: "fc.bias", DType: dt, Shape: []int{1000}, Data: make([]float32, 1000)}
	names := make([]string, 0, len(sd))
	for n := range sd {
		names = append(names, n)
	}
	slices.Sort(names)
	header := map[string]any{}
	var body []byte
	for _, n := range names {
		off := len(body)
		for _, v := range sd[n].Data {
			body = binary.LittleEndian.AppendUint32(body, math.Float32bits(v))
		}
		header[n] = map[string]any{"dtype": "F32", "shape": sd[n].Shape, "data_offsets": []int{off, len(body)}}
	}
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	if err := os.WriteFile(path, append(append(out, h...), body...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestShardedCLI runs a sharded run as separate processes, as machines
// would: 3 embed shards and 3 score shards (each last shard first) on a
// file:// run folder, then merge; its assignments.csv, X.npy and alpha.npy
// equal a one-machine `anomclust run`'s byte for byte, for the
// unsupervised and semi-supervised modes (sampled references and a
// coreset: the approximations are seeded, not random). A score shard with
// other settings and a merge with a shard missing are refused with the
// reason.
func TestShardedCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 4, PerType: 3, Size: 64, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	w := filepath.Join(dir, "resnet18.safetensors")
	randomResNet18(t, w)
	cache := filepath.Join(dir, "cache")
	common := []string{"--data", data, "--backbone", "resnet18", "--weights", w, "--layers", "layer1,layer2",
		"--pretrain-dim", "32", "--target-dim", "16", "--image-size", "64", "--resize", "72",
		"--mode", "unsupervised,semi", "--tau", "0,1", "--refs", "6", "--coreset", "0.5", "--seed", "3"}
	run := func(args ...string) string {
		t.Helper()
		if code, stderr := anomclustChild(t, cache, args...); code != 0 {
			t.Fatalf("anomclust %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return ""
	}
	one := filepath.Join(dir, "one")
	run(append([]string{"run", "--out", one, "--cache", "none"}, common...)...)

	store := filepath.Join(dir, "store")
	url := "file://" + filepath.ToSlash(store)
	for _, stage := range []string{"embed", "score"} {
		for i := 2; i >= 0; i-- {
			if stage == "score" && i == 1 {
				// Settings that differ from the run's are refused, naming them.
				code, stderr := anomclustChild(t, cache, append([]string{"run", "--out", url, "--stage", stage, "--shard", "1/3"}, append(common, "--tau", "0,2")...)...)
				if code != 1 || !strings.Contains(stderr, "settings differ") || !strings.Contains(stderr, "Taus: [0,2] here, [0,1] in the run") {
					t.Errorf("score shard with other taus: exit %d\n%s", code, stderr)
				}
				// Before every score shard: merge names the missing one.
				code, stderr = anomclustChild(t, cache, "merge", "--out", url)
				if code != 1 || !strings.Contains(stderr, "score shards 0/3, 1/3 have not finished") {
					t.Errorf("merge with score shards 0/3 and 1/3 missing: exit %d\n%s", code, stderr)
				}
			}
			run(append([]string{"run", "--out", url, "--stage", stage, "--shard", strings.Replace("i/3", "i", string(rune('0'+i)), 1), "--cache", "none"}, common...)...)
		}
	}
	run("merge", "--out", url)

	r, err := rundir.ReadRun(one)
	if err != nil {
		t.Fatal(err)
	}
	results := r.Results(one)
	if len(results) != 4 {
		t.Fatalf("%d results in the one-machine run, want 4", len(results))
	}
	for _, res := range results {
		rel, _ := filepath.Rel(one, res.Dir)
		for _, f := range []string{rundir.AssignmentsFile, rundir.XFile, rundir.AlphaFile} {
			a, err := os.ReadFile(filepath.Join(res.Dir, f))
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(store, rel, f))
			if err != nil {
				t.Fatalf("merged run: %v", err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%s/%s: the merged run differs from the one-machine run", rel, f)
			}
		}
	}
	m, err := rundir.ReadRun(store)
	if err != nil {
		t.Fatal(err)
	}
	if m.Backbone.WeightsSHA256 == "" || m.Backbone.WeightsSHA256 != r.Backbone.WeightsSHA256 || m.Settings.Out != store {
		t.Errorf("merged run.json: backbone %+v, out %s", m.Backbone, m.Settings.Out)
	}
}

// TestDeployArgs parses the arguments of the Kubernetes Jobs in
// ../../deploy/k8s with the real flag sets of run and merge (the deploy
// package's test checks the manifests' structure): a renamed or removed
// flag fails here.
func TestDeployArgs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "deploy", "k8s", "*.yaml"))
	if err != nil || len(files) != 3 {
		t.Fatalf("deploy/k8s: %v, %v (want 3 manifests)", files, err)
	}
	stages := map[string]bool{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var job struct {
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Args []string `json:"args"`
						} `json:"containers"`
					} `json:"spec"`
				} `json:"template"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(b, &job); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		cs := job.Spec.Template.Spec.Containers
		if len(cs) != 1 || len(cs[0].Args) == 0 {
			t.Fatalf("%s: want one container with args", file)
		}
		args := slices.Clone(cs[0].Args)
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", "2")
		}
		switch args[0] {
		case "run":
			f := newRunFlags()
			if err := f.fs.Parse(args[1:]); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if on, err := f.shard.active(f.fs); !on || err != nil {
				t.Fatalf("%s: no --stage (%v)", file, err)
			}
			if _, err := pipeline.ParseShard(*f.shard.shard); err != nil {
				t.Errorf("%s: %v", file, err)
			}
			if _, err := f.options(); err != nil {
				t.Errorf("%s: %v", file, err)
			}
			stages[*f.shard.stage] = true
		case "merge":
			f := newMergeFlags()
			if err := f.fs.Parse(args[1:]); err != nil || *f.out == "" || f.fs.NArg() != 0 {
				t.Fatalf("%s: %v (--out %q)", file, err, *f.out)
			}
			stages["merge"] = true
		default:
			t.Errorf("%s: command %q", file, args[0])
		}
	}
	if !stages[pipeline.StageEmbed] || !stages[pipeline.StageScore] || !stages["merge"] {
		t.Errorf("stages in deploy/k8s: %v, want embed, score and merge", stages)
	}
}
