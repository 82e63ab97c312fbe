package q1

import (
	"context"
	"fmt"
	"slices"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/rankstat"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// Row is one fit: a basis, a strategy, k, a seed and a classifier, with its accuracies.
type Row struct {
	Basis       string     `json:"basis"`  // label, or AnyBasis for random selections (except the probe's)
	Family      string     `json:"family"` // raw, relu, A, B, C, … (AnyBasis where Basis is)
	Strategy    Strategy   `json:"strategy"`
	K           int        `json:"k"`
	Seed        uint64     `json:"seed"`
	Classifier  Classifier `json:"classifier"`
	AccSelected float64    `json:"acc_selected"` // on the selected rows
	AccTrain    float64    `json:"acc_train"`    // on the pool's training rows (or TrainEvalRows of them)
	AccRest     *float64   `json:"acc_rest"`     // on those of them not selected; null when none is left
	AccTest     float64    `json:"acc_test"`     // on the pool's test rows
	Seconds     float64    `json:"seconds"`
	// ClassCounts is the class histogram of the selected rows.
	ClassCounts [10]int `json:"class_counts"`
	// Cached reports that the fit came from the cache.
	Cached bool `json:"-"`
}

// Sensitivity compares a basis's top-k by the leverage of all pool rows (test images included) with
// its top-k by the leverage of the training rows alone: Shared is the fraction of the k rows both
// choose.
type Sensitivity struct {
	Basis  string  `json:"basis"`
	K      int     `json:"k"`
	Shared float64 `json:"shared"`
}

// Result holds all fits.
type Result struct {
	Rows []Row `json:"rows"`
	// Seeds is the number of replicates per cell (Options.Seeds).
	Seeds int `json:"seeds"`
	// SelectOn is the leverage the selections came from: SelectOnPool or SelectOnTrain.
	SelectOn string `json:"select_on"`
	// Protocol states, setting by setting, what was done; generated from the options.
	Protocol map[string]string `json:"protocol"`
	Ranks    map[string]int    `json:"ranks"`
	Families map[string]string `json:"families"` // basis label → family
	// Sensitivity is, per basis and k, how much of the top-k the other selection source keeps.
	Sensitivity []Sensitivity `json:"selection_sensitivity"`
	// Ties is, per basis, what rankstat.TieWithin tied in the selection scores.
	Ties      map[string]rankstat.TieInfo `json:"ties"`
	Warnings  []string                    `json:"warnings,omitempty"`
	TrainRows int                         `json:"train_rows"`
	TestRows  int                         `json:"test_rows"`
}

// Classifiers returns the classifiers that r has fits of, in the fixed order.
func (r *Result) Classifiers() []Classifier {
	var out []Classifier
	for _, cl := range classifiers {
		if slices.ContainsFunc(r.Rows, func(row Row) bool { return row.Classifier == cl }) {
			out = append(out, cl)
		}
	}
	return out
}

// Run answers Question 1 on the workspace's data (the study's pool): for each basis, the leverage of the
// pool rows (Options.SelectOn) restricted to the training rows selects k of them by each strategy and
// seed; each classifier is trained on the selected rows alone (Fit) and measured on the selected rows,
// the training rows and the test rows. Test rows are never selected nor trained on. Random selections
// do not depend on the basis and are fitted once (basis AnyBasis), except for the probe, whose input is
// the basis's own features: its random rows are fitted per basis. Every basis's top-k is also compared
// between the two selection sources (Result.Sensitivity). Fits are cached, so a re-run computes only
// what is new.
func Run(ctx context.Context, ws *workspace.Workspace, bases []basis.Spec, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	ds := ws.Data
	if err := opts.check(ds); err != nil {
		return nil, err
	}
	nTrain := ds.NumTrain
	labels := ds.Labels[:nTrain]
	for _, g := range opts.Grids {
		for _, name := range g.Bases {
			if !slices.ContainsFunc(bases, func(s basis.Spec) bool { l, f := basis.Label(s); return l == name || f == name }) {
				return nil, fmt.Errorf("q1: the %s grid names basis %q, which is not among the bases", g.Classifier, name)
			}
		}
	}
	res := &Result{Seeds: opts.Seeds, SelectOn: opts.SelectOn, Ranks: map[string]int{}, Families: map[string]string{}, TrainRows: nTrain,
		TestRows: ds.N() - nTrain, Protocol: opts.protocol(ds)}
	var rows []Row
	var jobs []Job
	add := func(row Row, spec basis.Spec, scores []float64) error {
		sel, err := Select(scores, labels, row.Strategy, row.K, row.Seed)
		if err != nil {
			return fmt.Errorf("basis %s: %w", row.Basis, err)
		}
		for _, i := range sel {
			row.ClassCounts[ds.Labels[i]]++
		}
		rows = append(rows, row)
		jobs = append(jobs, Job{Classifier: row.Classifier, Rows: sel, Seed: row.Seed, Basis: spec})
		return nil
	}
	// Random selections: one set of fits for all bases (the probe's are made per basis).
	for _, g := range opts.Grids {
		if !slices.Contains(g.Strategies, StrategyRandom) || g.Classifier == ClassifierProbe {
			continue
		}
		for _, k := range g.K {
			for _, seed := range opts.seedsOf(StrategyRandom, g.Classifier) {
				row := Row{Basis: AnyBasis, Family: AnyBasis, Strategy: StrategyRandom, K: k, Seed: seed, Classifier: g.Classifier}
				if err := add(row, basis.Spec{}, make([]float64, nTrain)); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, spec := range bases {
		label, family := basis.Label(spec)
		if _, dup := res.Families[label]; dup {
			return nil, fmt.Errorf("q1: basis %s given twice", label)
		}
		scores, err := res.selectionScores(ctx, ws, spec, opts)
		if err != nil {
			return nil, err
		}
		for _, g := range opts.Grids {
			if !g.covers(label, family) {
				continue
			}
			for _, st := range g.Strategies {
				if st == StrategyRandom && g.Classifier != ClassifierProbe {
					continue // fitted once for all bases
				}
				for _, k := range g.K {
					for _, seed := range opts.seedsOf(st, g.Classifier) {
						row := Row{Basis: label, Family: family, Strategy: st, K: k, Seed: seed, Classifier: g.Classifier}
						if err := add(row, spec, scores); err != nil {
							return nil, err
						}
					}
				}
			}
		}
	}
	f, err := newFitter(ctx, ws, opts)
	if err != nil {
		return nil, err
	}
	err = f.fit(jobs, func(i int, a Accuracy) error {
		row := &rows[i]
		row.AccSelected, row.AccTrain, row.AccRest, row.AccTest, row.Seconds, row.Cached = a.Selected, a.Train, a.Rest, a.Test, a.Seconds, a.Cached
		if opts.OnRow != nil {
			opts.OnRow(*row)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Rows = rows // in the order of the sweep, whatever order the fits finished in
	return res, nil
}

// selectionScores returns the scores that select a basis's rows — the leverage of the pool's rows
// (SelectOnPool) or of its training rows alone (SelectOnTrain), restricted to the training rows — and
// records the basis (rank, family, warnings) and how much of each top-k the two sources share.
func (r *Result) selectionScores(ctx context.Context, ws *workspace.Workspace, spec basis.Spec, opts Options) ([]float64, error) {
	label, family := basis.Label(spec)
	nTrain := ws.Data.NumTrain
	pool, err := ws.Leverage(ctx, spec, leverage.Options{})
	if err != nil {
		return nil, err
	}
	r.Ranks[label], r.Families[label] = pool.Rank, family
	for _, w := range pool.Warnings {
		r.Warnings = append(r.Warnings, label+": "+w.Error())
	}
	var ks []int
	for _, g := range opts.Grids {
		for _, k := range g.K {
			if !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
	}
	slices.Sort(ks)
	if d := spec.Dim(); nTrain < d && opts.SelectOn == SelectOnPool {
		// The training rows alone are fewer than the features: their leverage is 1 everywhere.
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: no selection sensitivity: %d training rows < %d features", label, nTrain, d))
		return r.tie(label, pool.Scores[:nTrain], ks)
	}
	train, err := ws.LeverageOfRows(ctx, spec, nTrain, leverage.Options{})
	if err != nil {
		return nil, err
	}
	// Both sides tied as the selections are.
	tiedPool, _, err := rankstat.TieWithin(pool.Scores[:nTrain], rankstat.DefaultTieTolerance)
	if err != nil {
		return nil, fmt.Errorf("basis %s: %w", label, err)
	}
	tiedTrain, _, err := rankstat.TieWithin(train.Scores, rankstat.DefaultTieTolerance)
	if err != nil {
		return nil, fmt.Errorf("basis %s: %w", label, err)
	}
	ov, err := rankstat.TopKOverlap(tiedPool, tiedTrain, ks)
	if err != nil {
		return nil, fmt.Errorf("basis %s: %w", label, err)
	}
	for _, o := range ov {
		r.Sensitivity = append(r.Sensitivity, Sensitivity{Basis: label, K: o.K, Shared: o.Fraction})
	}
	scores := pool.Scores[:nTrain]
	if opts.SelectOn == SelectOnTrain {
		scores = train.Scores
	}
	return r.tie(label, scores, ks)
}

// tie makes scores equal within rankstat.DefaultTieTolerance exact ties (so that top, bottom and
// balanced selections break them by row index, a documented rule, not by rounding), records what it
// tied, and warns where a top-k or bottom-k boundary cuts through tied rows.
func (r *Result) tie(label string, scores []float64, ks []int) ([]float64, error) {
	tied, info, err := rankstat.TieWithin(scores, rankstat.DefaultTieTolerance)
	if err != nil {
		return nil, fmt.Errorf("basis %s: %w", label, err)
	}
	if r.Ties == nil {
		r.Ties = map[string]rankstat.TieInfo{}
	}
	r.Ties[label] = info
	for _, k := range ks {
		for _, b := range []struct {
			name string
			f    func([]float64, int) (rankstat.Boundary, error)
		}{{"top", rankstat.BoundaryTies}, {"bottom", rankstat.BottomBoundaryTies}} {
			bd, err := b.f(tied, k)
			if err == nil && bd.Arbitrary() {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%s: the %s-%d cuts through %d rows tied at the boundary (%d in, %d out; ties go to the smaller row index)",
					label, b.name, k, bd.Inside+bd.Outside, bd.Inside, bd.Outside))
			}
		}
	}
	return tied, nil
}

// progressReport is the progress of the fits.
func progressReport(done, total int) progress.Report {
	return progress.Report{Stage: "Q1 fits", Done: done, Total: total}
}
