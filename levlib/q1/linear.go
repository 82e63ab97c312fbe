package q1

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"gonum.org/v1/gonum/mat"
)

// LinearModel predicts digits as argmax(x·W + b) in the original feature space.
type LinearModel struct {
	D int
	W []float64 // D×10, row-major
	B [10]float64
}

// Predict returns the predicted digit of rows [lo, hi) of x.
func (m *LinearModel) Predict(x *matrixio.Matrix, lo, hi int) []uint8 {
	return m.PredictRows(x, xslices.Iota(hi)[lo:])
}

// PredictRows returns the predicted digit of the given rows of x (argmax of x·W + b).
func (m *LinearModel) PredictRows(x *matrixio.Matrix, rows []int) []uint8 {
	return predictLinear(x, rows, []*LinearModel{m})[0]
}

// standardize returns the selected rows of x with each column centred and divided by its standard
// deviation over those rows, floored at a tenth of the columns' mean deviation: a rare feature that is
// almost constant on the selected rows (a faint pixel, a nearly dead unit) is not blown up to unit
// scale, where it would dominate the logits. With scale false the columns are only centred. It returns
// the transformed rows, the means and the divisors.
func standardize(x *matrixio.Matrix, rows []int, scale bool) (*matrixio.Matrix, []float64, []float64) {
	d := x.Cols
	mean, sd := make([]float64, d), make([]float64, d)
	for _, r := range rows {
		for j, v := range x.Row(r) {
			mean[j] += v
		}
	}
	k := float64(len(rows))
	for j := range mean {
		mean[j] /= k
	}
	for _, r := range rows {
		for j, v := range x.Row(r) {
			sd[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	avg := 0.0
	for j := range sd {
		sd[j] = math.Sqrt(sd[j] / k)
		avg += sd[j] / float64(d)
	}
	for j := range sd {
		switch {
		case !scale:
			sd[j] = 1
		case sd[j] < avg/10:
			sd[j] = max(avg/10, 1e-300)
		}
	}
	z := matrixio.NewMatrix(len(rows), d)
	for i, r := range rows {
		zr := z.Row(i)
		for j, v := range x.Row(r) {
			zr[j] = (v - mean[j]) / sd[j]
		}
	}
	return z, mean, sd
}

// unstandardize maps weights of standardized features back: W_j/sd_j and b − Σ_j mean_j W_j/sd_j.
func unstandardize(w []float64, b [10]float64, mean, sd []float64) *LinearModel {
	m := &LinearModel{D: len(mean), W: make([]float64, len(w)), B: b}
	for j := range mean {
		for c := 0; c < 10; c++ {
			wj := w[j*10+c] / sd[j]
			m.W[j*10+c] = wj
			m.B[c] -= mean[j] * wj
		}
	}
	return m
}

// LinearOptions configures FitLinear. The zero value is 300 full-batch Adam steps with learning rate
// 0.01, an L2 penalty of 1e-4 and centred, unscaled features, in float32.
type LinearOptions struct {
	Steps        int     `json:"steps"`
	LearningRate float64 `json:"learning_rate"`
	L2           float64 `json:"l2"`
	// Standardize divides each feature by its standard deviation over the selected rows (floored, see
	// standardize): for features of unlike scales (a basis's own features); raw pixels share one scale
	// and are left as they are.
	Standardize bool `json:"standardize,omitempty"`
	// Float64 trains in float64. By default the data, weights and Adam state are float32, as in
	// PyTorch: half the bytes for the products, which are bound by memory, and twice the lanes
	// (BenchmarkQ1Fits/classifier=linear on 2 cores, AMD EPYC: 155 and 178 fits/min in float64, 198–256
	// in float32). Measured at k = 1,000 and 300 steps: float32 changed none of the 10,000 test
	// predictions of 5 fits (TestFitLinearFloat32 allows 0.5%).
	Float64 bool `json:"float64,omitempty"`
}

func (o LinearOptions) withDefaults() LinearOptions {
	if o.Steps == 0 {
		o.Steps = 300
	}
	if o.LearningRate == 0 {
		o.LearningRate = 0.01
	}
	if o.L2 == 0 {
		o.L2 = 1e-4
	}
	return o
}

// DefaultRidge is FitRidge's λ when it is given 0.
const DefaultRidge = 1e-3

// FitLinear trains multinomial logistic (softmax) regression on the given rows of x: features centred
// (and standardized with opts.Standardize) on those rows; loss = mean cross-entropy + (L2/2)·‖W‖² (the
// bias is not penalized), minimized by full-batch Adam (gomlxutil.AdamUpdate) for a fixed number of
// steps on backend b, in float32 (opts.Float64: float64). The penalty keeps the problem well posed when
// the selected rows are separable (small k).
func FitLinear(ctx context.Context, b compute.Backend, x *matrixio.Matrix, rows []int, labels []uint8, opts LinearOptions) (*LinearModel, error) {
	opts = opts.withDefaults()
	if len(rows) == 0 {
		return nil, errors.New("fit linear: no rows")
	}
	z, mean, sd := standardize(x, rows, opts.Standardize)
	d := x.Cols
	y := make([]int32, len(rows))
	for i, r := range rows {
		y[i] = int32(labels[r])
	}
	l2 := opts.L2
	step, err := gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		w, bias, mw, vw, mb, vb := in[0], in[1], in[2], in[3], in[4], in[5]
		xs, ys, c1, c2 := in[6], in[7], in[8], in[9]
		k := float64(xs.Shape().Dimensions[0])
		logits := graph.Add(graph.DotGeneral(xs, []int{1}, nil, w, []int{0}, nil), graph.Reshape(bias, 1, 10))
		oneHot := graph.OneHot(ys, 10, logits.DType())
		dLogits := graph.DivScalar(graph.Sub(graph.Softmax(logits, 1), oneHot), k)
		gw := graph.Add(graph.DotGeneral(xs, []int{0}, nil, dLogits, []int{0}, nil), graph.MulScalar(w, l2))
		gb := graph.ReduceSum(dLogits, 0)
		nw, nmw, nvw := gomlxutil.AdamUpdate(w, gw, mw, vw, c1, c2)
		nb, nmb, nvb := gomlxutil.AdamUpdate(bias, gb, mb, vb, c1, c2)
		return []*graph.Node{nw, nb, nmw, nvw, nmb, nvb}
	})
	if err != nil {
		return nil, err
	}
	defer step.Finalize()
	state := []*tensors.Tensor{
		zeros(opts, d, 10), zeros(opts, 10), zeros(opts, d, 10), zeros(opts, d, 10), zeros(opts, 10), zeros(opts, 10),
	}
	defer func() { // on every return: the state of the last step (or the initial one, on an error)
		for _, t := range state {
			t.FinalizeAll()
		}
	}()
	var xt *tensors.Tensor
	if opts.Float64 {
		xt = gomlxutil.TensorFromMatrix(z)
	} else {
		xt = tensorOf32(z.Data, z.Rows, z.Cols)
	}
	yt := tensors.FromFlatDataAndDimensions(y, len(y))
	defer xt.FinalizeAll()
	defer yt.FinalizeAll()
	for t := 1; t <= opts.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c1, c2 := adamScalars(opts, t)
		args := []any{state[0], state[1], state[2], state[3], state[4], state[5], xt, yt, c1, c2}
		out, err := gomlxutil.ExecSafe(step, args)
		if err != nil {
			return nil, fmt.Errorf("fit linear: %w", err)
		}
		for i := range state {
			state[i].FinalizeAll()
			state[i] = out[i]
		}
	}
	w, err := float64Data(state[0])
	if err != nil {
		return nil, fmt.Errorf("fit linear: %w", err)
	}
	bv, err := float64Data(state[1])
	if err != nil {
		return nil, fmt.Errorf("fit linear: %w", err)
	}
	var bias [10]float64
	copy(bias[:], bv)
	return unstandardize(w, bias, mean, sd), nil
}

// FitRidge fits least squares to one-hot targets with a ridge penalty: on features centred over the
// given rows (and targets centred, so the intercept is the targets' mean and unpenalized; with
// standardize also scaled as in FitLinear), W = (ZᵀZ + λI)⁻¹ ZᵀY, solved on the host in float64 by
// Cholesky; ZᵀZ and ZᵀY are accumulated over row chunks on backend b. lambda = 0 means DefaultRidge.
func FitRidge(ctx context.Context, b compute.Backend, x *matrixio.Matrix, rows []int, labels []uint8, lambda float64, scale bool) (*LinearModel, error) {
	if lambda == 0 {
		lambda = DefaultRidge
	}
	if len(rows) == 0 {
		return nil, errors.New("fit ridge: no rows")
	}
	z, mean, sd := standardize(x, rows, scale)
	d := x.Cols
	k := len(rows)
	// Centred one-hot targets, appended as 10 extra columns so that one chunked pass gives both
	// [Z Y]ᵀ[Z Y] blocks.
	var ybar [10]float64
	for _, r := range rows {
		ybar[labels[r]] += 1 / float64(k)
	}
	zy := matrixio.NewMatrix(k, d+10)
	for i, r := range rows {
		copy(zy.Row(i), z.Row(i))
		for c := 0; c < 10; c++ {
			t := -ybar[c]
			if int(labels[r]) == c {
				t++
			}
			zy.Data[i*(d+10)+d+c] = t
		}
	}
	dd := d + 10
	gm, err := gomlxutil.GramPass(ctx, b, gomlxutil.NewChunker(b, zy, 0), nil)
	if err != nil {
		return nil, err
	}
	g := make([]float64, dd*dd)
	for i := 0; i < dd; i++ {
		for j := i; j < dd; j++ {
			g[i*dd+j] = gm.At(i, j)
		}
	}
	a := mat.NewSymDense(d, nil)
	rhs := mat.NewDense(d, 10, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := g[i*dd+j]
			if i == j {
				v += lambda
			}
			a.SetSym(i, j, v)
		}
		for c := 0; c < 10; c++ {
			rhs.Set(i, c, g[i*dd+d+c])
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		return nil, fmt.Errorf("fit ridge: ZᵀZ + %gI is not positive definite", lambda)
	}
	var w mat.Dense
	if err := chol.SolveTo(&w, rhs); err != nil {
		return nil, fmt.Errorf("fit ridge: %w", err)
	}
	return unstandardize(gomlxutil.DenseData(&w), ybar, mean, sd), nil
}

// zeros returns a tensor of zeros of the given dimensions in the training precision of o.
func zeros(o LinearOptions, dims ...int) *tensors.Tensor {
	dt := dtypes.Float32
	if o.Float64 {
		dt = dtypes.Float64
	}
	return tensors.FromShape(shapes.Make(dt, dims...))
}

// tensorOf32 returns v, rounded to float32, as a tensor of the given dimensions.
func tensorOf32(v []float64, dims ...int) *tensors.Tensor {
	w := make([]float32, len(v))
	for i, x := range v {
		w[i] = float32(x)
	}
	return tensors.FromFlatDataAndDimensions(w, dims...)
}

// adamScalars returns gomlxutil.AdamScalars for step t in the training precision of o.
func adamScalars(o LinearOptions, t int) (c1, c2 any) {
	a1, a2 := gomlxutil.AdamScalars(o.LearningRate, t)
	if o.Float64 {
		return a1, a2
	}
	return float32(a1), float32(a2)
}

// float64Data returns the values of a float32 or float64 tensor as float64.
func float64Data(t *tensors.Tensor) ([]float64, error) {
	if t.DType() == dtypes.Float64 {
		return tensors.CopyFlatData[float64](t)
	}
	v, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return nil, err
	}
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w, nil
}
