package report_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anomclust/anomclust/draw"
	"github.com/anomclust/anomclust/report"
	"github.com/anomclust/anomclust/report/reporttest"
	"github.com/anomclust/anomclust/rundir"
)

var fixedNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// smallRun is two categories (an MVTec object and texture name) of synthetic
// images; image 2 of metal_nut (a crack) has its embedding moved to the
// "good" centre, so it is clustered wrongly in every setting.
func smallRun(t *testing.T) string {
	t.Helper()
	dir, err := reporttest.Write(t.TempDir(), reporttest.Spec{Categories: []reporttest.Category{
		{Name: "metal_nut", Synth: "disc", PerLabel: 6, Misplaced: []int{2}},
		{Name: "wood", Synth: "wood", PerLabel: 5},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func render(t *testing.T, runDir string, opt report.Options) ([]byte, *node) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "report.html")
	if opt.Now.IsZero() {
		opt.Now = fixedNow
	}
	if err := report.Write(runDir, out, opt); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b, parsePage(t, b)
}

// checkSelfContained: no scripts or external resources; every image is a
// data: URI that decodes; returns the number of images.
func checkSelfContained(t *testing.T, page []byte, doc *node) int {
	t.Helper()
	for _, tag := range []string{"script", "link", "iframe", "object", "embed"} {
		if n := len(doc.byName(tag)); n > 0 {
			t.Errorf("page has %d <%s> elements; it must need nothing outside itself", n, tag)
		}
	}
	for _, n := range doc.all(func(*node) bool { return true }) {
		for _, a := range []string{"src", "href"} {
			v, ok := n.Attr[a]
			if !ok {
				continue
			}
			if a == "href" && strings.HasPrefix(v, "#") {
				continue
			}
			if a == "src" && strings.HasPrefix(v, "data:") {
				continue
			}
			t.Errorf("<%s %s=%.60q> points outside the page", n.Name, a, v)
		}
	}
	if bytes.Contains(page, []byte("url(")) || bytes.Contains(page, []byte("@import")) {
		t.Error("CSS loads an external resource")
	}
	imgs := doc.byName("img")
	for _, im := range imgs {
		src := im.Attr["src"]
		mime, data, ok := strings.Cut(strings.TrimPrefix(src, "data:"), ";base64,")
		if !ok || !strings.HasPrefix(mime, "image/") {
			t.Fatalf("img src %.40q is not a base64 image data: URI", src)
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatalf("img %s: base64: %v", im.Attr["alt"], err)
		}
		img, format, err := image.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("img %s: decode: %v", im.Attr["alt"], err)
		}
		if "image/"+format != mime {
			t.Errorf("img %s: declared %s, decodes as %s", im.Attr["alt"], mime, format)
		}
		if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 96 {
			t.Errorf("img %s: %dx%d, want the 96 px thumbnail", im.Attr["alt"], b.Dx(), b.Dy())
		}
	}
	return len(imgs)
}

// section returns the <section> of a category.
func section(t *testing.T, doc *node, category string) *node {
	t.Helper()
	for _, s := range doc.byName("section") {
		if s.Attr["id"] == "cat-"+category {
			return s
		}
	}
	t.Fatalf("no section for category %s", category)
	return nil
}

// wrongImages computes, from assignments.csv and metrics.json alone, which
// images sit in a cluster matched to another label.
func wrongImages(t *testing.T, dir string) []int {
	t.Helper()
	as, err := rundir.ReadAssignments(filepath.Join(dir, rundir.AssignmentsFile))
	if err != nil {
		t.Fatal(err)
	}
	m, err := rundir.ReadMetrics(filepath.Join(dir, rundir.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	lab := map[int]string{}
	for _, cm := range m.Matching {
		lab[cm.Cluster] = cm.Label
	}
	var wrong []int
	for i, a := range as {
		if lab[a.Cluster] != a.Label {
			wrong = append(wrong, i)
		}
	}
	return wrong
}

func TestReport(t *testing.T) {
	runDir := smallRun(t)
	page, doc := render(t, runDir, report.Options{Mode: "semi", Tau: 2, HasTau: true})
	nImg := checkSelfContained(t, page, doc)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range run.Categories {
		total += c.NImages
	}
	// Small run: every image of every cluster is shown once.
	if nImg != total {
		t.Errorf("%d thumbnails, want one per image (%d)", nImg, total)
	}

	// Every score of summary.csv appears, to 3 decimals, in the full table
	// of its category or mean, on the row of its mode and tau; the best
	// value of each column is marked and is the column's maximum.
	rows, err := rundir.ReadSummaryCSV(filepath.Join(runDir, rundir.SummaryCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]*node{}
	for _, tb := range doc.byName("table") {
		if caps := tb.byName("caption"); len(caps) == 1 {
			tables[caps[0].text()] = tb
		}
	}
	checked, recommended := 0, 0
	for _, r := range rows {
		var name string
		if r.Kind == rundir.KindMean {
			name = fmt.Sprintf("%s mean (%s, ", strings.ToUpper(r.Category[:1])+r.Category[1:], r.Weighting)
		} else {
			name = fmt.Sprintf("%s (%d images)", r.Category, r.NImages)
		}
		var tb *node
		for capt, n := range tables {
			if strings.HasPrefix(capt, name) {
				tb = n
			}
		}
		if tb == nil {
			t.Fatalf("no full table for %q (tables: %v)", name, keys(tables))
		}
		tau := "–"
		if r.HasTau {
			tau = rundir.TauName(r.Tau)
		}
		found := false
		for _, tr := range tb.byName("tr") {
			tds := tr.byName("td")
			if len(tds) != 6 || tds[0].text() != r.Mode || tds[1].text() != tau {
				continue
			}
			found = true
			if got := tds[5].text() == "✓"; got != r.Recommended {
				t.Errorf("%s %s tau %s: recommended mark %v, summary.csv %v", name, r.Mode, tau, got, r.Recommended)
			}
			if r.Recommended {
				recommended++
			}
			for j, v := range []float64{r.NMI, r.ARI, r.F1} {
				if got, want := tds[2+j].text(), strconv.FormatFloat(v, 'f', 3, 64); got != want {
					t.Errorf("%s %s tau %s column %d: %s, summary.csv %s", name, r.Mode, tau, j, got, want)
				}
				checked++
			}
		}
		if !found {
			t.Errorf("%s: no row for %s tau %s", name, r.Mode, tau)
		}
	}
	for capt, tb := range tables {
		for col := 2; col < 5; col++ {
			best, marked := -2.0, -2.0
			for _, tr := range tb.byName("tr") {
				tds := tr.byName("td")
				if len(tds) != 6 {
					continue
				}
				v, _ := strconv.ParseFloat(tds[col].text(), 64)
				best = max(best, v)
				if tds[col].hasClass("best") {
					if marked != -2 && v != marked {
						t.Errorf("%s column %d: best marks on different values %g and %g", capt, col, marked, v)
					}
					marked = v
				}
			}
			if marked != best {
				t.Errorf("%s column %d: marked best %g, maximum %g", capt, col, marked, best)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no scores checked")
	}
	if recommended == 0 {
		t.Error("no recommended setting marked in the full table")
	}

	for _, c := range run.Categories {
		sec := section(t, doc, c.Name)
		dir := rundir.ResultDir(runDir, c.Name, "semi", 2)
		want := wrongImages(t, dir)
		var got []int
		for _, f := range sec.byClass("figure", "wrong") {
			i, err := strconv.Atoi(f.Attr["data-index"])
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, i)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: images marked wrong %v, assignments say %v", c.Name, got, want)
		}
		if c.Name == "metal_nut" && !slices.Contains(got, 2) {
			t.Errorf("metal_nut: the misplaced image 2 is not marked wrong (marked: %v)", got)
		}
		// Confusion: the matched diagonal counts the images not wrong;
		// all cells sum to N.
		conf := sec.byClass("table", "confusion")
		if len(conf) != 1 {
			t.Fatalf("%s: %d confusion tables", c.Name, len(conf))
		}
		diag, all := 0, 0
		for _, td := range conf[0].byName("td") {
			if td.hasClass("total") {
				continue
			}
			v, _ := strconv.Atoi(td.text())
			all += v
			if td.hasClass("match") {
				diag += v
			}
		}
		if diag != c.NImages-len(want) || all != c.NImages {
			t.Errorf("%s: confusion diagonal %d, total %d; want %d and %d", c.Name, diag, all, c.NImages-len(want), c.NImages)
		}
		if n := len(sec.byClass("svg", "plot")); n != 3 {
			t.Errorf("%s: %d tau plots, want 3 (NMI, ARI, F1)", c.Name, n)
		}
		if n := len(sec.byClass("svg", "dendro")); n != 1 {
			t.Errorf("%s: %d dendrograms, want 1", c.Name, n)
		}
		if txt := sec.byClass("div", "setting")[0].text(); !strings.Contains(txt, "semi τ=2") {
			t.Errorf("%s: setting line %q does not name the chosen setting", c.Name, txt)
		}
	}
	// Reproduction: versions, backbone, weights file and command.
	repro := ""
	for _, s := range doc.byName("section") {
		if s.Attr["id"] == "reproduce" {
			repro = s.text()
		}
	}
	for _, want := range []string{"anomclust test", "go-test", "fake_backbone", "/nonexistent/fake.pth", "blocks.10, blocks.11",
		"train_ratio", "anomclust run --data"} {
		if !strings.Contains(repro, want) {
			t.Errorf("reproduce section lacks %q", want)
		}
	}
}

func keys(m map[string]*node) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

// TestReportDefaults: without options the galleries show each category's
// recommended setting, or its best-NMI setting when summary.csv marks none; a run without summary.csv (interrupted) or without a
// linkage (k-means) still reports.
func TestReportDefaults(t *testing.T) {
	runDir := smallRun(t)
	run, err := rundir.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	_, doc := render(t, runDir, report.Options{})
	// summary.csv marks semi tau=2 recommended (reporttest): shown by default.
	for _, c := range run.Categories {
		st := draw.Setting{Mode: rundir.ModeSemi, Tau: 2}
		m, err := rundir.ReadMetrics(filepath.Join(st.Dir(runDir, c.Name), rundir.MetricsFile))
		if err != nil {
			t.Fatal(err)
		}
		txt := section(t, doc, c.Name).byClass("div", "setting")[0].text()
		if !strings.Contains(txt, "semi τ=2 (recommended without labels") || !strings.Contains(txt, fmt.Sprintf("NMI %.3f", m.NMI)) {
			t.Errorf("%s: setting line %q, want the recommended semi τ=2 NMI %.3f", c.Name, txt, m.NMI)
		}
	}
	// Without a recommended row (a summary.csv of an earlier version):
	// each category's best-NMI setting.
	rows, err := rundir.ReadSummaryCSV(filepath.Join(runDir, rundir.SummaryCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		rows[i].Recommended = false
	}
	if err := rundir.WriteSummaryCSV(filepath.Join(runDir, rundir.SummaryCSVFile), rows); err != nil {
		t.Fatal(err)
	}
	_, doc = render(t, runDir, report.Options{})
	for _, c := range run.Categories {
		best, m, err := draw.Best(runDir, run, c.Name, "")
		if err != nil {
			t.Fatal(err)
		}
		txt := section(t, doc, c.Name).byClass("div", "setting")[0].text()
		if !strings.Contains(txt, strings.Replace(best.String(), "tau=", "τ=", 1)+" (best NMI") || !strings.Contains(txt, fmt.Sprintf("NMI %.3f", m.NMI)) {
			t.Errorf("%s: setting line %q, want best %s NMI %.3f", c.Name, txt, best, m.NMI)
		}
	}
	// Default output file.
	if err := report.Write(runDir, "", report.Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(runDir, "report.html")); err != nil {
		t.Errorf("default output: %v", err)
	}

	// Without summary.csv the numbers are rebuilt from metrics.json.
	before, err := rundir.ReadSummaryCSV(filepath.Join(runDir, rundir.SummaryCSVFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(runDir, rundir.SummaryCSVFile)); err != nil {
		t.Fatal(err)
	}
	for _, r := range run.Results(runDir) {
		if r.Category == "wood" {
			os.Remove(filepath.Join(r.Dir, rundir.LinkageFile))
		}
	}
	page, doc := render(t, runDir, report.Options{Mode: "average"})
	for _, r := range before {
		if !bytes.Contains(page, []byte(strconv.FormatFloat(r.NMI, 'f', 3, 64))) {
			t.Errorf("without summary.csv, NMI %.3f of %s %s is missing", r.NMI, r.Category, r.Mode)
		}
	}
	wood := section(t, doc, "wood")
	if len(wood.byClass("svg", "dendro")) != 0 || !strings.Contains(wood.text(), "no linkage.npy") {
		t.Error("wood without linkage.npy: want a note instead of a dendrogram")
	}
}

// TestReportLarge: a 2,000-image category gives a page of bounded size
// with sampled galleries. The time is logged, not asserted (shared CPUs).
func TestReportLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skips the 2,000-image report")
	}
	dir, err := reporttest.Write(t.TempDir(), reporttest.Spec{
		Categories: []reporttest.Category{{Name: "metal_nut", Synth: "disc", PerLabel: 500, Distinct: 8}},
		Taus:       []float64{0, 1, 2, 4, 8},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	page, doc := render(t, dir, report.Options{})
	t.Logf("2,000-image report: %d bytes in %v", len(page), time.Since(start))
	// 4 clusters x 24 thumbnails of ~4 KB (base64) plus a ~100 KB
	// dendrogram and tables: well under 1.5 MB.
	if len(page) > 1_500_000 {
		t.Errorf("report of 2,000 images is %d bytes, want < 1.5 MB", len(page))
	}
	n := checkSelfContained(t, page, doc)
	if n > 4*24 || n < 4*12 {
		t.Errorf("%d thumbnails, want 12..24 per cluster for 4 clusters", n)
	}
	for _, g := range doc.byClass("div", "cluster") {
		if len(g.byName("figure")) > 24 {
			t.Errorf("cluster shows %d thumbnails, cap 24", len(g.byName("figure")))
		}
		if !strings.Contains(g.text(), "showing ") {
			t.Errorf("sampled cluster lacks its 'showing n of N' note: %q", g.text())
		}
	}
}

// TestReportChromium renders the page in headless Chromium and checks the
// screenshot is not blank. Set REPORT_SCREENSHOT=file.png to keep it.
func TestReportChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if bin, err = exec.LookPath("chromium-browser"); err != nil {
			t.Skip("chromium not installed (apt-get install chromium; .ci/run does); skipping the render check")
		}
	}
	runDir := smallRun(t)
	html := filepath.Join(t.TempDir(), "report.html")
	if err := report.Write(runDir, html, report.Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "shot.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir="+t.TempDir(), "--screenshot="+shot, "--window-size=1200,1600", "file://"+html)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Error(err)
		}
	}
	b := img.Bounds()
	if b.Dx() != 1200 || b.Dy() != 1600 {
		t.Errorf("screenshot %dx%d, want 1200x1600", b.Dx(), b.Dy())
	}
	// A blank or error page has a handful of colours and almost no
	// variance; the report (dark header, tables, plots, thumbnails) has
	// thousands of colours and a large share of non-background pixels.
	colours := map[uint32]bool{}
	var sum, sum2 float64
	nonBg := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colours[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			l := 0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(bl>>8)
			sum += l
			sum2 += l * l
			if l < 235 {
				nonBg++
			}
		}
	}
	n := float64(b.Dx() * b.Dy())
	variance := sum2/n - (sum/n)*(sum/n)
	t.Logf("screenshot: %d colours, luminance variance %.0f, %.1f%% non-background", len(colours), variance, 100*float64(nonBg)/n)
	if len(colours) < 500 || variance < 200 || float64(nonBg)/n < 0.05 {
		t.Errorf("screenshot looks blank: %d colours, variance %.0f, %.1f%% non-background", len(colours), variance, 100*float64(nonBg)/n)
	}
	// The header band (dark) must be at the top: the page's CSS applied.
	if r, g, bl, _ := img.At(20, 20).RGBA(); r>>8 > 60 || g>>8 > 60 || bl>>8 > 70 {
		t.Errorf("top-left pixel %d,%d,%d: want the dark header (CSS not applied?)", r>>8, g>>8, bl>>8)
	}
}

// TestReportModeNotRun: --mode semi on a run whose category has no semi
// results (skipped for lack of train/good images) says the mode was not
// run and which modes were, instead of a missing-file error.
func TestReportModeNotRun(t *testing.T) {
	runDir := smallRun(t)
	if err := os.RemoveAll(filepath.Join(runDir, "wood", rundir.ModeSemi)); err != nil {
		t.Fatal(err)
	}
	for _, opt := range []report.Options{{Mode: rundir.ModeSemi}, {Mode: rundir.ModeSemi, Tau: 1, HasTau: true}} {
		err := report.Write(runDir, filepath.Join(t.TempDir(), "r.html"), opt)
		if !errors.Is(err, draw.ErrModeNotRun) || !strings.Contains(err.Error(), "wood") || !strings.Contains(err.Error(), "unsupervised, average only") {
			t.Errorf("%+v: error %v; want ErrModeNotRun naming wood and the modes run", opt, err)
		}
	}
}
