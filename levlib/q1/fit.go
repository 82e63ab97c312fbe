package q1

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// Job is one model of Question 1: a classifier trained from scratch on some of the pool's training
// rows, with a seed.
type Job struct {
	Classifier Classifier
	// Rows are the training rows the model is trained on: indices into the workspace's data, each below
	// its NumTrain, distinct.
	Rows []int
	// Seed initializes and shuffles a seeded classifier (cnn); the others ignore it.
	Seed uint64
	// Basis is the probe's input (its own features); the other classifiers read the raw images.
	Basis basis.Spec
}

// Accuracy is a trained model's fraction of correct predictions (argmax = label) on the rows it was
// trained on (Selected), on the evaluation training rows (Train: all the pool's training rows, or
// Options.TrainEvalRows of them) and on all the pool's test rows (Test).
type Accuracy struct {
	Selected float64 `json:"acc_selected"`
	Train    float64 `json:"acc_train"`
	Test     float64 `json:"acc_test"`
	// Seconds is the time the fit took, training and evaluation.
	Seconds float64 `json:"seconds"`
	// Cached reports that the fit came from the cache.
	Cached bool `json:"-"`
}

// Fit trains the model of each job on ws's data and measures it. Fits are cached in ws.Cache by the
// data, the classifier and its options, the seed (for a seeded classifier), the rows, the evaluation
// rows and (probe) the basis: a job asked for again — the same cell of a re-run, a notebook cell run
// twice — is read back, not retrained. Progress goes to ws.Progress.
func Fit(ctx context.Context, ws *workspace.Workspace, opts Options, jobs []Job) ([]Accuracy, error) {
	f, err := newFitter(ctx, ws, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	out := make([]Accuracy, len(jobs))
	err = f.fit(jobs, func(i int, a Accuracy) error {
		out[i] = a
		return nil
	})
	return out, err
}

// fitter fits jobs on one workspace with one set of options.
type fitter struct {
	ctx        context.Context
	ws         *workspace.Workspace
	opts       Options
	evalTrain  []int // the training rows acc_train is measured on
	test       []int // the test rows
	raw        *matrixio.Matrix
	featsID    string           // the basis of feats
	feats      *matrixio.Matrix // the last probe input (jobs come basis by basis: one is kept)
	done, todo int              // for progress
}

func newFitter(ctx context.Context, ws *workspace.Workspace, opts Options) (*fitter, error) {
	ds := ws.Data
	if ds.NumTrain == 0 || ds.NumTrain == ds.N() {
		return nil, fmt.Errorf("q1 needs training and test rows; the data has %d training of %d rows", ds.NumTrain, ds.N())
	}
	f := &fitter{ctx: ctx, ws: ws, opts: opts}
	f.evalTrain = evalTrainRows(ds.NumTrain, opts.TrainEvalRows)
	for i := ds.NumTrain; i < ds.N(); i++ {
		f.test = append(f.test, i)
	}
	return f, nil
}

// evalTrainRows returns the training rows acc_train is measured on: all n, or m of them drawn with
// seed 1 (sorted).
func evalTrainRows(n, m int) []int {
	if m <= 0 || m >= n {
		rows := make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		return rows
	}
	rows := rand.New(rand.NewPCG(1, 1)).Perm(n)[:m]
	slices.Sort(rows)
	return rows
}

// fit fits every job (from the cache when it can) and calls done with each job's index and accuracy,
// in job order.
func (f *fitter) fit(jobs []Job, done func(i int, a Accuracy) error) error {
	f.todo += len(jobs)
	for i, j := range jobs {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		if err := f.check(j); err != nil {
			return err
		}
		key, err := f.key(j)
		if err != nil {
			return err
		}
		var a Accuracy
		ok, err := f.ws.Cache.LoadValue("q1", key, &a)
		if err != nil {
			f.ws.Warning(fmt.Errorf("recomputing: %w", err))
		}
		if ok && err == nil {
			a.Cached = true
		} else {
			if a, err = f.train(j); err != nil {
				return err
			}
			if err := f.ws.Cache.SaveValue("q1", key, a); err != nil {
				f.ws.Warning(fmt.Errorf("not cached: %w", err))
			}
		}
		f.done++
		if f.ws.Progress != nil {
			f.ws.Progress(progressReport(f.done, f.todo))
		}
		if err := done(i, a); err != nil {
			return err
		}
	}
	return nil
}

// check returns an error for a job that cannot be fitted.
func (f *fitter) check(j Job) error {
	if _, err := ParseClassifier(string(j.Classifier)); err != nil {
		return err
	}
	if len(j.Rows) == 0 {
		return fmt.Errorf("q1 fit: no rows to train on")
	}
	seen := make(map[int]bool, len(j.Rows))
	for _, r := range j.Rows {
		if r < 0 || r >= f.ws.Data.NumTrain {
			return fmt.Errorf("q1 fit: row %d is not a training row (0..%d)", r, f.ws.Data.NumTrain-1)
		}
		if seen[r] {
			return fmt.Errorf("q1 fit: row %d given twice", r)
		}
		seen[r] = true
	}
	return nil
}

// key identifies a fit for the cache: the data, the classifier and its options, the seed (seeded
// classifiers), the rows, the evaluation rows and (probe only) the basis.
func (f *fitter) key(j Job) (string, error) {
	var cfg string
	switch j.Classifier {
	case ClassifierLinear, ClassifierProbe:
		cfg = fmt.Sprintf("%+v", f.opts.Linear)
	case ClassifierRidge:
		cfg = fmt.Sprint(f.opts.Ridge)
	case ClassifierCNN:
		c := f.opts.CNN
		cfg = fmt.Sprintf("steps=%d batch=%d lr=%g trainrows=%d impl=%d double-softmax=%t seed=%d", c.Steps, c.BatchSize,
			c.LearningRate, c.TrainRows, c.Impl, c.DoubleSoftmax, j.Seed)
	}
	key := fmt.Sprintf("q1 v3 %s classifier=%s %s selection=%s eval=%s", mnist.DataKey(f.ws.Data), j.Classifier, cfg,
		workspace.KeyHash(fmt.Sprint(j.Rows)), workspace.KeyHash(fmt.Sprint(f.evalTrain)))
	if j.Classifier == ClassifierProbe {
		id, err := f.ws.BasisID(j.Basis)
		if err != nil {
			return "", err
		}
		key += " basis=" + id
	}
	return key, nil
}

// train fits one job and measures it.
func (f *fitter) train(j Job) (Accuracy, error) {
	start := time.Now()
	predict, err := f.model(j)
	if err != nil {
		return Accuracy{}, err
	}
	var a Accuracy
	for _, m := range []struct {
		rows []int
		acc  *float64
	}{{j.Rows, &a.Selected}, {f.evalTrain, &a.Train}, {f.test, &a.Test}} {
		p, err := predict(m.rows)
		if err != nil {
			return Accuracy{}, err
		}
		*m.acc = mnist.Accuracy(p, labelsOf(f.ws.Data, m.rows))
	}
	a.Seconds = time.Since(start).Seconds()
	return a, nil
}

// labelsOf returns the labels of rows of ds.
func labelsOf(ds *mnist.Dataset, rows []int) []uint8 {
	l := make([]uint8, len(rows))
	for i, r := range rows {
		l[i] = ds.Labels[r]
	}
	return l
}

// model trains a job's classifier and returns its predictions for rows of the pool.
func (f *fitter) model(j Job) (func(rows []int) ([]uint8, error), error) {
	ds := f.ws.Data
	switch j.Classifier {
	case ClassifierLinear, ClassifierRidge, ClassifierProbe:
		x, opts := f.raw, f.opts.Linear
		if j.Classifier == ClassifierProbe {
			var err error
			if x, err = f.features(j.Basis); err != nil {
				return nil, err
			}
			opts.Standardize = true
		} else if x == nil {
			f.raw = basis.Raw(ds)
			x = f.raw
		}
		var m *LinearModel
		var err error
		if j.Classifier == ClassifierRidge {
			m, err = FitRidge(f.ctx, f.ws.Backend, x, j.Rows, ds.Labels, f.opts.Ridge, false)
		} else {
			m, err = FitLinear(f.ctx, f.ws.Backend, x, j.Rows, ds.Labels, opts)
		}
		if err != nil {
			return nil, err
		}
		return func(rows []int) ([]uint8, error) { return m.PredictRows(x, rows), nil }, nil
	case ClassifierCNN:
		o := f.opts.CNN
		o.Group, o.Seed, o.EvalRows, o.Epochs = cnn.GroupA, j.Seed, -1, 0
		res, err := cnn.Train(f.ctx, f.ws.Backend, ds.Subset(j.Rows), o)
		if err != nil {
			return nil, err
		}
		return func(rows []int) ([]uint8, error) {
			out, err := cnn.Forward(f.ctx, f.ws.Backend, ds.Subset(rows), res.Weights, cnn.ForwardOptions{})
			if err != nil {
				return nil, err
			}
			return out.Predictions(), nil
		}, nil
	}
	return nil, fmt.Errorf("unknown classifier %q", j.Classifier)
}

// features returns the probe's input: the basis's own features (the last basis's are kept).
func (f *fitter) features(spec basis.Spec) (*matrixio.Matrix, error) {
	if id := spec.String(); id != f.featsID || f.feats == nil {
		m, err := f.ws.Basis(f.ctx, spec)
		if err != nil {
			return nil, err
		}
		f.featsID, f.feats = id, m
	}
	return f.feats, nil
}
