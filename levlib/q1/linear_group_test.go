package q1_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/levstudy/levstudy/levlib/basis"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
	"github.com/levstudy/levstudy/levlib/q1"
)

// TestFitLinearGroupMatchesSolo trains groups of M = 1, 3 and 7 softmax regressions on different MNIST
// row sets (raw pixels; the group of 7 mixes selection sizes, so its columns are padded and masked, and
// is also run standardized, as the probe classifier) and checks that every model equals FitLinear on
// its rows alone: weights and biases within 1e-9 of the largest weight (float64 rounding: the batched
// products sum in another order than the solo ones; measured at most 5e-11 relative, after 60 or 300 steps) and identical
// predictions on 2,000 test rows. It also splits the group of 7 over graphs of at most 3 models
// (MaxValues) and checks the same.
func TestFitLinearGroupMatchesSolo(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	ctx := context.Background()
	x := basis.Raw(ds)
	const steps = 60
	test := make([]int, 2000)
	for i := range test {
		test[i] = 60000 + i
	}
	draw := func(seed uint64, k int) []int {
		return rand.New(rand.NewPCG(seed, 7)).Perm(60000)[:k]
	}
	const one = 1 << 24 // MaxValues that holds every case in one graph
	cases := []struct {
		name        string
		sizes       []int
		standardize bool
		maxValues   int
	}{
		{"M=1", []int{250}, false, one},
		{"M=3", []int{250, 250, 250}, false, one},
		{"M=7/padded", []int{250, 120, 300, 250, 40, 250, 199}, false, one},
		{"M=7/padded/standardized", []int{250, 120, 300, 250, 40, 250, 199}, true, one},
		{"M=7/split", []int{250, 120, 300, 250, 40, 250, 199}, false, 3 * 300 * 785},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var rows [][]int
			for m, k := range c.sizes {
				rows = append(rows, draw(uint64(m+1), k))
			}
			lo := q1.LinearOptions{Steps: steps, Standardize: c.standardize}
			var reports []int
			group, err := q1.FitLinearGroup(ctx, be, x, rows, ds.Labels, q1.LinearGroupOptions{LinearOptions: lo, MaxValues: c.maxValues,
				Progress: func(p progress.Report) { reports = append(reports, p.Done) }})
			if err != nil {
				t.Fatal(err)
			}
			if len(group) != len(rows) {
				t.Fatalf("%d models for %d selections", len(group), len(rows))
			}
			graphs := 1
			if c.maxValues != one {
				graphs = 3 // 3 + 3 + 1 models
			}
			if len(reports) != graphs*steps || reports[len(reports)-1] != graphs*steps {
				t.Errorf("progress reports %d (last %v), want %d", len(reports), reports[len(reports)-1:], graphs*steps)
			}
			for m, r := range rows {
				solo, err := q1.FitLinear(ctx, be, x, r, ds.Labels, lo)
				if err != nil {
					t.Fatal(err)
				}
				g := group[m]
				scale, worst := 0.0, 0.0
				for i, w := range solo.W {
					scale = math.Max(scale, math.Abs(w))
					worst = math.Max(worst, math.Abs(w-g.W[i]))
				}
				for c := range solo.B {
					worst = math.Max(worst, math.Abs(solo.B[c]-g.B[c]))
				}
				if scale == 0 || worst > 1e-9*scale {
					t.Errorf("model %d (k = %d): max |ΔW| = %.3g, largest weight %.3g", m, len(r), worst, scale)
				}
				if !slices.Equal(solo.PredictRows(x, test), g.PredictRows(x, test)) {
					t.Errorf("model %d: predictions differ from the solo fit", m)
				}
				t.Logf("model %d (k = %d): max |ΔW| / max |W| = %.2g", m, len(r), worst/scale)
			}
		})
	}
}

// TestFitLinearGroupErrors checks the errors for bad input and that a cancelled context stops the fit.
func TestFitLinearGroupErrors(t *testing.T) {
	be := testutil.Backend(t).Backend
	x := matrixio.NewMatrix(20, 4)
	for i := range x.Data {
		x.Data[i] = float64(i % 7)
	}
	labels := make([]uint8, 20)
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		rows   [][]int
		labels []uint8
		opts   q1.LinearGroupOptions
	}{
		{"no selections", nil, labels, q1.LinearGroupOptions{}},
		{"empty selection", [][]int{{1, 2}, {}}, labels, q1.LinearGroupOptions{}},
		{"row outside", [][]int{{1, 20}}, labels, q1.LinearGroupOptions{}},
		{"negative row", [][]int{{-1}}, labels, q1.LinearGroupOptions{}},
		{"few labels", [][]int{{1}}, labels[:5], q1.LinearGroupOptions{}},
		{"bad steps", [][]int{{1}}, labels, q1.LinearGroupOptions{LinearOptions: q1.LinearOptions{Steps: -1}}},
	} {
		if _, err := q1.FitLinearGroup(ctx, be, x, c.rows, c.labels, c.opts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	opts := q1.LinearGroupOptions{Progress: func(p progress.Report) {
		if p.Done == 3 {
			cancel()
		}
	}}
	_, err := q1.FitLinearGroup(cctx, be, x, [][]int{{0, 1, 2}, {3, 4}}, labels, opts)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}
