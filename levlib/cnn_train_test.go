package levlib_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/levstudy/levstudy/levlib"
)

// TestTrainCNNLearns trains group A and group B networks for 50 steps (3200 training images, batch 64)
// and checks test accuracy on 1000 test images. Measured on the pure-Go backend: A 0.898, B 0.890;
// asserted with margin: ≥ 0.80 (chance is 0.1).
func TestTrainCNNLearns(t *testing.T) {
	ds, err := levlib.LoadMNIST(mnistDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	be := testBackend(t).Backend
	for _, g := range []levlib.Group{levlib.GroupA, levlib.GroupB} {
		res, err := levlib.TrainCNN(context.Background(), be, ds, levlib.CNNTrainOptions{Group: g, Seed: 1, Epochs: 1, TrainRows: 3200, EvalRows: 1000})
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
	ds, err := levlib.LoadMNIST(mnistDir(t), 640)
	if err != nil {
		t.Fatal(err)
	}
	be := testBackend(t).Backend
	base := levlib.CNNTrainOptions{Group: levlib.GroupB, Seed: 2, Epochs: 2, TrainRows: 320, EvalRows: -1}
	want, err := levlib.TrainCNN(context.Background(), be, ds, base)
	if err != nil {
		t.Fatal(err)
	}
	opts := base
	opts.CheckpointPath = filepath.Join(t.TempDir(), "ck", "a.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	opts.Progress = func(p levlib.Progress) {
		if p.Done == 7 { // epoch 2, step 2
			cancel()
		}
	}
	if _, err := levlib.TrainCNN(ctx, be, ds, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(opts.CheckpointPath); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}
	var first int
	opts.Progress = func(p levlib.Progress) {
		if first == 0 {
			first = p.Done
		}
	}
	got, err := levlib.TrainCNN(context.Background(), be, ds, opts)
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
	again, err := levlib.TrainCNN(context.Background(), be, ds, opts)
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
	all, err := levlib.LoadMNIST(mnistDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	ds := all.Sample(320, 100)
	res, err := levlib.TrainCNN(context.Background(), testBackend(t).Backend, ds,
		levlib.CNNTrainOptions{Group: levlib.GroupA, Seed: 1, Steps: 7, TrainRows: 320, EvalRows: 100})
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

// TestWorkspaceCNNCache checks the cached network's name and manifest, reuse, and that a damaged file
// is retrained rather than trusted.
func TestWorkspaceCNNCache(t *testing.T) {
	ds, err := levlib.LoadMNIST(mnistDir(t), 400)
	if err != nil {
		t.Fatal(err)
	}
	var warns []error
	dir := t.TempDir()
	newWorkspace := func() *levlib.Workspace { // a new process: nothing in memory, the disk cache shared
		return &levlib.Workspace{Backend: testBackend(t).Backend, Data: ds, Cache: &levlib.Cache{Dir: dir},
			CNNRecipe: levlib.CNNTrainOptions{Epochs: 1, TrainRows: 128, EvalRows: -1},
			Warn:      func(err error) { warns = append(warns, err) }}
	}
	ws := newWorkspace()
	ctx := context.Background()
	w1, m1, err := ws.CNN(ctx, levlib.GroupA, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^mnist-cnn-A3-[0-9a-f]{64}$`).MatchString(m1.Name) || m1.WeightsSHA != w1.SHA256() ||
		m1.Epochs != 1 || m1.TrainRows != 128 || m1.Data["train-images-idx3-ubyte.gz"] == "" || m1.Versions["go"] == "" {
		t.Errorf("manifest %+v", m1)
	}
	start := time.Now()
	w2, _, err := newWorkspace().CNN(ctx, levlib.GroupA, 3)
	if err != nil || w2.SHA256() != w1.SHA256() {
		t.Fatalf("cached: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Log("loading a cached network took", time.Since(start))
	}
	// C3 starts from A3's initial weights and is not trained.
	c3, _, err := ws.CNN(ctx, levlib.GroupC, 3)
	if err != nil || c3.SHA256() != levlib.InitCNN(3).SHA256() {
		t.Fatalf("C3: %v", err)
	}
	// Damage the weights file: the next call warns and retrains to the same weights.
	path := filepath.Join(ws.Cache.Dir, "cnn", m1.Name+".bin")
	b, _ := os.ReadFile(path)
	b[len(b)-5] ^= 0xff
	os.WriteFile(path, b, 0o644)
	w3, _, err := newWorkspace().CNN(ctx, levlib.GroupA, 3)
	if err != nil || w3.SHA256() != w1.SHA256() || len(warns) != 1 || !strings.Contains(warns[0].Error(), "damaged") {
		t.Fatalf("damaged: %v, warnings %v", err, warns)
	}
	// Embeddings are cached too, and a cnn basis has leverage.
	e1, err := ws.Embedding(ctx, levlib.BasisSpec{Kind: levlib.KindCNN, Group: levlib.GroupA, Seed: 3})
	if err != nil || e1.Rows != 400 || e1.Cols != 200 {
		t.Fatalf("embedding: %v", err)
	}
	res, err := ws.Leverage(ctx, levlib.BasisSpec{Kind: levlib.KindCNN, Group: levlib.GroupA, Seed: 3}, levlib.LeverageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkProperties(t, res)
}

func TestCNNWeightsFile(t *testing.T) {
	w := levlib.InitCNN(5)
	path := filepath.Join(t.TempDir(), "w.bin")
	if err := levlib.SaveCNNWeights(path, w, map[string]int{"x": 1}); err != nil {
		t.Fatal(err)
	}
	var meta map[string]int
	got, err := levlib.LoadCNNWeights(path, &meta)
	if err != nil || got.SHA256() != w.SHA256() || meta["x"] != 1 {
		t.Fatalf("round trip: %v %v", err, meta)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-4], 0o644)
	if _, err := levlib.LoadCNNWeights(path, nil); !errors.Is(err, levlib.ErrBadWeightsFile) {
		t.Errorf("truncated: %v", err)
	}
	os.WriteFile(path, []byte("PK\x03\x04 a zip, say"), 0o644)
	if _, err := levlib.LoadCNNWeights(path, nil); !errors.Is(err, levlib.ErrBadWeightsFile) || !strings.Contains(err.Error(), path) {
		t.Errorf("foreign: %v", err)
	}
	// InitCNN: PyTorch's bounds 1/sqrt(fan_in), and A/B/C share a seed's weights.
	for i, fan := range []float64{9, 9, 288, 288, 3136, 3136, 200, 200} {
		bound := float32(1 / sqrtF(fan))
		for _, v := range w.Params[i] {
			if v < -bound || v > bound {
				t.Fatalf("%s: %v outside ±%v", levlib.CNNParamNames[i], v, bound)
			}
		}
	}
	if levlib.InitCNN(5).SHA256() != w.SHA256() || levlib.InitCNN(6).SHA256() == w.SHA256() {
		t.Error("InitCNN is not a function of the seed")
	}
}

func sqrtF(x float64) float64 {
	r := x
	for i := 0; i < 60; i++ {
		r = (r + x/r) / 2
	}
	return r
}
