package cnn_test

import (
	"context"
	"testing"

	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// BenchmarkCNN measures MnistConvNet throughput on the pure-Go backend (host columns): training (batch
// 64, 1280 images, compilation included) and embedding (batches of 128, 5000 images). GFLOP/s is the
// network's arithmetic (cnn.TrainFLOPs, cnn.ForwardFLOPs) per second, to set beside the machine's peak
// (levlib/internal/hostops BenchmarkPeakFMA); for training it counts the graphs' compilation as time, so
// it understates the step's rate a little.
func BenchmarkCNN(b *testing.B) {
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testutil.Backend(b).Backend
	b.Run("train", func(b *testing.B) {
		for b.Loop() {
			if _, err := cnn.Train(context.Background(), be, ds, cnn.TrainOptions{Group: cnn.GroupA, Seed: 1, Epochs: 1, TrainRows: 1280, EvalRows: -1}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1280*float64(b.N)/b.Elapsed().Seconds(), "images/s")
		b.ReportMetric(1280*cnn.TrainFLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	w := cnn.Init(1)
	b.Run("embed", func(b *testing.B) {
		for b.Loop() {
			if _, err := cnn.Forward(context.Background(), be, ds, w, cnn.ForwardOptions{Hi: 5000}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(5000*float64(b.N)/b.Elapsed().Seconds(), "images/s")
		b.ReportMetric(5000*cnn.ForwardFLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
