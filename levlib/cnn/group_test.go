package cnn_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// TestTrainGroupMatchesSolo trains five networks together (their own seeds and row sets of two sizes,
// so two graphs; MaxModels 2 splits them further) for 12 steps of batch 64 (3 epochs of 200 rows,
// batches of 64, 64, 64 and 8; 4 epochs of 130 rows, batches of 64, 64 and 2), and requires every network to have bitwise the weights Train
// gives it alone on ds.Subset of its rows: the tolerance is zero because the group computes every
// product with the kernel the network alone uses, and every elementwise operation in the same float32
// order (TestGroupStepperMatchesColStepper checks the step itself). Group C returns the initial weights.
func TestTrainGroupMatchesSolo(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	ctx := context.Background()
	var fits []cnn.GroupFit
	for i, k := range []int{200, 130, 200, 200, 130} {
		fits = append(fits, cnn.GroupFit{Seed: uint64(i + 3), Rows: rand.New(rand.NewPCG(uint64(i), 9)).Perm(60000)[:k]})
	}
	for _, g := range []cnn.Group{cnn.GroupA, cnn.GroupB, cnn.GroupC} {
		opts := cnn.GroupOptions{Group: g, Steps: 12, MaxModels: 2}
		var last progress.Report
		opts.Progress = func(p progress.Report) { last = p }
		group, err := cnn.TrainGroup(ctx, be, ds, fits, opts)
		if err != nil {
			t.Fatal(err)
		}
		if g != cnn.GroupC && (last.Done != 36 || last.Total != 36) {
			t.Errorf("group %c: last progress %+v, want 36 of 36 (3 graphs of 12 steps)", g, last)
		}
		for i, f := range fits {
			if g == cnn.GroupB && i > 1 {
				break // group B: two networks suffice
			}
			solo, err := cnn.Train(ctx, be, ds.Subset(f.Rows), cnn.TrainOptions{Group: g, Seed: f.Seed, Steps: 12, EvalRows: -1})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := group[i].SHA256(), solo.Weights.SHA256(); got != want {
				t.Errorf("group %c, network %d (seed %d, %d rows): weights differ from TrainCNN's alone", g, i, f.Seed, len(f.Rows))
			}
		}
	}
}

// TestTrainGroupErrors checks the errors for bad input and that a cancelled context stops training.
func TestTrainGroupErrors(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 300)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	ctx := context.Background()
	ok := []cnn.GroupFit{{Seed: 1, Rows: []int{0, 1, 2}}}
	for _, c := range []struct {
		name string
		fits []cnn.GroupFit
		opts cnn.GroupOptions
	}{
		{"no networks", nil, cnn.GroupOptions{Group: cnn.GroupA}},
		{"no rows", []cnn.GroupFit{{Seed: 1}}, cnn.GroupOptions{Group: cnn.GroupA}},
		{"row outside", []cnn.GroupFit{{Seed: 1, Rows: []int{5, ds.N()}}}, cnn.GroupOptions{Group: cnn.GroupA}},
		{"unknown group", ok, cnn.GroupOptions{Group: 'D'}},
		{"bad batch", ok, cnn.GroupOptions{Group: cnn.GroupA, BatchSize: -1}},
		{"bad steps", ok, cnn.GroupOptions{Group: cnn.GroupA, Steps: -2}},
	} {
		if _, err := cnn.TrainGroup(ctx, be, ds, c.fits, c.opts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	opts := cnn.GroupOptions{Group: cnn.GroupA, Steps: 100, Progress: func(p progress.Report) {
		if p.Done == 2 {
			cancel()
		}
	}}
	fits := []cnn.GroupFit{{Seed: 1, Rows: []int{0, 1, 2, 3}}, {Seed: 2, Rows: []int{4, 5, 6, 7}}}
	if _, err := cnn.TrainGroup(cctx, be, ds, fits, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}

// TestPredictGroup predicts 500 scattered rows with five trained networks (passes of two) and requires
// each network's predictions to equal Forward's on ds.Subset(rows) (the logits are bitwise equal, see
// TestGroupForwardMatchesForwardCNN); then the errors.
func TestPredictGroup(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	ctx := context.Background()
	var fits []cnn.GroupFit
	for i := 0; i < 5; i++ {
		fits = append(fits, cnn.GroupFit{Seed: uint64(i + 1), Rows: rand.New(rand.NewPCG(uint64(i), 4)).Perm(60000)[:128]})
	}
	ws, err := cnn.TrainGroup(ctx, be, ds, fits, cnn.GroupOptions{Group: cnn.GroupA, Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	rows := rand.New(rand.NewPCG(7, 7)).Perm(ds.N())[:500]
	passes := 0
	pred, err := cnn.PredictGroup(ctx, be, ds, ws, rows, cnn.EvalOptions{MaxModels: 2, Progress: func(progress.Report) { passes++ }})
	if err != nil {
		t.Fatal(err)
	}
	if passes != 12 { // 3 groups of networks × 4 batches
		t.Errorf("%d progress reports, want 12", passes)
	}
	for i, w := range ws {
		out, err := cnn.Forward(ctx, be, ds.Subset(rows), w, cnn.ForwardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(pred[i], out.Predictions()) {
			t.Errorf("network %d: predictions differ from ForwardCNN's", i)
		}
		t.Logf("network %d: accuracy %.3f", i, mnist.Accuracy(pred[i], ds.Subset(rows).Labels))
	}
	bad := cnn.Init(1)
	bad.Params[2] = bad.Params[2][:5]
	for _, c := range []struct {
		name string
		ws   []*cnn.Weights
		rows []int
	}{
		{"no networks", nil, rows},
		{"nil weights", []*cnn.Weights{nil}, rows},
		{"bad weights", []*cnn.Weights{bad}, rows},
		{"no rows", ws, nil},
		{"row outside", ws, []int{0, ds.N()}},
	} {
		if _, err := cnn.PredictGroup(ctx, be, ds, c.ws, c.rows, cnn.EvalOptions{}); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
