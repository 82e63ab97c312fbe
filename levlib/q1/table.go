package q1

import (
	"fmt"
	"html/template"
	"slices"

	"github.com/levstudy/levstudy/levlib/internal/htmltable"
)

// Table pivots Question 1 for one classifier: a row per family and k, a column per strategy, each
// cell the test accuracy (the family summary's mean and, below, its 95% interval: over the inits'
// means, or over seeds for one init) with the training accuracy in grey.
func Table(q *Result, cl Classifier) template.HTML {
	fam := q.ByFamily()
	_, families, _ := axes(fam)
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
		if s.Test.HasCI {
			c += fmt.Sprintf(`<br><small>[%.3f, %.3f] (%d %s)</small>`, s.Test.Lo, s.Test.Hi, s.Test.N, s.Over)
		} else {
			c += `<br><small>one fit</small>`
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
					family = randomFamily(fam, f, cl)
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

// EffectTable tabulates Effects for one classifier: a row per family and k, a column per strategy,
// each cell the difference in test accuracy from random rows with its 95% interval, marked "below" or
// "above" when the interval excludes 0.
func EffectTable(q *Result, cl Classifier) template.HTML {
	var sts []Strategy
	effects := q.Effects()
	for _, st := range strategies {
		for _, e := range effects {
			if e.Classifier == cl && e.Strategy == st && !slices.Contains(sts, st) {
				sts = append(sts, st)
			}
		}
	}
	header := []string{"family", "k"}
	for _, st := range sts {
		header = append(header, htmltable.Esc(string(st))+" − random")
	}
	type rowKey struct {
		family string
		k      int
	}
	var order []rowKey
	cells := map[rowKey]map[Strategy]Effect{}
	for _, e := range effects {
		if e.Classifier != cl {
			continue
		}
		rk := rowKey{e.Family, e.K}
		if cells[rk] == nil {
			cells[rk] = map[Strategy]Effect{}
			order = append(order, rk)
		}
		cells[rk][e.Strategy] = e
	}
	var rows [][]string
	for _, rk := range order {
		row := []string{htmltable.Esc(rk.family), fmt.Sprint(rk.k)}
		for _, st := range sts {
			e, ok := cells[rk][st]
			if !ok {
				row = append(row, "")
				continue
			}
			verdict := map[int]string{-1: " <b>below</b>", 0: "", 1: " <b>above</b>"}[e.Test.Sign()]
			row = append(row, fmt.Sprintf("%+.3f%s<br><small>[%+.3f, %+.3f]</small>", e.Test.Estimate, verdict, e.Test.Lo, e.Test.Hi))
		}
		rows = append(rows, row)
	}
	return htmltable.Render("effects", header, rows)
}
