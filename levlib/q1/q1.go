package q1

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// Classifier names the model Question 1 trains on the selected rows.
type Classifier string

// The classifiers of Question 1. All but ClassifierProbe take a fixed input whatever the basis: the
// basis only chooses the rows.
const (
	// ClassifierCNN is MnistConvNet trained from scratch on the raw images of the selected rows
	// (cross-entropy, Adam, a fixed budget of steps; the default, as in the original study).
	ClassifierCNN Classifier = "cnn"
	// ClassifierLinear is multinomial logistic regression on the raw pixels (FitLinear).
	ClassifierLinear Classifier = "linear"
	// ClassifierRidge is ridge least squares to one-hot targets on the raw pixels (FitRidge).
	ClassifierRidge Classifier = "ridge"
	// ClassifierProbe is logistic regression on the basis's own features, standardized: it measures the
	// features as much as the selection (a CNN trained on every label scores well on any rows).
	ClassifierProbe Classifier = "probe"
)

// classifiers lists the classifiers in a fixed order.
var classifiers = []Classifier{ClassifierCNN, ClassifierLinear, ClassifierRidge, ClassifierProbe}

// ParseClassifier parses a classifier name.
func ParseClassifier(s string) (Classifier, error) {
	if c := Classifier(s); slices.Contains(classifiers, c) {
		return c, nil
	}
	return "", fmt.Errorf("unknown classifier %q (want cnn, linear, ridge or probe)", s)
}

// defaultK is the original study's k grid.
var defaultK = []int{1000, 2000, 5000, 10000, 20000, 50000}

// AnyBasis is the basis label of the random strategy's rows: random selections do not depend on the
// basis, so they are fitted once and shared by every basis.
const AnyBasis = "any"

// Grid is one classifier over a k grid and a set of strategies.
type Grid struct {
	Classifier Classifier `json:"classifier"`
	K          []int      `json:"k"`
	Strategies []Strategy `json:"strategies"` // nil: all
}

// Options configures Run. The zero value runs the cnn classifier over defaultK with every strategy,
// 3 random seeds, accuracy on all training and test rows.
type Options struct {
	Grids []Grid
	// RandomSeeds is how many seeds the random baseline runs (seeds 1..RandomSeeds, 0 means 3);
	// SampledSeeds the same for leverage-proportional sampling (0 means 1). The seed also initializes
	// and shuffles the cnn classifier; deterministic selections (top, bottom, balanced) use seed 1.
	RandomSeeds, SampledSeeds int
	// TrainEvalRows, if positive, measures acc_train on that many training rows drawn once with seed 1
	// instead of all of them (the quick preset, where evaluating every fit on 60,000 images costs more
	// than training it).
	TrainEvalRows int
	// Linear configures the linear and probe classifiers, Ridge is the ridge classifier's λ (0: 1e-3).
	Linear LinearOptions
	Ridge  float64
	// CNN is the cnn classifier's recipe (Group and Seed are set per fit). Zero Steps means 500: a
	// budget of steps that does not shrink with k, so small selections are not under-trained.
	CNN cnn.TrainOptions
	// OnRow, if not nil, is called with each finished row.
	OnRow func(Row) `json:"-"`
}

// withDefaults returns o with its zero fields set. It copies the grids before filling them in, so that
// the caller's options (a study's plan) are never written through.
func (o Options) withDefaults() Options {
	o.Grids = slices.Clone(o.Grids)
	if len(o.Grids) == 0 {
		o.Grids = []Grid{{Classifier: ClassifierCNN}}
	}
	for i := range o.Grids {
		if len(o.Grids[i].Strategies) == 0 {
			o.Grids[i].Strategies = Strategies()
		}
		if len(o.Grids[i].K) == 0 {
			o.Grids[i].K = DefaultK()
		}
	}
	if o.RandomSeeds == 0 {
		o.RandomSeeds = 3
	}
	if o.SampledSeeds == 0 {
		o.SampledSeeds = 1
	}
	if o.CNN.Steps == 0 {
		o.CNN.Steps = 500
	}
	return o
}

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
	AccTest     float64    `json:"acc_test"`     // on the pool's test rows
	Seconds     float64    `json:"seconds"`
	// ClassCounts is the class histogram of the selected rows.
	ClassCounts [10]int `json:"class_counts"`
	// Cached reports that the fit came from the cache.
	Cached bool `json:"-"`
}

// Result holds all fits.
type Result struct {
	Rows []Row `json:"rows"`
	// Protocol states, setting by setting, what was done; generated from the options.
	Protocol  map[string]string `json:"protocol"`
	Ranks     map[string]int    `json:"ranks"`
	Families  map[string]string `json:"families"` // basis label → family
	Warnings  []string          `json:"warnings,omitempty"`
	TrainRows int               `json:"train_rows"`
	TestRows  int               `json:"test_rows"`
}

// Run answers Question 1 on the workspace's data (the study's pool): for each basis, the leverage of all
// pool rows (so every basis ranks the same rows), restricted to the training rows, selects k of them by
// each strategy; each classifier is trained on the selected rows alone and measured on the selected
// rows, the training rows and the test rows. Test rows are never selected nor trained on. Random
// selections do not depend on the basis and are fitted once (basis AnyBasis), except for the probe,
// whose input is the basis's own features: its random rows are fitted per basis. Fits are cached by
// classifier and selection, so a re-run computes only what is new.
func Run(ctx context.Context, ws *workspace.Workspace, bases []basis.Spec, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	ds := ws.Data
	nTrain := ds.NumTrain
	if nTrain == 0 || nTrain == ds.N() {
		return nil, fmt.Errorf("q1 needs training and test rows; the data has %d training of %d rows", nTrain, ds.N())
	}
	for _, g := range opts.Grids {
		for _, k := range g.K {
			if k < 1 || k > nTrain {
				return nil, fmt.Errorf("q1: k = %d outside 1..%d (the training rows)", k, nTrain)
			}
		}
	}
	if opts.RandomSeeds < 1 || opts.SampledSeeds < 1 {
		return nil, fmt.Errorf("q1: %d random and %d sampled seeds, want ≥ 1", opts.RandomSeeds, opts.SampledSeeds)
	}
	res := &Result{Ranks: map[string]int{}, Families: map[string]string{}, TrainRows: nTrain, TestRows: ds.N() - nTrain,
		Protocol: q1Protocol(opts, ds)}
	run := &q1Run{ctx: ctx, ws: ws, opts: opts, res: res, total: q1Fits(opts, len(bases))}
	if err := run.evalRows(); err != nil {
		return nil, err
	}
	// Random selections first: one set of fits for all bases (the probe's input is the basis's own
	// features, so its random fits are made per basis).
	for _, g := range opts.Grids {
		if !slices.Contains(g.Strategies, StrategyRandom) || g.Classifier == ClassifierProbe {
			continue
		}
		for _, k := range g.K {
			for _, seed := range seq(opts.RandomSeeds) {
				sel, err := Select(make([]float64, nTrain), ds.Labels[:nTrain], StrategyRandom, k, seed)
				if err != nil {
					return nil, err
				}
				if err := run.fit(nil, "", AnyBasis, AnyBasis, StrategyRandom, k, seed, sel, g.Classifier); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, spec := range bases {
		if err := run.basis(spec); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// q1Fits counts the fits of a Run call, for its progress reports.
func q1Fits(o Options, bases int) int {
	n := 0
	for _, g := range o.Grids {
		for _, st := range g.Strategies {
			switch st {
			case StrategyRandom:
				n += len(g.K) * o.RandomSeeds
				if g.Classifier == ClassifierProbe {
					n += len(g.K) * o.RandomSeeds * (bases - 1)
				}
			case StrategySampled:
				n += len(g.K) * o.SampledSeeds * bases
			default:
				n += len(g.K) * bases
			}
		}
	}
	return n
}

// q1Protocol states the options in words, for the results and the report.
func q1Protocol(o Options, ds *mnist.Dataset) map[string]string {
	cnn, lin, ridge := o.CNN.WithDefaults(), o.Linear.withDefaults(), cmp.Or(o.Ridge, DefaultRidge)
	p := map[string]string{
		"pool":      fmt.Sprintf("%d training and %d test rows; every basis's leverage is computed on all of them", ds.NumTrain, ds.N()-ds.NumTrain),
		"selection": "among the training rows only, by the leverage of all pool rows; test rows are never selected or trained on; ties by row index",
		"random":    fmt.Sprintf("seeds 1..%d, independent of the basis (fitted once, basis %q; per basis for the probe, whose input is the basis's features)", o.RandomSeeds, AnyBasis),
		"sampled":   fmt.Sprintf("leverage-proportional sampling without replacement (Efraimidis–Spirakis), seeds 1..%d", o.SampledSeeds),
		"balanced":  "the top k/10 of each digit",
		"accuracy":  "argmax prediction = label; acc_selected on the selected rows, acc_train on the training rows, acc_test on the test rows",
		"cnn":       fmt.Sprintf("MnistConvNet from scratch on the raw images of the selected rows: cross-entropy (one softmax), Adam lr %g, batch %d, %d steps whatever k; init and shuffling seeded by the selection seed (1 for top, bottom, balanced)", cnn.LearningRate, cnn.BatchSize, cnn.Steps),
		"linear":    fmt.Sprintf("softmax regression on the raw pixels (/255, centred), full-batch Adam lr %g, %d steps, L2 %g", lin.LearningRate, lin.Steps, lin.L2),
		"ridge":     fmt.Sprintf("least squares to one-hot targets on the raw pixels (centred), ridge λ = %g, intercept unpenalized", ridge),
		"probe":     "softmax regression on the basis's own features, standardized (deviation floored at a tenth of the mean); measures the features, not only the selection",
	}
	if o.CNN.DoubleSoftmax {
		p["cnn"] = strings.Replace(p["cnn"], "cross-entropy (one softmax)", "the original study's loss (cross-entropy on the softmax of the logits: a softmax twice)", 1)
	}
	if o.TrainEvalRows > 0 && o.TrainEvalRows < ds.NumTrain {
		p["accuracy"] += fmt.Sprintf(" (%d of them, drawn once with seed 1)", o.TrainEvalRows)
	}
	var grids []string
	for _, g := range o.Grids {
		var st []string
		for _, s := range g.Strategies {
			st = append(st, string(s))
		}
		grids = append(grids, fmt.Sprintf("%s: k = %s; %s", g.Classifier, joinInts(g.K), strings.Join(st, ", ")))
	}
	p["grid"] = strings.Join(grids, "; ")
	return p
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func seq(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// q1Run is one Run call.
type q1Run struct {
	ctx      context.Context
	ws       *workspace.Workspace
	opts     Options
	res      *Result
	trainIdx []int // the training rows acc_train is measured on
	raw      *matrixio.Matrix
	total    int // fits to make, for progress
}

// evalRows picks the training rows that acc_train is measured on.
func (r *q1Run) evalRows() error {
	n := r.ws.Data.NumTrain
	m := r.opts.TrainEvalRows
	if m <= 0 || m >= n {
		r.trainIdx = xslices.Iota(n)
		return nil
	}
	r.trainIdx = rand.New(rand.NewPCG(1, 1)).Perm(n)[:m]
	sort.Ints(r.trainIdx)
	return nil
}

// basis runs the basis-dependent strategies of every grid for one basis.
func (r *q1Run) basis(spec basis.Spec) error {
	ds := r.ws.Data
	nTrain := ds.NumTrain
	label, family := basis.Label(spec)
	lev, err := r.ws.Leverage(r.ctx, spec, leverage.Options{})
	if err != nil {
		return err
	}
	r.res.Ranks[label] = lev.Rank
	r.res.Families[label] = family
	for _, w := range lev.Warnings {
		r.res.Warnings = append(r.res.Warnings, label+": "+w.Error())
	}
	var feats *matrixio.Matrix // the basis's own features, for the probe only
	var featsID string
	scores := lev.Scores[:nTrain]
	for _, g := range r.opts.Grids {
		if g.Classifier == ClassifierProbe && feats == nil {
			if feats, err = r.ws.Basis(r.ctx, spec); err != nil {
				return err
			}
			if featsID, err = r.ws.BasisID(spec); err != nil {
				return err
			}
		}
		for _, st := range g.Strategies {
			if st == StrategyRandom && g.Classifier != ClassifierProbe {
				continue // fitted once for all bases
			}
			seeds := []uint64{1}
			switch st {
			case StrategySampled:
				seeds = seq(r.opts.SampledSeeds)
			case StrategyRandom:
				seeds = seq(r.opts.RandomSeeds)
			}
			for _, k := range g.K {
				for _, seed := range seeds {
					sel, err := Select(scores, ds.Labels[:nTrain], st, k, seed)
					if err != nil {
						return fmt.Errorf("basis %s: %w", label, err)
					}
					if err := r.fit(feats, featsID, label, family, st, k, seed, sel, g.Classifier); err != nil {
						return fmt.Errorf("basis %s, %s-%d, seed %d, %s: %w", label, st, k, seed, g.Classifier, err)
					}
				}
			}
		}
	}
	return nil
}

// cachedFit is the cache entry of one fit.
type cachedFit struct {
	AccSelected float64 `json:"acc_selected"`
	AccTrain    float64 `json:"acc_train"`
	AccTest     float64 `json:"acc_test"`
	Seconds     float64 `json:"seconds"`
}

// fit fits one classifier on the selected rows (from the cache when possible), measures it and appends
// the row. feats are the basis's features and featsID what determines them (probe only).
func (r *q1Run) fit(feats *matrixio.Matrix, featsID, basis, family string, st Strategy, k int, seed uint64, sel []int, cl Classifier) error {
	ds := r.ws.Data
	row := Row{Basis: basis, Family: family, Strategy: st, K: k, Seed: seed, Classifier: cl}
	for _, i := range sel {
		row.ClassCounts[ds.Labels[i]]++
	}
	key := r.fitKey(featsID, cl, seed, sel)
	var c cachedFit
	if ok, err := r.ws.Cache.LoadValue("q1", key, &c); err == nil && ok {
		row.AccSelected, row.AccTrain, row.AccTest, row.Seconds, row.Cached = c.AccSelected, c.AccTrain, c.AccTest, c.Seconds, true
	} else {
		if err != nil {
			r.ws.Warning(fmt.Errorf("recomputing: %w", err))
		}
		start := time.Now()
		predict, err := r.train(feats, cl, seed, sel)
		if err != nil {
			return err
		}
		if row.AccSelected, row.AccTrain, row.AccTest, err = r.measure(predict, sel); err != nil {
			return err
		}
		row.Seconds = time.Since(start).Seconds()
		c = cachedFit{row.AccSelected, row.AccTrain, row.AccTest, row.Seconds}
		if err := r.ws.Cache.SaveValue("q1", key, c); err != nil {
			r.ws.Warning(fmt.Errorf("not cached: %w", err))
		}
	}
	r.res.Rows = append(r.res.Rows, row)
	if r.opts.OnRow != nil {
		r.opts.OnRow(row)
	}
	if r.ws.Progress != nil {
		r.ws.Progress(progress.Report{Stage: "Q1 fits", Done: len(r.res.Rows), Total: r.total})
	}
	return nil
}

// fitKey identifies a fit for the cache: the data, the classifier and its options, the seed, the
// selection, the rows acc_train is measured on, and (probe only) the basis.
func (r *q1Run) fitKey(featsID string, cl Classifier, seed uint64, sel []int) string {
	var cfg string
	switch cl {
	case ClassifierLinear, ClassifierProbe:
		cfg = fmt.Sprintf("%+v", r.opts.Linear)
	case ClassifierRidge:
		cfg = fmt.Sprint(r.opts.Ridge)
	case ClassifierCNN:
		c := r.opts.CNN
		cfg = fmt.Sprintf("steps=%d batch=%d lr=%g trainrows=%d impl=%d double-softmax=%t seed=%d", c.Steps, c.BatchSize,
			c.LearningRate, c.TrainRows, c.Impl, c.DoubleSoftmax, seed)
	}
	key := fmt.Sprintf("q1 v2 %s classifier=%s %s selection=%s eval=%s", mnist.DataKey(r.ws.Data), cl, cfg, workspace.KeyHash(fmt.Sprint(sel)),
		workspace.KeyHash(fmt.Sprint(len(r.trainIdx), r.opts.TrainEvalRows)))
	if cl == ClassifierProbe {
		key += " basis=" + featsID
	}
	return key
}

// train fits a classifier and returns its predictions for rows of the pool.
func (r *q1Run) train(feats *matrixio.Matrix, cl Classifier, seed uint64, sel []int) (func(rows []int) ([]uint8, error), error) {
	ds := r.ws.Data
	switch cl {
	case ClassifierLinear, ClassifierRidge, ClassifierProbe:
		x := feats
		opts := r.opts.Linear
		if cl != ClassifierProbe {
			if r.raw == nil {
				r.raw = basis.Raw(ds)
			}
			x, opts.Standardize = r.raw, false
		} else {
			opts.Standardize = true
		}
		var m *LinearModel
		var err error
		if cl == ClassifierRidge {
			m, err = FitRidge(r.ctx, r.ws.Backend, x, sel, ds.Labels, r.opts.Ridge, false)
		} else {
			m, err = FitLinear(r.ctx, r.ws.Backend, x, sel, ds.Labels, opts)
		}
		if err != nil {
			return nil, err
		}
		return func(rows []int) ([]uint8, error) { return m.PredictRows(x, rows), nil }, nil
	case ClassifierCNN:
		o := r.opts.CNN
		o.Group, o.Seed, o.EvalRows, o.Epochs = cnn.GroupA, seed, -1, 0
		res, err := cnn.Train(r.ctx, r.ws.Backend, ds.Subset(sel), o)
		if err != nil {
			return nil, err
		}
		return func(rows []int) ([]uint8, error) {
			out, err := cnn.Forward(r.ctx, r.ws.Backend, ds.Subset(rows), res.Weights, cnn.ForwardOptions{})
			if err != nil {
				return nil, err
			}
			return out.Predictions(), nil
		}, nil
	}
	return nil, fmt.Errorf("unknown classifier %q", cl)
}

// measure returns the accuracy on the selected rows, the evaluation training rows and the test rows.
func (r *q1Run) measure(predict func(rows []int) ([]uint8, error), sel []int) (accSel, accTrain, accTest float64, err error) {
	ds := r.ws.Data
	acc := func(rows []int) (float64, error) {
		p, err := predict(rows)
		if err != nil {
			return 0, err
		}
		right := 0
		for i, row := range rows {
			if p[i] == ds.Labels[row] {
				right++
			}
		}
		return float64(right) / float64(len(rows)), nil
	}
	if accSel, err = acc(sel); err != nil {
		return
	}
	if accTrain, err = acc(r.trainIdx); err != nil {
		return
	}
	test := make([]int, ds.N()-ds.NumTrain)
	for i := range test {
		test[i] = ds.NumTrain + i
	}
	accTest, err = acc(test)
	return
}

// Classifiers returns the classifiers in a fixed order (a copy: the caller may change it).
func Classifiers() []Classifier {
	return slices.Clone(classifiers)
}

// DefaultK returns the original study's k grid, 1,000 … 50,000 (a copy).
func DefaultK() []int {
	return slices.Clone(defaultK)
}
