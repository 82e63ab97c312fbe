package leverage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/leverage"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// BenchmarkLeverage times leverage scores of Gaussian N×D bases (well conditioned: the exact method
// skips its refinement pass) and of the real MNIST RAW basis (rank-deficient: refined) on the pure-Go
// backend. GFLOP/s counts the passes made: 2ND² for a Gram pass, 4ND² for the refinement (product and
// Gram), 2NDr for the projection; 4ND² for Householder QR plus forming the thin Q.
func BenchmarkLeverage(b *testing.B) {
	sel := testutil.Backend(b)
	run := func(b *testing.B, x *matrixio.Matrix, m leverage.Method) {
		b.ReportAllocs()
		var res *leverage.Result
		for b.Loop() {
			var err error
			if res, err = leverage.Scores(context.Background(), sel.Backend, x, leverage.Options{Method: m}); err != nil {
				b.Fatal(err)
			}
		}
		n, d := float64(x.Rows), float64(x.Cols)
		flops := 4 * n * d * d
		if m == leverage.Exact {
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
			x := matrixio.NewMatrix(n, d)
			for i := range x.Data {
				x.Data[i] = rng.NormFloat64()
			}
			for _, m := range []leverage.Method{leverage.Exact, leverage.QR} {
				b.Run(fmt.Sprintf("gaussian/method=%s/n=%d/d=%d", m, n, d), func(b *testing.B) { run(b, x, m) })
			}
		}
	}
	ds, err := mnist.Load(testutil.MNISTDir(b), 0)
	if err != nil {
		b.Fatal(err)
	}
	raw := basis.Raw(ds)
	for _, m := range []leverage.Method{leverage.Exact, leverage.QR} {
		b.Run(fmt.Sprintf("mnist-raw/method=%s/n=70000/d=784", m), func(b *testing.B) { run(b, raw, m) })
	}
}
