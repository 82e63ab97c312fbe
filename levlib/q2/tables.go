package q2

import (
	"fmt"
	"html/template"
	"image/color"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/levlib/internal/htmltable"
	"github.com/levstudy/levstudy/levlib/plot"
)

// GroupTable is one row per pair of families: tau-b (mean and range over the pairs), tau-b with ink
// taken out (partial, and within ink bins), weighted tau and the Jaccard of the top-1,000 sets against
// its expectation for random sets.
func GroupTable(q *Result) template.HTML {
	header := []string{"families", "pairs", "tau-b mean", "tau-b range", "partial tau | ink", "tau-b within ink bins", "weighted tau", "Jaccard top-k", "random sets"}
	var rows [][]string
	seen := map[[2]string]bool{}
	for _, s := range q.Summaries {
		key := [2]string{s.GroupA, s.GroupB}
		if s.Statistic != "kendall_tau_b" || seen[key] {
			continue
		}
		seen[key] = true
		part, _ := q.GroupStat(s.GroupA, s.GroupB, "partial_tau_ink")
		binned, _ := q.GroupStat(s.GroupA, s.GroupB, "binned_tau_ink")
		wt, _ := q.GroupStat(s.GroupA, s.GroupB, "weighted_tau")
		jac, exp, k := groupJaccard(q, s.GroupA, s.GroupB, 1000)
		rows = append(rows, []string{htmltable.Esc(s.GroupA + " – " + s.GroupB), fmt.Sprint(s.Pairs), fmt.Sprintf("<b>%.3f</b>", s.Mean),
			fmt.Sprintf("%.3f – %.3f", s.Min, s.Max), fmt.Sprintf("%.3f", part.Mean), fmt.Sprintf("%.3f", binned.Mean),
			fmt.Sprintf("%.3f", wt.Mean), fmt.Sprintf("%.3f <small>(k = %d)</small>", jac, k), fmt.Sprintf("%.4f", exp)})
	}
	return htmltable.Render("q2", header, rows)
}

// groupJaccard is the mean Jaccard of the top-k sets over the pairs between two groups at the overlap
// k closest to want, and the expected Jaccard of random sets.
func groupJaccard(q *Result, a, b string, want int) (mean, expected float64, k int) {
	n := 0
	for _, p := range q.Pairs {
		ga, gb := q.Groups[p.A], q.Groups[p.B]
		if !((ga == a && gb == b) || (ga == b && gb == a)) {
			continue
		}
		best := -1
		for i, o := range p.Overlap {
			if best < 0 || abs(o.K-want) < abs(p.Overlap[best].K-want) {
				best = i
			}
		}
		if best < 0 {
			continue
		}
		o := p.Overlap[best]
		mean += o.Jaccard
		expected, k = o.ExpectedJaccard, o.K
		n++
	}
	if n > 0 {
		mean /= float64(n)
	}
	return mean, expected, k
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TauMatrix is the tau-b matrix of every pair of bases, each cell coloured (blue–white–red).
func TauMatrix(q *Result) template.HTML {
	tau := map[[2]string]float64{}
	for _, p := range q.Pairs {
		tau[[2]string{p.A, p.B}], tau[[2]string{p.B, p.A}] = p.KendallTauB, p.KendallTauB
	}
	var b strings.Builder
	b.WriteString(`<table class="tau"><tr><th></th>`)
	for _, x := range q.Bases {
		b.WriteString("<th>" + htmltable.Esc(x) + "</th>")
	}
	b.WriteString("</tr>")
	for _, x := range q.Bases {
		b.WriteString("<tr><th>" + htmltable.Esc(x) + "</th>")
		for _, y := range q.Bases {
			v := 1.0
			if x != y {
				v = tau[[2]string{x, y}]
			}
			c := plot.Diverging(v).(color.RGBA)
			fg := "#000"
			if v > 0.6 || v < -0.6 {
				fg = "#fff"
			}
			fmt.Fprintf(&b, `<td style="background: rgb(%d,%d,%d); color: %s">%.2f</td>`, c.R, c.G, c.B, fg, v)
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</table>")
	return template.HTML(b.String())
}

// ControlsTable is one row per basis: Kendall tau-b with ink, rows with ℓ > 0.99, rows tied within
// rankstat.DefaultTieTolerance, and for each ridge λ
// the tau-b between ridge and exact leverage and the share of the top-k kept.
func ControlsTable(q *Result) template.HTML {
	var lambdas []float64
	for _, rc := range q.Ridge {
		if !slices.Contains(lambdas, rc.LambdaRel) {
			lambdas = append(lambdas, rc.LambdaRel)
		}
	}
	header := []string{"basis", "tau-b with ink", "ℓ > 0.99", "tied rows"}
	k := 0
	for _, l := range lambdas {
		header = append(header, fmt.Sprintf("ridge λ = %.0e·λ̄: tau-b, top-k kept", l))
	}
	var rows [][]string
	for _, b := range q.Bases {
		row := []string{htmltable.Esc(b), fmt.Sprintf("%.3f", q.InkTau[b]), fmt.Sprint(q.NearOne[b]), fmt.Sprint(q.Ties[b].Rows)}
		for _, l := range lambdas {
			c := ""
			for _, rc := range q.Ridge {
				if rc.Basis == b && rc.LambdaRel == l {
					c = fmt.Sprintf("%.3f, %.0f%%", rc.KendallTauB, 100*rc.TopKShared)
					k = rc.K
				}
			}
			row = append(row, c)
		}
		rows = append(rows, row)
	}
	t := htmltable.Render("controls", header, rows)
	if k > 0 {
		t += template.HTML(fmt.Sprintf(`<p class="small">λ̄ = trace(XᵀX)/D, the mean eigenvalue of each basis's Gram matrix; top-k kept = |top-%d(ridge) ∩ top-%d(exact)| / %d.</p>`, k, k, k))
	}
	return t
}

// WithinBetweenTable is one row per family with two or more bases: mean tau-b within the family and
// between it and the other bases, their difference, and the one-sided p-value of the permutation test
// over family labels (stats.WithinBetween) with how its null was drawn.
func WithinBetweenTable(q *Result) template.HTML {
	header := []string{"family", "bases", "tau-b within", "tau-b between", "within − between", "p (one-sided)", "null"}
	var rows [][]string
	for _, c := range q.WithinBetween.Families {
		rows = append(rows, []string{htmltable.Esc(c.Family), fmt.Sprint(c.Size), fmt.Sprintf("%.3f <small>(%d pairs)</small>", c.WithinMean, c.WithinPairs),
			fmt.Sprintf("%.3f <small>(%d pairs)</small>", c.BetweenMean, c.BetweenPairs), fmt.Sprintf("<b>%+.3f</b>", c.Observed),
			fmt.Sprintf("%.3g <small>(smallest possible %.2g)</small>", c.P, c.MinP), fmt.Sprintf("%s, %d relabellings", c.Null, c.Relabellings)})
	}
	return htmltable.Render("q2", header, rows)
}

// MatchedTable is one row per family with a matched random-basis control: tau-b within the family and
// within ReLU features of the same width (mean and range over pairs) and the verdict.
func MatchedTable(q *Result) template.HTML {
	header := []string{"family", "width", "tau-b within (range)", "control", "control tau-b within (range)", "verdict"}
	var rows [][]string
	for _, m := range q.Matched {
		rows = append(rows, []string{htmltable.Esc(m.Family), fmt.Sprint(m.Dim), fmt.Sprintf("%.3f <small>(%.3f–%.3f, %d pairs)</small>", m.Mean, m.Min, m.Max, m.Pairs),
			htmltable.Esc(m.Control), fmt.Sprintf("%.3f <small>(%.3f–%.3f, %d pairs)</small>", m.CtlMean, m.CtlMin, m.CtlMax, m.CtlPairs), htmltable.Esc(m.Verdict)})
	}
	return htmltable.Render("q2", header, rows)
}
