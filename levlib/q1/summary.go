package q1

import (
	"cmp"
	"slices"

	"github.com/levstudy/levstudy/levlib/internal/xslices"
)

// Stat summarizes values: their count, mean, sample standard deviation (0 for one value), minimum and
// maximum.
type Stat struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// NewStat summarizes v (the zero Stat for none).
func NewStat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	s := Stat{N: len(v)}
	s.Mean, s.SD, s.Min, s.Max = xslices.Describe(v)
	return s
}

// Summary aggregates Question 1's fits of one cell: a basis (or a family), a strategy, k and a
// classifier, over the random seeds (Seeds) and, for a family, over its inits (Inits; per-init means
// first). Test, Train and Selected summarize acc_test, acc_train and acc_selected.
type Summary struct {
	Basis      string     `json:"basis,omitempty"`
	Family     string     `json:"family"`
	Strategy   Strategy   `json:"strategy"`
	K          int        `json:"k"`
	Classifier Classifier `json:"classifier"`
	Seeds      int        `json:"seeds"`
	Inits      int        `json:"inits,omitempty"`
	Test       Stat       `json:"acc_test"`
	Train      Stat       `json:"acc_train"`
	Selected   Stat       `json:"acc_selected"`
}

type q1Cell struct {
	basis, family string
	st            Strategy
	k             int
	cl            Classifier
}

// Summarize groups the rows over seeds: one summary per basis, strategy, k and classifier, in the order
// the rows came.
func (r *Result) Summarize() []Summary {
	var order []q1Cell
	rows := map[q1Cell][]Row{}
	for _, row := range r.Rows {
		c := q1Cell{row.Basis, row.Family, row.Strategy, row.K, row.Classifier}
		if _, ok := rows[c]; !ok {
			order = append(order, c)
		}
		rows[c] = append(rows[c], row)
	}
	out := make([]Summary, 0, len(order))
	for _, c := range order {
		out = append(out, summarizeRows(c, rows[c]))
	}
	return out
}

func summarizeRows(c q1Cell, rows []Row) Summary {
	var te, tr, se []float64
	for _, r := range rows {
		te, tr, se = append(te, r.AccTest), append(tr, r.AccTrain), append(se, r.AccSelected)
	}
	return Summary{Basis: c.basis, Family: c.family, Strategy: c.st, K: c.k, Classifier: c.cl, Seeds: len(rows),
		Test: NewStat(te), Train: NewStat(tr), Selected: NewStat(se)}
}

// ByFamily groups the per-basis summaries over the inits of each family: Test.Mean is the mean over
// inits of their seed means, Test.Min and Test.Max the range over inits (for the random baseline
// fitted once, family AnyBasis, the range over seeds).
func (r *Result) ByFamily() []Summary {
	type cell struct {
		family string
		st     Strategy
		k      int
		cl     Classifier
	}
	var order []cell
	per := map[cell][]Summary{}
	for _, s := range r.Summarize() {
		c := cell{s.Family, s.Strategy, s.K, s.Classifier}
		if _, ok := per[c]; !ok {
			order = append(order, c)
		}
		per[c] = append(per[c], s)
	}
	out := make([]Summary, 0, len(order))
	for _, c := range order {
		ss := per[c]
		if c.family == AnyBasis {
			s := ss[0]
			s.Basis = ""
			out = append(out, s)
			continue
		}
		var te, tr, se []float64
		seeds := 0
		for _, s := range ss {
			te, tr, se = append(te, s.Test.Mean), append(tr, s.Train.Mean), append(se, s.Selected.Mean)
			seeds = max(seeds, s.Seeds)
		}
		out = append(out, Summary{Family: c.family, Strategy: c.st, K: c.k, Classifier: c.cl, Seeds: seeds, Inits: len(ss),
			Test: NewStat(te), Train: NewStat(tr), Selected: NewStat(se)})
	}
	return out
}

// Find returns the summary of a cell from sums (basis "" matches family summaries), and whether it is
// there.
func Find(sums []Summary, basis, family string, st Strategy, k int, cl Classifier) (Summary, bool) {
	for _, s := range sums {
		if s.Basis == basis && (family == "" || s.Family == family) && s.Strategy == st && s.K == k && s.Classifier == cl {
			return s, true
		}
	}
	return Summary{}, false
}

// Axes returns the classifiers, families (in first-seen order, AnyBasis last) and k values of sums.
func Axes(sums []Summary) (cls []Classifier, families []string, ks []int) {
	for _, s := range sums {
		if !slices.Contains(cls, s.Classifier) {
			cls = append(cls, s.Classifier)
		}
		if s.Family != AnyBasis && !slices.Contains(families, s.Family) {
			families = append(families, s.Family)
		}
		if !slices.Contains(ks, s.K) {
			ks = append(ks, s.K)
		}
	}
	slices.SortFunc(cls, func(a, b Classifier) int {
		return cmp.Compare(slices.Index(classifiers, a), slices.Index(classifiers, b))
	})
	slices.Sort(ks)
	return cls, families, ks
}

// RandomFamily is the family under which the random baseline of family f and classifier cl is
// summarized: f itself where the random rows were fitted per basis (the probe, whose input is the
// basis's own features), else AnyBasis (fitted once for every basis).
func RandomFamily(fam []Summary, f string, cl Classifier) string {
	for _, s := range fam {
		if s.Family == f && s.Classifier == cl && s.Strategy == StrategyRandom {
			return f
		}
	}
	return AnyBasis
}
