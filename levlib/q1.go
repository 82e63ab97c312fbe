package levlib

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"
)

// Classifier names a model trained on the selected rows.
type Classifier string

// The classifiers of Question 1.
const (
	// ClassifierLinear is multinomial logistic regression on the basis features (FitLinear).
	ClassifierLinear Classifier = "linear"
	// ClassifierRidge is ridge least squares to one-hot targets on the basis features (FitRidge).
	ClassifierRidge Classifier = "ridge"
	// ClassifierCNN is MnistConvNet trained from scratch on the selected images (group A recipe).
	ClassifierCNN Classifier = "cnn"
)

// ParseClassifier parses a classifier name.
func ParseClassifier(s string) (Classifier, error) {
	switch c := Classifier(s); c {
	case ClassifierLinear, ClassifierRidge, ClassifierCNN:
		return c, nil
	}
	return "", fmt.Errorf("unknown classifier %q (want linear, ridge or cnn)", s)
}

// DefaultQ1K is the default k grid of Question 1.
var DefaultQ1K = []int{100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000}

// Q1Options configures Q1. The zero value runs every strategy with the linear classifier over
// DefaultQ1K, 5 random seeds, leverage computed on the training rows.
type Q1Options struct {
	Classifiers []Classifier
	K           []int
	Strategies  []Strategy
	// RandomSeeds is how many seeds the seeded strategies (random, sampled) run: seeds 1..RandomSeeds
	// for random, seed 1 for sampled unless SampledSeeds is set. 0 means 5.
	RandomSeeds, SampledSeeds int
	// CombinedLeverage selects by leverage computed on all rows (train and test, as the seed's figures
	// did) restricted to the training rows, instead of leverage of the training rows alone.
	CombinedLeverage bool
	Linear           LinearOptions
	Ridge            float64
	// CNN is the recipe of the cnn classifier (Group and Seed are set per fit; zero: 5 epochs).
	CNN CNNTrainOptions
	// OnRow, if not nil, is called with each finished row.
	OnRow func(Q1Row) `json:"-"`
}

// Q1Row is one fit: a basis, a strategy, k, a seed and a classifier, with its accuracies.
type Q1Row struct {
	Basis       string     `json:"basis"`
	Strategy    Strategy   `json:"strategy"`
	K           int        `json:"k"`
	Seed        uint64     `json:"seed"`
	Classifier  Classifier `json:"classifier"`
	AccSelected float64    `json:"acc_selected"` // on the selected rows ("training accuracy")
	AccTrain    float64    `json:"acc_train"`    // on all training rows
	AccTest     float64    `json:"acc_test"`     // on the test rows
	Seconds     float64    `json:"seconds"`
	// ClassCounts is the class histogram of the selected rows.
	ClassCounts [10]int `json:"class_counts"`
	// Cached reports that the fit came from the cache.
	Cached bool `json:"-"`
}

// Q1Result holds all fits.
type Q1Result struct {
	Rows      []Q1Row           `json:"rows"`
	Protocol  map[string]string `json:"protocol"`
	Ranks     map[string]int    `json:"ranks"`
	Warnings  []string          `json:"warnings,omitempty"`
	TrainRows int               `json:"train_rows"`
	TestRows  int               `json:"test_rows"`
}

// Q1 answers Question 1 on the workspace's data: for each basis, strategy, k and seed, select k
// training rows by leverage, fit each classifier on them alone, and measure accuracy on the selected
// rows, all training rows and the test rows. Test rows are never selected nor trained on. Fits are
// cached, so re-running with the same arguments only computes what is new.
func Q1(ctx context.Context, ws *Workspace, bases []BasisSpec, opts Q1Options) (*Q1Result, error) {
	if len(opts.Classifiers) == 0 {
		opts.Classifiers = []Classifier{ClassifierLinear}
	}
	if len(opts.K) == 0 {
		opts.K = DefaultQ1K
	}
	if len(opts.Strategies) == 0 {
		opts.Strategies = Strategies
	}
	if opts.RandomSeeds == 0 {
		opts.RandomSeeds = 5
	}
	if opts.SampledSeeds == 0 {
		opts.SampledSeeds = 1
	}
	ds := ws.Data
	nTrain := ds.NumTrain
	if nTrain == 0 || nTrain == ds.N() {
		return nil, fmt.Errorf("q1 needs training and test rows; the data has %d training of %d rows (raise -rows above 60000)", nTrain, ds.N())
	}
	for _, k := range opts.K {
		if k < 1 || k > nTrain {
			return nil, fmt.Errorf("q1: k = %d outside 1..%d (the training rows)", k, nTrain)
		}
	}
	res := &Q1Result{Ranks: map[string]int{}, TrainRows: nTrain, TestRows: ds.N() - nTrain, Protocol: map[string]string{
		"selection":   "among the training rows only; test rows are never selected or trained on",
		"leverage":    "exact (rank-aware) leverage of the training rows' basis matrix",
		"linear":      "softmax regression on features standardized over the selected rows; full-batch Adam, lr 0.01, 300 steps, L2 1e-4",
		"ridge":       "least squares to one-hot targets on standardized features, ridge λ = 1e-3, intercept unpenalized",
		"cnn":         "MnistConvNet from scratch on the selected images, cross-entropy, Adam 1e-3, batch 64",
		"ties":        "equal scores are ordered by row index",
		"random":      fmt.Sprintf("seeds 1..%d", opts.RandomSeeds),
		"accuracy":    "argmax prediction = label; acc_selected on the selected rows, acc_train on all training rows, acc_test on the test rows",
		"balanced":    "top k/10 of each class",
		"sampled":     "leverage-proportional sampling without replacement (Efraimidis–Spirakis)",
		"leverage_on": "training rows",
	}}
	if opts.CombinedLeverage {
		res.Protocol["leverage"] = "exact leverage of all rows (train and test), restricted to the training rows"
		res.Protocol["leverage_on"] = "combined"
	}
	trainLabels := ds.Labels[:nTrain]
	for _, spec := range bases {
		label, _ := BasisLabel(spec)
		x, err := ws.Basis(ctx, spec)
		if err != nil {
			return nil, err
		}
		var lev *LeverageResult
		if opts.CombinedLeverage {
			lev, err = ws.Leverage(ctx, spec, LeverageOptions{})
		} else {
			lev, err = ws.TrainLeverage(ctx, spec, x, LeverageOptions{})
		}
		if err != nil {
			return nil, err
		}
		res.Ranks[label] = lev.Rank
		for _, w := range lev.Warnings {
			res.Warnings = append(res.Warnings, label+": "+w.Error())
		}
		id, err := ws.basisID(spec)
		if err != nil {
			return nil, err
		}
		scores := lev.Scores[:nTrain]
		for _, st := range opts.Strategies {
			seeds := []uint64{0}
			switch st {
			case StrategyRandom:
				seeds = seq(opts.RandomSeeds)
			case StrategySampled:
				seeds = seq(opts.SampledSeeds)
			}
			for _, k := range opts.K {
				for _, seed := range seeds {
					sel, err := Select(scores, trainLabels, st, k, seed)
					if err != nil {
						return nil, fmt.Errorf("basis %s: %w", label, err)
					}
					for _, cl := range opts.Classifiers {
						row, err := q1Fit(ctx, ws, x, id, sel, opts, cl)
						if err != nil {
							return nil, fmt.Errorf("basis %s, %s-%d, seed %d, %s: %w", label, st, k, seed, cl, err)
						}
						row.Basis, row.Strategy, row.K, row.Seed, row.Classifier = label, st, k, seed, cl
						for _, r := range sel {
							row.ClassCounts[ds.Labels[r]]++
						}
						res.Rows = append(res.Rows, row)
						if opts.OnRow != nil {
							opts.OnRow(row)
						}
					}
				}
			}
		}
	}
	return res, nil
}

func seq(n int) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// q1Fit fits one classifier on the selected rows (from the cache when possible) and measures it.
func q1Fit(ctx context.Context, ws *Workspace, x *Matrix, basisID string, sel []int, opts Q1Options, cl Classifier) (Q1Row, error) {
	ds := ws.Data
	nTrain := ds.NumTrain
	h := keyHash(fmt.Sprint(sel))
	var cfg string
	switch cl {
	case ClassifierLinear:
		cfg = fmt.Sprintf("%+v", opts.Linear)
	case ClassifierRidge:
		cfg = fmt.Sprint(opts.Ridge)
	case ClassifierCNN:
		cfg = fmt.Sprintf("epochs=%d batch=%d lr=%g", opts.CNN.Epochs, opts.CNN.BatchSize, opts.CNN.LearningRate)
	}
	key := fmt.Sprintf("q1 %s basis=%s classifier=%s %s selection=%s", dataKey(ds), basisID, cl, cfg, h)
	if m, err := ws.Cache.Load("q1", key, nil); err == nil && m != nil && len(m.Data) == 4 {
		return Q1Row{AccSelected: m.Data[0], AccTrain: m.Data[1], AccTest: m.Data[2], Seconds: m.Data[3], Cached: true}, nil
	} else if err != nil {
		ws.warn(fmt.Errorf("recomputing: %w", err))
	}
	start := time.Now()
	var predict func(lo, hi int) ([]uint8, error)
	switch cl {
	case ClassifierLinear, ClassifierRidge:
		var m *LinearModel
		var err error
		if cl == ClassifierLinear {
			m, err = FitLinear(ctx, ws.Backend, x, sel, ds.Labels, opts.Linear)
		} else {
			m, err = FitRidge(ctx, ws.Backend, x, sel, ds.Labels, opts.Ridge)
		}
		if err != nil {
			return Q1Row{}, err
		}
		predict = func(lo, hi int) ([]uint8, error) { return m.Predict(x, lo, hi), nil }
	case ClassifierCNN:
		sub := ds.Subset(sel)
		r := opts.CNN
		r.Group, r.Seed, r.EvalRows = GroupA, 1, -1
		res, err := TrainCNN(ctx, ws.Backend, sub, r)
		if err != nil {
			return Q1Row{}, err
		}
		predict = func(lo, hi int) ([]uint8, error) {
			out, err := ForwardCNN(ctx, ws.Backend, ds, res.Weights, ForwardOptions{Lo: lo, Hi: hi})
			if err != nil {
				return nil, err
			}
			return out.Predictions(), nil
		}
	default:
		return Q1Row{}, fmt.Errorf("unknown classifier %q", cl)
	}
	all, err := predict(0, ds.N())
	if err != nil {
		return Q1Row{}, err
	}
	row := Q1Row{}
	right := 0
	for _, r := range sel {
		if all[r] == ds.Labels[r] {
			right++
		}
	}
	row.AccSelected = float64(right) / float64(len(sel))
	row.AccTrain = Accuracy(all[:nTrain], ds.Labels[:nTrain])
	row.AccTest = Accuracy(all[nTrain:], ds.Labels[nTrain:])
	row.Seconds = time.Since(start).Seconds()
	if err := ws.Cache.Save("q1", key, &Matrix{Rows: 1, Cols: 4, Data: []float64{row.AccSelected, row.AccTrain, row.AccTest, row.Seconds}}, nil); err != nil {
		ws.warn(fmt.Errorf("not cached: %w", err))
	}
	return row, nil
}

// describe returns the mean, sample standard deviation (0 for one value), min and max of v (not empty).
func describe(v []float64) (mean, sd, lo, hi float64) {
	for _, x := range v {
		mean += x / float64(len(v))
	}
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	if len(v) > 1 {
		sd = math.Sqrt(sd / float64(len(v)-1))
	} else {
		sd = 0
	}
	return mean, sd, slices.Min(v), slices.Max(v)
}

// Subset returns a dataset of the given rows, all counted as training rows (for training a CNN on a
// selection).
func (d *Dataset) Subset(rows []int) *Dataset {
	s := &Dataset{Pixels: make([]byte, 0, len(rows)*ImagePixels), Labels: make([]uint8, 0, len(rows)), NumTrain: len(rows), SHA256: d.SHA256}
	for _, r := range rows {
		s.Pixels = append(s.Pixels, d.Pixels[r*ImagePixels:(r+1)*ImagePixels]...)
		s.Labels = append(s.Labels, d.Labels[r])
	}
	return s
}

// Predictions returns the argmax digit of each row's logits.
func (o *CNNOutputs) Predictions() []uint8 {
	n := len(o.Logits) / 10
	p := make([]uint8, n)
	for i := range p {
		l := o.Logits[10*i : 10*i+10]
		best := 0
		for k := 1; k < 10; k++ {
			if l[k] > l[best] {
				best = k
			}
		}
		p[i] = uint8(best)
	}
	return p
}

// Q1Summary aggregates seeded rows: per (basis, strategy, k, classifier), the mean, sd, min and max of
// the test accuracy over seeds.
type Q1Summary struct {
	Basis      string     `json:"basis"`
	Strategy   Strategy   `json:"strategy"`
	K          int        `json:"k"`
	Classifier Classifier `json:"classifier"`
	Seeds      int        `json:"seeds"`
	Mean       float64    `json:"mean_acc_test"`
	SD         float64    `json:"sd_acc_test"`
	Min        float64    `json:"min_acc_test"`
	Max        float64    `json:"max_acc_test"`
}

// Summarize groups the rows over seeds.
func (r *Q1Result) Summarize() []Q1Summary {
	type key struct {
		b  string
		s  Strategy
		k  int
		cl Classifier
	}
	var order []key
	vals := map[key][]float64{}
	for _, row := range r.Rows {
		k := key{row.Basis, row.Strategy, row.K, row.Classifier}
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = append(vals[k], row.AccTest)
	}
	out := make([]Q1Summary, 0, len(order))
	for _, k := range order {
		v := vals[k]
		s := Q1Summary{Basis: k.b, Strategy: k.s, K: k.k, Classifier: k.cl, Seeds: len(v)}
		s.Mean, s.SD, s.Min, s.Max = describe(v)
		out = append(out, s)
	}
	return out
}
