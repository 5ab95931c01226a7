package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/anomclust/anomclust/alpha"
	"github.com/anomclust/anomclust/backbone"
	"github.com/anomclust/anomclust/dataset"
	"github.com/anomclust/anomclust/npy"
	"github.com/anomclust/anomclust/rundir"
	"github.com/anomclust/anomclust/runstore"
	"github.com/anomclust/anomclust/tensor"
)

// A sharded run splits Run over machines in two stages with a barrier
// between them, as batch engines (Kubernetes Indexed Jobs, Slurm arrays,
// Batch services) run them:
//
//   - StageEmbed, shard i of n: the patch embeddings Z of slice i of every
//     category's images (clustered, reference-only and memory bank images);
//   - StageScore, shard i of n: the patch scores of slice i of every
//     category's clustered images against their reference (every other
//     image, or the memory bank), reading the Z it needs;
//   - Merge: the scores of every shard, then alpha, X, the clustering and
//     every output of Run, equal to a one-machine run's.
//
// The shards exchange everything through one run store (package runstore:
// a local folder or a bucket URL) under ShardPrefix:
//
//	shards/settings.json          the options, the backbone, the data set's plan (first embed shard)
//	shards/embed.json             n of the embed stage (its first shard)
//	shards/embed/<i>.json         shard i finished
//	shards/z/<category>/<j>.npy   Z of the category's image j (float32, M x D)
//	shards/score.json, shards/score/<i>.json
//	shards/scores/<category>/<mode>/<i>.npy   rows [lo, hi) of shard i (float64)

// Stages of a sharded run.
const (
	StageEmbed = "embed"
	StageScore = "score"
)

// ShardPrefix is the folder of a run store that holds the shards' files;
// the merged run's own files sit beside it.
const ShardPrefix = "shards/"

// shardFormat versions the layout under ShardPrefix.
const shardFormat = "anomclust-shards/1"

// Shard is slice I (0-based, as JOB_COMPLETION_INDEX) of N.
type Shard struct{ I, N int }

// ParseShard parses "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 <= i < n (i counts from 0, as JOB_COMPLETION_INDEX)", s)
	}
	return Shard{I: i, N: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// slice is the shard's part [lo, hi) of n items: contiguous, sizes
// differing by at most one.
func (s Shard) slice(n int) (lo, hi int) {
	return s.I * n / s.N, (s.I + 1) * n / s.N
}

// shardState is shards/settings.json.
type shardState struct {
	Format string `json:"format"`
	// Options are the run's options (see shardOptions): every later
	// stage must give the same.
	Options json.RawMessage `json:"options"`
	Net     shardNet        `json:"backbone"`
	Input   shardInput      `json:"input"`
	Plans   []shardPlan     `json:"categories"`
}

// shardNet records the backbone of the embed stage for run.json.
type shardNet struct {
	Name       string              `json:"name"`
	Layers     []string            `json:"layers"`
	Preprocess backbone.Preprocess `json:"preprocess"`
	File       string              `json:"weights_file,omitempty"`
	SHA256     string              `json:"weights_sha256,omitempty"`
	ID         string              `json:"id,omitempty"`
	Random     bool                `json:"random,omitempty"`
	Given      bool                `json:"given,omitempty"` // from Options.Net
}

// shardInput is inputState.
type shardInput struct {
	Layout   dataset.Layout    `json:"layout"`
	Labelled bool              `json:"labelled"`
	Root     string            `json:"root"`
	Why      string            `json:"why"`
	Skipped  []rundir.BadImage `json:"skipped,omitempty"`
}

// shardPlan is a plan.
type shardPlan struct {
	Name  string         `json:"name"`
	Dir   string         `json:"dir"`
	Set   dataset.Set    `json:"set"`
	K     int            `json:"k"`
	Semi  bool           `json:"semi"`
	Train []dataset.Item `json:"train,omitempty"`
	Ref   []dataset.Item `json:"ref,omitempty"`
	// Gate is the object gate's result on the category (the auto preset,
	// --object-auto), taken once by every embed shard on the same sample
	// of the category's images, so that every stage and the merge apply
	// the same per-category choice as a one-machine run.
	Gate *shardGate `json:"gate,omitempty"`
	// Net is the category's own backbone (the auto preset's texture
	// configuration, extractor.withNet), without its file's path (which
	// may differ between machines; its digest identifies it).
	Net *shardNet `json:"net,omitempty"`
}

// shardGate is a gateResult.
type shardGate struct {
	Object bool     `json:"object"`
	Found  float64  `json:"found"`
	AreaCV *float64 `json:"area_cv,omitempty"` // absent: fewer than two parts found
}

func (g *shardGate) result() *gateResult {
	if g == nil {
		return nil
	}
	r := &gateResult{object: g.Object, found: g.Found, cv: math.Inf(1)}
	if g.AreaCV != nil {
		r.cv = *g.AreaCV
	}
	return r
}

func (p shardPlan) plan() plan {
	return plan{cat: &dataset.Category{Name: p.Name, Dir: p.Dir}, set: p.Set, k: p.K, semi: p.Semi, train: p.Train, ref: p.Ref, gate: p.Gate.result()}
}

// options are the options p's category runs with (categoryOptions).
func (p shardPlan) options(o *Options) *Options {
	if g := p.Gate.result(); g != nil {
		co, _ := categoryOptions(o, *g)
		return co
	}
	return o
}

// clustered are the paths of the category's clustered images.
func (p shardPlan) clustered() []string {
	paths := make([]string, len(p.Set.Items))
	for i, it := range p.Set.Items {
		paths[i] = it.Path
	}
	return paths
}

// images is the category's list of images whose Z the shards store, in
// the order of their keys: the clustered ones, the reference-only ones
// (unsupervised mode), the memory bank (semi mode).
func (p shardPlan) images(o *Options) (paths []string, nRef int) {
	for _, it := range p.Set.Items {
		paths = append(paths, it.Path)
	}
	if rundir.AnyFrom(o.Modes, rundir.SourceOthers) {
		for _, it := range p.Ref {
			paths = append(paths, it.Path)
		}
		nRef = len(p.Ref)
	}
	if p.Semi {
		for _, it := range p.Train {
			paths = append(paths, it.Path)
		}
	}
	return paths, nRef
}

// shardOptions is the JSON of the options every stage must share: what
// only concerns one machine (output, cache, workers, batch, logs, the
// backbone object itself) is left out.
func shardOptions(o Options) ([]byte, error) {
	o.Out, o.Force, o.Cache, o.CacheMax, o.Batch, o.Workers = "", false, "", 0, 0, 0
	o.Net, o.CategoryNet, o.Store, o.Progress, o.Log, o.Command = nil, nil, nil, nil, nil, nil
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("sharded run settings: %w", err)
	}
	return b, nil
}

// diffOptions names the options that differ between two shardOptions.
func diffOptions(have, want []byte) string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(have, &a) != nil || json.Unmarshal(want, &b) != nil {
		return "(unreadable settings)"
	}
	var out []string
	for k, v := range b {
		if !bytes.Equal(compact(a[k]), compact(v)) {
			out = append(out, fmt.Sprintf("%s: %s here, %s in the run", k, compact(v), orNone(a[k])))
		}
	}
	for k, v := range a {
		if _, ok := b[k]; !ok {
			out = append(out, fmt.Sprintf("%s: none here, %s in the run", k, compact(v)))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

func orNone(b []byte) string {
	if b == nil {
		return "none"
	}
	return string(compact(b))
}

// compact is b without JSON white space (b itself if not JSON).
func compact(b []byte) []byte {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return b
	}
	return out.Bytes()
}

// shardRun is what a stage or the merge works with.
type shardRun struct {
	st    *runstore.Store
	loc   string
	state *shardState
	o     *Options
	log   io.Writer
}

func zKey(cat string, j int) string {
	return ShardPrefix + "z/" + cat + "/" + strconv.Itoa(j) + ".npy"
}

func scoreKey(cat, mode string, i int) string {
	return ShardPrefix + "scores/" + cat + "/" + mode + "/" + strconv.Itoa(i) + ".npy"
}

func stageKey(stage string) string { return ShardPrefix + stage + ".json" }
func doneKey(stage string, i int) string {
	return ShardPrefix + stage + "/" + strconv.Itoa(i) + ".json"
}
func stageHint(stage string, sh Shard) string { return fmt.Sprintf("--stage %s --shard %s", stage, sh) }

// stageRecord is shards/<stage>.json and shards/<stage>/<i>.json.
type stageRecord struct {
	Stage   string  `json:"stage"`
	Shards  int     `json:"shards"`
	Shard   *int    `json:"shard,omitempty"`
	Images  int     `json:"images,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
}

// putOnce writes data under key unless the key holds something already;
// then (and after writing, against a concurrent writer) the stored value
// must equal data, else mismatch(stored) is the error.
func putOnce(ctx context.Context, st *runstore.Store, key string, data []byte, mismatch func(stored []byte) error) error {
	for attempt := 0; ; attempt++ {
		b, err := st.Read(ctx, key)
		switch {
		case errors.Is(err, fs.ErrNotExist) && attempt == 0:
			if err := st.Write(ctx, key, data); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		case !bytes.Equal(b, data):
			return mismatch(b)
		}
		return nil
	}
}

// RunShard runs one shard of one stage of a sharded run (see StageEmbed):
// o.Out is the run store (a local folder or a bucket URL) the shards and
// the merge share. The first embed shard to finish its checks stores the
// options, the backbone and the data set's plan there; every later shard
// must have been given the same options (only the output, cache, workers
// and batch may differ). Shards of one stage may run in any order or at
// once; a score shard needs every embed shard finished, and names the
// missing ones.
func RunShard(ctx context.Context, o Options, stage string, sh Shard) error {
	if sh.N < 1 || sh.I < 0 || sh.I >= sh.N {
		return fmt.Errorf("shard %d/%d: want 0 <= i < n", sh.I, sh.N)
	}
	if stage != StageEmbed && stage != StageScore {
		return fmt.Errorf("--stage %q: want %s or %s", stage, StageEmbed, StageScore)
	}
	if o.Net != nil && o.NetID == "" {
		return errors.New("a sharded run with Options.Net needs its NetID (the shards must tell its weights apart)")
	}
	loc := o.Out
	if err := o.validate(); err != nil {
		return err
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	st, err := runstore.Open(ctx, loc)
	if err != nil {
		return err
	}
	defer st.Close()
	r := &shardRun{st: st, loc: loc, o: &o, log: log}
	start := time.Now()
	var n int
	if stage == StageEmbed {
		n, err = r.embed(ctx, sh)
	} else {
		n, err = r.score(ctx, sh)
	}
	if err != nil {
		return err
	}
	i := sh.I
	rec, _ := json.Marshal(stageRecord{Stage: stage, Shards: sh.N, Shard: &i, Images: n, Seconds: time.Since(start).Seconds()})
	if err := st.Write(ctx, doneKey(stage, sh.I), rec); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s shard %s: done in %.1fs (%s)\n", stage, sh, time.Since(start).Seconds(), loc)
	return nil
}

// claimStage stores the stage's number of shards (first shard) or checks
// it.
func (r *shardRun) claimStage(ctx context.Context, stage string, sh Shard) error {
	b, _ := json.Marshal(stageRecord{Stage: stage, Shards: sh.N})
	return putOnce(ctx, r.st, stageKey(stage), b, func(stored []byte) error {
		var s stageRecord
		_ = json.Unmarshal(stored, &s)
		return fmt.Errorf("%s shard %s: the %s stage of the run in %s has %d shards, not %d (%s)", stage, sh, stage, r.loc, s.Shards, sh.N, stageKey(stage))
	})
}

// checkStage returns the stage's number of shards after checking that
// every one of them has finished.
func (r *shardRun) checkStage(ctx context.Context, stage, next string) (int, error) {
	b, err := r.st.Read(ctx, stageKey(stage))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("no %s shard has run in %s yet: run every `anomclust run ... --stage %s --shard i/n --out %s` before the %s", stage, r.loc, stage, r.loc, next)
	}
	if err != nil {
		return 0, err
	}
	var s stageRecord
	if err := json.Unmarshal(b, &s); err != nil || s.Shards < 1 {
		return 0, fmt.Errorf("%s in %s: unreadable (%v)", stageKey(stage), r.loc, err)
	}
	var missing []string
	for i := range s.Shards {
		ok, err := r.st.Exists(ctx, doneKey(stage, i))
		if err != nil {
			return 0, err
		}
		if !ok {
			missing = append(missing, Shard{i, s.Shards}.String())
		}
	}
	if len(missing) > 0 {
		what := "shard " + missing[0] + " has"
		if len(missing) > 1 {
			what = "shards " + strings.Join(missing, ", ") + " have"
		}
		return 0, fmt.Errorf("%s %s not finished in %s (no %s): run `anomclust run ... %s --out %s` before the %s",
			stage, what, r.loc, doneKey(stage, missingIndex(missing[0])), stageHint(stage, Shard{missingIndex(missing[0]), s.Shards}), r.loc, next)
	}
	return s.Shards, nil
}

func missingIndex(s string) int {
	i, _ := strconv.Atoi(strings.SplitN(s, "/", 2)[0])
	return i
}

// readState reads shards/settings.json.
func readState(ctx context.Context, st *runstore.Store, loc, next string) (*shardState, error) {
	b, err := st.Read(ctx, ShardPrefix+"settings.json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s holds no sharded run (no %ssettings.json): run the embed stage (`anomclust run ... --stage embed --shard i/n --out %s`) before the %s", loc, ShardPrefix, loc, next)
	}
	if err != nil {
		return nil, err
	}
	var s shardState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%ssettings.json in %s: %w", ShardPrefix, loc, err)
	}
	if s.Format != shardFormat {
		return nil, fmt.Errorf("%ssettings.json in %s is of format %q, this anomclust reads %q", ShardPrefix, loc, s.Format, shardFormat)
	}
	return &s, nil
}

// checkOptions refuses options that differ from the stored ones.
func (r *shardRun) checkOptions(stage string, sh Shard) error {
	mine, err := shardOptions(*r.o)
	if err != nil {
		return err
	}
	if !bytes.Equal(mine, compact(r.state.Options)) {
		return fmt.Errorf("%s shard %s: the settings differ from those the run in %s was started with (every stage takes the same flags; only --out, --cache, --cache-max, --batch and --workers may differ): %s",
			stage, sh, r.loc, diffOptions(r.state.Options, mine))
	}
	return nil
}

// embed is the embed stage: returns the number of images embedded.
func (r *shardRun) embed(ctx context.Context, sh Shard) (int, error) {
	o := r.o
	plans, err := makePlans(o, r.log)
	if err != nil {
		return 0, err
	}
	on := *o
	on.Layers = netLayers(o) // the per-category taps too
	n, err := openNet(ctx, &on, r.log)
	if err != nil {
		return 0, err
	}
	ex, err := newExtractor(n, o, r.log)
	if err != nil {
		return 0, err
	}
	if plans, err = checkImages(ctx, o, plans, ex, r.log); err != nil {
		return 0, err
	}
	if err := checkLayers(n, o); err != nil {
		return 0, err
	}
	opts, err := shardOptions(*o)
	if err != nil {
		return 0, err
	}
	state := &shardState{Format: shardFormat, Options: opts,
		Net:   shardNetOf(n, o.Net != nil),
		Input: shardInput{Layout: o.in.layout, Labelled: o.in.labelled, Root: o.in.root, Why: o.in.why, Skipped: o.in.skipped}}
	exOf := map[string]*extractor{} // the category's extractor (its net, aligned or not: chooseCategory)
	for _, p := range plans {
		if p.cat.Name+"/" == ShardPrefix {
			return 0, fmt.Errorf("a category named %q cannot be run in shards: its folder would be the shards' own in %s", p.cat.Name, r.loc)
		}
		sp := shardPlan{Name: p.cat.Name, Dir: p.cat.Dir, Set: p.set, K: p.k, Semi: p.semi, Train: p.train, Ref: p.ref}
		if gateNeeded(o) {
			g, err := gateOf(ctx, p.cat.Name, sp.clustered(), ex.pre.Grey16, nil)
			if err != nil {
				return 0, err
			}
			sp.Gate = &shardGate{Object: g.object, Found: g.found}
			if !math.IsInf(g.cv, 0) && !math.IsNaN(g.cv) {
				cv := g.cv
				sp.Gate.AreaCV = &cv
			}
		}
		_, cex, err := chooseCategory(ctx, o, ex, sp.Name, sp.clustered(), sp.Gate.result(), &rundir.Category{})
		if err != nil {
			return 0, err
		}
		exOf[sp.Name] = cex
		if cex.net != ex.net {
			cn := shardNetOf(cex.net, o.CategoryNet != nil)
			cn.File = ""
			sp.Net = &cn
		}
		state.Plans = append(state.Plans, sp)
	}
	b, err := json.MarshalIndent(state, "", " ")
	if err != nil {
		return 0, err
	}
	r.state = state
	err = putOnce(ctx, r.st, ShardPrefix+"settings.json", b, func(stored []byte) error {
		var s shardState
		if err := json.Unmarshal(stored, &s); err != nil {
			return fmt.Errorf("%ssettings.json in %s: %w", ShardPrefix, r.loc, err)
		}
		r.state = &s
		if err := r.checkOptions(StageEmbed, sh); err != nil {
			return err
		}
		// The weights file may sit elsewhere on each machine: its digest
		// (or NetID) identifies it.
		theirs, mine := s.Net, state.Net
		theirs.File, mine.File = "", ""
		sn, _ := json.Marshal(theirs)
		mn, _ := json.Marshal(mine)
		if !bytes.Equal(sn, mn) {
			return fmt.Errorf("embed shard %s: the backbone differs from the one the run in %s was started with: %s here, %s there (the same weights file on every machine)", sh, r.loc, mn, sn)
		}
		return fmt.Errorf("embed shard %s: the images found differ from those the run in %s was started with (the data folder changed, or is not the same on every machine)", sh, r.loc)
	})
	if err != nil {
		return 0, err
	}
	if err := r.claimStage(ctx, StageEmbed, sh); err != nil {
		return 0, err
	}
	// The shard's slice of every category's images, one list.
	type job struct {
		cat  string
		j    int
		path string
	}
	var all []job
	for _, p := range state.Plans {
		paths, _ := p.images(o)
		for j, path := range paths {
			all = append(all, job{p.Name, j, path})
		}
	}
	lo, hi := sh.slice(len(all))
	mine := all[lo:hi]
	fmt.Fprintf(r.log, "embed shard %s: %d of %d images\n", sh, len(mine), len(all))
	// A retried shard keeps what it stored before (whole objects only).
	var todo []job
	for _, jb := range mine {
		ok, err := r.st.Exists(ctx, zKey(jb.cat, jb.j))
		if err != nil {
			return 0, err
		}
		if !ok {
			todo = append(todo, jb)
		}
	}
	bar := newBar(o.Progress, len(todo), "embed shard "+sh.String())
	defer bar.Finish()
	step := max(o.Batch, 1) * 4
	for k := 0; k < len(todo); {
		// A batch of up to step images of one category.
		end := k + 1
		for end < len(todo) && end-k < step && todo[end].cat == todo[k].cat {
			end++
		}
		part := todo[k:end]
		k = end
		paths := make([]string, len(part))
		for q, jb := range part {
			paths[q] = jb.path
		}
		z, err := exOf[part[0].cat].Z(ctx, paths, "", nil)
		if err != nil {
			return 0, err
		}
		for q, jb := range part {
			var buf bytes.Buffer
			if err := npy.Encode(&buf, z[q].Data, z[q].Shape...); err != nil {
				return 0, err
			}
			if err := r.st.Write(ctx, zKey(jb.cat, jb.j), buf.Bytes()); err != nil {
				return 0, err
			}
		}
		bar.Add(len(part))
	}
	return len(mine), nil
}

// storeSource streams Z from the run store (alpha.Source).
type storeSource struct {
	ctx  context.Context
	st   *runstore.Store
	keys []string
	m, d int
}

func (s *storeSource) Len() int         { return len(s.keys) }
func (s *storeSource) Dims() (m, d int) { return s.m, s.d }

// Z reads image i's object into buf.
func (s *storeSource) Z(i int, buf []float32) ([]float32, error) {
	b, err := s.st.Read(s.ctx, s.keys[i])
	if err != nil {
		return nil, err
	}
	z, shape, err := npy.Decode(b, buf)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", s.keys[i], s.st.Location(), err)
	}
	if len(shape) != 2 || shape[0] != s.m || shape[1] != s.d {
		return nil, fmt.Errorf("%s in %s: shape %v, want %dx%d", s.keys[i], s.st.Location(), shape, s.m, s.d)
	}
	return z, nil
}

// sources returns the category's Z from the store: the clustered images,
// the unsupervised score's set (clustered, then reference-only) and the
// memory bank.
func (r *shardRun) sources(ctx context.Context, p shardPlan) (z, zRef, bank *storeSource, err error) {
	paths, nRef := p.images(r.o)
	keys := make([]string, len(paths))
	for j := range paths {
		keys[j] = zKey(p.Name, j)
	}
	b, err := r.st.Read(ctx, keys[0])
	if err != nil {
		return nil, nil, nil, fmt.Errorf("category %s: patch embeddings: %w", p.Name, err)
	}
	_, shape, err := npy.Decode[float32](b, nil)
	if err != nil || len(shape) != 2 {
		return nil, nil, nil, fmt.Errorf("%s in %s: %v (shape %v)", keys[0], r.loc, err, shape)
	}
	src := func(k []string) *storeSource {
		return &storeSource{ctx: ctx, st: r.st, keys: k, m: shape[0], d: shape[1]}
	}
	N := len(p.Set.Items)
	return src(keys[:N]), src(keys[:N+nRef]), src(keys[N+nRef:]), nil
}

// scoreModes are the modes with patch scores of a category.
func scoreModes(o *Options, p shardPlan) []string {
	var out []string
	for _, m := range o.Modes {
		if src := rundir.Mode(m).Source(); src == rundir.SourceOthers || (src == rundir.SourceBank && p.Semi) {
			out = append(out, m)
		}
	}
	return out
}

// score is the score stage: returns the number of query images scored.
func (r *shardRun) score(ctx context.Context, sh Shard) (int, error) {
	o := r.o
	var err error
	if r.state, err = readState(ctx, r.st, r.loc, "score stage"); err != nil {
		return 0, err
	}
	if err := r.checkOptions(StageScore, sh); err != nil {
		return 0, err
	}
	if _, err := r.checkStage(ctx, StageEmbed, "score stage"); err != nil {
		return 0, err
	}
	if err := r.claimStage(ctx, StageScore, sh); err != nil {
		return 0, err
	}
	total := 0
	for _, p := range r.state.Plans {
		N := len(p.Set.Items)
		lo, hi := sh.slice(N)
		if lo == hi {
			continue
		}
		z, zRef, bank, err := r.sources(ctx, p)
		if err != nil {
			return 0, err
		}
		co := p.options(o)
		for _, mode := range scoreModes(o, p) {
			t0 := time.Now()
			opt := alpha.ScaleOptions{Options: alpha.Options{Workers: o.Workers, Coreset: o.Coreset, CoresetExact: o.CoresetExact, Seed: o.Seed, Done: ctx.Done()}}
			var s *alpha.Scores
			if rundir.Mode(mode).Source() == rundir.SourceOthers {
				opt.Refs, opt.Proj = o.Refs, o.Proj
				if r := intervalOf(co); r != 1 {
					s, err = intervalScores(zRef, lo, hi, r, opt)
				} else {
					s, err = alpha.UnsupervisedFrom(zRef, lo, hi, opt)
				}
			} else {
				opt.Proj = o.SemiProj
				s, err = alpha.SemiFrom(z, lo, hi, bank, opt)
			}
			if errors.Is(err, alpha.ErrStopped) && ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if err != nil {
				return 0, fmt.Errorf("category %s: %s scores: %w", p.Name, mode, err)
			}
			var buf bytes.Buffer
			if err := npy.Encode(&buf, s.S, s.N, s.M); err != nil {
				return 0, err
			}
			if err := r.st.Write(ctx, scoreKey(p.Name, mode, sh.I), buf.Bytes()); err != nil {
				return 0, err
			}
			fmt.Fprintf(r.log, "score shard %s: %s: %s patch scores of images [%d, %d) of %d in %.1fs\n",
				sh, p.Name, mode, lo, hi, N, time.Since(t0).Seconds())
		}
		total += hi - lo
	}
	return total, nil
}

// mergeState is set (Options.in.merge) while Merge runs Run: the plans,
// the backbone record, Z and the scores then come from the run store.
type mergeState struct {
	r      *shardRun
	ctx    context.Context
	shards int // of the score stage
}

// plans are the stored plans (makePlans).
func (m *mergeState) plans(o *Options) []plan {
	s := m.r.state
	o.in.layout, o.in.labelled, o.in.root, o.in.why, o.in.skipped = s.Input.Layout, s.Input.Labelled, s.Input.Root, s.Input.Why, s.Input.Skipped
	var out []plan
	for _, p := range s.Plans {
		out = append(out, p.plan())
	}
	return out
}

// net is the embed stage's backbone record (openNet).
func (m *mergeState) net() *net { return m.r.state.Net.net() }

// categoryNet is the embed stage's record of a category's own backbone
// (extractor.withNet).
func (m *mergeState) categoryNet(cat string) (*net, error) {
	p, err := m.plan(cat)
	if err != nil {
		return nil, err
	}
	if p.Net == nil {
		return nil, fmt.Errorf("category %s: the sharded run in %s recorded no backbone of its own for it (run by an older version?)", cat, m.r.loc)
	}
	return p.Net.net(), nil
}

// net is the backbone of record s (its Forward refuses: the embed stage
// computed every embedding).
func (s shardNet) net() *net {
	return &net{bb: recordedNet{s}, file: s.File, sha256: s.SHA256, id: s.ID, random: s.Random}
}

// shardNetOf records n (given: from Options.Net).
func shardNetOf(n *net, given bool) shardNet {
	return shardNet{Name: n.bb.Name(), Layers: n.bb.Layers(), Preprocess: n.bb.Preprocess(), File: n.file, SHA256: n.sha256,
		ID: n.id, Random: n.random, Given: given}
}

func (m *mergeState) plan(cat string) (shardPlan, error) {
	for _, p := range m.r.state.Plans {
		if p.Name == cat {
			return p, nil
		}
	}
	return shardPlan{}, fmt.Errorf("category %s is not in the sharded run in %s", cat, m.r.loc)
}

// inputs are the category's Z from the store (extractor.inputs).
func (m *mergeState) inputs(cat string) (*catInputs, error) {
	p, err := m.plan(cat)
	if err != nil {
		return nil, err
	}
	z, zRef, bank, err := m.r.sources(m.ctx, p)
	if err != nil {
		return nil, err
	}
	return &catInputs{z: z, zRef: zRef, bank: bank, streamed: true}, nil
}

// scores assembles the score shards of one category and mode.
func (m *mergeState) scores(cat, mode string, M int) (*alpha.Scores, error) {
	p, err := m.plan(cat)
	if err != nil {
		return nil, err
	}
	N := len(p.Set.Items)
	s := &alpha.Scores{N: N, M: M, S: make([]float64, N*M)}
	for i := range m.shards {
		sh := Shard{i, m.shards}
		lo, hi := sh.slice(N)
		if lo == hi {
			continue
		}
		key := scoreKey(cat, mode, i)
		b, err := m.r.st.Read(m.ctx, key)
		if err != nil {
			return nil, fmt.Errorf("scores of score shard %s: %w", sh, err)
		}
		_, shape, err := npy.Decode(b, s.S[lo*M:hi*M])
		if err != nil {
			return nil, fmt.Errorf("%s in %s: %w", key, m.r.loc, err)
		}
		if len(shape) != 2 || shape[0] != hi-lo || shape[1] != M {
			return nil, fmt.Errorf("%s in %s: shape %v, want %dx%d", key, m.r.loc, shape, hi-lo, M)
		}
	}
	return s, nil
}

// recordedNet stands for the embed stage's backbone in the merge, which
// computes no embedding.
type recordedNet struct{ s shardNet }

func (n recordedNet) Name() string                    { return n.s.Name }
func (n recordedNet) Layers() []string                { return n.s.Layers }
func (n recordedNet) Preprocess() backbone.Preprocess { return n.s.Preprocess }
func (n recordedNet) Forward([]*tensor.Tensor, []string) ([]map[string]*tensor.Tensor, error) {
	return nil, errors.New("merge: the backbone is not loaded (the embed stage computed every embedding)")
}

// MergeOptions are the merge's own settings.
type MergeOptions struct {
	// To is the local folder the merged run is written to; "" writes it
	// into the run store itself, beside shards/ (uploaded for a bucket).
	To    string
	Force bool // replace an earlier run in To
	// Report also writes report.html (as run --report; the stages' own
	// --report asks for it too).
	Report bool
	// Finish, when not nil, is called on the finished local run folder
	// before its files go into the store (e.g. to write the HTML report).
	Finish   func(dir string, report bool) error
	Workers  int
	Version  string
	Command  []string
	Log      io.Writer
	Progress io.Writer
}

// Merge assembles a sharded run from its run store loc: the scores of
// every score shard (each must have finished; a missing one is named),
// then alpha, X, the clustering and every output of Run, equal to a
// one-machine run with the same options. It returns Run's result and
// the options it ran with (Out is where the outputs are: To, or a
// temporary folder whose files are already in the store when To is "").
func Merge(ctx context.Context, loc string, mo MergeOptions) (*Result, Options, error) {
	log := mo.Log
	if log == nil {
		log = io.Discard
	}
	st, err := runstore.Open(ctx, loc)
	if err != nil {
		return nil, Options{}, err
	}
	defer st.Close()
	state, err := readState(ctx, st, loc, "merge")
	if err != nil {
		return nil, Options{}, err
	}
	r := &shardRun{st: st, loc: loc, state: state, log: log}
	var o Options
	if err := json.Unmarshal(state.Options, &o); err != nil {
		return nil, o, fmt.Errorf("%ssettings.json in %s: options: %w", ShardPrefix, loc, err)
	}
	r.o = &o
	if _, err := r.checkStage(ctx, StageEmbed, "merge"); err != nil {
		return nil, o, err
	}
	n, err := r.checkStage(ctx, StageScore, "merge")
	if err != nil {
		return nil, o, err
	}
	if o.Version != mo.Version {
		return nil, o, fmt.Errorf("merge: the shards ran anomclust %q, this is %q: merge with the same version", o.Version, mo.Version)
	}
	o.Workers, o.Command, o.Log, o.Progress = mo.Workers, mo.Command, log, mo.Progress
	o.Report = o.Report || mo.Report
	o.Cache, o.CacheMax = "", 0
	if state.Net.Given {
		o.Net = recordedNet{state.Net} // run.json records its NetID
	}
	for _, p := range state.Plans {
		if p.Net != nil && p.Net.Given { // a CategoryNet: the same choice (categoryConfig.apply)
			o.CategoryNet, o.CategoryNetID = recordedNet{*p.Net}, p.Net.ID
			break
		}
	}
	o.in.merge = &mergeState{r: r, ctx: ctx, shards: n}
	o.Force = mo.Force
	if o.Out = mo.To; o.Out == "" {
		// Written locally first, then moved or uploaded into the store.
		return mergeIntoStore(ctx, r, o, mo.Finish)
	}
	res, err := Run(ctx, o)
	if err == nil && mo.Finish != nil {
		err = mo.Finish(o.Out, o.Report)
	}
	return res, o, err
}

// mergeIntoStore runs the merge into a temporary local folder (for a
// local store, inside it, so that the files are renamed into place), calls
// Finish on it, then puts its files in the store beside shards/. An earlier
// merge's run.json there is replaced only with Force.
func mergeIntoStore(ctx context.Context, r *shardRun, o Options, finish func(dir string, report bool) error) (*Result, Options, error) {
	if ok, err := r.st.Exists(ctx, rundir.RunFile); err != nil {
		return nil, o, err
	} else if ok && !o.Force {
		return nil, o, fmt.Errorf("%w: %s holds an earlier merge (%s): --force replaces it, or merge --to another folder", rundir.ErrNotEmpty, r.loc, rundir.RunFile)
	}
	parent := r.st.LocalDir() // "" for a bucket: the system's temp folder
	tmp, err := os.MkdirTemp(parent, ".anomclust-merge-")
	if err != nil {
		return nil, o, fmt.Errorf("merge: %w", err)
	}
	defer os.RemoveAll(tmp)
	o.Out = filepath.Join(tmp, "run")
	res, err := Run(ctx, o)
	if err != nil {
		return nil, o, err
	}
	// run.json names the store as the run's folder.
	res.Run.Settings.Out = r.loc
	if r.st.LocalDir() != "" {
		res.Run.Settings.Out = r.st.LocalDir()
	}
	if err := rundir.WriteRun(o.Out, res.Run); err != nil {
		return nil, o, err
	}
	if finish != nil {
		if err := finish(o.Out, o.Report); err != nil {
			return nil, o, err
		}
	}
	if dir := r.st.LocalDir(); dir != "" {
		ents, err := os.ReadDir(o.Out)
		if err != nil {
			return nil, o, err
		}
		for _, e := range ents {
			dst := filepath.Join(dir, e.Name())
			if err := os.RemoveAll(dst); err != nil {
				return nil, o, fmt.Errorf("merge: replace %s: %w", dst, err)
			}
			if err := os.Rename(filepath.Join(o.Out, e.Name()), dst); err != nil {
				return nil, o, fmt.Errorf("merge: %w", err)
			}
		}
		o.Out = dir
		return res, o, nil
	}
	// A bucket: upload every file, run.json last (its presence marks a
	// finished merge).
	var files []string
	err = filepath.WalkDir(o.Out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return nil, o, fmt.Errorf("merge: %w", err)
	}
	slices.SortFunc(files, func(a, b string) int {
		return cmpBool(filepath.Base(a) == rundir.RunFile, filepath.Base(b) == rundir.RunFile)
	})
	for _, f := range files {
		rel, err := filepath.Rel(o.Out, f)
		if err != nil {
			return nil, o, err
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, o, fmt.Errorf("merge: %w", err)
		}
		if err := r.st.Write(ctx, filepath.ToSlash(rel), b); err != nil {
			return nil, o, err
		}
	}
	fmt.Fprintf(r.log, "merge: %d files written to %s\n", len(files), r.loc)
	o.Out = r.loc
	return res, o, nil
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
