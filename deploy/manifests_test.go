// Package deploy holds the container image and Kubernetes manifests of a
// sharded run (README: "Many machines"); this test parses the manifests
// with the Kubernetes API types so a typo or a wrong field fails here, not
// on a cluster. cmd/anomclust's TestDeployArgs parses the Jobs' args with
// the real flag sets of run and merge.
package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// readJob decodes one manifest strictly: unknown or misspelt fields fail.
func readJob(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("k8s", name))
	if err != nil {
		t.Fatal(err)
	}
	var j batchv1.Job
	if err := yaml.UnmarshalStrict(b, &j); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if j.APIVersion != "batch/v1" || j.Kind != "Job" {
		t.Fatalf("%s: %s %s, want batch/v1 Job", name, j.APIVersion, j.Kind)
	}
	return &j
}

// argValue returns the value of --name=value in args.
func argValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

var shardArg = regexp.MustCompile(`^\$\(JOB_COMPLETION_INDEX\)/([0-9]+)$`)

// TestStageJobs checks the two sharded stages: Indexed Jobs whose
// completions, parallelism and --shard n agree, whose index reaches --shard
// through the downward API, and which share one --out with the merge Job.
func TestStageJobs(t *testing.T) {
	merge := readJob(t, "merge-job.yaml")
	mc := merge.Spec.Template.Spec.Containers
	if len(mc) != 1 || len(mc[0].Args) == 0 || mc[0].Args[0] != "merge" {
		t.Fatalf("merge-job.yaml: container args %v, want the merge command", mc)
	}
	out, ok := argValue(mc[0].Args, "out")
	if !ok {
		t.Fatal("merge-job.yaml: no --out")
	}
	settings := map[string][]string{} // each stage's args but --stage and --shard
	defer func() {
		if e, s := settings["embed"], settings["score"]; e == nil || !slices.Equal(e, s) {
			t.Errorf("the stages' settings differ (the score stage refuses that): embed %v, score %v", e, s)
		}
	}()
	for _, c := range []struct{ file, stage string }{{"embed-job.yaml", "embed"}, {"score-job.yaml", "score"}} {
		t.Run(c.stage, func(t *testing.T) {
			j := readJob(t, c.file)
			s := j.Spec
			if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
				t.Fatalf("%s: completionMode %v, want Indexed", c.file, s.CompletionMode)
			}
			if s.Completions == nil || s.Parallelism == nil || *s.Completions != *s.Parallelism {
				t.Fatalf("%s: completions %v, parallelism %v: want equal", c.file, s.Completions, s.Parallelism)
			}
			if p := s.Template.Spec.RestartPolicy; p != "Never" && p != "OnFailure" {
				t.Fatalf("%s: restartPolicy %q not allowed for a Job", c.file, p)
			}
			cs := s.Template.Spec.Containers
			if len(cs) != 1 || len(cs[0].Args) == 0 || cs[0].Args[0] != "run" {
				t.Fatalf("%s: want one container running `anomclust run`", c.file)
			}
			args := cs[0].Args
			for _, a := range args {
				if !strings.HasPrefix(a, "--stage=") && !strings.HasPrefix(a, "--shard=") {
					settings[c.stage] = append(settings[c.stage], a)
				}
			}
			if st, _ := argValue(args, "stage"); st != c.stage {
				t.Fatalf("%s: --stage=%q, want %q", c.file, st, c.stage)
			}
			sh, _ := argValue(args, "shard")
			m := shardArg.FindStringSubmatch(sh)
			if m == nil {
				t.Fatalf("%s: --shard=%q, want $(JOB_COMPLETION_INDEX)/n", c.file, sh)
			}
			if n, _ := strconv.Atoi(m[1]); int32(n) != *s.Completions {
				t.Fatalf("%s: --shard n = %d but completions = %d", c.file, n, *s.Completions)
			}
			var fromIndex bool
			for _, e := range cs[0].Env {
				fromIndex = fromIndex || (e.Name == "JOB_COMPLETION_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
					e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']")
			}
			if !fromIndex {
				t.Fatalf("%s: JOB_COMPLETION_INDEX is not taken from the job-completion-index annotation", c.file)
			}
			if o, _ := argValue(args, "out"); o != out {
				t.Fatalf("%s: --out=%q, the merge Job reads %q", c.file, o, out)
			}
			if cs[0].Image != mc[0].Image {
				t.Fatalf("%s: image %q differs from the merge Job's %q", c.file, cs[0].Image, mc[0].Image)
			}
			checkMounts(t, c.file, s.Template.Spec.Containers[0].VolumeMounts, s.Template.Spec.Volumes)
		})
	}
}

// checkMounts: every volume mount names a volume of the pod.
func checkMounts(t *testing.T, file string, mounts []corev1.VolumeMount, vols []corev1.Volume) {
	t.Helper()
	have := map[string]bool{}
	for _, v := range vols {
		have[v.Name] = true
	}
	for _, m := range mounts {
		if !have[m.Name] {
			t.Errorf("%s: mount %q has no volume", file, m.Name)
		}
	}
}

// TestDockerfile checks the container image is static and distroless and
// builds the command the Jobs run.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "-tags cloud", "./cmd/anomclust", "FROM gcr.io/distroless/static", "ENTRYPOINT [\"/usr/local/bin/anomclust\"]", "USER nonroot"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	goVersion := goDirective(t)
	if !strings.Contains(s, fmt.Sprintf("FROM golang:%s", goVersion)) {
		t.Errorf("Dockerfile does not build with go.mod's Go %s", goVersion)
	}
}

// goDirective is go.mod's Go version, major.minor.
func goDirective(t *testing.T) string {
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go ([0-9]+\.[0-9]+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
}
