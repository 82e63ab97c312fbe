package q1

import (
	"context"
	"errors"
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/matrixio"
	"github.com/levstudy/levstudy/levlib/progress"
)

// LinearGroupOptions configures FitLinearGroup. The zero value trains as FitLinear's zero
// LinearOptions do (300 full-batch Adam steps, learning rate 0.01, L2 1e-4, centred features), with
// groups of up to DefaultLinearGroupValues data values per graph (half as many in float64) and no
// progress reports.
type LinearGroupOptions struct {
	LinearOptions
	// MaxValues bounds M·K·(D+1), the values of one copy of the data of one graph (M models, K
	// the largest selection among them, D features; the graph holds two copies): a larger group is
	// trained as several graphs, in order. 0 means DefaultLinearGroupValues in float32 and half of it
	// in float64 (the same bytes).
	MaxValues int
	// Progress, if not nil, is called after each step of each graph (Done counts steps over all graphs).
	Progress func(progress.Report)
}

// DefaultLinearGroupValues is FitLinearGroup's default bound on M·K·(D+1) in float32: 2^21 values (2^20
// in float64), so that a graph's two copies of the data (16 MiB) stay in the last-level cache from one
// product to the next: the products read the data twice a step and do 20 flops per value read, so they
// are bound by memory. Measured on 2 cores (AMD EPYC, 32 MiB L3), float64 graph, 10 fits: at k = 1000,
// 93–99 fits/min one model per graph, 82 two per graph, 74–81 five or ten per graph; at k = 200,
// 338–354 fits/min one per graph, 568–649 five per graph, 623–640 ten per graph. In float32, 25 fits at
// k = 1000 (BenchmarkQ1Fits): as a graph, 2^20 and 2^21 values were the same within noise (242–256 and
// 250–281 fits/min), 2^22 and 2^23 slower (224–225); with the host step, 2^19: 482, 2^20: 490–525,
// 2^21: 549–582, 2^22: 545 fits/min.
const DefaultLinearGroupValues = 1 << 21

// FitLinearGroup trains len(rows) softmax-regression models at once, model m on rows[m] of x, each
// exactly as FitLinear(ctx, b, x, rows[m], labels, opts.LinearOptions) does alone: features centred
// (and, with Standardize, scaled) on the model's own rows; loss_m = (1/k_m)·Σ_i CE(softmax(W_m z_i +
// b_m), y_i) + (L2/2)·‖W_m‖² (bias not penalized); full-batch Adam (gomlxutil.AdamUpdate) for Steps steps.
//
// The models share one graph: the weights carry a leading model axis, W [M, 10, D+1] (PyTorch's [out,
// in] layout with the bias as column D), the data is held twice, Zᵀ [M, D+1, K] and Z [M, K, D+1], with
// ones for the bias, and every step is two batched products, each with the data on the right in the
// layout the Go backend packs fastest (two copies: 12% faster than one copy read transposed, measured
// with M = 10, k = 1000 on 2 cores):
//
//	logitsᵀ_m = W_m Zᵀ_m                [10, K]
//	Gᵀ_m = (softmax(logitsᵀ_m) − Yᵀ_m) ∘ S_m,   S_m[c, i] = 1/k_m for a row of model m, 0 for padding
//	∇W_m = Gᵀ_m Z_m + L2·W_m∘P          [10, D+1]   (P: 1, 0 on the bias column)
//
// Selections may differ in size: each model's rows are padded with zeros up to K = max_m k_m and the
// padding is masked out by S, so a group costs M·K; group selections of similar size.
//
// On GoMLX's Go backend, in float32, on a CPU with AVX-512 or AVX2 with FMA (and a GOEXPERIMENT=simd
// build), the same step runs on the host instead of as a graph (linear_host.go: the data read where it
// lies, both cores busy): 2.2× the graph's fits per minute at k = 1000
// (BenchmarkQ1Fits/classifier=linear, 25 fits: 549–582 against 254 fits/min on 2 cores of an AMD EPYC),
// 4.3× for 40 fits at k = 50, 1.4× at k = 20,000 and 50,000, where a step streams the data from memory
// (3.6 s against 5.3 s, 9.2 s against 13.1 s, same test accuracy).
//
// The results equal FitLinear's (in the same precision, opts.Float64) up to rounding: the matrix
// kernels sum in another order, and Adam carries the difference along (TestFitLinearGroupMatchesSolo,
// 60 steps on k ≤ 300 rows: in float64 at most 5e-11 of the largest weight; in float32 logits within
// 0.33% of the largest as a graph, on test rows inked where the training rows are almost blank, and
// within 0.06% with the host step (1e-5 but for one standardized model); identical predictions). That
// rounding depends on which models share the graph (the columns kept and the padded size are the
// group's), so a cached fit is that of the grouping that computed it first; its accuracies could
// differ from another grouping's only where two logits are that close. A group
// larger than MaxValues allows is split into graphs of at most that many values
// (equal-shaped graphs share one compilation).
//
// It returns one model per selection, in order. Errors: no selections, an empty one, a row outside x,
// fewer labels than rows of x, or a backend failure; ctx is checked before every step.
func FitLinearGroup(ctx context.Context, b compute.Backend, x *matrixio.Matrix, rows [][]int, labels []uint8, opts LinearGroupOptions) ([]*LinearModel, error) {
	lo := opts.LinearOptions.withDefaults()
	if len(rows) == 0 {
		return nil, errors.New("fit linear group: no selections")
	}
	if err := x.CheckShape(); err != nil {
		return nil, fmt.Errorf("fit linear group: %w", err)
	}
	if len(labels) < x.Rows {
		return nil, fmt.Errorf("fit linear group: %d labels for %d rows", len(labels), x.Rows)
	}
	for m, r := range rows {
		if len(r) == 0 {
			return nil, fmt.Errorf("fit linear group: selection %d has no rows", m)
		}
		for _, i := range r {
			if i < 0 || i >= x.Rows {
				return nil, fmt.Errorf("fit linear group: selection %d: row %d outside 0..%d", m, i, x.Rows-1)
			}
		}
	}
	if lo.Steps < 1 || lo.LearningRate <= 0 || lo.L2 < 0 {
		return nil, fmt.Errorf("fit linear group: bad options (steps %d, learning rate %g, L2 %g)", lo.Steps, lo.LearningRate, lo.L2)
	}
	maxValues := opts.MaxValues
	if maxValues <= 0 {
		maxValues = DefaultLinearGroupValues
		if lo.Float64 {
			maxValues /= 2
		}
	}
	// Split into graphs: consecutive selections while M·K·(D+1) stays within maxValues.
	var parts [][2]int
	for s := 0; s < len(rows); {
		e, kmax := s, 0
		for e < len(rows) {
			k := max(kmax, len(rows[e]))
			if e > s && (e-s+1)*k*(x.Cols+1) > maxValues {
				break
			}
			kmax = k
			e++
		}
		parts = append(parts, [2]int{s, e})
		s = e
	}
	g := &linearGroup{b: b, l2: lo.L2, opts: lo, progress: opts.Progress, total: len(parts) * lo.Steps}
	defer g.close()
	out := make([]*LinearModel, 0, len(rows))
	for _, p := range parts {
		ms, err := g.fit(ctx, x, rows[p[0]:p[1]], labels)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

// linearGroup holds FitLinearGroup's compiled step, shared by its graphs.
type linearGroup struct {
	b        compute.Backend
	l2       float64
	opts     LinearOptions
	exec     *graph.Exec
	progress func(progress.Report)
	done     int
	total    int
}

func (g *linearGroup) close() {
	if g.exec != nil {
		g.exec.Finalize()
	}
}

// step builds one Adam step of the whole group: inputs W, mW, vW [M, 10, D+1], Zᵀ [M, D+1, K], Z [M,
// K, D+1], Yᵀ and S [M, 10, K], the penalty mask P [M, 10, D+1], c1, c2; outputs the new W, mW, vW.
func (g *linearGroup) step(in []*graph.Node) []*graph.Node {
	w, mw, vw, zt, z, yt, s, pen, c1, c2 := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8], in[9]
	logits := graph.DotGeneral(w, []int{2}, []int{0}, zt, []int{1}, []int{0}) // [M, 10, K]
	d := graph.Mul(graph.Sub(graph.Softmax(logits, 1), yt), s)
	gw := graph.DotGeneral(d, []int{2}, []int{0}, z, []int{1}, []int{0}) // [M, 10, D+1]
	gw = graph.Add(gw, graph.MulScalar(graph.Mul(w, pen), g.l2))
	nw, nm, nv := gomlxutil.AdamUpdate(w, gw, mw, vw, c1, c2)
	return []*graph.Node{nw, nm, nv}
}

// fit trains one graph's worth of selections. Features that are constant on every model's rows
// (centred to zero: blank pixels) are left out of the graph: their weights stay exactly 0 under Adam
// (gradient L2·0, update 0/(0+ε)), as FitLinear's do, and leaving them out saved 15% of the columns of
// 10 random selections of 1,000 MNIST rows.
func (g *linearGroup) fit(ctx context.Context, x *matrixio.Matrix, rows [][]int, labels []uint8) ([]*LinearModel, error) {
	m, d := len(rows), x.Cols
	k := 0
	for _, r := range rows {
		k = max(k, len(r))
	}
	zs := make([]*matrixio.Matrix, m)
	means, sds := make([][]float64, m), make([][]float64, m)
	used := make([]bool, d)
	for j, r := range rows {
		zs[j], means[j], sds[j] = standardize(x, r, g.opts.Standardize)
		for i := range r {
			for f, v := range zs[j].Row(i) {
				if v != 0 {
					used[f] = true
				}
			}
		}
	}
	var keep []int // the kept features, then the bias as column len(keep)
	for f, u := range used {
		if u {
			keep = append(keep, f)
		}
	}
	d1 := len(keep) + 1
	var w []float64
	var err error
	if kern := hostLinearKernels; kern != nil && !g.opts.Float64 && !hostLinearOff && gomlxutil.IsGoBackend(g.b) {
		w, err = g.trainHost(ctx, kern, zs, rows, labels, keep, k)
	} else {
		w, err = g.trainGraph(ctx, zs, rows, labels, keep, k)
	}
	if err != nil {
		return nil, err
	}
	models := make([]*LinearModel, m)
	wj := make([]float64, d*10)
	for j := range models {
		// W_j is [10, len(keep)+1]; unstandardize takes the D×10 weights (row-major) and the bias.
		var bias [10]float64
		for c := 0; c < 10; c++ {
			row := w[(j*10+c)*d1 : (j*10+c+1)*d1]
			for i, f := range keep {
				wj[f*10+c] = row[i]
			}
			bias[c] = row[len(keep)]
		}
		models[j] = unstandardize(wj, bias, means[j], sds[j])
	}
	return models, nil
}

// trainGraph trains the models of fit as one graph (step) and returns W [M, 10, len(keep)+1].
func (g *linearGroup) trainGraph(ctx context.Context, zs []*matrixio.Matrix, rows [][]int, labels []uint8, keep []int, k int) ([]float64, error) {
	m, d1 := len(rows), len(keep)+1
	var consts []*tensors.Tensor
	if g.opts.Float64 {
		consts = groupTensors[float64](zs, rows, labels, keep, k, d1)
	} else {
		consts = groupTensors[float32](zs, rows, labels, keep, k, d1)
	}
	defer func() {
		for _, t := range consts {
			t.FinalizeAll()
		}
	}()
	if g.exec == nil {
		var err error
		if g.exec, err = gomlxutil.NewExec(g.b, g.step); err != nil {
			return nil, fmt.Errorf("fit linear group: %w", err)
		}
	}
	state := make([]*tensors.Tensor, 3)
	for i := range state {
		state[i] = zeros(g.opts, m, 10, d1)
	}
	defer func() {
		for _, t := range state {
			t.FinalizeAll()
		}
	}()
	for t := 1; t <= g.opts.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c1, c2 := adamScalars(g.opts, t)
		out, err := gomlxutil.ExecSafe(g.exec, []any{state[0], state[1], state[2], consts[0], consts[1], consts[2], consts[3], consts[4], c1, c2})
		if err != nil {
			return nil, fmt.Errorf("fit linear group: %w", err)
		}
		gomlxutil.ReplaceTensors(state, out)
		g.stepDone()
	}
	w, err := float64Data(state[0])
	if err != nil {
		return nil, fmt.Errorf("fit linear group: %w", err)
	}
	return w, nil
}

// trainHost trains the models of fit with the host step (hostLinear, float32) and returns W [M, 10,
// len(keep)+1].
func (g *linearGroup) trainHost(ctx context.Context, kern *linearKernels, zs []*matrixio.Matrix, rows [][]int, labels []uint8, keep []int, k int) ([]float64, error) {
	m, d1 := len(rows), len(keep)+1
	kp, d1p := roundUp16(k), roundUp16(d1)
	h := newHostLinear(kern, groupData[float32](zs, rows, labels, keep, kp, d1p), m, kp, d1p, g.l2)
	for t := 1; t <= g.opts.Steps; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c1, c2 := gomlxutil.AdamScalars(g.opts.LearningRate, t)
		h.step(float32(c1), float32(c2))
		g.stepDone()
	}
	w := make([]float64, m*10*d1)
	for r := 0; r < m*10; r++ {
		for f, v := range h.w[r*d1p : r*d1p+d1] {
			w[r*d1+f] = float64(v)
		}
	}
	return w, nil
}

// stepDone counts a step of a graph or of the host step and reports progress.
func (g *linearGroup) stepDone() {
	g.done++
	if g.progress != nil {
		g.progress(progress.Report{Stage: "linear fits", Done: g.done, Total: g.total})
	}
}

// groupData returns the constants of a group in precision T, with k ≥ max_j k_j rows and d1 ≥
// len(keep)+1 columns: Zᵀ [M, d1, k] and Z [M, k, d1] (model j's centred rows zs[j] on the kept
// features, then a column of ones for the bias at column len(keep), zero rows and columns as padding),
// Yᵀ [M, 10, k] (one-hot labels), S [M, 10, k] (1/k_j on model j's rows, 0 on padding) and the penalty
// mask P [M, 10, d1] (1 on the kept features, 0 on the bias and padding columns).
func groupData[T float32 | float64](zs []*matrixio.Matrix, rows [][]int, labels []uint8, keep []int, k, d1 int) [][]T {
	m, dk := len(rows), len(keep)
	zt, zd := make([]T, m*d1*k), make([]T, m*k*d1)
	yt := make([]T, m*10*k)
	s := make([]T, m*10*k)
	pen := make([]T, m*10*d1)
	for j, r := range rows {
		ztj, zj := zt[j*d1*k:(j+1)*d1*k], zd[j*k*d1:(j+1)*k*d1]
		for i := range r {
			zr, dst := zs[j].Row(i), zj[i*d1:(i+1)*d1]
			for c, f := range keep {
				dst[c] = T(zr[f])
				ztj[c*k+i] = T(zr[f])
			}
			dst[dk] = 1
			ztj[dk*k+i] = 1
		}
		inv := T(1 / float64(len(r)))
		for i, row := range r {
			yt[(j*10+int(labels[row]))*k+i] = 1
			for c := 0; c < 10; c++ {
				s[(j*10+c)*k+i] = inv
			}
		}
		for c := 0; c < 10; c++ {
			p := pen[(j*10+c)*d1 : (j*10+c+1)*d1]
			for f := 0; f < dk; f++ {
				p[f] = 1
			}
		}
	}
	return [][]T{zt, zd, yt, s, pen}
}

// groupTensors returns groupData's constants as tensors of their shapes.
func groupTensors[T float32 | float64](zs []*matrixio.Matrix, rows [][]int, labels []uint8, keep []int, k, d1 int) []*tensors.Tensor {
	c, m := groupData[T](zs, rows, labels, keep, k, d1), len(rows)
	return []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(c[0], m, d1, k),
		tensors.FromFlatDataAndDimensions(c[1], m, k, d1),
		tensors.FromFlatDataAndDimensions(c[2], m, 10, k),
		tensors.FromFlatDataAndDimensions(c[3], m, 10, k),
		tensors.FromFlatDataAndDimensions(c[4], m, 10, d1),
	}
}
