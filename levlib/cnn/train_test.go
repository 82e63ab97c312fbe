package cnn_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// TestTrainCNNLearns trains group A and group B networks for 50 steps (3200 training images, batch 64)
// and checks test accuracy on 1000 test images. Measured on the pure-Go backend: A 0.898, B 0.890;
// asserted with margin: ≥ 0.80 (chance is 0.1).
func TestTrainCNNLearns(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	for _, g := range []cnn.Group{cnn.GroupA, cnn.GroupB} {
		res, err := cnn.Train(context.Background(), be, ds, cnn.TrainOptions{Group: g, Seed: 1, Epochs: 1, TrainRows: 3200, EvalRows: 1000})
		if err != nil {
			t.Fatal(err)
		}
		h := res.History
		if len(h) != 1 || h[0].TestAcc < 0.80 {
			t.Errorf("group %c: history %+v, want test accuracy ≥ 0.80", g, h)
		}
		t.Logf("group %c: %+v", g, h)
	}
}

// TestTrainCNNResume interrupts training in its second epoch and checks that the next run resumes
// from the checkpoint and ends with exactly the weights of an uninterrupted run.
func TestTrainCNNResume(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 640)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	base := cnn.TrainOptions{Group: cnn.GroupB, Seed: 2, Epochs: 2, TrainRows: 320, EvalRows: -1}
	want, err := cnn.Train(context.Background(), be, ds, base)
	if err != nil {
		t.Fatal(err)
	}
	opts := base
	opts.CheckpointPath = filepath.Join(t.TempDir(), "ck", "a.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(p progress.Report) {
		if p.Done == 7 { // epoch 2, step 2
			cancel()
		}
	}
	if _, err := cnn.Train(ctx, be, ds, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(opts.CheckpointPath); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	var first int
	opts.Progress = func(p progress.Report) {
		if first == 0 {
			first = p.Done
		}
	}
	got, err := cnn.Train(context.Background(), be, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Resumed || first != 8 {
		t.Errorf("resumed = %t, first step %d; want a resume at step 8", got.Resumed, first)
	}
	if got.Weights.SHA256() != want.Weights.SHA256() {
		t.Errorf("resumed run ends with other weights than an uninterrupted one")
	}
	if len(got.History) != 2 || got.History[0].Loss != want.History[0].Loss || got.History[1].Loss != want.History[1].Loss {
		t.Errorf("history %+v, want %+v", got.History, want.History)
	}
	// A damaged checkpoint is discarded with a warning, and training starts afresh.
	if err := os.WriteFile(opts.CheckpointPath, []byte("levstudy-f32-v1\n{garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts.Progress = nil
	again, err := cnn.Train(context.Background(), be, ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Resumed || len(again.Warnings) != 1 || !strings.Contains(again.Warnings[0].Error(), "damaged") ||
		!strings.Contains(again.Warnings[0].Error(), opts.CheckpointPath) {
		t.Errorf("damaged checkpoint: resumed %t, warnings %v", again.Resumed, again.Warnings)
	}
	if again.Weights.SHA256() != want.Weights.SHA256() {
		t.Errorf("a fresh run after a damaged checkpoint differs from the uninterrupted one")
	}
}

// TestTrainCNNSteps checks a budget of steps: 7 steps over 320 rows in batches of 64 are one epoch of 5
// steps and a second one of 2.
func TestTrainCNNSteps(t *testing.T) {
	all, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := all.Sample(320, 100)
	res, err := cnn.Train(context.Background(), testutil.Backend(t).Backend, ds,
		cnn.TrainOptions{Group: cnn.GroupA, Seed: 1, Steps: 7, TrainRows: 320, EvalRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) != 2 || res.History[0].Steps != 5 || res.History[1].Steps != 2 {
		t.Errorf("history %+v, want epochs of 5 and 2 steps", res.History)
	}
	for _, h := range res.History {
		if h.TestAcc < 0 || math.IsNaN(h.Loss) {
			t.Errorf("epoch %+v", h)
		}
	}
}

func TestCNNWeightsFile(t *testing.T) {
	w := cnn.Init(5)
	path := filepath.Join(t.TempDir(), "w.bin")
	if err := cnn.SaveWeights(path, w, map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	var meta map[string]int
	got, err := cnn.LoadWeights(path, &meta)
	if err != nil || got.SHA256() != w.SHA256() || meta["x"] != 1 {
		t.Fatalf("round trip: %v %v", err, meta)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-4], 0o644)
	if _, err := cnn.LoadWeights(path, nil); !errors.Is(err, cnn.ErrBadWeightsFile) {
		t.Errorf("truncated: %v", err)
	}
	os.WriteFile(path, []byte("PK\x03\x04 a zip, say"), 0o644)
	if _, err := cnn.LoadWeights(path, nil); !errors.Is(err, cnn.ErrBadWeightsFile) || !strings.Contains(err.Error(), path) {
		t.Errorf("foreign: %v", err)
	}
	// Init: PyTorch's bounds 1/sqrt(fan_in), and A/B/C share a seed's weights.
	for i, fan := range []float64{9, 9, 288, 288, 3136, 3136, 200, 200} {
		bound := float32(1 / sqrtF(fan))
		for _, v := range w.Params[i] {
			if v < -bound || v > bound {
				t.Fatalf("%s: %v outside ±%v", cnn.ParamNames()[i], v, bound)
			}
		}
	}
	if cnn.Init(5).SHA256() != w.SHA256() || cnn.Init(6).SHA256() == w.SHA256() {
		t.Error("Init is not a function of the seed")
	}
}

func sqrtF(x float64) float64 {
	r := x
	for i := 0; i < 60; i++ {
		r = (r + x/r) / 2
	}
	return r
}
