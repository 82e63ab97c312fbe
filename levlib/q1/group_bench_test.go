package q1_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/q1"
	"github.com/levstudy/levstudy/levlib/workspace"
)

// BenchmarkQ1Linear times Question 1's linear classifier at k = 1000 (raw pixels, 300 full-batch Adam
// steps) and its evaluation (predictions on the selected rows, 10,000 training and 10,000 test rows):
// M fits one at a time with FitLinear ("solo") against the same M fits in one FitLinearGroup
// ("group"). fits/min is the throughput; M is 1 and 5, or $LEVSTUDY_BENCH_GROUPS (benchGroups).
func BenchmarkQ1Linear(b *testing.B) {
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testutil.Backend(b).Backend
	ctx := context.Background()
	x := basis.Raw(ds)
	train, test := testutil.Q1EvalRows(ds)
	eval := func(m *q1.LinearModel, sel []int) {
		for _, rows := range [][]int{sel, train, test} {
			m.PredictRows(x, rows)
		}
	}
	for _, m := range testutil.BenchGroups(b) {
		sels := testutil.Q1BenchSelections(b, ds, m, 1000)
		b.Run(fmt.Sprintf("M=%d/solo", m), func(b *testing.B) {
			for b.Loop() {
				for _, sel := range sels {
					model, err := q1.FitLinear(ctx, be, x, sel, ds.Labels, q1.LinearOptions{})
					if err != nil {
						b.Fatal(err)
					}
					eval(model, sel)
				}
			}
			b.ReportMetric(float64(m*b.N)/b.Elapsed().Minutes(), "fits/min")
		})
		b.Run(fmt.Sprintf("M=%d/group", m), func(b *testing.B) {
			for b.Loop() {
				models, err := q1.FitLinearGroup(ctx, be, x, sels, ds.Labels, q1.LinearGroupOptions{})
				if err != nil {
					b.Fatal(err)
				}
				for i, model := range models {
					eval(model, sels[i])
				}
			}
			b.ReportMetric(float64(m*b.N)/b.Elapsed().Minutes(), "fits/min")
		})
	}
}

// BenchmarkQ1Fits times Question 1's fits as a sweep makes them — q1.Fit, which trains uncached jobs
// in batches and evaluates each on its selected rows, 10,000 training rows and the 10,000 test rows —
// at k = 1000 on all 70,000 rows, against the same fits made one at a time in PyTorch
// (scripts/bench/torch_q1.py, `make bench`): linear (300 full-batch Adam steps) 25 fits, the cost of
// five strategies × five seeds; cnn (200 steps of batch 64) 10 fits. The selections are random (the
// cost of a fit does not depend on which rows it trains on). fits/min is the throughput; for the cnn,
// GFLOP/s is the network's arithmetic per second (cnn.TrainedImages(1000, 200, 64) = 12,512 images
// trained, cnn.TrainFLOPs each; 21,000 evaluated, cnn.ForwardFLOPs each: 517 GFLOP a fit), to set
// beside the machine's peak (levlib/internal/hostops BenchmarkPeakFMA).
func BenchmarkQ1Fits(b *testing.B) {
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testutil.Backend(b).Backend
	for _, c := range []struct {
		cl   q1.Classifier
		fits int
	}{{q1.ClassifierLinear, 25}, {q1.ClassifierCNN, 10}} {
		b.Run("classifier="+string(c.cl), func(b *testing.B) {
			sels := testutil.Q1BenchSelections(b, ds, c.fits, 1000)
			jobs := make([]q1.Job, len(sels))
			for i, sel := range sels {
				jobs[i] = q1.Job{Classifier: c.cl, Rows: sel, Seed: uint64(i + 1)}
			}
			opts := q1.Options{TrainEvalRows: 10000, CNN: cnn.TrainOptions{Steps: 200}}
			for b.Loop() {
				ws := &workspace.Workspace{Backend: be, Data: ds} // no cache: every fit is made
				if _, err := q1.Fit(context.Background(), ws, opts, jobs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.fits*b.N)/b.Elapsed().Minutes(), "fits/min")
			if c.cl == q1.ClassifierCNN {
				k := len(sels[0])
				trained := cnn.TrainedImages(k, opts.CNN.Steps, cnn.TrainOptions{}.WithDefaults().BatchSize)
				evalRows := opts.TrainEvalRows + ds.N() - ds.NumTrain + k // the shared rows, then each fit's own
				perFit := float64(trained*cnn.TrainFLOPs + evalRows*cnn.ForwardFLOPs)
				b.ReportMetric(perFit*float64(c.fits*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			}
		})
	}
}
