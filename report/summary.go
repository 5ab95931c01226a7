package report

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/anomclust/anomclust/rundir"
)

// buildSummary lays out the headline table: one row per category, then the
// object/texture/all means (plain and image-weighted); per mode the scores at
// one tau, the tau with the best plain mean NMI over all categories. Within a
// row the best value of each metric across modes is marked.
//
// It is rundir.SummaryBlocks (the table of summary.md and of the report's
// full table) restricted to each mode's headline tau and transposed: a
// block becomes one line, its rows (one per mode) become column groups, and
// the block's best marks are the best across modes.
func buildSummary(rows []rundir.Row, run *rundir.Run) summaryView {
	var modes []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.Mode] {
			seen[r.Mode] = true
			modes = append(modes, r.Mode)
		}
	}
	headline := headlineTaus(rows)
	var v summaryView
	for _, m := range modes {
		tau, ok := headline[m]
		col := modeHead{Mode: m, Color: cssColor(modeColors[m])}
		if ok && rundir.Mode(m).HasTau() {
			col.Tau = "τ = " + rundir.TauName(tau)
		}
		v.Modes = append(v.Modes, col)
	}
	var shown []rundir.Row
	for _, r := range rows {
		if tau, ok := headline[r.Mode]; ok && (!r.HasTau || r.Tau == tau) {
			shown = append(shown, r)
		}
	}
	for _, b := range rundir.SummaryBlocks(shown) {
		v.Rows = append(v.Rows, summaryLine(b, modes))
	}
	v.Protocol = run.Protocol
	return v
}

// headlineTaus picks each mode's headline tau: the one with the best plain
// mean NMI over all categories (the first of equals).
func headlineTaus(rows []rundir.Row) map[string]float64 {
	headline := map[string]float64{}
	for _, r := range rows {
		if r.Kind != rundir.KindMean || r.Category != rundir.GroupAll || r.Weighting != rundir.WeightPlain {
			continue
		}
		h, ok := headline[r.Mode]
		if !ok || r.NMI > bestNMI(rows, r.Mode, h) {
			headline[r.Mode] = r.Tau
		}
	}
	return headline
}

// summaryLine is one line of the headline table: block b (the rows of one
// category or mean at the headline taus), 3 cells per mode of modes.
func summaryLine(b rundir.SummaryBlock, modes []string) summaryRow {
	sr := summaryRow{Name: b.Category, Mean: b.Kind == rundir.KindMean}
	at := map[string]int{} // mode -> index in b.Rows
	for i, r := range b.Rows {
		at[r.Mode] = i
	}
	// The details come from the row of the last mode present: a mean
	// without a mode's scores for some categories (semi without train
	// images) counts fewer categories in that mode.
	var any rundir.Row
	for _, m := range modes {
		if i, ok := at[m]; ok {
			any = b.Rows[i]
		}
	}
	if sr.Mean {
		sr.Name = fmt.Sprintf("%s mean (%s)", title(b.Category), b.Weighting)
		sr.Detail = fmt.Sprintf("%s, %d images", plural(any.NCategories, "category", "categories"), any.NImages)
		sr.Group = b.Category
	} else {
		sr.Detail = fmt.Sprintf("%d images", any.NImages)
		sr.Anchor = anchor(b.Category)
	}
	for _, m := range modes {
		i, ok := at[m]
		for j := range 3 {
			c := scoreCell{Missing: !ok}
			if ok {
				c.Text = fmt.Sprintf("%.3f", b.Rows[i].Scores()[j])
				// SummaryBlocks marks nothing in a block of one row;
				// here a lone mode is still the best of its line when
				// the run has several modes.
				c.Best = len(modes) > 1 && (b.Best[i][j] || len(b.Rows) == 1)
			}
			sr.Cells = append(sr.Cells, c)
		}
	}
	return sr
}

func bestNMI(rows []rundir.Row, mode string, tau float64) float64 {
	for _, r := range rows {
		if r.Kind == rundir.KindMean && r.Category == rundir.GroupAll && r.Weighting == rundir.WeightPlain && r.Mode == mode && r.Tau == tau {
			return r.NMI
		}
	}
	return math.Inf(-1)
}

// round3 rounds to the 3 decimals shown, so equal printed values are all
// marked best (as rundir's summary.md does).
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// buildFullTable lists every (mode, tau) of every category and mean, best
// value per column of each block marked.
func buildFullTable(rows []rundir.Row) []fullBlock {
	var blocks []fullBlock
	for _, t := range rundir.SummaryBlocks(rows) {
		fb := fullBlock{Name: fmt.Sprintf("%s (%d images)", t.Category, t.NImages), Mean: t.Kind == rundir.KindMean}
		if fb.Mean {
			fb.Name = fmt.Sprintf("%s mean (%s, %s, %d images)", title(t.Category), t.Weighting, plural(t.NCategories, "category", "categories"), t.NImages)
		}
		for i, r := range t.Rows {
			fr := fullRow{Mode: r.Mode, Tau: "–", Color: cssColor(modeColors[r.Mode]), Recommended: r.Recommended}
			if r.HasTau {
				fr.Tau = rundir.TauName(r.Tau)
			}
			for j, x := range r.Scores() {
				fr.Cells = append(fr.Cells, scoreCell{Text: fmt.Sprintf("%.3f", x), Best: t.Best[i][j]})
			}
			fb.Rows = append(fb.Rows, fr)
		}
		blocks = append(blocks, fb)
	}
	return blocks
}

// ownNets names the categories that ran on their own backbone or taps
// (the auto preset's texture configuration), for the page's header:
// "neu: mobilenet_v1, stride8+stride16+stride32; ..."; "" when none did.
func ownNets(run *rundir.Run) string {
	var parts []string
	for _, c := range run.Categories {
		if c.Backbone == nil && len(c.Layers) == 0 {
			continue
		}
		var what []string
		if c.Backbone != nil {
			what = append(what, c.Backbone.Name)
		}
		if len(c.Layers) > 0 {
			what = append(what, strings.Join(c.Layers, "+"))
		}
		parts = append(parts, c.Name+": "+strings.Join(what, ", "))
	}
	return strings.Join(parts, "; ")
}

// buildRepro collects what reproduces the run: versions, backbone and
// weights, every setting, the command line, timings, and run.json itself.
func buildRepro(run *rundir.Run, runDir string) reproView {
	v := reproView{}
	add := func(k, val string) { v.Items = append(v.Items, kv{K: k, V: val}) }
	add("tool", strings.TrimSpace(run.Tool+" "+run.Version))
	add("Go", run.GoVersion)
	add("run folder", runDir)
	if len(run.Command) > 0 {
		v.Command = shellJoin(run.Command)
	}
	bb := run.Backbone.Name
	if run.Backbone.Random {
		bb += " (random weights)"
	}
	add("backbone", bb)
	add("weights file", orDash(run.Backbone.WeightsFile))
	if run.Backbone.WeightsSHA256 != "" {
		add("weights SHA-256", run.Backbone.WeightsSHA256)
	}
	add("layers", strings.Join(run.Layers, ", "))
	for _, c := range run.Categories { // the auto preset's per-category net and taps
		if c.Backbone != nil {
			add("backbone of "+c.Name, c.Backbone.Name+", weights "+orDash(c.Backbone.WeightsFile)+", SHA-256 "+orDash(c.Backbone.WeightsSHA256))
		}
		if len(c.Layers) > 0 {
			add("layers of "+c.Name, strings.Join(c.Layers, ", "))
		}
	}
	add("protocol", run.Protocol)
	if run.Layout != "" {
		add("data layout", run.Layout+": "+run.LayoutWhy)
	}
	for _, b := range run.Skipped {
		add("skipped image", b.Path+": "+b.Error)
	}
	add("format", run.Format)
	if !run.Start.IsZero() {
		add("started", run.Start.Format("2006-01-02 15:04:05 MST"))
	}
	if run.WallSeconds > 0 {
		add("wall time", fmt.Sprintf("%.1f s", run.WallSeconds))
	}
	if len(run.Stages) > 0 {
		var parts []string
		for _, k := range sortedKeys(run.Stages) {
			parts = append(parts, fmt.Sprintf("%s %.1f s", k, run.Stages[k]))
		}
		add("stages", strings.Join(parts, " · "))
	}
	// Every setting, in run.json's field order.
	sv := reflect.ValueOf(run.Settings)
	for i := range sv.NumField() {
		name, _, _ := strings.Cut(sv.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if b, err := json.Marshal(sv.Field(i).Interface()); err == nil {
			v.Settings = append(v.Settings, kv{K: name, V: compactJSON(b)})
		}
	}
	if js, err := json.MarshalIndent(run, "", "  "); err == nil {
		v.RunJSON = string(js)
	}
	v.RunFile = filepath.Join(runDir, rundir.RunFile)
	return v
}

func compactJSON(r json.RawMessage) string {
	s := string(r)
	if len(s) >= 2 && s[0] == '"' {
		var str string
		if json.Unmarshal(r, &str) == nil {
			if str == "" {
				return `""`
			}
			return str
		}
	}
	return strings.ReplaceAll(s, ",", ", ")
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// shellJoin quotes arguments for a POSIX shell where needed.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// anchor makes an id for a category section.
func anchor(name string) string {
	return "cat-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, name)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
