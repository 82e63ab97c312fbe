package cnn_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// BenchmarkQ1CNN times Question 1's cnn classifier at k = 1000 as the quick preset runs it (group A,
// 200 steps of batch 64, seeds 1..M) and its evaluation (predictions on the selected rows, 10,000
// training and 10,000 test rows): M fits one at a time as q1Run does them ("solo": Train, then
// Forward on each row set), against the same fits with TrainGroup and PredictGroup ("group":
// the shared rows in passes over all networks, each network's selected rows on their own). fits/min is
// the throughput, GFLOP/s the network's arithmetic per second (TrainFLOPs per image trained,
// TrainedImages of them, and ForwardFLOPs per image evaluated); M as in BenchmarkQ1Linear. scripts/bench/torch_q1.py does the solo
// fits in PyTorch.
func BenchmarkQ1CNN(b *testing.B) {
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testutil.Backend(b).Backend
	ctx := context.Background()
	train, test := testutil.Q1EvalRows(ds)
	shared := append(append([]int(nil), train...), test...)
	const steps = 200
	trained := cnn.TrainedImages(1000, steps, cnn.TrainOptions{}.WithDefaults().BatchSize)
	perFit := float64(trained*cnn.TrainFLOPs + (1000+len(shared))*cnn.ForwardFLOPs)
	for _, m := range testutil.BenchGroups(b) {
		sels := testutil.Q1BenchSelections(b, ds, m, 1000)
		b.Run(fmt.Sprintf("M=%d/solo", m), func(b *testing.B) {
			for b.Loop() {
				for i, sel := range sels {
					res, err := cnn.Train(ctx, be, ds.Subset(sel), cnn.TrainOptions{Group: cnn.GroupA, Seed: uint64(i + 1), Steps: steps, EvalRows: -1})
					if err != nil {
						b.Fatal(err)
					}
					for _, rows := range [][]int{sel, train, test} {
						if _, err := cnn.Forward(ctx, be, ds.Subset(rows), res.Weights, cnn.ForwardOptions{}); err != nil {
							b.Fatal(err)
						}
					}
				}
			}
			b.ReportMetric(float64(m*b.N)/b.Elapsed().Minutes(), "fits/min")
			b.ReportMetric(perFit*float64(m*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("M=%d/group", m), func(b *testing.B) {
			fits := make([]cnn.GroupFit, m)
			for i, sel := range sels {
				fits[i] = cnn.GroupFit{Seed: uint64(i + 1), Rows: sel}
			}
			for b.Loop() {
				ws, err := cnn.TrainGroup(ctx, be, ds, fits, cnn.GroupOptions{Group: cnn.GroupA, Steps: steps})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cnn.PredictGroup(ctx, be, ds, ws, shared, cnn.EvalOptions{}); err != nil {
					b.Fatal(err)
				}
				for i, w := range ws {
					if _, err := cnn.PredictGroup(ctx, be, ds, []*cnn.Weights{w}, sels[i], cnn.EvalOptions{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(m*b.N)/b.Elapsed().Minutes(), "fits/min")
			b.ReportMetric(perFit*float64(m*b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
