package levlib

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/levstudy/levstudy/internal/fileio"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/q2"
)

// WriteReport writes dir/report.html — one self-contained page: every figure is embedded as a
// data URI, no network is needed to view it — and dir/results.json. The page opens with the findings,
// then what was run, the bases, Question 1 (pivoted tables and figures), Question 2 (group table, tau-b
// matrix, controls, figures) and the warnings. The two files are replaced together or not at all
// (fileio.WriteAtomicGroup): a figure that cannot be read leaves the previous page and results.
func WriteReport(dir string, r *StudyResult) error {
	r.ReportPath = filepath.Join(dir, "report.html")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := renderReport(&page, r); err != nil {
		return fmt.Errorf("writing %s: %w", r.ReportPath, err)
	}
	return fileio.WriteAtomicGroup(
		fileio.AtomicFile{Path: r.ReportPath, Write: func(w io.Writer) error { _, err := w.Write(page.Bytes()); return err }},
		fileio.AtomicFile{Path: filepath.Join(dir, "results.json"), Write: func(w io.Writer) error { _, err := w.Write(b); return err }})
}

// renderReport executes the report template into w; a figure that cannot be read is an error.
func renderReport(w io.Writer, r *StudyResult) error {
	var imgErr error
	funcs := template.FuncMap{
		"img": func(path string) template.URL {
			data, err := os.ReadFile(path)
			if err != nil && imgErr == nil {
				imgErr = err
			}
			return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(data))
		},
		"pngs": func(paths []string, contains string) []string {
			var out []string
			for _, p := range paths {
				if strings.HasSuffix(p, ".png") && strings.Contains(filepath.Base(p), contains) {
					out = append(out, p)
				}
			}
			return out
		},
		"f1":            func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"base":          filepath.Base,
		"findings":      FindingsList,
		"basesTable":    BasesTable,
		"q1Table":       q1.Table,
		"q1Effects":     q1.EffectTable,
		"withinBetween": q2.WithinBetweenTable,
		"matched":       q2.MatchedTable,
		"q1Classes":     func(q *q1.Result) []q1.Classifier { return q.Classifiers() },
		"q2Groups":      q2.GroupTable,
		"tauMatrix":     q2.TauMatrix,
		"controls":      q2.ControlsTable,
		"protocolKey":   func(q *q1.Result, c q1.Classifier) string { return q.Protocol[string(c)] },
	}
	t, err := template.New("report").Funcs(funcs).Parse(reportTemplate)
	if err != nil {
		return err
	}
	if err := t.Execute(w, r); err != nil {
		return err
	}
	return imgErr
}

const reportTemplate = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>levstudy report ({{.Plan.Preset}})</title>
<style>
body { font-family: sans-serif; max-width: 1250px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1, h2, h3 { color: #123; } h2 { border-bottom: 1px solid #ccd; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 92%; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; vertical-align: top; } th { background: #eef; }
td:first-child, th:first-child { text-align: left; }
small { color: #555; } small.train { color: #888; }
table.tau td { text-align: center; min-width: 3em; }
img { max-width: 100%; border: 1px solid #ddd; margin: 6px 0; display: block; }
.warn { background: #fff4e0; border-left: 4px solid #f90; padding: 0.5em 1em; }
ul.findings li { margin: 0.35em 0; } .small { font-size: 88%; color: #555; }
details { margin: 0.5em 0; } summary { cursor: pointer; font-weight: bold; }
</style></head><body>
<h1>levstudy: leverage-score sample selection on MNIST</h1>
<p>Preset <b>{{.Plan.Preset}}</b> — {{.Plan.Description}}.</p>

<h2 id="findings">Findings</h2>
{{findings .Findings}}

<h2 id="run">What was run</h2>
<table><tr><th>backend</th><td>{{.Backend}}</td></tr>
<tr><th>started (UTC)</th><td>{{.Started}}</td></tr>
{{range $k, $v := .Versions}}<tr><th>{{$k}}</th><td>{{$v}}</td></tr>{{end}}
{{range $k, $v := .DataSHA256}}<tr><th>{{$k}}</th><td class="small">sha256 {{$v}}</td></tr>{{end}}
<tr><th>pool</th><td>{{.Plan.TrainRows}} training + {{.Plan.TestRows}} test rows: every basis is computed on all of them; selection is among the training rows</td></tr>
<tr><th>seeds</th><td>CNN init seed i for A<sub>i</sub>, B<sub>i</sub>, C<sub>i</sub>; ReLU features seed = its index; Question 1: {{with .Q1}}{{index .Protocol "seeds"}}{{end}}; null shuffles and label permutations seed {{if .Plan.Q2.ShuffleSeed}}{{.Plan.Q2.ShuffleSeed}}{{else}}1{{end}}</td></tr>
</table>
<table><tr><th>stage</th><th>seconds</th></tr>{{range .Stages}}<tr><td>{{.Name}}</td><td>{{f1 .Seconds}}</td></tr>{{end}}</table>

<h2 id="bases">Bases and their leverage scores</h2>
<p>ℓ<sub>i</sub> = ‖U<sub>r</sub>(i,:)‖² for an orthonormal basis of the column space, so 0 ≤ ℓ ≤ 1 and Σℓ = rank (in bold where it is below the columns). The rank is numpy's <code>matrix_rank</code> rule on the column-equilibrated basis; σ<sub>r</sub> and σ<sub>r+1</sub> frame the tolerance.</p>
{{basesTable .Bases}}
{{range .Bases}}<details><summary>{{.Label}}: sorted scores, the 300 highest- and lowest-leverage digits</summary>{{range .Figures}}<img src="{{img .}}" alt="{{base .}}">{{end}}</details>{{end}}

<h2 id="q1">Question 1: does training on the top-k leverage rows help?</h2>
{{with .Q1}}<p class="small"><b>Pool:</b> {{index .Protocol "pool"}}. <b>Selection:</b> {{index .Protocol "selection"}}. <b>Seeds:</b> {{index .Protocol "seeds"}}. <b>Random:</b> {{index .Protocol "random"}}. <b>Accuracy:</b> {{index .Protocol "accuracy"}}. <b>Intervals:</b> {{index .Protocol "intervals"}}.</p>
{{$q := .}}{{range q1Classes .}}<h3>{{.}} classifier</h3><p class="small">{{protocolKey $q .}}.</p>
<p class="small">Test accuracy: the family's mean with its 95% interval below (over the inits' means, or over seeds for a single init; random: over seeds), and in grey the accuracy on the evaluation training rows.</p>
{{q1Table $q .}}
<p class="small">Effect sizes: test accuracy minus random rows' at the same k, with the 95% interval; "below"/"above" where the interval excludes 0.</p>
{{q1Effects $q .}}{{end}}{{end}}
{{range pngs .Q1Figures ""}}<img src="{{img .}}" alt="{{base .}}">{{end}}

<h2 id="q2">Question 2: are leverage rankings the same across inits and bases?</h2>
{{with .Q2}}<p>Kendall tau-b between the leverage rankings of every pair of bases on the pool. Under random permutation tau-b is 0 ± {{printf "%.4f" .NullSD}} (SD, closed form); {{.NullBand.Describe}}.</p>
{{q2Groups .}}
<p class="small">The pairs of a group share bases, so the ranges above describe, they do not test. Is a family's agreement its own? Mean tau-b within each family against between it and every other basis, with a permutation test over the family labels:</p>
{{withinBetween .}}
{{tauMatrix .}}
<h3 id="q2-controls">Controls</h3>
<p class="small">Ink: leverage of a nonnegative basis tracks ‖x‖² of the image; the group table's partial tau and within-bin tau take it out, and the findings judge ink by how much agreement changes. Rank cut-off: ridge leverage shows how much of a top-k set depends on the smallest singular directions. Ties: leverage scores equal within 1e-9 (rounding) are ties in every statistic.</p>
<p class="small">The random-basis control of the same width: agreement within each family against agreement within ReLU features of as many random projections of the pixels (different seeds).</p>
{{matched .}}
{{controls .}}
<table><tr><th>family</th><th>members</th><th>k</th><th>in every top-k</th><th>expected by chance</th><th>in no top-k</th><th>expected by chance</th></tr>
{{range .Consensus}}<tr><td>{{.Group}}</td><td>{{.Members}}</td><td>{{.K}}</td><td>{{len .Chosen}}</td><td>{{f1 .ExpectedChosen}}</td><td>{{.Never}}</td><td>{{f1 .ExpectedNever}}</td></tr>{{end}}</table>
{{range pngs $.Q2Figures ""}}<img src="{{img .}}" alt="{{base .}}">{{end}}{{end}}

{{if .Warnings}}<h2 id="warnings">Warnings</h2><div class="warn"><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>
<p class="small">A rank-deficient basis is why the exact, rank-aware leverage is used: the seed's plain QR gives its zero or dependent columns' rows leverage ≈ 1.</p></div>{{end}}
<p class="small">Machine-readable outputs: results.json (with the findings), q1/results.csv and results.json, q2/pairs.csv and summary.json, figures/ (PNG and SVG).</p>
</body></html>
`
