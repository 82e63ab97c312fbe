package q1

import (
	"github.com/levstudy/levstudy/levlib/stats"
)

// Effect is the effect of a selection strategy against random rows, for a family, a classifier and
// k: the strategy's accuracy minus the random baseline's, with a 95% interval. The samples are the
// family summaries' values (ByFamily: the inits' means, or the seeds of a single init) and the random
// baseline's seeds; the interval is Welch's t (stats.WelchDiff), or, for a deterministic fit (one
// value: a fixed selection and a classifier without a seed), the constant minus random's t interval
// (stats.ConstDiff). Sign() of Test says below (−1), above (+1) or indistinguishable (0) at 95%.
type Effect struct {
	Family     string     `json:"family"`
	Classifier Classifier `json:"classifier"`
	K          int        `json:"k"`
	Strategy   Strategy   `json:"strategy"` // the strategy compared with random
	Test       stats.Diff `json:"acc_test"`
	Train      stats.Diff `json:"acc_train"`
	// Gap is the strategy's gap between accuracy on its own rows and on the evaluation training rows
	// it was not trained on (acc_selected − acc_rest) minus random rows' gap: positive when the
	// selected rows are easier to fit than the rest beyond what any k rows are (training on few rows
	// fits them better than the rest). Nil where some fit has no rest (trained on every evaluation row).
	Gap *stats.Diff `json:"gap_selected_rest"`
}

// Effects returns the effect of every non-random strategy against random, per family, classifier
// and k, in the order of ByFamily. Cells whose random baseline has fewer than 2 values are left out.
func (r *Result) Effects() []Effect {
	fam := r.ByFamily()
	var out []Effect
	for _, s := range fam {
		if s.Strategy == StrategyRandom || s.Family == AnyBasis {
			continue
		}
		rnd, ok := Find(fam, "", randomFamily(fam, s.Family, s.Classifier), StrategyRandom, s.K, s.Classifier)
		if !ok {
			continue
		}
		te, err1 := diff(s.test, rnd.test)
		tr, err2 := diff(s.train, rnd.train)
		if err1 != nil || err2 != nil {
			continue
		}
		e := Effect{Family: s.Family, Classifier: s.Classifier, K: s.K, Strategy: s.Strategy, Test: te, Train: tr}
		if s.rest != nil && rnd.rest != nil {
			if gap, err := diff(sub(s.selected, s.rest), sub(rnd.selected, rnd.rest)); err == nil {
				e.Gap = &gap
			}
		}
		out = append(out, e)
	}
	return out
}

// diff is a − b by Welch's interval, or ConstDiff when a is a single (deterministic) value.
func diff(a, b []float64) (stats.Diff, error) {
	if len(a) == 1 {
		return stats.ConstDiff(a[0], b)
	}
	return stats.WelchDiff(a, b)
}

// sub returns a − b elementwise.
func sub(a, b []float64) []float64 {
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d
}
