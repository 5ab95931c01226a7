package pipeline_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/anomclust/anomclust/cluster"
	"github.com/anomclust/anomclust/metrics"
	"github.com/anomclust/anomclust/model"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
)

// offlineSplit is one split dumped by TestAssignRealPartB
// (ANOMCLUST_ASSIGN_DUMP).
type offlineSplit struct {
	name           string
	dump           splitDump
	xa, xb         []float32
	truthA, truthB []int
}

func readOfflineSplits(t *testing.T, root string) []offlineSplit {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "split.json" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	var out []offlineSplit
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "split.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s offlineSplit
		if err := json.Unmarshal(b, &s.dump); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		s.name, _ = filepath.Rel(root, dir)
		if s.xa, _, err = npy.Read[float32](filepath.Join(dir, "xa.npy")); err != nil {
			t.Fatal(err)
		}
		if s.xb, _, err = npy.Read[float32](filepath.Join(dir, "xb.npy")); err != nil {
			t.Fatal(err)
		}
		ids := map[string]int{}
		id := func(l string) int {
			if _, ok := ids[l]; !ok {
				ids[l] = len(ids)
			}
			return ids[l]
		}
		for _, l := range s.dump.LabelsA {
			s.truthA = append(s.truthA, id(l))
		}
		for _, l := range s.dump.LabelsB {
			s.truthB = append(s.truthB, id(l))
		}
		out = append(out, s)
	}
	return out
}

// centresOf are the mean rows of each of the k clusters of pred (NaN for
// an empty one) and the cluster sizes.
func centresOf(x []float32, d int, pred []int, k int) ([]float64, []int) {
	c := make([]float64, k*d)
	n := make([]int, k)
	for i, l := range pred {
		n[l]++
		for j := 0; j < d; j++ {
			c[l*d+j] += float64(x[i*d+j])
		}
	}
	for l := 0; l < k; l++ {
		for j := 0; j < d; j++ {
			if n[l] == 0 {
				c[l*d+j] = math.NaN()
			} else {
				c[l*d+j] /= float64(n[l])
			}
		}
	}
	return c, n
}

func sqDistC(x []float32, c []float64, w []float64) float64 {
	var s float64
	for j, v := range x {
		t := float64(v) - c[j]
		if w != nil {
			s += w[j] * t * t
		} else {
			s += t * t
		}
	}
	return s
}

// lloydSteps runs up to steps Lloyd iterations (w: per-feature weights of
// the distance, nil = Euclidean) from the partition pred and returns the
// partition and the number of steps that changed it. An empty cluster
// keeps its last centre.
func lloydSteps(x []float32, n, d, k int, pred []int, w []float64, steps int) ([]int, int) {
	p := slices.Clone(pred)
	moved := 0
	for s := 0; s < steps; s++ {
		c, _ := centresOf(x, d, p, k)
		changed := false
		for i := 0; i < n; i++ {
			best, bd := p[i], math.Inf(1)
			for l := 0; l < k; l++ {
				if math.IsNaN(c[l*d]) {
					continue
				}
				if dd := sqDistC(x[i*d:(i+1)*d], c[l*d:(l+1)*d], w); dd < bd {
					best, bd = l, dd
				}
			}
			if best != p[i] {
				p[i], changed = best, true
			}
		}
		if !changed {
			break
		}
		moved++
	}
	return p, moved
}

// hartigan moves single points between clusters while that lowers the
// within-cluster sum of squares (Ward's objective): x leaves a (gain
// n_a/(n_a-1)|x-mu_a|^2) for b (cost n_b/(n_b+1)|x-mu_b|^2).
func hartigan(x []float32, n, d, k int, pred []int, w []float64, maxPasses int) ([]int, int) {
	p := slices.Clone(pred)
	c, cnt := centresOf(x, d, p, k)
	moves := 0
	for pass := 0; pass < maxPasses; pass++ {
		changed := false
		for i := 0; i < n; i++ {
			a := p[i]
			if cnt[a] <= 1 {
				continue
			}
			xi := x[i*d : (i+1)*d]
			gain := float64(cnt[a]) / float64(cnt[a]-1) * sqDistC(xi, c[a*d:(a+1)*d], w)
			best, bc := a, gain
			for b := 0; b < k; b++ {
				if b == a {
					continue
				}
				if cost := float64(cnt[b]) / float64(cnt[b]+1) * sqDistC(xi, c[b*d:(b+1)*d], w); cost < bc {
					best, bc = b, cost
				}
			}
			if best == a {
				continue
			}
			for j := 0; j < d; j++ {
				v := float64(xi[j])
				c[a*d+j] = (c[a*d+j]*float64(cnt[a]) - v) / float64(cnt[a]-1)
				c[best*d+j] = (c[best*d+j]*float64(cnt[best]) + v) / float64(cnt[best]+1)
			}
			cnt[a]--
			cnt[best]++
			p[i] = best
			changed = true
			moves++
		}
		if !changed {
			break
		}
	}
	return p, moves
}

// accuracyThrough is the share of truth whose cluster in pred the matching m
// maps to its class.
func accuracyThrough(m *metrics.Matching, truth, pred []int) float64 {
	right := 0
	for i, l := range pred {
		if c, ok := m.ClassOf(l); ok && c == truth[i] {
			right++
		}
	}
	return float64(right) / float64(len(pred))
}

// placeAll places every row of xb (nb x d) by place.
func placeAll(xb []float32, d int, place func(x []float32) int) []int {
	nb := len(xb) / d
	out := make([]int, nb)
	for i := range out {
		out[i] = place(xb[i*d : (i+1)*d])
	}
	return out
}

// nearestCentre places by the (weighted) nearest centre of pred's clusters.
func nearestCentre(xa []float32, d, k int, pred []int, w []float64) func(x []float32) int {
	c, _ := centresOf(xa, d, pred, k)
	return func(x []float32) int {
		best, bd := 0, math.Inf(1)
		for l := 0; l < k; l++ {
			if math.IsNaN(c[l*d]) {
				continue
			}
			if dd := sqDistC(x, c[l*d:(l+1)*d], w); dd < bd {
				best, bd = l, dd
			}
		}
		return best
	}
}

// diagGauss places by the largest per-cluster diagonal Gaussian likelihood
// (each cluster its own per-feature variance, shrunk half way to the pooled
// one; prior by size): a quadratic discriminant with diagonal covariances.
func diagGauss(xa []float32, d, k int, pred []int) func(x []float32) int {
	c, cnt := centresOf(xa, d, pred, k)
	pooled := make([]float64, d)
	v := make([]float64, k*d)
	for i, l := range pred {
		for j := 0; j < d; j++ {
			t := float64(xa[i*d+j]) - c[l*d+j]
			v[l*d+j] += t * t
			pooled[j] += t * t / float64(len(pred))
		}
	}
	var pm float64
	for _, p := range pooled {
		pm += p / float64(d)
	}
	logdet := make([]float64, k)
	for l := 0; l < k; l++ {
		for j := 0; j < d; j++ {
			own := v[l*d+j] / float64(max(cnt[l], 1))
			v[l*d+j] = 0.5*own + 0.5*pooled[j] + 1e-6*pm
			logdet[l] += math.Log(v[l*d+j])
		}
	}
	return func(x []float32) int {
		best, bd := 0, math.Inf(1)
		for l := 0; l < k; l++ {
			if cnt[l] == 0 {
				continue
			}
			var s float64
			for j, xv := range x {
				t := float64(xv) - c[l*d+j]
				s += t * t / v[l*d+j]
			}
			s = 0.5*(s+logdet[l]) - math.Log(float64(cnt[l]))
			if s < bd {
				best, bd = l, s
			}
		}
		return best
	}
}

// medoidSet places by the nearest of each cluster's m most central members
// (nearest to the centre).
func medoidSet(xa []float32, d, k int, pred []int, m int) func(x []float32) int {
	c, _ := centresOf(xa, d, pred, k)
	type mem struct {
		i int
		d float64
	}
	per := make([][]mem, k)
	for i, l := range pred {
		per[l] = append(per[l], mem{i, sqDistC(xa[i*d:(i+1)*d], c[l*d:(l+1)*d], nil)})
	}
	var reps []int
	for l := range per {
		sort.Slice(per[l], func(a, b int) bool { return per[l][a].d < per[l][b].d })
		for _, v := range per[l][:min(m, len(per[l]))] {
			reps = append(reps, v.i)
		}
	}
	return func(x []float32) int {
		best, bd := 0, math.Inf(1)
		for _, i := range reps {
			if dd := sqDist(xa[i*d:(i+1)*d], x); dd < bd {
				best, bd = pred[i], dd
			}
		}
		return best
	}
}

// wardInsert places x by clustering A and x together with Ward at the same
// K and taking the A cluster most of x's new cluster's A members came from.
func wardInsert(t *testing.T, xa []float32, d, k int, pred []int) func(x []float32) int {
	n := len(pred)
	xf := make([]float64, len(xa))
	for i, v := range xa {
		xf[i] = float64(v)
	}
	base := cluster.PDist(xf, n, d)
	return func(x []float32) int {
		m := n + 1
		dist := make([]float64, m*(m-1)/2)
		pos := 0
		for i := 0; i < n; i++ {
			row := base[n*i-i*(i+1)/2 : n*i-i*(i+1)/2+n-1-i]
			pos += copy(dist[pos:], row)
			dist[pos] = math.Sqrt(sqDist(xa[i*d:(i+1)*d], x))
			pos++
		}
		l, err := cluster.WardFromDistances(dist, m)
		if err != nil {
			t.Fatal(err)
		}
		lab, err := l.Cut(k)
		if err != nil {
			t.Fatal(err)
		}
		votes := make([]int, k)
		for i := 0; i < n; i++ {
			if lab[i] == lab[n] {
				votes[pred[i]]++
			}
		}
		best := 0
		for c := range votes {
			if votes[c] > votes[best] {
				best = c
			}
		}
		if votes[best] == 0 { // x alone: the nearest centre
			return nearestCentre(xa, d, k, pred, nil)(x)
		}
		return best
	}
}

// offlineRow is one (partition, placement rule) on one split: the
// partition's F1 and NMI on A, B's accuracy through A's matching, A's
// images placed back by the rule (share in their own cluster, accuracy
// through A's matching), B's accuracy with its own matching, A through B's
// matching, A and B through one matching fitted to both, and how many A
// images the refinement moved.
type offlineRow struct {
	f1, nmi, acc, aBack, aPlaced, bOwn, aViaB, aShared, bShared, moved float64
}

// TestAssignOffline analyses the splits TestAssignRealPartB dumped
// (ANOMCLUST_ASSIGN_OFFLINE=DIR, the ANOMCLUST_ASSIGN_DUMP of that run):
// per split and on average, for Ward's partition of A placed by assign's
// rule and by rules the real test does not log (per-cluster diagonal
// Gaussian, nearest of each cluster's 5 most central members, Ward on A
// with the image added), and for refinements of the partition (Lloyd
// steps, Hartigan moves, Euclidean or with assign's standardisation),
// which also change F1 and NMI on A; and the gap the Hungarian matching
// alone makes with the clusters fixed (matchingGap) at A's size and at 3
// and 10 times it. Labels only score. It checks that assign's rule, re-run
// here on the dumped X, puts every B image where assign did, and that
// Lloyd iterated to the end leaves a partition every A image of which is
// nearest its own centre.
func TestAssignOffline(t *testing.T) {
	root := os.Getenv("ANOMCLUST_ASSIGN_OFFLINE")
	if root == "" {
		t.Skip("set ANOMCLUST_ASSIGN_OFFLINE=DIR (an ANOMCLUST_ASSIGN_DUMP folder)")
	}
	splits := readOfflineSplits(t, root)
	if len(splits) == 0 {
		t.Fatalf("no split.json under %s", root)
	}
	sums := map[string]*offlineRow{}
	var order []string
	add := func(name string, r offlineRow) {
		if sums[name] == nil {
			sums[name] = &offlineRow{}
			order = append(order, name)
		}
		s, f := sums[name], 1/float64(len(splits))
		s.f1 += r.f1 * f
		s.nmi += r.nmi * f
		s.acc += r.acc * f
		s.aBack += r.aBack * f
		s.aPlaced += r.aPlaced * f
		s.bOwn += r.bOwn * f
		s.aViaB += r.aViaB * f
		s.aShared += r.aShared * f
		s.bShared += r.bShared * f
		s.moved += r.moved * f
	}
	var gap1, gap3, gap10 float64
	for _, s := range splits {
		d, k := s.dump.D, 0
		for _, l := range s.dump.PredA {
			k = max(k, l+1)
		}
		n := len(s.dump.PredA)
		ward := s.dump.PredA
		eval := func(name string, pred []int, place func(x []float32) int) []int {
			m, err := metrics.Match(s.truthA, pred)
			if err != nil {
				t.Fatal(err)
			}
			pb, pa := placeAll(s.xb, d, place), placeAll(s.xa, d, place)
			r := offlineRow{f1: m.F1(), acc: accuracyThrough(m, s.truthB, pb), aPlaced: accuracyThrough(m, s.truthA, pa)}
			if r.nmi, err = metrics.NMI(s.truthA, pred); err != nil {
				t.Fatal(err)
			}
			if r.bOwn, err = metrics.MatchedF1(s.truthB, pb); err != nil {
				t.Fatal(err)
			}
			mB, err := metrics.Match(s.truthB, pb)
			if err != nil {
				t.Fatal(err)
			}
			r.aViaB = accuracyThrough(mB, s.truthA, pred)
			r.aShared, r.bShared = sharedMatchAccuracy(t, pred, s.dump.LabelsA, pb, s.dump.LabelsB)
			for i := range pa {
				if pa[i] == pred[i] {
					r.aBack++
				}
				if pred[i] != ward[i] {
					r.moved++
				}
			}
			r.aBack /= float64(n)
			t.Logf("%s %-20s F1(A) %.3f NMI(A) %.3f acc(B) %.3f gap %+.3f | A back %.3f, A placed %.3f, B own matching %.3f, A via B's %.3f, shared matching A %.3f B %.3f | moved %.0f",
				s.name, name, r.f1, r.nmi, r.acc, r.f1-r.acc, r.aBack, r.aPlaced, r.bOwn, r.aViaB, r.aShared, r.bShared, r.moved)
			add(name, r)
			return pb
		}
		cl, err := model.Fit(s.xa, n, d, ward, k)
		if err != nil {
			t.Fatal(err)
		}
		place := func(pred []int) func(x []float32) int {
			c, err := model.Fit(s.xa, n, d, pred, k)
			if err != nil {
				t.Fatal(err)
			}
			return func(x []float32) int { return c.Place(x).Cluster }
		}
		pb := eval("ward/assign", ward, place(ward))
		if !slices.Equal(pb, s.dump.AssignB) {
			t.Errorf("%s: assign's rule on the dumped X places B otherwise than assign did", s.name)
		}
		eval("ward/centre", ward, nearestCentre(s.xa, d, k, ward, nil))
		eval("ward/diag-gauss", ward, diagGauss(s.xa, d, k, ward))
		eval("ward/medoids5", ward, medoidSet(s.xa, d, k, ward, 5))
		eval("ward/insert", ward, wardInsert(t, s.xa, d, k, ward))
		for _, steps := range []int{1, 300} {
			p, _ := lloydSteps(s.xa, n, d, k, ward, nil, steps)
			name := fmt.Sprintf("lloyd%d", steps)
			if steps == 300 {
				name = "lloyd"
				if a := placeAll(s.xa, d, nearestCentre(s.xa, d, k, p, nil)); !slices.Equal(a, p) {
					t.Errorf("%s: Lloyd's partition is not its centres' Voronoi cells", s.name)
				}
			}
			eval(name+"/centre", p, nearestCentre(s.xa, d, k, p, nil))
			eval(name+"/assign", p, place(p))
		}
		for _, w := range []struct {
			name string
			w    []float64
		}{{"hartigan", nil}, {"hartigan-std", cl.Weight}} {
			p, _ := hartigan(s.xa, n, d, k, ward, w.w, 300)
			eval(w.name+"/assign", p, place(p))
		}
		if p, _ := lloydSteps(s.xa, n, d, k, ward, cl.Weight, 300); true {
			eval("lloyd-std/assign", p, place(p))
		}
		tr := append(slices.Clone(s.truthA), s.truthB...)
		pr := append(slices.Clone(ward), pb...)
		g1, g3, g10 := matchingGap(t, tr, pr, n, len(pb), 400), matchingGap(t, tr, pr, 3*n, 3*len(pb), 400), matchingGap(t, tr, pr, 10*n, 10*len(pb), 400)
		t.Logf("%s matching alone (clusters fixed, the pooled (label, cluster) pairs resampled): gap at N_A = %d %+.3f, at 3x %+.3f, at 10x %+.3f", s.name, n, g1, g3, g10)
		gap1 += g1 / float64(len(splits))
		gap3 += g3 / float64(len(splits))
		gap10 += g10 / float64(len(splits))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "mean over %d splits of %s (gap = F1(A) - acc(B); shared = one matching fitted to A and B):\n", len(splits), root)
	for _, name := range order {
		r := sums[name]
		fmt.Fprintf(&b, "%-20s F1(A) %.3f NMI(A) %.3f acc(B) %.3f gap %+.3f | A back %.3f, A placed %.3f, B own %.3f, A via B's %.3f, shared A %.3f B %.3f | moved %.1f\n",
			name, r.f1, r.nmi, r.acc, r.f1-r.acc, r.aBack, r.aPlaced, r.bOwn, r.aViaB, r.aShared, r.bShared, r.moved)
	}
	fmt.Fprintf(&b, "the matching alone (clusters fixed): gap %+.3f at A's size, %+.3f at 3x, %+.3f at 10x\n", gap1, gap3, gap10)
	t.Log(b.String())
}

// TestRefineRuns measures, on finished runs (ANOMCLUST_REFINE_RUNS=OUT,...),
// what a refinement of each result's Ward partition would do to its NMI
// and F1 against the labels (which only score; the refinements see X
// alone): one Lloyd step, Lloyd to convergence, Hartigan moves (the point
// moves that lower Ward's objective) and Lloyd and Hartigan with assign's
// standardisation (each feature by its pooled within-cluster SD in Ward's
// partition). It checks that the Ward partition read back scores the NMI
// and F1 of the result's metrics.json.
func TestRefineRuns(t *testing.T) {
	runs := os.Getenv("ANOMCLUST_REFINE_RUNS")
	if runs == "" {
		t.Skip("set ANOMCLUST_REFINE_RUNS=OUT,... (run folders)")
	}
	for _, out := range strings.Split(runs, ",") {
		run, err := rundir.ReadRun(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range run.Categories {
			for _, mode := range run.Settings.Modes {
				taus := run.Settings.Taus
				if !rundir.Mode(mode).HasTau() {
					taus = []float64{1}
				}
				for _, tau := range taus {
					dir := rundir.ResultDir(out, c.Name, mode, tau)
					x, shape, err := npy.Read[float32](filepath.Join(dir, rundir.XFile))
					if errors.Is(err, fs.ErrNotExist) {
						continue // a mode the run skipped (semi without train images)
					}
					if err != nil {
						t.Fatal(err)
					}
					as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
					if err != nil {
						t.Fatal(err)
					}
					met, err := rundir.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
					if err != nil {
						t.Fatal(err)
					}
					n, d := shape[0], shape[1]
					ids := map[string]int{}
					truth, ward := make([]int, n), make([]int, n)
					k := 0
					for i, a := range as {
						if _, ok := ids[a.Label]; !ok {
							ids[a.Label] = len(ids)
						}
						truth[i], ward[i] = ids[a.Label], a.Cluster
						k = max(k, a.Cluster+1)
					}
					score := func(p []int) (float64, float64, int) {
						nmi, err := metrics.NMI(truth, p)
						if err != nil {
							t.Fatal(err)
						}
						f1, err := metrics.MatchedF1(truth, p)
						if err != nil {
							t.Fatal(err)
						}
						moved := 0
						for i := range p {
							if p[i] != ward[i] {
								moved++
							}
						}
						return nmi, f1, moved
					}
					if nmi, f1, _ := score(ward); math.Abs(nmi-met.NMI) > 1e-9 || math.Abs(f1-met.F1) > 1e-9 {
						t.Errorf("%s: Ward's partition read back scores NMI %v F1 %v, metrics.json %v %v", dir, nmi, f1, met.NMI, met.F1)
					}
					cl, err := model.Fit(x, n, d, ward, k)
					if err != nil {
						t.Fatal(err)
					}
					l1, _ := lloydSteps(x, n, d, k, ward, nil, 1)
					lc, _ := lloydSteps(x, n, d, k, ward, nil, 300)
					h, _ := hartigan(x, n, d, k, ward, nil, 300)
					ls, _ := lloydSteps(x, n, d, k, ward, cl.Weight, 300)
					hs, _ := hartigan(x, n, d, k, ward, cl.Weight, 300)
					var b strings.Builder
					for _, v := range []struct {
						name string
						p    []int
					}{{"ward", ward}, {"lloyd1", l1}, {"lloyd", lc}, {"hartigan", h}, {"lloyd-std", ls}, {"hartigan-std", hs}} {
						nmi, f1, moved := score(v.p)
						fmt.Fprintf(&b, " | %s NMI %.3f F1 %.3f moved %d", v.name, nmi, f1, moved)
					}
					rec := ""
					if isRec(c, mode, tau) {
						rec = " (recommended)"
					}
					t.Logf("%s %s %s tau %v%s K %d N %d%s", filepath.Base(out), c.Name, mode, tau, rec, k, n, b.String())
				}
			}
		}
	}
}

func isRec(c rundir.Category, mode string, tau float64) bool {
	return c.RecommendedMode == mode && (!rundir.Mode(mode).HasTau() || rundir.TauName(tau) == rundir.TauName(c.RecommendedTau))
}

// matchingGap is the gap F1(A) - accuracy(B) that the Hungarian matching
// alone makes when the clusters are fixed: A and B drawn (with
// replacement, nA and nB pairs) from the pooled (class, cluster) pairs,
// F1 on A with A's own matching, B through A's matching; mean over reps
// seeded draws.
func matchingGap(t *testing.T, truth, pred []int, nA, nB, reps int) float64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 0x6a9))
	var sum float64
	for range reps {
		draw := func(n int) ([]int, []int) {
			tr, pr := make([]int, n), make([]int, n)
			for i := range tr {
				j := rng.IntN(len(truth))
				tr[i], pr[i] = truth[j], pred[j]
			}
			return tr, pr
		}
		ta, pa := draw(nA)
		tb, pb := draw(nB)
		m, err := metrics.Match(ta, pa)
		if err != nil {
			t.Fatal(err)
		}
		sum += (m.F1() - accuracyThrough(m, tb, pb)) / float64(reps)
	}
	return sum
}

// wss is the within-cluster sum of squares of pred's clusters.
func wss(x []float32, d, k int, pred []int) float64 {
	c, _ := centresOf(x, d, pred, k)
	var s float64
	for i, l := range pred {
		s += sqDistC(x[i*d:(i+1)*d], c[l*d:(l+1)*d], nil)
	}
	return s
}

// TestRefineHelpers checks the measurement helpers of TestAssignOffline
// and TestRefineRuns on three 2-D blobs started from a partition with
// every fifth point in the wrong cluster: Hartigan lowers the
// within-cluster sum of squares until no single move lowers it, Lloyd
// ends in its centres' Voronoi cells, and matchingGap is 0 for clusters
// equal to the classes and clearly positive for clusters drawn
// independently of them (the matching's fit to noise).
func TestRefineHelpers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d, k = 90, 2, 3
	x := make([]float32, n*d)
	truth, start := make([]int, n), make([]int, n)
	for i := range n {
		l := i % k
		x[i*d] = float32(4*l) + float32(rng.NormFloat64())
		x[i*d+1] = float32(rng.NormFloat64())
		truth[i], start[i] = l, l
		if i%5 == 0 {
			start[i] = (l + 1) % k
		}
	}
	h, moves := hartigan(x, n, d, k, start, nil, 300)
	if moves == 0 || !(wss(x, d, k, h) < wss(x, d, k, start)) {
		t.Errorf("Hartigan made %d moves, WSS %v from %v", moves, wss(x, d, k, h), wss(x, d, k, start))
	}
	for i := range n {
		for b := range k {
			if b == h[i] {
				continue
			}
			p := slices.Clone(h)
			p[i] = b
			if wss(x, d, k, p) < wss(x, d, k, h)-1e-9 {
				t.Fatalf("moving point %d to cluster %d lowers Hartigan's WSS", i, b)
			}
		}
	}
	l, _ := lloydSteps(x, n, d, k, start, nil, 300)
	if a := placeAll(x, d, nearestCentre(x, d, k, l, nil)); !slices.Equal(a, l) {
		t.Errorf("Lloyd's partition is not its centres' Voronoi cells")
	}
	if g := matchingGap(t, truth, truth, 60, 60, 50); g != 0 {
		t.Errorf("matching gap of pure clusters %v, want 0", g)
	}
	noise := make([]int, n)
	for i := range noise {
		noise[i] = rng.IntN(k)
	}
	if g := matchingGap(t, truth, noise, 30, 30, 200); !(g > 0.05) {
		t.Errorf("matching gap of clusters independent of the classes %v, want > 0.05", g)
	}
}
