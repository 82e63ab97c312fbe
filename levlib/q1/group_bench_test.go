package q1_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/q1"
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
