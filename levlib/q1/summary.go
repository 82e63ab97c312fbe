package q1

import (
	"cmp"
	"slices"

	"github.com/levstudy/levstudy/levlib/stats"
)

// What a summary's values are.
const (
	OverSeeds = "seeds" // one value per seed of one basis
	OverInits = "inits" // one value per init of a family: that init's mean over its seeds
)

// Summary aggregates Question 1's fits of one cell: a basis (or a family), a strategy, k and a
// classifier. For a basis the values are its fits over seeds (Over = OverSeeds); for a family with
// several inits they are the inits' means over seeds (OverInits), so that the interval reflects how
// much the choice of init matters; a family of one init is summarized over seeds. Test, Train and
// Selected summarize acc_test, acc_train and acc_selected, each with a 95% Student-t interval of the
// mean (stats.Describe; none when there is one value: a deterministic fit).
type Summary struct {
	Basis      string     `json:"basis,omitempty"`
	Family     string     `json:"family"`
	Strategy   Strategy   `json:"strategy"`
	K          int        `json:"k"`
	Classifier Classifier `json:"classifier"`
	// Seeds is the number of fits per basis; Inits the number of bases of a family summary.
	Seeds    int           `json:"seeds"`
	Inits    int           `json:"inits,omitempty"`
	Over     string        `json:"over"`
	Test     stats.Summary `json:"acc_test"`
	Train    stats.Summary `json:"acc_train"`
	Selected stats.Summary `json:"acc_selected"`
	// test, train, selected and rest (acc_rest; nil when a fit has none) are the values summarized, for
	// the effect sizes.
	test, train, selected, rest []float64
}

type cellKey struct {
	basis, family string
	st            Strategy
	k             int
	cl            Classifier
}

// describe summarizes values that are finite by construction (accuracies).
func describe(v []float64) stats.Summary {
	s, _ := stats.Describe(v)
	return s
}

// Summarize groups the rows over seeds: one summary per basis, strategy, k and classifier, in the order
// the rows came.
func (r *Result) Summarize() []Summary {
	var order []cellKey
	rows := map[cellKey][]Row{}
	for _, row := range r.Rows {
		c := cellKey{row.Basis, row.Family, row.Strategy, row.K, row.Classifier}
		if _, ok := rows[c]; !ok {
			order = append(order, c)
		}
		rows[c] = append(rows[c], row)
	}
	out := make([]Summary, 0, len(order))
	for _, c := range order {
		var te, tr, se, re []float64
		restAll := true
		for _, row := range rows[c] {
			te, tr, se = append(te, row.AccTest), append(tr, row.AccTrain), append(se, row.AccSelected)
			if row.AccRest != nil {
				re = append(re, *row.AccRest)
			}
			restAll = restAll && row.AccRest != nil
		}
		if !restAll {
			re = nil
		}
		out = append(out, Summary{Basis: c.basis, Family: c.family, Strategy: c.st, K: c.k, Classifier: c.cl, Seeds: len(te), Over: OverSeeds,
			Test: describe(te), Train: describe(tr), Selected: describe(se), test: te, train: tr, selected: se, rest: re})
	}
	return out
}

// ByFamily groups the per-basis summaries by family: over the inits' means when a family has several
// inits, over seeds when it has one (the random baseline fitted once, family AnyBasis, is over seeds).
func (r *Result) ByFamily() []Summary {
	type famKey struct {
		family string
		st     Strategy
		k      int
		cl     Classifier
	}
	var order []famKey
	per := map[famKey][]Summary{}
	for _, s := range r.Summarize() {
		c := famKey{s.Family, s.Strategy, s.K, s.Classifier}
		if _, ok := per[c]; !ok {
			order = append(order, c)
		}
		per[c] = append(per[c], s)
	}
	out := make([]Summary, 0, len(order))
	for _, c := range order {
		ss := per[c]
		if len(ss) == 1 {
			s := ss[0]
			s.Basis, s.Inits = "", 1
			if c.family == AnyBasis {
				s.Inits = 0
			}
			out = append(out, s)
			continue
		}
		var te, tr, se, re []float64
		seeds, restAll := 0, true
		for _, s := range ss {
			te, tr, se = append(te, s.Test.Mean), append(tr, s.Train.Mean), append(se, s.Selected.Mean)
			if s.rest != nil {
				re = append(re, describe(s.rest).Mean)
			}
			restAll = restAll && s.rest != nil
			seeds = max(seeds, s.Seeds)
		}
		if !restAll {
			re = nil
		}
		out = append(out, Summary{Family: c.family, Strategy: c.st, K: c.k, Classifier: c.cl, Seeds: seeds, Inits: len(ss), Over: OverInits,
			Test: describe(te), Train: describe(tr), Selected: describe(se), test: te, train: tr, selected: se, rest: re})
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

// axes returns the classifiers, families (in first-seen order, AnyBasis left out) and k values of sums.
func axes(sums []Summary) (cls []Classifier, families []string, ks []int) {
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

// randomFamily is the family under which the random baseline of family f and classifier cl is
// summarized: f itself where the random rows were fitted per basis (the probe, whose input is the
// basis's own features), else AnyBasis (fitted once for every basis).
func randomFamily(fam []Summary, f string, cl Classifier) string {
	for _, s := range fam {
		if s.Family == f && s.Classifier == cl && s.Strategy == StrategyRandom {
			return f
		}
	}
	return AnyBasis
}
