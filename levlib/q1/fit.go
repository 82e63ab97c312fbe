package q1

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/workspace"
	"gonum.org/v1/gonum/mat"
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
// Options.TrainEvalRows of them, the selected ones included at their share), on the evaluation
// training rows it was not trained on (Rest: nil when it was trained on all of them) and on all the
// pool's test rows (Test).
type Accuracy struct {
	Selected float64  `json:"acc_selected"`
	Train    float64  `json:"acc_train"`
	Rest     *float64 `json:"acc_rest"`
	Test     float64  `json:"acc_test"`
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

// batchJobs is how many uncached jobs are trained together (one batch is one call of the group
// trainers, then one evaluation of all its models): the unit of work that is cached and resumed. The
// cnn trains its networks in graphs of cnn.DefaultGroupModels whatever the batch; the linear classifier
// splits a batch by its own memory bound.
const batchJobs = 16

// fit fits every job — from the cache when it can; the others in batches of jobs of one classifier
// (and, for the probe, one basis) with selections of one size, trained together — and calls done with
// each job's index and accuracy, the cached ones first, each batch as it finishes.
func (f *fitter) fit(jobs []Job, done func(i int, a Accuracy) error) error {
	f.todo += len(jobs)
	keys := make([]string, len(jobs))
	type batchKey struct {
		cl    Classifier
		basis string
		k     int
	}
	var order []batchKey
	pending := map[batchKey][]int{}
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
		keys[i] = key
		var a Accuracy
		ok, err := f.ws.Cache.LoadValue("q1", key, &a)
		if err != nil {
			f.ws.Warning(fmt.Errorf("recomputing: %w", err))
		}
		if ok && err == nil {
			a.Cached = true
			if err := f.finish(i, a, done); err != nil {
				return err
			}
			continue
		}
		bk := batchKey{j.Classifier, "", len(j.Rows)}
		if j.Classifier == ClassifierProbe {
			bk.basis = j.Basis.String()
		}
		if _, seen := pending[bk]; !seen {
			order = append(order, bk)
		}
		pending[bk] = append(pending[bk], i)
	}
	for _, bk := range order {
		idx := pending[bk]
		for lo := 0; lo < len(idx); lo += batchJobs {
			batch := idx[lo:min(lo+batchJobs, len(idx))]
			accs, err := f.train(jobs, batch)
			if err != nil {
				return err
			}
			for n, i := range batch {
				if err := f.ws.Cache.SaveValue("q1", keys[i], accs[n]); err != nil {
					f.ws.Warning(fmt.Errorf("not cached: %w", err))
				}
				if err := f.finish(i, accs[n], done); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// batchProgress returns the progress callback of a batch's training: the steps of its graphs, under a
// stage that says which fits they are, so that a long batch keeps the line alive.
func (f *fitter) batchProgress(cl string, n int) func(progress.Report) {
	if f.ws.Progress == nil {
		return nil
	}
	stage := fmt.Sprintf("Q1 fits %d–%d of %d: training %d %s models together", f.done+1, f.done+n, f.todo, n, cl)
	return func(p progress.Report) {
		f.ws.Progress(progress.Report{Stage: stage, Done: p.Done, Total: p.Total})
	}
}

// finish reports job i done.
func (f *fitter) finish(i int, a Accuracy, done func(i int, a Accuracy) error) error {
	f.done++
	if f.ws.Progress != nil {
		f.ws.Progress(progressReport(f.done, f.todo))
	}
	return done(i, a)
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
	// v4: Accuracy.Rest. The linear and probe keys hold every field of LinearOptions (%+v): adding
	// Float64 when float32 became the default changed them and left the cnn keys as they were.
	key := fmt.Sprintf("q1 v4 %s classifier=%s %s selection=%s eval=%s", mnist.DataKey(f.ws.Data), j.Classifier, cfg,
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

// train fits the jobs of one batch (one classifier and basis, one selection size) and measures each:
// accuracy on its own rows, the evaluation training rows and the test rows (the last two shared by
// every model, predicted together). Seconds is the batch's time shared equally among its jobs.
func (f *fitter) train(jobs []Job, batch []int) ([]Accuracy, error) {
	start := time.Now()
	rows := make([][]int, len(batch))
	for n, i := range batch {
		rows[n] = jobs[i].Rows
	}
	var predict func(rows []int, models []int) ([][]uint8, error) // predictions of some models on rows
	var err error
	switch cl := jobs[batch[0]].Classifier; cl {
	case ClassifierLinear, ClassifierProbe, ClassifierRidge:
		predict, err = f.linearBatch(jobs[batch[0]], rows)
	case ClassifierCNN:
		predict, err = f.cnnBatch(jobs, batch)
	default:
		err = fmt.Errorf("unknown classifier %q", cl)
	}
	if err != nil {
		return nil, err
	}
	all := make([]int, len(batch))
	for n := range all {
		all[n] = n
	}
	shared := slices.Concat(f.evalTrain, f.test)
	sharedPred, err := predict(shared, all)
	if err != nil {
		return nil, err
	}
	accuracy := func(p []uint8, rs []int) float64 {
		return mnist.Accuracy(p, labelsOf(f.ws.Data, rs))
	}
	out := make([]Accuracy, len(batch))
	for n := range batch {
		own, err := predict(rows[n], []int{n})
		if err != nil {
			return nil, err
		}
		nt := len(f.evalTrain)
		out[n] = Accuracy{Selected: accuracy(own[0], rows[n]), Train: accuracy(sharedPred[n][:nt], f.evalTrain),
			Rest: restAccuracy(f.ws.Data, sharedPred[n][:nt], f.evalTrain, rows[n]), Test: accuracy(sharedPred[n][nt:], f.test)}
	}
	secs := time.Since(start).Seconds() / float64(len(batch))
	for n := range out {
		out[n].Seconds = secs
	}
	return out, nil
}

// restAccuracy returns the accuracy of the predictions pred of rows on those rows that are not in
// selected, or nil when every row is.
func restAccuracy(ds *mnist.Dataset, pred []uint8, rows, selected []int) *float64 {
	in := make(map[int]bool, len(selected))
	for _, r := range selected {
		in[r] = true
	}
	var p []uint8
	var rest []int
	for i, r := range rows {
		if !in[r] {
			p, rest = append(p, pred[i]), append(rest, r)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	a := mnist.Accuracy(p, labelsOf(ds, rest))
	return &a
}

// labelsOf returns the labels of rows of ds.
func labelsOf(ds *mnist.Dataset, rows []int) []uint8 {
	l := make([]uint8, len(rows))
	for i, r := range rows {
		l[i] = ds.Labels[r]
	}
	return l
}

// linearBatch fits the linear, probe or ridge models of one batch (j is one of its jobs) and returns a
// function that predicts rows with some of them.
func (f *fitter) linearBatch(j Job, rows [][]int) (func(rows []int, models []int) ([][]uint8, error), error) {
	ds := f.ws.Data
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
	var models []*LinearModel
	if j.Classifier == ClassifierRidge {
		for _, r := range rows {
			m, err := FitRidge(f.ctx, f.ws.Backend, x, r, ds.Labels, f.opts.Ridge, false)
			if err != nil {
				return nil, err
			}
			models = append(models, m)
		}
	} else {
		var err error
		if models, err = FitLinearGroup(f.ctx, f.ws.Backend, x, rows, ds.Labels, LinearGroupOptions{LinearOptions: opts,
			Progress: f.batchProgress(string(j.Classifier), len(rows))}); err != nil {
			return nil, err
		}
	}
	return func(rows []int, which []int) ([][]uint8, error) {
		ms := make([]*LinearModel, len(which))
		for k, n := range which {
			ms[k] = models[n]
		}
		return predictLinear(x, rows, ms), nil
	}, nil
}

// cnnBatch trains the networks of one batch together (cnn.TrainGroup: each as it would be alone) and
// returns a function that predicts rows with some of them (cnn.PredictGroup: the input side once for
// all of them).
func (f *fitter) cnnBatch(jobs []Job, batch []int) (func(rows []int, models []int) ([][]uint8, error), error) {
	o := f.opts.CNN.WithDefaults()
	fits := make([]cnn.GroupFit, len(batch))
	for n, i := range batch {
		fits[n] = cnn.GroupFit{Seed: jobs[i].Seed, Rows: jobs[i].Rows}
	}
	ws, err := cnn.TrainGroup(f.ctx, f.ws.Backend, f.ws.Data, fits, cnn.GroupOptions{Group: cnn.GroupA, Steps: o.Steps, BatchSize: o.BatchSize,
		LearningRate: o.LearningRate, DoubleSoftmax: o.DoubleSoftmax, Progress: f.batchProgress("cnn", len(batch))})
	if err != nil {
		return nil, err
	}
	return func(rows []int, which []int) ([][]uint8, error) {
		sel := make([]*cnn.Weights, len(which))
		for k, n := range which {
			sel[k] = ws[n]
		}
		return cnn.PredictGroup(f.ctx, f.ws.Backend, f.ws.Data, sel, rows, cnn.EvalOptions{})
	}, nil
}

// predictLinear returns each model's predictions for rows of x: products of blocks of the rows (with
// a column of ones) and the models' stacked weights, argmax per model. Blocks of 4,096 rows bound the
// memory (26 MB for 784 features).
func predictLinear(x *matrixio.Matrix, rows []int, models []*LinearModel) [][]uint8 {
	const block = 4096
	d, m := x.Cols, len(models)
	w := mat.NewDense(d+1, 10*m, nil)
	for n, mod := range models {
		for j := 0; j < d; j++ {
			copy(w.RawRowView(j)[10*n:10*n+10], mod.W[10*j:10*j+10])
		}
		copy(w.RawRowView(d)[10*n:10*n+10], mod.B[:])
	}
	out := make([][]uint8, m)
	for n := range out {
		out[n] = make([]uint8, len(rows))
	}
	for lo := 0; lo < len(rows); lo += block {
		hi := min(lo+block, len(rows))
		xs := mat.NewDense(hi-lo, d+1, nil)
		for e, r := range rows[lo:hi] {
			copy(xs.RawRowView(e)[:d], x.Row(r))
			xs.Set(e, d, 1)
		}
		var z mat.Dense
		z.Mul(xs, w)
		for n := range out {
			for e := range hi - lo {
				out[n][lo+e] = uint8(xslices.Argmax(z.RawRowView(e)[10*n : 10*n+10]))
			}
		}
	}
	return out
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
