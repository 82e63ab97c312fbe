package levlib

import (
	"fmt"
	"html"
	"html/template"
	"image/color"
	"slices"
	"strings"
)

// HTML tables of the study, shared by the report and the notebooks (levlib/nb displays them): compact
// pivots a reader scans; the CSV and JSON files keep every row.

// htmlTable builds a table from a header and rows of cells that are already HTML.
func htmlTable(class string, header []string, rows [][]string) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<table class="%s"><thead><tr>`, class)
	for _, h := range header {
		b.WriteString("<th>" + h + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + c + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return template.HTML(b.String())
}

var esc = html.EscapeString

// BasesTable is one row per basis: family, size, rank against columns, Σℓ, max ℓ, rows with ℓ > 0.99,
// the singular values on both sides of the rank cut-off against the tolerance, and for trained networks
// their last epoch.
func BasesTable(bases []BasisReport) template.HTML {
	header := []string{"basis", "family", "rows × cols", "rank", "Σℓ", "max ℓ", "ℓ > 0.99", "σ<sub>r</sub> / tol / σ<sub>r+1</sub>", "path", "network"}
	var rows [][]string
	for _, b := range bases {
		net := ""
		if m := b.Manifest; m != nil {
			if n := len(m.History); n > 0 {
				h := m.History[n-1]
				net = fmt.Sprintf("%d epoch(s); loss %.3f; test acc %.3f", h.Epoch, h.Loss, h.TestAcc)
			} else {
				net = "untrained"
			}
		}
		if b.TrainedOn != "" {
			net += "<br><small>" + esc(b.TrainedOn) + "</small>"
		}
		path := "two-pass"
		if b.Refined {
			path = "refined"
		}
		rank := fmt.Sprintf("%d", b.Rank)
		if b.Rank < b.Cols {
			rank = fmt.Sprintf(`<b>%d</b>`, b.Rank)
		}
		rows = append(rows, []string{esc(b.Label), esc(b.Family), fmt.Sprintf("%d × %d", b.Rows, b.Cols), rank,
			fmt.Sprintf("%.3f", b.SumScores), fmt.Sprintf("%.4f", b.MaxScore), fmt.Sprint(b.NearOne),
			fmt.Sprintf("%.2g / %.2g / %.2g", b.SigmaRank, b.Tolerance, b.SigmaNext), path, net})
	}
	return htmlTable("bases", header, rows)
}

// Q1Table pivots Question 1 for one classifier: a row per family and k, a column per strategy, each
// cell the test accuracy (mean over the family's inits, range below) with the training accuracy on all
// training rows in grey; the random column is the mean and range over seeds.
func Q1Table(q *Q1Result, cl Classifier) template.HTML {
	fam := q.ByFamily()
	_, families, _ := q1Axes(fam)
	var sts []Strategy
	for _, st := range Strategies {
		for _, s := range fam {
			if s.Classifier == cl && s.Strategy == st && !slices.Contains(sts, st) {
				sts = append(sts, st)
			}
		}
	}
	header := []string{"family", "k"}
	for _, st := range sts {
		header = append(header, esc(string(st)))
	}
	cell := func(s Q1Summary) string {
		c := fmt.Sprintf("%.3f", s.Test.Mean)
		if s.Test.N > 1 {
			c += fmt.Sprintf(`<br><small>%.3f–%.3f</small>`, s.Test.Min, s.Test.Max)
		}
		return c + fmt.Sprintf(`<br><small class="train">train %.3f</small>`, s.Train.Mean)
	}
	var rows [][]string
	for _, f := range families {
		var ks []int
		for _, s := range fam {
			if s.Family == f && s.Classifier == cl && !slices.Contains(ks, s.K) {
				ks = append(ks, s.K)
			}
		}
		slices.Sort(ks)
		for _, k := range ks {
			name := esc(f)
			if s, ok := Q1Find(fam, "", f, StrategyTop, k, cl); ok && s.Inits > 1 {
				name += fmt.Sprintf(" <small>(%d inits)</small>", s.Inits)
			}
			row := []string{name, fmt.Sprint(k)}
			for _, st := range sts {
				family := f
				if st == StrategyRandom {
					family = randomFamily(fam, f, cl)
				}
				if s, ok := Q1Find(fam, "", family, st, k, cl); ok {
					row = append(row, cell(s))
				} else {
					row = append(row, "")
				}
			}
			rows = append(rows, row)
		}
	}
	return htmlTable("q1", header, rows)
}

// Q2GroupTable is one row per pair of families: tau-b (mean and range over the pairs), tau-b with ink
// taken out (partial, and within ink bins), weighted tau and the Jaccard of the top-1,000 sets against
// its expectation for random sets.
func Q2GroupTable(q *Q2Result) template.HTML {
	header := []string{"families", "pairs", "tau-b mean", "tau-b range", "partial tau | ink", "tau-b within ink bins", "weighted tau", "Jaccard top-k", "random sets"}
	var rows [][]string
	seen := map[[2]string]bool{}
	for _, s := range q.Summaries {
		key := [2]string{s.GroupA, s.GroupB}
		if s.Statistic != "kendall_tau_b" || seen[key] {
			continue
		}
		seen[key] = true
		part, _ := groupStat(q, s.GroupA, s.GroupB, "partial_tau_ink")
		binned, _ := groupStat(q, s.GroupA, s.GroupB, "binned_tau_ink")
		wt, _ := groupStat(q, s.GroupA, s.GroupB, "weighted_tau")
		jac, exp, k := groupJaccard(q, s.GroupA, s.GroupB, 1000)
		rows = append(rows, []string{esc(s.GroupA + " – " + s.GroupB), fmt.Sprint(s.Pairs), fmt.Sprintf("<b>%.3f</b>", s.Mean),
			fmt.Sprintf("%.3f – %.3f", s.Min, s.Max), fmt.Sprintf("%.3f", part.Mean), fmt.Sprintf("%.3f", binned.Mean),
			fmt.Sprintf("%.3f", wt.Mean), fmt.Sprintf("%.3f <small>(k = %d)</small>", jac, k), fmt.Sprintf("%.4f", exp)})
	}
	return htmlTable("q2", header, rows)
}

// groupJaccard is the mean Jaccard of the top-k sets over the pairs between two groups at the overlap
// k closest to want, and the expected Jaccard of random sets.
func groupJaccard(q *Q2Result, a, b string, want int) (mean, expected float64, k int) {
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
func TauMatrix(q *Q2Result) template.HTML {
	tau := map[[2]string]float64{}
	for _, p := range q.Pairs {
		tau[[2]string{p.A, p.B}], tau[[2]string{p.B, p.A}] = p.KendallTauB, p.KendallTauB
	}
	var b strings.Builder
	b.WriteString(`<table class="tau"><tr><th></th>`)
	for _, x := range q.Bases {
		b.WriteString("<th>" + esc(x) + "</th>")
	}
	b.WriteString("</tr>")
	for _, x := range q.Bases {
		b.WriteString("<tr><th>" + esc(x) + "</th>")
		for _, y := range q.Bases {
			v := 1.0
			if x != y {
				v = tau[[2]string{x, y}]
			}
			c := diverging(v).(color.RGBA)
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

// ControlsTable is one row per basis: Kendall tau-b with ink, rows with ℓ > 0.99, and for each ridge λ
// the tau-b between ridge and exact leverage and the share of the top-k kept.
func ControlsTable(q *Q2Result) template.HTML {
	var lambdas []float64
	for _, rc := range q.Ridge {
		if !slices.Contains(lambdas, rc.LambdaRel) {
			lambdas = append(lambdas, rc.LambdaRel)
		}
	}
	header := []string{"basis", "tau-b with ink", "ℓ > 0.99"}
	k := 0
	for _, l := range lambdas {
		header = append(header, fmt.Sprintf("ridge λ = %.0e·λ̄: tau-b, top-k kept", l))
	}
	var rows [][]string
	for _, b := range q.Bases {
		row := []string{esc(b), fmt.Sprintf("%.3f", q.InkTau[b]), fmt.Sprint(q.NearOne[b])}
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
	t := htmlTable("controls", header, rows)
	if k > 0 {
		t += template.HTML(fmt.Sprintf(`<p class="small">λ̄ = trace(XᵀX)/D, the mean eigenvalue of each basis's Gram matrix; top-k kept = |top-%d(ridge) ∩ top-%d(exact)| / %d.</p>`, k, k, k))
	}
	return t
}

// findingsList is the findings as an HTML list, each linked to its section.
func findingsList(fs []Finding) template.HTML {
	var b strings.Builder
	b.WriteString(`<ul class="findings">`)
	for _, f := range fs {
		fmt.Fprintf(&b, `<li>%s <a href="#%s">→</a></li>`, esc(f.Text), esc(f.Link))
	}
	b.WriteString("</ul>")
	return template.HTML(b.String())
}
