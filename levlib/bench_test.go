package levlib_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/levstudy/levstudy/levlib"
)

// BenchmarkLeverage times leverage scores of Gaussian N×D bases (well conditioned: the exact method
// skips its refinement pass) and of the real MNIST RAW basis (rank-deficient: refined) on the pure-Go
// backend. GFLOP/s counts the passes made: 2ND² for a Gram pass, 4ND² for the refinement (product and
// Gram), 2NDr for the projection; 4ND² for Householder QR plus forming the thin Q.
func BenchmarkLeverage(b *testing.B) {
	sel := testBackend(b)
	run := func(b *testing.B, x *levlib.Matrix, m levlib.Method) {
		b.ReportAllocs()
		var res *levlib.LeverageResult
		for b.Loop() {
			var err error
			if res, err = levlib.LeverageScores(context.Background(), sel.Backend, x, levlib.LeverageOptions{Method: m}); err != nil {
				b.Fatal(err)
			}
		}
		n, d := float64(x.Rows), float64(x.Cols)
		flops := 4 * n * d * d
		if m == levlib.Exact {
			flops = 2*n*d*d + 2*n*d*float64(res.Rank)
			if res.Refined {
				flops += 4 * n * d * d
			}
		}
		b.ReportMetric(flops/1e9/(b.Elapsed().Seconds()/float64(b.N)), "GFLOP/s")
	}
	for _, n := range []int{10000, 70000} {
		for _, d := range []int{200, 784} {
			rng := rand.New(rand.NewPCG(uint64(n), uint64(d)))
			x := levlib.NewMatrix(n, d)
			for i := range x.Data {
				x.Data[i] = rng.NormFloat64()
			}
			for _, m := range []levlib.Method{levlib.Exact, levlib.QR} {
				b.Run(fmt.Sprintf("gaussian/method=%s/n=%d/d=%d", m, n, d), func(b *testing.B) { run(b, x, m) })
			}
		}
	}
	ds, err := levlib.LoadMNIST(mnistDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	raw := levlib.RawBasis(ds)
	for _, m := range []levlib.Method{levlib.Exact, levlib.QR} {
		b.Run(fmt.Sprintf("mnist-raw/method=%s/n=70000/d=784", m), func(b *testing.B) { run(b, raw, m) })
	}
}

// BenchmarkCNN measures MnistConvNet throughput on the pure-Go backend (host columns): training (batch
// 64, 1280 images, compilation included) and embedding (batches of 128, 5000 images).
func BenchmarkCNN(b *testing.B) {
	ds, err := levlib.LoadMNIST(mnistDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testBackend(b).Backend
	b.Run("train", func(b *testing.B) {
		for b.Loop() {
			if _, err := levlib.TrainCNN(context.Background(), be, ds, levlib.CNNTrainOptions{Group: levlib.GroupA, Seed: 1, Epochs: 1, TrainRows: 1280, EvalRows: -1}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(1280*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
	w := levlib.InitCNN(1)
	b.Run("embed", func(b *testing.B) {
		for b.Loop() {
			if _, err := levlib.ForwardCNN(context.Background(), be, ds, w, levlib.ForwardOptions{Hi: 5000}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(5000*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	})
}

// BenchmarkQ1Sweep times Question 1 from an empty cache on all 70,000 rows, per classifier: the RAW
// basis's leverage, then top, bottom, sampled, balanced and 3 random selections at k = 1000, fitted
// with the linear classifier (raw pixels, 300 Adam steps) or the cnn classifier (300 steps, accuracy on
// 10,000 training and all 10,000 test rows): 7 fits each.
func BenchmarkQ1Sweep(b *testing.B) {
	ds, err := levlib.LoadMNIST(mnistDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testBackend(b).Backend
	for _, cl := range []levlib.Classifier{levlib.ClassifierLinear, levlib.ClassifierCNN} {
		b.Run("classifier="+string(cl), func(b *testing.B) {
			for b.Loop() {
				ws := &levlib.Workspace{Backend: be, Data: ds, Cache: &levlib.Cache{Dir: b.TempDir()}}
				opts := levlib.Q1Options{Grids: []levlib.Q1Grid{{Classifier: cl, K: []int{1000}}}, TrainEvalRows: 10000,
					CNN: levlib.CNNTrainOptions{Steps: 300}}
				if _, err := levlib.Q1(context.Background(), ws, []levlib.BasisSpec{{Kind: levlib.KindRaw}}, opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVsTorch times the workloads that `make bench` also runs in PyTorch CPU
// (scripts/bench/torch_bench.py) in the same run, for the ratios in the README: exact float64 leverage of
// MNIST RAW (70,000×784, from the in-memory matrix, as torch times its QR from the tensor); one training
// epoch of MnistConvNet on the first 6,000 training images (batch 64, Adam; the whole TrainCNN call,
// graph compilation included); the 200-d embedding of all 70,000 images (the whole ForwardCNN call).
// Each is run once untimed first.
func BenchmarkVsTorch(b *testing.B) {
	ds, err := levlib.LoadMNIST(mnistDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	be := testBackend(b).Backend
	ctx := context.Background()
	b.Run("leverage-raw-exact-f64", func(b *testing.B) {
		raw := levlib.RawBasis(ds)
		run := func() {
			if _, err := levlib.LeverageScores(ctx, be, raw, levlib.LeverageOptions{}); err != nil {
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
		opts := levlib.CNNTrainOptions{Group: levlib.GroupA, Seed: 1, Epochs: 1, TrainRows: 6000, EvalRows: -1}
		run := func() {
			if _, err := levlib.TrainCNN(ctx, be, ds, opts); err != nil {
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
		w := levlib.InitCNN(1)
		run := func() {
			if _, err := levlib.ForwardCNN(ctx, be, ds, w, levlib.ForwardOptions{}); err != nil {
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
