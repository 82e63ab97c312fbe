package cnn

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// TrainOptions configures Train. The zero value (with a Group and Seed) is the original study's
// recipe: 5 epochs over all training rows, batch 64, Adam with learning rate 1e-3.
type TrainOptions struct {
	Group Group `json:"group,omitempty"`
	// Seed is the init seed i of network A_i / B_i / C_i (Init(Seed)); it also seeds the shuffling.
	Seed uint64 `json:"seed,omitempty"`
	// Epochs of training (0 means 5). Group C is not trained.
	Epochs int `json:"epochs"`
	// Steps, if positive, replaces Epochs by a budget of optimizer steps: the rows are visited epoch
	// after epoch (each reshuffled) until Steps batches are done, so that a small training set gets as
	// many updates as a large one (Question 1's fixed budget).
	Steps int `json:"steps,omitempty"`
	// TrainRows limits training to the first TrainRows training images (0: all of ds's training rows).
	TrainRows int `json:"train_rows"`
	// BatchSize (0 means 64) and LearningRate (0 means 1e-3).
	BatchSize    int     `json:"batch_size"`
	LearningRate float64 `json:"learning_rate"`
	// EvalRows is how many test rows measure the accuracy after each epoch (0: all of ds's test rows;
	// negative: none).
	EvalRows int `json:"eval_rows"`
	// DoubleSoftmax trains group A with the original study's loss, CrossEntropyLoss on the softmax of the
	// logits (a softmax twice), to reproduce its numbers; the default is the correct single softmax.
	DoubleSoftmax bool `json:"double_softmax,omitempty"`
	// Impl is the formulation (ConvAuto: HostColumns on the pure-Go backend, Im2Col elsewhere).
	Impl ConvImpl `json:"-"`
	// CheckpointPath, if set, is where the training state is saved after each epoch and every
	// CheckpointEvery (0 means 2 minutes); a run finds it there and resumes.
	CheckpointPath  string        `json:"-"`
	CheckpointEvery time.Duration `json:"-"`
	// progress.Report, if not nil, is called after each step.
	Progress func(progress.Report) `json:"-"`
}

func (o TrainOptions) WithDefaults() TrainOptions {
	if o.Epochs == 0 {
		o.Epochs = 5
	}
	if o.BatchSize == 0 {
		o.BatchSize = 64
	}
	if o.LearningRate == 0 {
		o.LearningRate = 1e-3
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 2 * time.Minute
	}
	return o
}

// EpochStats records one epoch of training.
type EpochStats struct {
	Epoch    int     `json:"epoch"`
	Steps    int     `json:"steps"`     // optimizer steps in the epoch
	Loss     float64 `json:"loss"`      // mean training loss over the epoch's steps
	TestAcc  float64 `json:"test_acc"`  // accuracy (argmax of the 10 outputs) on the evaluation rows; -1 if none
	Seconds  float64 `json:"seconds"`   // training time of the epoch in this process
	ImagesPS float64 `json:"images_ps"` // training throughput
}

// TrainResult is a trained network and its history.
type TrainResult struct {
	Weights *Weights
	History []EpochStats
	// Resumed reports whether training continued from a checkpoint.
	Resumed bool
	// Warnings lists what did not stop training, such as a damaged checkpoint that was discarded.
	Warnings []error
}

// trainCheckpoint is the metadata of a checkpoint file.
type trainCheckpoint struct {
	Key     string       `json:"key"`
	Done    int          `json:"done"` // finished optimizer steps (Adam's t)
	History []EpochStats `json:"history"`
	LossSum float64      `json:"loss_sum"` // of the current epoch's finished steps
}

func (o TrainOptions) Key(ds *mnist.Dataset) string {
	k := fmt.Sprintf("cnn v2 group=%c seed=%d epochs=%d trainrows=%d batch=%d lr=%g %s", o.Group, o.Seed, o.Epochs,
		o.TrainRows, o.BatchSize, o.LearningRate, mnist.DataKey(ds))
	if o.Steps > 0 {
		k += fmt.Sprintf(" steps=%d", o.Steps)
	}
	if o.DoubleSoftmax && o.Group == GroupA {
		k += " double-softmax"
	}
	return k
}

// trainImpl resolves ConvAuto for training.
func trainImpl(b compute.Backend, impl ConvImpl) ConvImpl {
	if impl != ConvAuto {
		return impl
	}
	if gomlxutil.IsGoBackend(b) {
		return HostColumns
	}
	return Im2Col
}

// Train trains MnistConvNet from Init(opts.Seed) on the training rows of ds: group A with
// cross-entropy on the logits, group B with SmoothL1 against one-hot targets (the original code applied
// a softmax before CrossEntropyLoss, a double softmax; group A here does it right unless
// opts.DoubleSoftmax asks for the original's loss, to reproduce its numbers). Group C returns the
// initial weights. Epoch e visits the rows in the order rand.New(rand.NewPCG(seed, e)).Perm(n), in
// batches (the last one smaller); opts.Steps, if set, is the number of batches instead. Each step runs
// forward and backward passes (written out by hand, see cnnBackward and hostcol.go) and Adam's
// update on backend b, with parameters and moments kept on the device (cnnStepper).
//
// With a CheckpointPath the state is saved after each epoch, every CheckpointEvery, and when ctx is
// cancelled; a later call with the same options resumes from it with bit-identical results. A damaged
// checkpoint is discarded with a warning in the result.
func Train(ctx context.Context, b compute.Backend, ds *mnist.Dataset, opts TrainOptions) (*TrainResult, error) {
	opts = opts.WithDefaults()
	if opts.Group != GroupA && opts.Group != GroupB && opts.Group != GroupC {
		return nil, fmt.Errorf("train CNN: unknown group %q", opts.Group)
	}
	w := Init(opts.Seed)
	if opts.Group == GroupC {
		return &TrainResult{Weights: w}, nil
	}
	n := ds.NumTrain
	if opts.TrainRows > 0 {
		n = min(n, opts.TrainRows)
	}
	if n == 0 {
		return nil, errors.New("train CNN: no training rows")
	}
	if opts.BatchSize < 1 || opts.Epochs < 0 || opts.Steps < 0 || opts.LearningRate <= 0 {
		return nil, fmt.Errorf("train CNN: bad options (batch %d, epochs %d, steps %d, lr %g)", opts.BatchSize, opts.Epochs, opts.Steps, opts.LearningRate)
	}
	t := &cnnTraining{ctx: ctx, b: b, ds: ds, opts: opts, n: n, name: fmt.Sprintf("%c%d", opts.Group, opts.Seed), res: &TrainResult{}}
	p, m, v := t.start(w)
	st, err := newCNNStepper(b, trainImpl(b, opts.Impl), lossFor(opts.Group, opts.DoubleSoftmax), p, m, v)
	if err != nil {
		return nil, err
	}
	defer st.close()
	t.st = st
	if err := t.loop(); err != nil {
		return nil, err
	}
	p, _, _, err = st.state()
	if err != nil {
		return nil, err
	}
	t.res.Weights, t.res.History = &Weights{Params: p}, t.ck.History
	return t.res, nil
}

// cnnTraining is the state of one Train call.
type cnnTraining struct {
	ctx      context.Context
	b        compute.Backend
	ds       *mnist.Dataset
	opts     TrainOptions
	n        int
	name     string
	st       cnnStepper
	ck       trainCheckpoint
	res      *TrainResult
	lastSave time.Time
}

// start returns the initial state: the checkpoint's, or w with zero moments.
func (t *cnnTraining) start(w *Weights) (p, m, v [8][]float32) {
	t.ck = trainCheckpoint{Key: t.opts.Key(t.ds)}
	t.lastSave = time.Now()
	if t.opts.CheckpointPath != "" {
		var meta trainCheckpoint
		h, err := readF32Bundle(t.opts.CheckpointPath, &meta)
		switch {
		case err == nil && meta.Key == t.ck.Key && len(h.arrays) == 24:
			for i := 0; i < 8; i++ {
				p[i], m[i], v[i] = h.arrays[i], h.arrays[8+i], h.arrays[16+i]
			}
			t.ck, t.res.Resumed = meta, true
			return p, m, v
		case err == nil || errors.Is(err, fs.ErrNotExist):
			// No checkpoint, or one of another run: start afresh.
		default:
			t.res.Warnings = append(t.res.Warnings, fmt.Errorf("train CNN %s: checkpoint %s is damaged and was discarded (%v); training restarts",
				t.name, t.opts.CheckpointPath, err))
		}
	}
	for i, s := range paramShapes {
		p[i] = append([]float32(nil), w.Params[i]...)
		m[i], v[i] = make([]float32, shapeSize(s)), make([]float32, shapeSize(s))
	}
	return p, m, v
}

// save writes the checkpoint (if any), with the loss sum of the current epoch read off the device.
func (t *cnnTraining) save() error {
	if t.opts.CheckpointPath == "" {
		return nil
	}
	loss, err := t.st.lossSum()
	if err != nil {
		return err
	}
	t.ck.LossSum = loss
	p, m, v, err := t.st.state()
	if err != nil {
		return err
	}
	arrays := make([][]float32, 0, 24)
	names := make([]string, 0, 24)
	shp := make([][]int, 0, 24)
	for k, set := range [][8][]float32{p, m, v} {
		for i, a := range set {
			arrays = append(arrays, a)
			names = append(names, []string{"", "adam.m.", "adam.v."}[k]+paramNames[i])
			shp = append(shp, paramShapes[i])
		}
	}
	t.lastSave = time.Now()
	if err := writeF32Bundle(t.opts.CheckpointPath, names, shp, arrays, t.ck); err != nil {
		return fmt.Errorf("train CNN %s: saving checkpoint: %w", t.name, err)
	}
	return nil
}

// loop runs the remaining steps.
func (t *cnnTraining) loop() error {
	bs := t.opts.BatchSize
	perEpoch := (t.n + bs - 1) / bs
	total := t.opts.Epochs * perEpoch
	if t.opts.Steps > 0 {
		total = t.opts.Steps
	}
	t.st.setLoss(t.ck.LossSum) // resuming inside an epoch: the sum continues from the checkpoint's
	xb := make([]uint8, bs*mnist.ImagePixels)
	yb := make([]uint8, bs)
	var perm []int
	permEpoch := -1
	epochStart, trained := time.Now(), 0
	for t.ck.Done < total {
		if err := t.ctx.Err(); err != nil {
			return errors.Join(err, t.save())
		}
		epoch, pos := t.ck.Done/perEpoch, t.ck.Done%perEpoch
		if epoch != permEpoch {
			perm, permEpoch = rand.New(rand.NewPCG(t.opts.Seed, uint64(epoch))).Perm(t.n), epoch
		}
		rows := perm[pos*bs : min((pos+1)*bs, t.n)]
		for j, r := range rows {
			copy(xb[j*mnist.ImagePixels:(j+1)*mnist.ImagePixels], t.ds.Pixels[r*mnist.ImagePixels:(r+1)*mnist.ImagePixels])
			yb[j] = t.ds.Labels[r]
		}
		c1, c2 := gomlxutil.AdamScalars(t.opts.LearningRate, t.ck.Done+1)
		if err := t.st.step(xb[:len(rows)*mnist.ImagePixels], yb[:len(rows)], c1, c2); err != nil {
			return fmt.Errorf("train CNN %s: %w", t.name, err)
		}
		t.ck.Done++
		trained += len(rows)
		if t.opts.Progress != nil {
			t.opts.Progress(progress.Report{Stage: "train " + t.name, Done: t.ck.Done, Total: total})
		}
		if t.ck.Done%perEpoch == 0 || t.ck.Done == total {
			steps := t.ck.Done - epoch*perEpoch
			if err := t.endEpoch(epoch, steps, time.Since(epochStart), trained); err != nil {
				return err
			}
			epochStart, trained = time.Now(), 0
			continue
		}
		if time.Since(t.lastSave) > t.opts.CheckpointEvery {
			if err := t.save(); err != nil {
				return err
			}
		}
	}
	return nil
}

// endEpoch records an epoch's statistics (loss, test accuracy) and saves a checkpoint.
func (t *cnnTraining) endEpoch(epoch, steps int, took time.Duration, trained int) error {
	loss, err := t.st.lossSum()
	if err != nil {
		return err
	}
	if math.IsNaN(loss) {
		return fmt.Errorf("train CNN %s: loss is NaN in epoch %d", t.name, epoch+1)
	}
	es := EpochStats{Epoch: epoch + 1, Steps: steps, Loss: loss / float64(steps), TestAcc: -1, Seconds: took.Seconds(),
		ImagesPS: float64(trained) / took.Seconds()}
	if t.opts.EvalRows >= 0 && t.ds.N() > t.ds.NumTrain {
		evalN := t.ds.N() - t.ds.NumTrain
		if t.opts.EvalRows > 0 {
			evalN = min(evalN, t.opts.EvalRows)
		}
		p, _, _, err := t.st.state()
		if err != nil {
			return err
		}
		out, err := Forward(t.ctx, t.b, t.ds, &Weights{Params: p}, ForwardOptions{Lo: t.ds.NumTrain, Hi: t.ds.NumTrain + evalN})
		if err != nil {
			return err
		}
		es.TestAcc = out.Accuracy(t.ds)
	}
	t.ck.History = append(t.ck.History, es)
	t.st.setLoss(0)
	return t.save()
}
