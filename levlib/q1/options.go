package q1

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/stats"
)

// defaultK is the original study's k grid.
var defaultK = []int{1000, 2000, 5000, 10000, 20000, 50000}

// DefaultK returns the original study's k grid, 1,000 … 50,000 (a copy).
func DefaultK() []int {
	return slices.Clone(defaultK)
}

// DefaultSeeds is the number of replicates of every cell when Options.Seeds is 0.
const DefaultSeeds = 5

// Selection sources: which rows the leverage that selects is computed on.
const (
	// SelectOnPool ranks by the leverage of all pool rows, test images included (transductive: the
	// original study's protocol; every basis ranks the same rows).
	SelectOnPool = "pool"
	// SelectOnTrain ranks by the leverage of the training rows alone: the test images play no part in
	// the selection.
	SelectOnTrain = "train"
)

// AnyBasis is the basis label of the random strategy's rows: random selections do not depend on the
// basis, so they are fitted once and shared by every basis.
const AnyBasis = "any"

// Grid is one classifier over a k grid and a set of strategies.
type Grid struct {
	Classifier Classifier `json:"classifier"`
	K          []int      `json:"k"`
	Strategies []Strategy `json:"strategies"` // nil: all
	// Bases, if not empty, limits the grid to these bases, by label or family (basis.Label): an
	// expensive classifier on one init per family, say. An entry that matches no basis is an error.
	Bases []string `json:"bases,omitempty"`
}

// covers reports whether the grid includes the basis of this label and family.
func (g Grid) covers(label, family string) bool {
	return len(g.Bases) == 0 || slices.Contains(g.Bases, label) || slices.Contains(g.Bases, family)
}

// Options configures Run and Fit. The zero value runs the cnn classifier over DefaultK with every
// strategy and 5 seeds, selects by the leverage of all pool rows and measures accuracy on all
// training and test rows.
type Options struct {
	Grids []Grid `json:"grids"`
	// Seeds is the number of replicates of every (basis, strategy, k, classifier) cell, seeds 1..Seeds
	// (0 means DefaultSeeds). Seed s draws the selection of a seeded strategy (random, sampled) and
	// initializes and shuffles a seeded classifier (cnn). A cell with neither — a deterministic
	// selection (top, bottom, balanced) and a deterministic classifier (linear, ridge, probe) — gives
	// the same fit for every seed, so it is fitted once.
	Seeds int `json:"seeds"`
	// SelectOn is SelectOnPool (the default) or SelectOnTrain.
	SelectOn string `json:"select_on"`
	// TrainEvalRows, if positive, measures acc_train on that many of the pool's training rows, drawn
	// once with seed 1, instead of all of them (the quick preset, where evaluating every fit on 60,000
	// images costs more than training it). acc_test is always measured on every test row.
	TrainEvalRows int `json:"train_eval_rows"`
	// Linear configures the linear and probe classifiers, Ridge is the ridge classifier's λ (0: 1e-3).
	Linear LinearOptions `json:"linear"`
	Ridge  float64       `json:"ridge"`
	// CNN is the cnn classifier's recipe (Group and Seed are set per fit). Zero Steps means 500: a
	// budget of steps that does not shrink with k, so small selections are not under-trained.
	CNN cnn.TrainOptions `json:"cnn"`
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
	o.Seeds = cmp.Or(o.Seeds, DefaultSeeds)
	o.SelectOn = cmp.Or(o.SelectOn, SelectOnPool)
	if o.CNN.Steps == 0 {
		o.CNN.Steps = 500
	}
	return o
}

// check returns an error naming the option that cannot be run on ds.
func (o Options) check(ds *mnist.Dataset) error {
	nTrain := ds.NumTrain
	if nTrain == 0 || nTrain == ds.N() {
		return fmt.Errorf("q1 needs training and test rows; the data has %d training of %d rows", nTrain, ds.N())
	}
	for _, g := range o.Grids {
		if _, err := ParseClassifier(string(g.Classifier)); err != nil {
			return fmt.Errorf("q1: %w", err)
		}
		for _, st := range g.Strategies {
			if _, err := ParseStrategy(string(st)); err != nil {
				return fmt.Errorf("q1: %w", err)
			}
		}
		for _, k := range g.K {
			if k < 1 || k > nTrain {
				return fmt.Errorf("q1: k = %d outside 1..%d (the training rows)", k, nTrain)
			}
		}
	}
	if o.Seeds < 2 {
		return fmt.Errorf("q1: %d seeds, want at least 2 (an interval needs two replicates)", o.Seeds)
	}
	if o.SelectOn != SelectOnPool && o.SelectOn != SelectOnTrain {
		return fmt.Errorf("q1: select on %q, want %s or %s", o.SelectOn, SelectOnPool, SelectOnTrain)
	}
	return nil
}

// seedsOf returns the seeds of a cell: 1..Seeds, or only 1 when neither the strategy nor the
// classifier uses its seed.
func (o Options) seedsOf(st Strategy, cl Classifier) []uint64 {
	n := o.Seeds
	if !st.Seeded() && !cl.Seeded() {
		n = 1
	}
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// protocol states the options in words, for the results and the report.
func (o Options) protocol(ds *mnist.Dataset) map[string]string {
	cnnOpts, lin, ridge := o.CNN.WithDefaults(), o.Linear.withDefaults(), cmp.Or(o.Ridge, DefaultRidge)
	precision := "float32"
	if lin.Float64 {
		precision = "float64"
	}
	p := map[string]string{
		"pool": fmt.Sprintf("%d training and %d test rows", ds.NumTrain, ds.N()-ds.NumTrain),
		"selection": "among the training rows only, by the leverage of all pool rows, test images included (transductive, as in the original study); " +
			"test rows are never selected or trained on; scores within 1e-9 are ties, broken by row index",
		"seeds": fmt.Sprintf("seeds 1..%d for every cell: seed s draws the random and sampled selections and initializes and shuffles the cnn classifier; "+
			"a deterministic selection (top, bottom, balanced) with a deterministic classifier (linear, ridge, probe) is the same fit for every seed and is fitted once", o.Seeds),
		"random":   fmt.Sprintf("k training rows uniformly at random, independent of the basis (fitted once, basis %q; per basis for the probe, whose input is the basis's features)", AnyBasis),
		"sampled":  "leverage-proportional sampling without replacement (Efraimidis–Spirakis)",
		"balanced": "the top k/10 of each digit",
		"accuracy": "argmax prediction = label; acc_selected on the selected rows, acc_test on all the pool's test rows, acc_train on the pool's training rows (the selected ones included), acc_rest on those not selected",
		"intervals": fmt.Sprintf("%g%% intervals: a basis's mean over seeds with Student's t; a family's mean over its inits' means with Student's t "+
			"(over seeds when it has one init); differences from random with Welch's t (a deterministic fit against random's t interval)", 100*stats.Confidence),
		"cnn": fmt.Sprintf("MnistConvNet from scratch on the raw images of the selected rows: cross-entropy (one softmax), Adam lr %g, batch %d, %d steps whatever k; "+
			"init and batch order from the seed", cnnOpts.LearningRate, cnnOpts.BatchSize, cnnOpts.Steps),
		"linear": fmt.Sprintf("softmax regression on the raw pixels (/255, centred), full-batch Adam lr %g, %d steps, L2 %g, in %s", lin.LearningRate, lin.Steps, lin.L2, precision),
		"ridge":  fmt.Sprintf("least squares to one-hot targets on the raw pixels (centred), ridge λ = %g, intercept unpenalized", ridge),
		"probe":  "softmax regression on the basis's own features, standardized (deviation floored at a tenth of the mean), as linear otherwise; measures the features, not only the selection",
	}
	if o.SelectOn == SelectOnTrain {
		p["selection"] = "among the training rows only, by the leverage of the training rows alone (the test images play no part); test rows are never selected or trained on; scores within 1e-9 are ties, broken by row index"
	}
	if o.CNN.DoubleSoftmax {
		p["cnn"] = strings.Replace(p["cnn"], "cross-entropy (one softmax)", "the original study's loss (cross-entropy on the softmax of the logits: a softmax twice)", 1)
	}
	if o.TrainEvalRows > 0 && o.TrainEvalRows < ds.NumTrain {
		p["accuracy"] = fmt.Sprintf("argmax prediction = label; acc_selected on the selected rows, acc_test on all %d test rows of the pool, "+
			"acc_train on a subsample of %d of the pool's %d training rows (drawn once with seed 1, the same for every fit; the selected ones included), acc_rest on those of them not selected", ds.N()-ds.NumTrain, o.TrainEvalRows, ds.NumTrain)
	}
	var grids []string
	for _, g := range o.Grids {
		var st []string
		for _, s := range g.Strategies {
			st = append(st, string(s))
		}
		k := make([]string, len(g.K))
		for i, v := range g.K {
			k[i] = fmt.Sprint(v)
		}
		grids = append(grids, fmt.Sprintf("%s: k = %s; %s", g.Classifier, strings.Join(k, ", "), strings.Join(st, ", ")))
	}
	p["grid"] = strings.Join(grids, "; ")
	return p
}
