package q1

import (
	"fmt"
	"html/template"
	"slices"

	"github.com/levstudy/levstudy/levlib/internal/htmltable"
)

// Table pivots Question 1 for one classifier: a row per family and k, a column per strategy, each
// cell the test accuracy (mean over the family's inits, range below) with the training accuracy on all
// training rows in grey; the random column is the mean and range over seeds.
func Table(q *Result, cl Classifier) template.HTML {
	fam := q.ByFamily()
	_, families, _ := Axes(fam)
	var sts []Strategy
	for _, st := range strategies {
		for _, s := range fam {
			if s.Classifier == cl && s.Strategy == st && !slices.Contains(sts, st) {
				sts = append(sts, st)
			}
		}
	}
	header := []string{"family", "k"}
	for _, st := range sts {
		header = append(header, htmltable.Esc(string(st)))
	}
	cell := func(s Summary) string {
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
			name := htmltable.Esc(f)
			if s, ok := Find(fam, "", f, StrategyTop, k, cl); ok && s.Inits > 1 {
				name += fmt.Sprintf(" <small>(%d inits)</small>", s.Inits)
			}
			row := []string{name, fmt.Sprint(k)}
			for _, st := range sts {
				family := f
				if st == StrategyRandom {
					family = RandomFamily(fam, f, cl)
				}
				if s, ok := Find(fam, "", family, st, k, cl); ok {
					row = append(row, cell(s))
				} else {
					row = append(row, "")
				}
			}
			rows = append(rows, row)
		}
	}
	return htmltable.Render("q1", header, rows)
}
