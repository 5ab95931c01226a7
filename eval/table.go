package eval

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// WriteCSV writes the rows as CSV with a header; a last column, method,
// when rows name their clustering method (Result.Method).
func WriteCSV(w io.Writer, rows []Result) error {
	cw := csv.NewWriter(w)
	named := namesMethods(rows)
	header := []string{"set", "category", "backbone", "mode", "score", "pool", "post", "zoom", "n", "k", "nmi", "ari", "f1", "seconds", "sil", "peak", "xpool", "kest"}
	if named {
		header = append(header, "method")
	}
	_ = cw.Write(header)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	for _, r := range rows {
		rec := []string{r.Set, r.Category, r.Backbone, r.Mode, r.Score, r.Pool, r.Post, r.Zoom,
			strconv.Itoa(r.N), strconv.Itoa(r.K), f(r.NMI), f(r.ARI), f(r.F1), strconv.FormatFloat(r.Seconds, 'f', 2, 64), f(r.Sil), f(r.Peak), r.XPool, strconv.Itoa(r.KEst)}
		if named {
			rec = append(rec, r.Method)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteTable writes one Markdown table: a row per backbone and option, a
// column group (NMI/ARI/F1) per set, the mean NMI over the sets, and the
// time summed over the sets; a method column after zoom when rows name
// their clustering method (Result.Method).
func WriteTable(w io.Writer, rows []Result) {
	var sets, opts []string
	type key struct{ opt, set string }
	cell := map[key]Result{}
	secs := map[string]float64{}
	for _, r := range rows {
		set := r.Set
		if r.Category != r.Set && r.Category != "" {
			set = r.Set + "/" + r.Category
		}
		opt := r.Backbone + " " + r.Option()
		if !slices.Contains(sets, set) {
			sets = append(sets, set)
		}
		if !slices.Contains(opts, opt) {
			opts = append(opts, opt)
		}
		cell[key{opt, set}] = r
		secs[opt] += r.Seconds
	}
	named := namesMethods(rows)
	var b strings.Builder
	b.WriteString("| backbone | mode | score | pool | X | zoom |")
	if named {
		b.WriteString(" method |")
	}
	for _, s := range sets {
		fmt.Fprintf(&b, " %s NMI/ARI/F1 |", s)
	}
	b.WriteString(" mean NMI | seconds |\n|---|---|---|---|---|---|")
	if named {
		b.WriteString("---|")
	}
	for range sets {
		b.WriteString("---|")
	}
	b.WriteString("---|---|\n")
	for _, opt := range opts {
		var r0 Result
		var sum float64
		n := 0
		for _, s := range sets {
			if r, ok := cell[key{opt, s}]; ok {
				r0 = r
				sum += r.NMI
				n++
			}
		}
		post := r0.Post
		if r0.XPool != "" && r0.XPool != "mean" {
			post = r0.XPool + " " + r0.Post
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |", r0.Backbone, r0.Mode, r0.Score, r0.Pool, post, r0.Zoom)
		if named {
			fmt.Fprintf(&b, " %s |", r0.Method)
		}
		for _, s := range sets {
			if r, ok := cell[key{opt, s}]; ok {
				fmt.Fprintf(&b, " %.3f/%.3f/%.3f", r.NMI, r.ARI, r.F1)
				if r.KEst > 0 {
					fmt.Fprintf(&b, " k%d", r.KEst)
				}
				b.WriteString(" |")
			} else {
				b.WriteString(" - |")
			}
		}
		mean := "-"
		if n == len(sets) {
			mean = fmt.Sprintf("%.3f", sum/float64(n))
		}
		fmt.Fprintf(&b, " %s | %.1f |\n", mean, secs[opt])
	}
	io.WriteString(w, b.String())
}

// namesMethods reports whether any row names its clustering method.
func namesMethods(rows []Result) bool {
	return slices.ContainsFunc(rows, func(r Result) bool { return r.Method != "" })
}
