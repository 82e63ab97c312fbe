package q1_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
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
// its rows alone, in both precisions. float64: weights and biases within 1e-9 of the largest weight
// (the batched products sum in another order than the solo ones; measured at most 5e-11 relative) and
// identical predictions on 2,000 test rows. float32: logits on those rows within 1% of the largest
// (measured at most 0.33%, on rows inked where the model's training rows are almost blank, see
// logitDiff) and at most 0.2% of the predictions different (measured: none). float32 runs twice: as a
// graph ("float32/graph") and with the host step, with the kernels the CPU picks ("float32/host") and
// with the AVX2 ones ("float32/host-avx2"; both where the CPU has them): logits within 0.2% of the solo
// graph's (measured 1e-5 but for one standardized model at 0.06%), and weights that differ from the
// graph's somewhere (else the host step did not run). It also splits the group of 7 over graphs of
// at most 3 models (MaxValues) and checks the same.
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
		var graph32 []*q1.LinearModel // the float32 graph's models, for the host run
		for _, mode := range []string{"float64", "float32/graph", "float32/host", "float32/host-avx2"} {
			f64, host := mode == "float64", strings.HasPrefix(mode, "float32/host")
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				available, restore := q1.HostLinear(host)
				defer restore()
				if host && !available {
					t.Skip("the host step needs GOEXPERIMENT=simd and AVX-512 or AVX2 with FMA: the graph runs instead")
				}
				if mode == "float32/host-avx2" {
					if q1.HostLinearAVX2 == nil {
						t.Skip("no AVX2 kernels in this build or on this CPU")
					}
					defer q1.HostLinearAVX2()()
				}
				var rows [][]int
				for m, k := range c.sizes {
					rows = append(rows, draw(uint64(m+1), k))
				}
				lo := q1.LinearOptions{Steps: steps, Standardize: c.standardize, Float64: f64}
				var reports []int
				group, err := q1.FitLinearGroup(ctx, be, x, rows, ds.Labels, q1.LinearGroupOptions{LinearOptions: lo, MaxValues: c.maxValues,
					Progress: func(p progress.Report) { reports = append(reports, p.Done) }})
				if err != nil {
					t.Fatal(err)
				}
				if len(group) != len(rows) {
					t.Fatalf("%d models for %d selections", len(group), len(rows))
				}
				switch mode {
				case "float32/graph":
					graph32 = group
				case "float32/host", "float32/host-avx2":
					if graph32 == nil { // the graph's subtest did not run (-run)
						q1.HostLinear(false)
						if graph32, err = q1.FitLinearGroup(ctx, be, x, rows, ds.Labels, q1.LinearGroupOptions{LinearOptions: lo, MaxValues: c.maxValues}); err != nil {
							t.Fatal(err)
						}
						q1.HostLinear(true)
					}
					same := true
					for m := range group {
						if _, worst := weightDiff(graph32[m], group[m]); worst != 0 {
							same = false
						}
					}
					if same {
						t.Error("the host step's weights equal the graph's bitwise: the host step did not run")
					}
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
					if f64 {
						scale, worst := weightDiff(solo, g)
						if scale == 0 || worst > 1e-9*scale {
							t.Errorf("model %d (k = %d): max |ΔW| = %.3g, largest weight %.3g", m, len(r), worst, scale)
						}
						t.Logf("model %d (k = %d): max |ΔW| / max |W| = %.2g", m, len(r), worst/scale)
					} else {
						scale, worst := logitDiff(x, test, solo, g)
						tol := 1e-2
						if host {
							tol = 2e-3
						}
						if scale == 0 || worst > tol*scale {
							t.Errorf("model %d (k = %d): max |Δlogit| = %.3g, largest logit %.3g", m, len(r), worst, scale)
						}
						t.Logf("model %d (k = %d): max |Δlogit| / max |logit| = %.2g", m, len(r), worst/scale)
					}
					if n := differ(solo.PredictRows(x, test), g.PredictRows(x, test)); n > 0 && (f64 || n > len(test)/500) {
						t.Errorf("model %d: %d of %d predictions differ from the solo fit", m, n, len(test))
					}
				}
			})
		}
	}
}

// differ counts the places where a and b differ.
func differ(a, b []uint8) int {
	n := 0
	for i := range a {
		if a[i] != b[i] {
			n++
		}
	}
	return n
}

// weightDiff returns the largest |weight| of a and the largest difference of a weight or bias of a and b.
func weightDiff(a, b *q1.LinearModel) (scale, worst float64) {
	for i, w := range a.W {
		scale = math.Max(scale, math.Abs(w))
		worst = math.Max(worst, math.Abs(w-b.W[i]))
	}
	for c := range a.B {
		worst = math.Max(worst, math.Abs(a.B[c]-b.B[c]))
	}
	return scale, worst
}

// logitDiff returns the largest |logit| of a on rows of x and the largest difference between a logit
// of a and b there: what a change of the weights does to the predictions. (Weights of features that
// are almost constant on the training rows, a pixel inked in one of them, follow gradients at the
// level of float32 rounding, which Adam scales to full steps: they differ by up to 1% of the largest
// weight between two float32 fits; on the training rows, where those pixels are blank, that changes
// nothing, but a test row inked there sees it: up to 0.33% of the largest logit in
// TestFitLinearGroupMatchesSolo.)
func logitDiff(x *matrixio.Matrix, rows []int, a, b *q1.LinearModel) (scale, worst float64) {
	for _, r := range rows {
		xr := x.Row(r)
		for c := range 10 {
			la, lb := a.B[c], b.B[c]
			for j, v := range xr {
				la += v * a.W[j*10+c]
				lb += v * b.W[j*10+c]
			}
			scale = math.Max(scale, math.Abs(la))
			worst = math.Max(worst, math.Abs(la-lb))
		}
	}
	return scale, worst
}

// TestFitLinearFloat32 checks Question 1's default linear fit, float32, against the float64 one (300
// steps on 1,000 random training rows of raw pixels, FitLinear and FitLinearGroup with 5 models): test
// accuracy on the 10,000 test rows within 0.002 and at least 99.5% of the predictions equal (measured
// on AMD EPYC: every prediction equal, for all 5 models), and the weights not equal (so float32 is
// what trained).
func TestFitLinearFloat32(t *testing.T) {
	ds, err := mnist.Load(testutil.MNISTDir(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	be := testutil.Backend(t).Backend
	ctx := context.Background()
	x := basis.Raw(ds)
	_, test := testutil.Q1EvalRows(ds) // the 10,000 test rows, in order
	labels := ds.Labels[ds.NumTrain:]
	rows := make([][]int, 5)
	for m := range rows {
		rows[m] = rand.New(rand.NewPCG(uint64(m+1), 11)).Perm(60000)[:1000]
	}
	group := func(f64 bool) []*q1.LinearModel {
		ms, err := q1.FitLinearGroup(ctx, be, x, rows, ds.Labels, q1.LinearGroupOptions{LinearOptions: q1.LinearOptions{Float64: f64}})
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	g32, g64 := group(false), group(true)
	s32, err := q1.FitLinear(ctx, be, x, rows[len(rows)-1], ds.Labels, q1.LinearOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for m := range rows {
		a, b := g32[m], g64[m]
		if m == len(rows)-1 {
			a = s32 // FitLinear's float32 against the group's float64
		}
		p32, p64 := a.PredictRows(x, test), b.PredictRows(x, test)
		acc32, acc64 := mnist.Accuracy(p32, labels), mnist.Accuracy(p64, labels)
		agree := 1 - float64(differ(p32, p64))/float64(len(test))
		if math.Abs(acc32-acc64) > 0.002 || agree < 0.995 {
			t.Errorf("model %d: float32 test accuracy %.4f, float64 %.4f; %.2f%% of predictions equal", m, acc32, acc64, 100*agree)
		}
		t.Logf("model %d: float32 test accuracy %.4f, float64 %.4f; %.2f%% of predictions equal", m, acc32, acc64, 100*agree)
		// The float32 fit is one: its weights differ from float64's beyond float64 rounding (the group
		// test shows 5e-11 at most between two float64 fits).
		if scale, worst := weightDiff(a, b); worst < 1e-7*scale {
			t.Errorf("model %d: float32 and float64 weights differ by %.3g of the largest: not trained in float32?", m, worst/scale)
		}
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
