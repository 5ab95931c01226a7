package report

import (
	"fmt"
	"html/template"
	"image/color"

	"github.com/anomclust/anomclust/rundir"
)

// The views below are what the template reads; they hold display strings and
// trusted fragments (inline SVG we drew, data: URIs we encoded).

type page struct {
	Title, Generated, RunDir string
	Run                      *rundir.Run
	OwnNets                  string // categories with their own backbone or taps (ownNets)
	Summary                  summaryView
	Full                     []fullBlock
	Categories               []*categoryView
	Repro                    reproView
	Thumb                    int
}

type summaryView struct {
	Protocol string
	Modes    []modeHead
	Rows     []summaryRow
}

type modeHead struct {
	Mode, Tau string
	Color     template.CSS
}

type summaryRow struct {
	Name, Detail, Anchor, Group string
	Mean                        bool
	Cells                       []scoreCell // 3 per mode: NMI, ARI, F1
}

type scoreCell struct {
	Text          string
	Best, Missing bool
}

type fullBlock struct {
	Name string
	Mean bool
	Rows []fullRow
}

type fullRow struct {
	Mode, Tau   string
	Color       template.CSS
	Cells       []scoreCell
	Recommended bool // the setting recommended without labels
}

type labelView struct {
	Name  string
	Count int
	Color template.CSS
}

type categoryView struct {
	Name                string
	N, K, GridH, GridW  int
	ImageSize, NBank    int
	Choice              string // the auto preset's per-category choice and why ("" without one)
	Labels              []labelView
	Plots               []template.HTML
	KAuto               bool // the last plot is the K estimate's
	Setting, SettingWhy string
	Scores, Method      string
	Confusion           confusionView
	Unlabelled          bool // no labels: no scores, plots or confusion matrix
	Dendrogram          template.HTML
	DendroNote          string
	Galleries           []galleryView
}

// Anchor is the id of the category's section.
func (c *categoryView) Anchor() string { return anchor(c.Name) }

type confusionView struct {
	Cols []clusterHead
	Rows []confusionRow
}

type clusterHead struct {
	ID    int
	Label string // matched label, "" when unmatched
	Color template.CSS
}

type confusionRow struct {
	Label string
	Color template.CSS
	Total int
	Cells []confusionCell
}

type confusionCell struct {
	N           int
	Match, Dark bool
	Style       template.CSS
}

type galleryView struct {
	Cluster                     int
	Label                       string
	Color                       template.CSS
	Size, Correct, Wrong, Shown int
	Unlabelled                  bool
	Labelled                    bool // the category has labels to check against
	Thumbs                      []thumbView
}

type thumbView struct {
	Src   template.URL
	Index int
	Label string
	// Caption follows the index under the thumbnail: the label, or the
	// file name without labels; wrapped, never cut.
	Caption string
	Title   string
	Wrong   bool
	Color   template.CSS
}

type kv struct{ K, V string }

type reproView struct {
	Items, Settings  []kv
	Command, RunJSON string
	RunFile          string
}

func cssColor(c color.RGBA) template.CSS { return template.CSS(hex(c)) }

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(a, b int) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
	},
}).Parse(pageHTML))

// pageHTML is written as well-formed XHTML-compatible HTML (void elements
// self-closed, every element closed), so tests can check it with an XML parser.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="generator" content="anomclust report" />
<title>{{.Title}}</title>
<style>
:root{--ink:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f5f6f8;--card:#fff;--accent:#2f5fa7;--bad:#c8372d;--good:#2e8b57}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",sans-serif}
header.top{background:#1d2330;color:#fff;padding:22px 32px 14px}
header.top h1{margin:0 0 4px;font-size:22px;font-weight:600;letter-spacing:.2px}
header.top .sub{margin:0;color:#c3c9d4;font-size:13px}
header.top nav{margin-top:12px;font-size:13px}
header.top nav a{color:#dbe4f3;text-decoration:none;margin-right:14px;border-bottom:1px solid transparent}
header.top nav a:hover{border-bottom-color:#dbe4f3}
main{max-width:1240px;margin:0 auto;padding:20px 32px 48px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 22px;margin:0 0 20px}
h2{margin:0 0 10px;font-size:18px;font-weight:600}
h3{margin:18px 0 8px;font-size:14.5px;font-weight:600;color:#344054}
.note{color:var(--muted);font-size:12.5px;margin:6px 0 12px}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 9px;border-bottom:1px solid var(--line);text-align:left}
td.num{text-align:right;font-family:ui-monospace,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
table.summary thead th{background:#f0f2f5;font-weight:600;font-size:12.5px}
table.summary thead th.mode{text-align:center;border-left:2px solid #fff}
table.summary thead tr:nth-child(2) th{text-align:right}
table.summary tbody th{font-weight:500;white-space:nowrap}
table.summary tr.mean th,table.summary tr.mean td{background:#fafbfc}
table.summary tr.first-mean th,table.summary tr.first-mean td{border-top:2px solid #cfd4dc}
td.grp{border-left:2px solid var(--line)}
.best{font-weight:700;color:#0b5b33;background:#e8f5ee !important}
.detail{color:var(--muted);font-size:12px;font-weight:400;margin-left:6px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;vertical-align:baseline}
.tau{color:var(--muted);font-weight:400;margin-left:4px}
details{margin-top:12px}
details summary{cursor:pointer;color:var(--accent);font-weight:500}
.full{display:flex;flex-wrap:wrap;gap:14px 28px;margin-top:10px}
.full table{font-size:12.5px}
.full caption{text-align:left;font-weight:600;padding:4px 0;font-size:12.5px}
.meta{color:var(--muted);margin:0 0 8px}
.chips{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0 4px}
.chip{display:inline-flex;align-items:center;gap:5px;border:1px solid var(--line);border-radius:12px;padding:1px 9px 1px 6px;font-size:12px;background:#fff}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;flex:none}
.plots{display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start}
.plots svg.plot{width:300px;height:auto}
.legend{display:flex;gap:16px;font-size:12px;color:#344054;margin:6px 0 2px}
.legend span.line{display:inline-block;width:18px;height:0;border-top:2px solid;vertical-align:middle;margin-right:5px}
.legend span.dash{border-top-style:dashed}
.setting{background:#eef3fb;border:1px solid #d4e0f3;border-radius:6px;padding:7px 12px;margin:14px 0 4px;font-size:13px}
.two{display:flex;flex-wrap:wrap;gap:12px 36px;align-items:flex-start}
.two>div:first-child{flex:0 1 auto;min-width:0;overflow-x:auto}
.two>div:last-child{flex:1 1 420px;max-width:660px}
.two .note{max-width:520px}
table.confusion th,table.confusion td{text-align:center;border:1px solid var(--line);padding:4px 8px;min-width:44px}
table.confusion th.rowh{text-align:left;white-space:nowrap;font-weight:500}
table.confusion thead th{font-weight:500;font-size:12px;background:#f7f8fa;vertical-align:bottom}
table.confusion thead th small{display:block;color:var(--muted);font-weight:400}
table.confusion td.match{font-weight:700}
table.confusion td.dark{color:#fff}
table.confusion td.zero{color:#c5cad3}
table.confusion td.total{color:var(--muted);background:#fafbfc}
svg.dendro{width:100%;max-width:640px;height:auto;display:block}
.cluster{border-top:1px solid var(--line);padding:10px 0 6px}
.chead{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin-bottom:8px}
.chead .name{font-weight:600}
.chead .counts{color:var(--muted);font-size:12.5px}
.badge{font-size:11.5px;border-radius:10px;padding:0 8px;background:#f0f2f5;color:#475467}
.badge.bad{background:#fdecea;color:var(--bad)}
.thumbs{display:flex;flex-wrap:wrap;gap:8px}
figure.thumb{margin:0;width:{{.Thumb}}px;position:relative}
figure.thumb img{display:block;width:{{.Thumb}}px;height:{{.Thumb}}px;border-radius:4px;border:2px solid transparent}
figure.thumb figcaption{font-size:11px;color:#475467;white-space:normal;overflow-wrap:anywhere;line-height:1.25;margin-top:2px;display:flex;align-items:flex-start;gap:4px}
figure.thumb figcaption .dot{flex:none;margin-top:3px}
figure.thumb.wrong img{border-color:var(--bad)}
figure.thumb.wrong figcaption{color:var(--bad);font-weight:600}
figure.thumb .x{position:absolute;top:4px;right:4px;background:var(--bad);color:#fff;font-size:10px;font-weight:700;line-height:16px;width:16px;text-align:center;border-radius:50%}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:0;font-size:13px}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;font-family:ui-monospace,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px;word-break:break-all}
pre{background:#f7f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;font-size:12px;overflow:auto;max-height:420px}
code.cmd{display:block;background:#1d2330;color:#e6edf7;padding:9px 12px;border-radius:6px;font-size:12.5px;white-space:pre-wrap;word-break:break-all}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:8px}
</style>
</head>
<body>
<header class="top">
<h1>{{.Title}}</h1>
<p class="sub">{{len .Categories}} categor{{if eq (len .Categories) 1}}y{{else}}ies{{end}} · backbone {{.Run.Backbone.Name}} · layers {{range $i, $l := .Run.Layers}}{{if $i}}, {{end}}{{$l}}{{end}} {{with .OwnNets}}({{.}}) {{end}}{{if .Run.Layout}}· data: {{.Run.Layout}} {{end}}· protocol: {{.Run.Protocol}}{{with .Run.Skipped}} · <a href="#reproduce">{{len .}} unreadable image{{if gt (len .) 1}}s{{end}} skipped</a>{{end}} · {{.Run.Tool}} {{.Run.Version}} · generated {{.Generated}}</p>
<nav>{{if .Summary.Rows}}<a href="#summary">Summary</a>{{end}}{{range .Categories}}<a href="#{{.Anchor}}">{{.Name}}</a>{{end}}<a href="#reproduce">Reproduce</a></nav>
</header>
<main>
{{if .Summary.Rows}}<section id="summary">
<h2>Summary</h2>
<p class="note">NMI (arithmetic normalisation), ARI, and micro-F1 after one-to-one Hungarian matching of clusters to labels (equal to accuracy). For each mode the table shows the τ with the best plain mean NMI over all categories; every τ is listed under “All settings”. Best value of each metric across modes in <span class="best">bold</span>. Means: <i>plain</i> is the unweighted mean over categories (the paper's way), <i>weighted</i> the mean weighted by image count (the seed's way).</p>
<table class="summary">
<thead>
<tr><th rowspan="2">Category</th>{{range .Summary.Modes}}<th colspan="3" class="mode"><span class="swatch" style="background:{{.Color}}"></span>{{.Mode}}{{if .Tau}}<span class="tau">{{.Tau}}</span>{{end}}</th>{{end}}</tr>
<tr>{{range .Summary.Modes}}<th>NMI</th><th>ARI</th><th>F1</th>{{end}}</tr>
</thead>
<tbody>
{{$first := true}}{{range .Summary.Rows}}<tr class="{{if .Mean}}mean{{if $first}} first-mean{{end}}{{end}}">{{if .Mean}}{{$first = false}}{{end}}<th>{{if .Anchor}}<a href="#{{.Anchor}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}<span class="detail">{{.Detail}}</span></th>{{range $i, $c := .Cells}}<td class="num{{if $c.Best}} best{{end}}">{{if $c.Missing}}–{{else}}{{$c.Text}}{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
<details>
<summary>All settings ({{len .Full}} tables: every category and mean, every mode and τ)</summary>
<div class="full">
{{range .Full}}<table>
<caption>{{.Name}}</caption>
<thead><tr><th>mode</th><th>τ</th><th>NMI</th><th>ARI</th><th>F1</th><th>recommended</th></tr></thead>
<tbody>{{range .Rows}}<tr><td><span class="swatch" style="background:{{.Color}}"></span>{{.Mode}}</td><td class="num">{{.Tau}}</td>{{range .Cells}}<td class="num{{if .Best}} best{{end}}">{{.Text}}</td>{{end}}<td>{{if .Recommended}}✓{{end}}</td></tr>{{end}}</tbody>
</table>
{{end}}</div>
</details>
</section>{{else}}<p class="note">No labels: the images were clustered without ground truth, so there are no scores; the clusters are below.</p>{{end}}
{{range .Categories}}
<section class="category" id="{{.Anchor}}">
<h2>{{.Name}}</h2>
<p class="meta">{{.N}} images · K = {{.K}} clusters · patch grid {{.GridH}}×{{.GridW}} on a {{.ImageSize}} px crop{{if .NBank}} · memory bank {{.NBank}} images{{end}}</p>
{{if .Choice}}<p class="meta choice">{{.Choice}}</p>
{{end}}<div class="chips">{{range .Labels}}<span class="chip"><span class="dot" style="background:{{.Color}}"></span>{{.Name}} <span class="detail">{{.Count}}</span></span>{{end}}</div>
{{if .Plots}}<h3>{{if not .Unlabelled}}Scores against τ{{if .KAuto}}; {{end}}{{end}}{{if .KAuto}}the K estimate (k.json){{end}}</h3>
{{if not .Unlabelled}}<div class="legend"><span><span class="line" style="border-color:#1f77b4"></span>unsupervised</span><span><span class="line" style="border-color:#ff7f0e"></span>semi-supervised</span><span><span class="line dash" style="border-color:#7f7f7f"></span>average (no weighting)</span></div>{{end}}
<div class="plots">{{range .Plots}}{{.}}{{end}}</div>{{end}}
<div class="setting">{{if .Unlabelled}}Dendrogram{{else}}Confusion matrix, dendrogram{{end}} and galleries below: <b>{{.Setting}}</b> ({{.SettingWhy}}){{if .Scores}} — {{.Scores}}{{end}}{{if .Method}} · clustering {{.Method}}{{end}}</div>
<div class="two">
{{if .Confusion.Rows}}<div>
<h3>Confusion matrix</h3>
<table class="confusion">
<thead><tr><th class="rowh">label \ cluster</th>{{range .Confusion.Cols}}<th><span class="dot" style="background:{{.Color}};display:inline-block"></span> {{.ID}}<small>{{if .Label}}→ {{.Label}}{{else}}unmatched{{end}}</small></th>{{end}}<th>total</th></tr></thead>
<tbody>{{range .Confusion.Rows}}<tr><th class="rowh"><span class="dot" style="background:{{.Color}};display:inline-block"></span> {{.Label}}</th>{{range .Cells}}<td class="{{if .Match}}match{{end}}{{if .Dark}} dark{{end}}{{if not .N}} zero{{end}}" style="{{.Style}}">{{.N}}</td>{{end}}<td class="total">{{.Total}}</td></tr>{{end}}</tbody>
</table>
<p class="note">Rows: true labels. Columns: clusters, each placed under the label the Hungarian matching gave it; the diagonal (green) counts correctly clustered images, red cells the rest.</p>
</div>{{end}}
<div>
<h3>Ward dendrogram</h3>
{{if .Dendrogram}}{{.Dendrogram}}<p class="note">{{if .Unlabelled}}Branches below the cut take the colour of their cluster.{{else}}Branches below the cut take the colour of their cluster's matched label; the strip under the leaves shows each image's true label.{{end}}</p>{{else}}<p class="note">{{.DendroNote}}</p>{{end}}
</div>
</div>
<h3>Clusters</h3>
<p class="note">Alpha (patch weights) blended over the crop the model saw, max-normalised per image{{if not .Unlabelled}}; white outline: ground-truth mask. Red frame and ✕: the image's true label differs from its cluster's matched label{{end}}. Hover for the file.</p>
{{range .Galleries}}<div class="cluster">
<div class="chead"><span class="dot" style="background:{{.Color}}"></span>{{if not .Labelled}}<span class="name">Cluster {{.Cluster}}</span><span class="counts">{{.Size}} images, most typical first</span>{{else}}<span class="name">Cluster {{.Cluster}} → {{.Label}}</span><span class="counts">{{.Size}} images · {{.Correct}} {{.Label}} ({{pct .Correct .Size}})</span>{{end}}{{if .Wrong}}<span class="badge bad">{{.Wrong}} wrong</span>{{end}}{{if lt .Shown .Size}}<span class="badge">showing {{.Shown}} of {{.Size}}{{if .Wrong}}, wrong ones first up to half{{end}}</span>{{end}}</div>
<div class="thumbs">{{range .Thumbs}}<figure class="thumb{{if .Wrong}} wrong{{end}}" data-index="{{.Index}}" title="{{.Title}}"><img src="{{.Src}}" alt="image {{.Index}}, label {{.Label}}" />{{if .Wrong}}<span class="x">✕</span>{{end}}<figcaption>{{if .Label}}<span class="dot" style="background:{{.Color}}"></span>{{end}}<span>#{{.Index}} {{.Caption}}</span></figcaption></figure>{{end}}</div>
</div>
{{end}}</section>
{{end}}
<section id="reproduce">
<h2>Reproduce</h2>
{{if .Repro.Command}}<h3>Command</h3>
<code class="cmd">{{.Repro.Command}}</code>{{end}}
<h3>Run</h3>
<dl class="kv">{{range .Repro.Items}}<dt>{{.K}}</dt><dd>{{.V}}</dd>{{end}}</dl>
<h3>Settings</h3>
<dl class="kv">{{range .Repro.Settings}}<dt>{{.K}}</dt><dd>{{.V}}</dd>{{end}}</dl>
<details><summary>run.json ({{.Repro.RunFile}})</summary>
<pre>{{.Repro.RunJSON}}</pre>
</details>
</section>
<footer>anomclust report · self-contained: no scripts, no network</footer>
</main>
</body>
</html>
`
