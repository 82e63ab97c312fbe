package levlib

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// WriteStudyReport writes dir/report.html — one self-contained page: every figure is embedded as a
// data URI, no network is needed to view it — and dir/results.json.
func WriteStudyReport(dir string, r *StudyResult) error {
	r.ReportPath = filepath.Join(dir, "report.html")
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(dir, "results.json"), b); err != nil {
		return err
	}
	img := func(path string) (template.URL, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(data)), nil
	}
	var imgErr error
	funcs := template.FuncMap{
		"img": func(path string) template.URL {
			u, err := img(path)
			if err != nil && imgErr == nil {
				imgErr = err
			}
			return u
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
		"f4":   func(v float64) string { return fmt.Sprintf("%.4f", v) },
		"f3":   func(v float64) string { return fmt.Sprintf("%.3f", v) },
		"f1":   func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"base": filepath.Base,
		"tau": func(q *Q2Result, a, b string) string {
			if a == b {
				return "1"
			}
			for _, p := range q.Pairs {
				if (p.A == a && p.B == b) || (p.A == b && p.B == a) {
					return fmt.Sprintf("%.3f", p.KendallTauB)
				}
			}
			return ""
		},
		"tauStyle": func(q *Q2Result, a, b string) template.CSS {
			v := 1.0
			for _, p := range q.Pairs {
				if (p.A == a && p.B == b) || (p.A == b && p.B == a) {
					v = p.KendallTauB
				}
			}
			c := diverging(v).(interface{ RGBA() (r, g, b, a uint32) })
			rr, gg, bb, _ := c.RGBA()
			return template.CSS(fmt.Sprintf("background: rgb(%d,%d,%d)", rr>>8, gg>>8, bb>>8))
		},
	}
	t, err := template.New("report").Funcs(funcs).Parse(reportTemplate)
	if err != nil {
		return err
	}
	return WriteAtomic(r.ReportPath, func(w io.Writer) error {
		if err := t.Execute(w, r); err != nil {
			return err
		}
		return imgErr
	})
}

const reportTemplate = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>levstudy report ({{.Plan.Preset}})</title>
<style>
body { font-family: sans-serif; max-width: 1200px; margin: 2em auto; color: #222; line-height: 1.4; }
h1, h2, h3 { color: #123; } table { border-collapse: collapse; margin: 1em 0; font-size: 90%; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } th { background: #eef; }
td.l, th.l { text-align: left; } img { max-width: 100%; border: 1px solid #ddd; margin: 4px 0; }
.warn { background: #fff4e0; border-left: 4px solid #f90; padding: 0.5em 1em; }
.small { font-size: 85%; color: #555; }
</style></head><body>
<h1>levstudy: leverage-score sample selection on MNIST</h1>
<p>Preset <b>{{.Plan.Preset}}</b> — {{.Plan.Description}}.</p>
<h2>What was run</h2>
<table><tr><th class="l">backend</th><td class="l">{{.Backend}}</td></tr>
<tr><th class="l">started (UTC)</th><td class="l">{{.Started}}</td></tr>
{{range $k, $v := .Versions}}<tr><th class="l">{{$k}}</th><td class="l">{{$v}}</td></tr>{{end}}
{{range $k, $v := .DataSHA256}}<tr><th class="l">{{$k}}</th><td class="l small">sha256 {{$v}}</td></tr>{{end}}
<tr><th class="l">seeds</th><td class="l">CNN init seed i for A<sub>i</sub>, B<sub>i</sub>, C<sub>i</sub>; ReLU features seed 1; random selections seeds 1…n; shuffles seed 1</td></tr>
</table>
<table><tr><th class="l">stage</th><th>seconds</th></tr>{{range .Stages}}<tr><td class="l">{{.Name}}</td><td>{{f1 .Seconds}}</td></tr>{{end}}</table>
{{if .Warnings}}<div class="warn"><b>Warnings</b><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>
<p class="small">A rank-deficient basis is why the exact, rank-aware leverage is used: the seed's plain QR gives its zero or dependent columns' rows leverage ≈ 1.</p></div>{{end}}

<h2>Bases and their leverage scores</h2>
<p>ℓ<sub>i</sub> = ‖U<sub>r</sub>(i,:)‖² for an orthonormal basis of the column space, so 0 ≤ ℓ ≤ 1 and Σℓ = rank.</p>
<table><tr><th class="l">basis</th><th>rows</th><th>columns</th><th>rank</th><th>Σℓ</th><th>max ℓ</th><th>refined</th><th class="l">CNN training</th></tr>
{{range .Bases}}<tr><td class="l">{{.Label}}</td><td>{{.Rows}}</td><td>{{.Cols}}</td><td>{{.Rank}}</td><td>{{f3 .SumScores}}</td><td>{{f4 .MaxScore}}</td><td>{{.Refined}}</td>
<td class="l small">{{with .Manifest}}{{if .History}}{{range .History}}epoch {{.Epoch}}: loss {{f4 .Loss}}, test acc {{f4 .TestAcc}}; {{end}}{{else}}untrained{{end}}{{end}}</td></tr>{{end}}</table>
{{range .Bases}}<h3>{{.Label}}</h3>{{range .Figures}}<img src="{{img .}}" alt="{{base .}}">{{end}}{{end}}

<h2>Question 1: does training on the top-k leverage rows help?</h2>
{{with .Q1}}<p class="small">{{range $k, $v := .Protocol}}<b>{{$k}}</b>: {{$v}}. {{end}}</p>
<table><tr><th class="l">basis</th><th class="l">strategy</th><th>k</th><th class="l">classifier</th><th>test accuracy (mean over seeds)</th><th>sd</th><th>seeds</th></tr>
{{range .Summarize}}<tr><td class="l">{{.Basis}}</td><td class="l">{{.Strategy}}</td><td>{{.K}}</td><td class="l">{{.Classifier}}</td><td>{{f4 .Mean}}</td><td>{{f4 .SD}}</td><td>{{.Seeds}}</td></tr>{{end}}</table>{{end}}
{{range pngs .Q1Figures ""}}<img src="{{img .}}" alt="{{base .}}">{{end}}

<h2>Question 2: are leverage rankings robust to random initialization?</h2>
{{with .Q2CNN}}<p>Kendall tau-b between the leverage rankings of every pair of bases (on {{$.Plan.CNNTrain}} training + {{$.Plan.CNNTest}} test rows). Under random permutation tau-b is 0 ± {{f4 .NullSD}} (closed form); {{.NullBand.N}} seeded shuffles gave [{{f4 .NullBand.Lo}}, {{f4 .NullBand.Hi}}].</p>
<table><tr><th></th>{{range .Bases}}<th>{{.}}</th>{{end}}</tr>
{{$q := .}}{{range $a := .Bases}}<tr><th>{{$a}}</th>{{range $b := $q.Bases}}<td style="{{tauStyle $q $a $b}}">{{tau $q $a $b}}</td>{{end}}</tr>{{end}}</table>
<table><tr><th class="l">groups</th><th class="l">statistic</th><th>pairs</th><th>mean</th><th>sd</th><th>min</th><th>max</th></tr>
{{range .Summaries}}<tr><td class="l">{{.GroupA}} – {{.GroupB}}</td><td class="l">{{.Statistic}}</td><td>{{.Pairs}}</td><td>{{f3 .Mean}}</td><td>{{f3 .SD}}</td><td>{{f3 .Min}}</td><td>{{f3 .Max}}</td></tr>{{end}}</table>
<table><tr><th class="l">group</th><th>members</th><th>k</th><th>in every top-k</th><th>expected by chance</th><th>in no top-k</th><th>expected by chance</th></tr>
{{range .Consensus}}<tr><td class="l">{{.Group}}</td><td>{{.Members}}</td><td>{{.K}}</td><td>{{len .Chosen}}</td><td>{{f1 .ExpectedChosen}}</td><td>{{.Never}}</td><td>{{f1 .ExpectedNever}}</td></tr>{{end}}</table>
{{range pngs .Figures ""}}<img src="{{img .}}" alt="{{base .}}">{{end}}{{end}}
{{with .Q2Pixel}}<h3>RAW vs ReLU on all rows</h3>{{range .Pairs}}<p>{{.A}} vs {{.B}}: tau-b {{f3 .KendallTauB}}, Spearman {{f3 .Spearman}}, weighted tau {{f3 .WeightedTau}}, swap distance {{f3 .SwapDistance}}.</p>{{end}}
{{range pngs .Figures "overlap"}}<img src="{{img .}}" alt="{{base .}}">{{end}}{{end}}
<p class="small">Machine-readable outputs: results.json, q1/results.csv, q2/pairs.csv, q2_pixel/pairs.csv, figures/ (PNG and SVG).</p>
</body></html>
`
