package levlib_test

import (
	"context"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/cnn"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// BenchmarkVsTorch times the workloads that `make bench` also runs in PyTorch CPU
// (scripts/bench/torch_bench.py) in the same run, for the ratios in the README: exact float64 leverage of
// MNIST RAW (70,000×784, from the in-memory matrix, as torch times its QR from the tensor); one training
// epoch of MnistConvNet on the first 6,000 training images (batch 64, Adam; the whole cnn.Train call,
// graph compilation included); the 200-d embedding of all 70,000 images (the whole cnn.Forward call).
// Each is run once untimed first.
func BenchmarkVsTorch(b *testing.B) {
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testutil.Backend(b).Backend
	ctx := context.Background()
	b.Run("leverage-raw-exact-f64", func(b *testing.B) {
		raw := basis.Raw(ds)
		run := func() {
			if _, err := leverage.Scores(ctx, be, raw, leverage.Options{}); err != nil {
				b.Fatal(err)
			}
		}
		run()
		b.ResetTimer()
		for b.Loop() {
			run()
		}
	})
	b.Run("cnn-train", func(b *testing.B) {
		opts := cnn.TrainOptions{Group: cnn.GroupA, Seed: 1, Epochs: 1, TrainRows: 6000, EvalRows: -1}
		run := func() {
			if _, err := cnn.Train(ctx, be, ds, opts); err != nil {
				b.Fatal(err)
			}
		}
		run()
		b.ResetTimer()
		for b.Loop() {
			run()
		}
		b.ReportMetric(6000*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	b.Run("cnn-embed", func(b *testing.B) {
		w := cnn.Init(1)
		run := func() {
			if _, err := cnn.Forward(ctx, be, ds, w, cnn.ForwardOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		run()
		b.ResetTimer()
		for b.Loop() {
			run()
		}
		b.ReportMetric(float64(ds.N())*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
}
