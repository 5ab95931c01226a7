package eval

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/pipeline"
	"github.com/anomclust/anomclust/synth"
	"github.com/anomclust/anomclust/tensor"
)

// meanNet averages 8x8 blocks: a tiny stand-in backbone.
type meanNet struct{}

func (meanNet) Name() string                    { return "meannet" }
func (meanNet) Layers() []string                { return []string{"p8"} }
func (meanNet) Preprocess() backbone.Preprocess { return backbone.ImageNet() }
func (meanNet) Forward(images []*tensor.Tensor, layers []string) ([]map[string]*tensor.Tensor, error) {
	out := make([]map[string]*tensor.Tensor, len(images))
	for k, img := range images {
		H, W := img.Shape[0]/8, img.Shape[1]/8
		t := tensor.New(H, W, 3)
		for y := 0; y < H*8; y++ {
			for x := 0; x < W*8; x++ {
				for c := 0; c < 3; c++ {
					t.Data[((y/8)*W+x/8)*3+c] += img.Data[(y*img.Shape[1]+x)*3+c] / 64
				}
			}
		}
		out[k] = map[string]*tensor.Tensor{"p8": t}
	}
	return out, nil
}

// TestRun runs the ablation on a synthetic set with two categories and
// checks its rows: every option on every category, scores in range, the
// table lists every option once.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 4, PerType: 3, Size: 64, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	c := Config{
		Sets:      []Set{{Name: "synth", Data: data}},
		Backbones: []string{"mobilenet_v2"},
		Intervals: []float64{1, 0.3}, Taus: []float64{0, 1}, TopK: []float64{0.1}, Effective: []float64{0.1}, StdTaus: []float64{1},
		Refs: 0, Proj: 4, SemiProj: 4,
		ZoomPools: []string{"tau=1"}, Zoom: ZoomConfig{Window: 0.25, Margin: 0.25, MinSide: 0.3, R: 0.3},
		Tweak: meanNetOptions,
	}
	rows, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	// Average + (2 unsupervised + 1 semi) x (6 pools + 4 zoom variants of
	// one pool), each raw, l2 and PCA-whitened.
	want := 3 * (1 + 3*(6+4))
	if len(rows) != want {
		t.Fatalf("%d rows, want %d", len(rows), want)
	}
	for _, r := range rows {
		if !(r.NMI >= 0 && r.NMI <= 1) || !(r.F1 >= 0 && r.F1 <= 1) || r.N != 12 || r.K != 4 {
			t.Errorf("row %+v out of range", r)
		}
	}
	// Uniform weights: X is the mean patch embedding, never all zeros.
	if u := uniform(2, 4); u[0] != 0.25 || u[7] != 0.25 {
		t.Errorf("uniform = %v", u)
	}
	var b bytes.Buffer
	WriteTable(&b, rows)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2+want {
		t.Errorf("table has %d lines, want %d:\n%s", len(lines), 2+want, b.String())
	}
	var csv bytes.Buffer
	if err := WriteCSV(&csv, rows); err != nil || strings.Count(csv.String(), "\n") != want+1 {
		t.Errorf("csv: %v, %d lines", err, strings.Count(csv.String(), "\n"))
	}
}

// TestRowMatchesRun: an eval row and pipeline.Run with the same options
// (sampled references, two-stage search, coreset, set-standardised
// weights) score the same: eval uses the pipeline's score functions.
func TestRowMatchesRun(t *testing.T) {
	rowsMatchRun(t, func(*Config) {}, func(*pipeline.Options) {},
		func(r Result) bool { return r.Post == "raw" && r.Zoom == "-" })
}

// rowsMatchRun runs eval (Config adjusted by cfg) and pipeline.Run
// (Options adjusted by opt) on one synthetic category with the same score
// settings, and checks that every row keep accepts, at std-tau 0.5 or in
// the average mode, has the NMI and ARI of the run's result for its mode,
// for all three modes. The run's per-category choice is off: the rows name
// every setting (the auto preset's choice is pipeline.TestPerCategory's).
func rowsMatchRun(t *testing.T, cfg func(*Config), opt func(*pipeline.Options), keep func(Result) bool) []Result {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 6, PerType: 4, Size: 64, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	tweak := func(o *pipeline.Options) {
		o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
		o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
		o.Cache = ""
	}
	c := Config{
		Sets: []Set{{Name: "synth", Data: data}}, Backbones: []string{"mobilenet_v2"},
		Intervals: []float64{1}, StdTaus: []float64{0.5},
		Refs: 4, Proj: 3, SemiProj: 3, Coreset: 0.5, Tweak: tweak,
	}
	cfg(&c)
	rows, err := Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	o, err := pipeline.Preset(pipeline.PresetAuto)
	if err != nil {
		t.Fatal(err)
	}
	o.Data, o.Out = data, filepath.Join(dir, "out")
	o.Refs, o.Proj, o.SemiProj, o.Coreset = 4, 3, 3, 0.5
	o.Weighting, o.Taus = pipeline.WeightSetStd, []float64{0.5}
	o.PerCategory = false
	opt(&o)
	tweak(&o)
	res, err := pipeline.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rows {
		if !keep(r) || (r.Mode != "average" && r.Pool != "std-tau=0.5") {
			continue
		}
		for _, s := range res.Summary {
			if s.Kind == "category" && s.Mode == r.Mode && (r.Mode == "average" || s.Tau == 0.5) {
				checked++
				if s.NMI != r.NMI || s.ARI != r.ARI {
					t.Errorf("%s: eval NMI %v ARI %v, run %v %v", r.Mode, r.NMI, r.ARI, s.NMI, s.ARI)
				}
			}
		}
	}
	if checked != 3 {
		t.Errorf("compared %d modes, want 3 (average, unsupervised, semi)", checked)
	}
	return rows
}

// TestMethods: Config.Methods clusters every row's X with each method,
// the two backbones' concatenated X included. Ward alone (nil or "ward")
// writes what eval wrote before methods: no method in the rows, the CSV
// or the table. "spectral" gives the same rows, each named by its method
// (Option, a last CSV column, a table column); "ward,spectral" both, the
// ward rows with the default rows' figures and the spectral rows with
// the spectral run's.
func TestMethods(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, err := synth.Generate(context.Background(), data, synth.Options{Categories: 1, Train: 4, PerType: 3, Size: 64, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	run := func(methods []string) ([]Result, string, string, error) {
		c := Config{
			Sets:      []Set{{Name: "synth", Data: data}},
			Backbones: []string{"mobilenet_v2", "resnet18"},
			Intervals: []float64{1}, Taus: []float64{1}, StdTaus: []float64{1},
			Posts: []string{"raw", "l2"}, KAuto: true, Seed: 3,
			ConsensusPools: []string{"tau=1", "std-tau=1"}, SilChoicePools: []string{"tau=1"},
			Methods: methods,
			Tweak:   meanNetOptions,
		}
		rows, err := Run(context.Background(), c)
		if err != nil {
			return nil, "", "", err
		}
		var csv, table bytes.Buffer
		if err := WriteCSV(&csv, rows); err != nil {
			t.Fatal(err)
		}
		WriteTable(&table, rows)
		return rows, csv.String(), table.String(), nil
	}
	// figures is a row without its method and seconds.
	figures := func(r Result) string {
		return fmt.Sprint(r.Set, r.Category, r.Backbone, r.Mode, r.Score, r.Pool, r.Post, r.Zoom, r.N, r.K,
			r.NMI, r.ARI, r.F1, r.Sil, r.Peak, r.XPool, r.KEst, r.pred)
	}
	const legacyCSV = "set,category,backbone,mode,score,pool,post,zoom,n,k,nmi,ari,f1,seconds,sil,peak,xpool,kest\n"
	const legacyTable = "| backbone | mode | score | pool | X | zoom | synth/weave NMI/ARI/F1 | mean NMI | seconds |\n|---|---|---|---|---|---|---|---|---|\n"

	def, defCSV, defTable, err := run(nil)
	if err != nil {
		t.Fatal(err)
	}
	ward, wardCSV, wardTable, err := run([]string{"ward"})
	if err != nil {
		t.Fatal(err)
	}
	if len(def) != len(ward) || len(def) < 10 {
		t.Fatalf("%d rows by default, %d with ward", len(def), len(ward))
	}
	for i := range def {
		if def[i].Method != "" || ward[i].Method != "" || strings.Contains(def[i].Option(), "method") {
			t.Fatalf("default row %d names a method: %q, %q", i, def[i].Method, def[i].Option())
		}
		if figures(def[i]) != figures(ward[i]) {
			t.Errorf("row %d: default %s, ward %s", i, figures(def[i]), figures(ward[i]))
		}
	}
	for _, s := range []string{defCSV, wardCSV} {
		if !strings.HasPrefix(s, legacyCSV) || strings.Count(s, "\n") != len(def)+1 {
			t.Errorf("default CSV header or rows changed:\n%s", s)
		}
	}
	for _, s := range []string{defTable, wardTable} {
		if !strings.HasPrefix(s, legacyTable) || strings.Contains(s, "method") {
			t.Errorf("default table changed:\n%s", s)
		}
	}

	spec, specCSV, specTable, err := run([]string{"spectral"})
	if err != nil {
		t.Fatal(err)
	}
	if len(spec) != len(def) {
		t.Fatalf("%d spectral rows, %d default", len(spec), len(def))
	}
	differ := map[bool]bool{} // concatenated X -> some row differs from Ward's
	for i, r := range spec {
		if r.Method != "spectral" || !strings.HasSuffix(r.Option(), " method=spectral") {
			t.Fatalf("spectral row %d: method %q, option %q", i, r.Method, r.Option())
		}
		if r.Backbone != def[i].Backbone {
			t.Fatalf("row %d: backbone %s, default %s", i, r.Backbone, def[i].Backbone)
		}
		concat := r.Backbone == "mobilenet_v2+resnet18"
		differ[concat] = differ[concat] || !slices.Equal(r.pred, def[i].pred)
	}
	if !differ[false] || !differ[true] {
		t.Errorf("spectral rows cluster as Ward's (on one backbone's X: %v, on the concatenation: %v)", !differ[false], !differ[true])
	}
	lines := strings.Split(strings.TrimSpace(specCSV), "\n")
	if lines[0] != strings.TrimSpace(legacyCSV)+",method" {
		t.Errorf("spectral CSV header %q", lines[0])
	}
	for _, l := range lines[1:] {
		if !strings.HasSuffix(l, ",spectral") {
			t.Errorf("spectral CSV row %q", l)
		}
	}
	if !strings.HasPrefix(specTable, "| backbone | mode | score | pool | X | zoom | method | synth/weave NMI/ARI/F1 |") ||
		strings.Count(specTable, " | spectral | ") != strings.Count(strings.TrimSpace(specTable), "\n")-1 {
		t.Errorf("spectral table:\n%s", specTable)
	}

	both, _, _, err := run([]string{"ward", "spectral"})
	if err != nil {
		t.Fatal(err)
	}
	var w, s []Result
	for _, r := range both {
		switch r.Method {
		case "ward":
			w = append(w, r)
		case "spectral":
			s = append(s, r)
		default:
			t.Fatalf("row of method %q", r.Method)
		}
	}
	if len(w) != len(def) || len(s) != len(spec) {
		t.Fatalf("ward,spectral: %d ward and %d spectral rows, want %d each", len(w), len(s), len(def))
	}
	for i := range w {
		if figures(w[i]) != figures(def[i]) || figures(s[i]) != figures(spec[i]) {
			t.Errorf("row %d: ward,spectral gives %s and %s; alone %s and %s", i, figures(w[i]), figures(s[i]), figures(def[i]), figures(spec[i]))
		}
	}

	for _, bad := range [][]string{{"ward", "nosuch"}, {"spectral", "spectral"}} {
		if _, _, _, err := run(bad); err == nil || !strings.Contains(err.Error(), bad[1]) {
			t.Errorf("methods %v: err %v", bad, err)
		}
	}
}

// TestClusterScoreMethods: a row's clustering is its method's, seeded
// with Config.Seed, on 120 uniform points in 10 clusters, where k-means
// and spectral clustering depend on the seed.
func TestClusterScoreMethods(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, d, k = 120, 2, 10
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	truth := make([]int, n)
	for i := range truth {
		truth[i] = i % k
	}
	direct := map[string]func(seed uint64) []int{
		"ward": func(uint64) []int {
			l, _, err := cluster.WardLabels(x, n, d, k)
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		"spectral": func(seed uint64) []int {
			l, err := cluster.Spectral(x, n, d, k, cluster.SpectralOptions{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return l
		},
		"kmeans": func(seed uint64) []int {
			res, err := cluster.KMeans(x, n, d, k, cluster.KMeansOptions{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return res.Labels
		},
	}
	for _, m := range []string{"", "ward", "spectral", "kmeans"} {
		name := cmp.Or(m, "ward")
		if name != "ward" && slices.Equal(direct[name](1), direct[name](2)) {
			t.Fatalf("%s: seeds 1 and 2 agree on this data", name)
		}
		for _, seed := range []uint64{1, 2} {
			_, pred, err := Config{Seed: seed, Workers: 2}.clusterScore(m, x, n, d, k, truth)
			if err != nil {
				t.Fatal(err)
			}
			if want := direct[name](seed); !slices.Equal(pred, want) {
				t.Errorf("method %q seed %d: %v, want %v", m, seed, pred, want)
			}
		}
	}
}

// meanNetOptions runs the eval on meanNet, small and uncached.
func meanNetOptions(o *pipeline.Options) {
	o.Net, o.NetID, o.Layers = meanNet{}, "meannet", []string{"p8"}
	o.PretrainDim, o.TargetDim, o.ImageSize, o.Resize = 8, 8, 64, 64
	o.Cache = ""
}
