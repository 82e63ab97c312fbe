package levlib_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/levstudy/levstudy/levlib"
)

// BenchmarkLeverage times leverage scores of Gaussian N×D bases on the pure-Go backend. The GFLOP/s
// metric counts 8·N·D² for the exact method (three passes: Gram, refined Gram, projection) and
// 4·N·D² for Householder QR plus forming the thin Q.
func BenchmarkLeverage(b *testing.B) {
	sel := testBackend(b)
	for _, n := range []int{10000, 70000} {
		for _, d := range []int{200, 784} {
			rng := rand.New(rand.NewPCG(uint64(n), uint64(d)))
			x := levlib.NewMatrix(n, d)
			for i := range x.Data {
				x.Data[i] = rng.NormFloat64()
			}
			for _, m := range []levlib.Method{levlib.Exact, levlib.QR} {
				b.Run(fmt.Sprintf("method=%s/n=%d/d=%d", m, n, d), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := levlib.LeverageScores(context.Background(), sel.Backend, x, levlib.LeverageOptions{Method: m}); err != nil {
							b.Fatal(err)
						}
					}
					flops := 8.0
					if m == levlib.QR {
						flops = 4
					}
					flops *= float64(n) * float64(d) * float64(d)
					b.ReportMetric(flops/1e9/(b.Elapsed().Seconds()/float64(b.N)), "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkCNN measures MnistConvNet throughput on the pure-Go backend: training (batch 64, one
// forward+backward+Adam graph per step, 1280 images) and embedding (batches of 128, 5000 images).
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
