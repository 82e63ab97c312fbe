package cnn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/gomlxutil"
	"github.com/levstudy/levstudy/levlib/internal/xslices"
	"github.com/levstudy/levstudy/levlib/mnist"
	"github.com/levstudy/levstudy/levlib/progress"
)

// GroupFit is one network of TrainGroup: the seed of its initial weights (Init(Seed)) and of its
// shuffling, and the rows of the dataset it trains on, in order (the network trained alone is
// Train on ds.Subset(Rows) with the same Seed).
type GroupFit struct {
	Seed uint64
	Rows []int
}

// GroupOptions is the recipe every network of a TrainGroup call shares. The zero value (with a
// Group) trains as Train's zero TrainOptions do: 5 epochs, batch 64, Adam with learning rate 1e-3.
type GroupOptions struct {
	// Group is A (cross-entropy) or B (SmoothL1); C returns the initial weights.
	Group Group
	// Epochs (0 means 5) or, if positive, Steps: as in TrainOptions.
	Epochs, Steps int
	// BatchSize (0 means 64) and LearningRate (0 means 1e-3).
	BatchSize    int
	LearningRate float64
	// DoubleSoftmax trains group A with the original study's loss (see TrainOptions).
	DoubleSoftmax bool
	// MaxModels is the most networks trained in one graph (0 means DefaultGroupModels); networks
	// whose selections differ in size are never in the same graph (their batches differ).
	MaxModels int
	// Progress, if not nil, is called after each step of each graph; Done counts the steps of all
	// graphs.
	Progress func(progress.Report) `json:"-"`
}

// DefaultGroupModels is TrainGroup's default number of networks per graph. The number hardly
// matters on 2 cores (AMD EPYC): 8 networks × 40 steps took 7.46, 6.98, 7.10 and 7.21 s with 1, 2, 4 and 8
// per graph (medians of 3 alternating rounds, ±10% noise), the step being bound by the matrix kernels;
// 8 per graph was the slowest in a shorter run (4.25 s against 3.2 s for 10 steps) and holds about
// 330 MB at batch 64, so 4.
const DefaultGroupModels = 4

// withDefaults fills the recipe's zero values with Train's (TrainOptions.WithDefaults), so that a
// network of a group trains as it would alone.
func (o GroupOptions) withDefaults() GroupOptions {
	t := TrainOptions{Epochs: o.Epochs, BatchSize: o.BatchSize, LearningRate: o.LearningRate}.WithDefaults()
	o.Epochs, o.BatchSize, o.LearningRate = t.Epochs, t.BatchSize, t.LearningRate
	if o.MaxModels == 0 {
		o.MaxModels = DefaultGroupModels
	}
	return o
}

// TrainGroup trains len(fits) MnistConvNets together, network i from Init(fits[i].Seed) on rows
// fits[i].Rows of ds, each exactly as Train(ctx, b, ds.Subset(fits[i].Rows), o) trains it alone
// (with o's Group, Seed, Epochs or Steps, BatchSize, LearningRate and DoubleSoftmax from opts and the
// fit): its own shuffle order, epoch e visiting its rows in the order rand.New(rand.NewPCG(Seed,
// e)).Perm(k), its own batches, its own Adam state. Networks are trained in graphs of up to MaxModels
// whose selections have the same size k (so that every network's batch has the same size at every
// step); the results do not depend on how the networks are grouped.
//
// On the pure-Go backend a step of a group (groupStepper) runs the host-column formulation
// (hostcol.go) with a leading model axis on every parameter and activation: the products of all
// networks are one batched DotGeneral each, and the elementwise work (max-pooling and its gradient
// routing, ReLU masks, Adam) runs on the host in one fused pass each, over all networks, on all cores.
// Every product is computed by the same matrix kernel, in the same summation order, as for the
// network alone (groupDot), and the fused passes do the same float32 operations in the same order as
// the graph, so network i of a group has bitwise the weights Train gives it alone (tested). On other
// backends the networks are trained one after the other with Train.
//
// It returns the trained weights in the order of fits. Errors: an unknown group, no fits, a fit without
// rows or with a row outside ds, bad options, a NaN loss at the end of an epoch, a backend failure. ctx
// is checked before every step.
func TrainGroup(ctx context.Context, b compute.Backend, ds *mnist.Dataset, fits []GroupFit, opts GroupOptions) ([]*Weights, error) {
	opts = opts.withDefaults()
	if opts.Group != GroupA && opts.Group != GroupB && opts.Group != GroupC {
		return nil, fmt.Errorf("train CNN group: unknown group %q", opts.Group)
	}
	if len(fits) == 0 {
		return nil, errors.New("train CNN group: no networks")
	}
	if opts.BatchSize < 1 || opts.Epochs < 0 || opts.Steps < 0 || opts.LearningRate <= 0 || opts.MaxModels < 1 {
		return nil, fmt.Errorf("train CNN group: bad options (batch %d, epochs %d, steps %d, lr %g, max models %d)",
			opts.BatchSize, opts.Epochs, opts.Steps, opts.LearningRate, opts.MaxModels)
	}
	for i, f := range fits {
		if len(f.Rows) == 0 {
			return nil, fmt.Errorf("train CNN group: network %d (seed %d) has no rows", i, f.Seed)
		}
		for _, r := range f.Rows {
			if r < 0 || r >= ds.N() {
				return nil, fmt.Errorf("train CNN group: network %d (seed %d): row %d outside 0..%d", i, f.Seed, r, ds.N()-1)
			}
		}
	}
	out := make([]*Weights, len(fits))
	if opts.Group == GroupC {
		for i, f := range fits {
			out[i] = Init(f.Seed)
		}
		return out, nil
	}
	if !gomlxutil.IsGoBackend(b) {
		for i, f := range fits {
			res, err := Train(ctx, b, ds.Subset(f.Rows), opts.solo(f.Seed))
			if err != nil {
				return nil, err
			}
			out[i] = res.Weights
		}
		return out, nil
	}
	// Graphs: networks with equal selection sizes, in order of size then position, MaxModels at most.
	order := xslices.Iota(len(fits))
	slices.SortStableFunc(order, func(a, c int) int { return len(fits[a].Rows) - len(fits[c].Rows) })
	var parts [][]int
	for s := 0; s < len(order); {
		e := s + 1
		for e < len(order) && e-s < opts.MaxModels && len(fits[order[e]].Rows) == len(fits[order[s]].Rows) {
			e++
		}
		parts = append(parts, order[s:e])
		s = e
	}
	total := 0
	for _, p := range parts {
		total += opts.totalSteps(len(fits[p[0]].Rows))
	}
	done := 0
	for _, p := range parts {
		ws, err := trainCNNPart(ctx, b, ds, fits, p, opts, &done, total)
		if err != nil {
			return nil, err
		}
		for j, i := range p {
			out[i] = ws[j]
		}
	}
	return out, nil
}

// solo returns Train's options for one network of the group.
func (o GroupOptions) solo(seed uint64) TrainOptions {
	return TrainOptions{Group: o.Group, Seed: seed, Epochs: o.Epochs, Steps: o.Steps, BatchSize: o.BatchSize,
		LearningRate: o.LearningRate, DoubleSoftmax: o.DoubleSoftmax, EvalRows: -1}
}

// totalSteps is the number of optimizer steps on k rows.
func (o GroupOptions) totalSteps(k int) int {
	if o.Steps > 0 {
		return o.Steps
	}
	return o.Epochs * ((k + o.BatchSize - 1) / o.BatchSize)
}

// trainCNNPart trains the networks fits[idx] (equal selection sizes) in one groupStepper, with
// Train's loop: the same batches, Adam scalars and NaN check at the end of each epoch.
func trainCNNPart(ctx context.Context, b compute.Backend, ds *mnist.Dataset, fits []GroupFit, idx []int, opts GroupOptions, done *int, total int) ([]*Weights, error) {
	m, n, bs := len(idx), len(fits[idx[0]].Rows), opts.BatchSize
	p, mo, v := make([][8][]float32, m), make([][8][]float32, m), make([][8][]float32, m)
	for j, i := range idx {
		p[j] = Init(fits[i].Seed).Params
		for l, s := range paramShapes {
			mo[j][l], v[j][l] = make([]float32, shapeSize(s)), make([]float32, shapeSize(s))
		}
	}
	st, err := newGroupStepper(b, lossFor(opts.Group, opts.DoubleSoftmax), p, mo, v)
	if err != nil {
		return nil, fmt.Errorf("train CNN group: %w", err)
	}
	defer st.close()
	perEpoch := (n + bs - 1) / bs
	steps := opts.totalSteps(n)
	pixels, labels := make([][]uint8, m), make([][]uint8, m)
	for j := range pixels {
		pixels[j], labels[j] = make([]uint8, bs*mnist.ImagePixels), make([]uint8, bs)
	}
	perms := make([][]int, m)
	for t := 0; t < steps; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		epoch, pos := t/perEpoch, t%perEpoch
		if pos == 0 {
			for j, i := range idx {
				perms[j] = rand.New(rand.NewPCG(fits[i].Seed, uint64(epoch))).Perm(n)
			}
		}
		lo, hi := pos*bs, min((pos+1)*bs, n)
		for j, i := range idx {
			for r, q := range perms[j][lo:hi] {
				row := fits[i].Rows[q]
				copy(pixels[j][r*mnist.ImagePixels:(r+1)*mnist.ImagePixels], ds.Pixels[row*mnist.ImagePixels:(row+1)*mnist.ImagePixels])
				labels[j][r] = ds.Labels[row]
			}
		}
		c1, c2 := gomlxutil.AdamScalars(opts.LearningRate, t+1)
		bn := hi - lo
		px, lb := make([][]uint8, m), make([][]uint8, m)
		for j := range px {
			px[j], lb[j] = pixels[j][:bn*mnist.ImagePixels], labels[j][:bn]
		}
		if err := st.stepGroup(px, lb, c1, c2); err != nil {
			return nil, fmt.Errorf("train CNN group: %w", err)
		}
		*done++
		if opts.Progress != nil {
			opts.Progress(progress.Report{Stage: "train CNN group", Done: *done, Total: total})
		}
		if (t+1)%perEpoch == 0 || t+1 == steps {
			losses, err := st.losses()
			if err != nil {
				return nil, fmt.Errorf("train CNN group: %w", err)
			}
			for j, l := range losses {
				if math.IsNaN(l) {
					return nil, fmt.Errorf("train CNN group: network with seed %d: loss is NaN in epoch %d", fits[idx[j]].Seed, epoch+1)
				}
			}
			st.resetLosses()
		}
	}
	ps, _, _, err := st.states()
	if err != nil {
		return nil, fmt.Errorf("train CNN group: %w", err)
	}
	ws := make([]*Weights, m)
	for j := range ws {
		ws[j] = &Weights{Params: ps[j]}
	}
	return ws, nil
}

// smallProductFlops is where the Go backend switches matrix kernels: a product of rows·cols·contracted
// < 4·2^20 (the batch axis included) takes the "small" kernel, a larger one the packed "large" kernel
// (noSIMDSmallMatMulSizeThreshold in github.com/gomlx/compute v0.1.0). The two sum in different
// orders; the large kernel computes every matrix of a batch as it would alone, whatever the batch size
// and layout (it splits work by rows and columns, never along the contracted axis).
const smallProductFlops = 4 << 20

// modelOf returns model m's matrix of x [M, r, c] as [r, c].
func modelOf(x *graph.Node, m int) *graph.Node {
	d := x.Shape().Dimensions
	if d[0] == 1 {
		return graph.Reshape(x, d[1:]...)
	}
	return graph.Reshape(graph.Slice(x, graph.AxisRange(m, m+1)), d[1:]...)
}

// modelVec returns model m's vector of x [M, r] as [r].
func modelVec(x *graph.Node, m int) *graph.Node {
	d := x.Shape().Dimensions
	if d[0] == 1 {
		return graph.Reshape(x, d[1])
	}
	return graph.Reshape(graph.Slice(x, graph.AxisRange(m, m+1)), d[1])
}

// stack concatenates per-model results [r, …] into [M, r, …].
func stack(parts []*graph.Node) *graph.Node {
	for i, p := range parts {
		parts[i] = graph.Reshape(p, append([]int{1}, p.Shape().Dimensions...)...)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return graph.Concatenate(parts, 0)
}

// groupDot returns, for every model m, the product of x_m = x[m] and y_m = y[m] (x, y [M, ·, ·])
// contracting axis xc of x_m with axis yc of y_m, as [M, x's other axis, y's other axis]: for every m
// exactly what DotGeneral(x_m, xc, y_m, yc) gives alone. A product that alone takes the backend's small
// kernel (smallProductFlops) is made per model, so that it takes it in the group too; a larger one is
// one batched DotGeneral, with x transposed explicitly when it contracts its first axis (x is the small
// operand in every such product here: the backend would otherwise move both operands into its
// "transposed" layout, copying the large one).
func groupDot(x *graph.Node, xc int, y *graph.Node, yc int) *graph.Node {
	xd, yd := x.Shape().Dimensions, y.Shape().Dimensions
	if xd[1+xc] != yd[1+yc] {
		panic(fmt.Sprintf("groupDot: contracted sizes %v[%d] and %v[%d] differ", xd, 1+xc, yd, 1+yc))
	}
	if flops := xd[2-xc] * yd[2-yc] * xd[1+xc]; flops < smallProductFlops {
		parts := make([]*graph.Node, xd[0])
		for m := range parts {
			parts[m] = graph.DotGeneral(modelOf(x, m), []int{xc}, nil, modelOf(y, m), []int{yc}, nil)
		}
		return stack(parts)
	}
	if xc == 0 {
		x = graph.Transpose(x, 1, 2)
	}
	return graph.DotGeneral(x, []int{2}, []int{0}, y, []int{1 + yc}, []int{0})
}

// groupStepper trains M MnistConvNets on the pure-Go backend, one batch each per step, in five graphs
// that hold only products (and the small dense head) and fused host passes between them:
//
//	host:  conv1 patches P1_q of each network's images (im2col1)
//	conv1: Z1_q = W1a·P1_q per network (the small kernel, as alone)
//	host:  a1 = max(0, max_q Z1_q) and the first-maximum index, one pass (poolForward); conv2 patches
//	conv2: Z2_q = W2a·P2_q                                 [M, 64, 49·B]
//	host:  flat = max(0, max_q Z2_q) and its index         [M, 3136, B]
//	head:  h = W4·flat + b4, emb = ReLU(h), logits = W6·emb + b6, loss, ∂logits; ∂W6, ∂b6, ∂W4, ∂b4 and
//	       ∂flat = W4ᵀ·∂h (with ∂h = ∂emb where h > 0)
//	host:  ∂Z2_q: ∂flat routed to its first maximum where flat > 0 (poolBackward)
//	conv2 backward: ∂W2a = Σ_q ∂Z2_q·P2_qᵀ, ∂P2_q = W2ᵀ·∂Z2_q
//	host:  ∂a1 = col2im(∂P2_q), routed to ∂Z1_q
//	conv1 backward: ∂W1a = Σ_q ∂Z1_q·P1_qᵀ per network
//	host:  Adam on all parameters of all networks, one pass (adamStep)
//
// Parameters and moments live in host tensors shared with the backend (column layout, leading model
// axis), so the host updates them in place.
type groupStepper struct {
	be                                 compute.Backend
	m                                  int
	conv1, conv2, head, conv2G, conv1G *graph.Exec
	params, mom, vel                   [colParams]*tensors.Tensor // [M, …]
	pf, mf, vf                         [colParams][]float32       // their host storage
	loss                               *tensors.Tensor            // [M] float64: the sum of batch losses
	batches                            map[int]*groupBatch
}

// groupBatch holds the host tensors and scratch of one batch size. The flat slices alias the storage
// of tensors made by FromShapeForBackend, which is the tensor's for its whole life (see mutableFlats).
type groupBatch struct {
	b          int
	p1, dz1    [][4]*tensors.Tensor // per network [10, 196·B] and [32, 196·B]
	p1f, dz1f  [][4][]float32
	p2, dz2    [4]*tensors.Tensor // [M, 289, 49·B] and [M, 64, 49·B]
	p2f, dz2f  [4][]float32
	flat, oh   *tensors.Tensor // [M, 3136, B] and the one-hot labels [M, 10, B]
	flatf, ohf []float32
	a1         [][]float32 // per network: pooled conv1 activations [32, 196·B]
	dp1, norm  []float32   // scratch: ∂a1 [32·196·B], normalized images [784·B]
}

// hostTensor makes a float32 tensor shared with backend be and returns its host storage.
func hostTensor(be compute.Backend, dims ...int) (*tensors.Tensor, []float32, error) {
	t, err := tensors.FromShapeForBackend(be, 0, shapes.Make(dtypes.Float32, dims...))
	if err != nil {
		return nil, nil, err
	}
	var flat []float32
	if err := tensors.MutableFlatData(t, func(f []float32) { flat = f }); err != nil {
		t.FinalizeAll()
		return nil, nil, err
	}
	return t, flat, nil
}

// newGroupStepper builds the graphs and uploads the parameters and moments of M networks (PyTorch
// layout).
func newGroupStepper(b compute.Backend, lossKind cnnLoss, p, mo, v [][8][]float32) (*groupStepper, error) {
	m := len(p)
	s := &groupStepper{be: b, m: m, batches: map[int]*groupBatch{}}
	for set, src := range [][][8][]float32{p, mo, v} {
		for l, shape := range colShapes {
			t, flat, err := hostTensor(b, append([]int{m}, shape...)...)
			if err != nil {
				s.close()
				return nil, err
			}
			[]*[colParams]*tensors.Tensor{&s.params, &s.mom, &s.vel}[set][l] = t
			[]*[colParams][]float32{&s.pf, &s.mf, &s.vf}[set][l] = flat
			size := shapeSize(shape)
			for j := range src {
				copy(flat[j*size:(j+1)*size], toColumns(src[j])[l])
			}
		}
	}
	s.loss = tensors.FromFlatDataAndDimensions(make([]float64, m), m)
	var err error
	if s.conv1, err = gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		w := in[0] // W1a [M, 32, 10], then P1_q of each network
		out := make([]*graph.Node, 0, 4*m)
		for j := 0; j < m; j++ {
			wj := modelOf(w, j)
			for q := 0; q < 4; q++ {
				out = append(out, matmul(wj, in[1+4*j+q]))
			}
		}
		return out
	}); err != nil {
		s.close()
		return nil, err
	}
	if s.conv2, err = gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		out := make([]*graph.Node, 4) // W2a, then P2_q
		for q := range out {
			out[q] = groupDot(in[0], 1, in[1+q], 0)
		}
		return out
	}); err != nil {
		s.close()
		return nil, err
	}
	if s.head, err = gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		return groupHead(lossKind, in[0], in[1], in[2], in[3], in[4], in[5], in[6])
	}); err != nil {
		s.close()
		return nil, err
	}
	if s.conv2G, err = gomlxutil.NewExec(b, func(in []*graph.Node) []*graph.Node {
		w, dz, p2 := in[0], in[1:5], in[5:9] // W2a, ∂Z2_q, P2_q
		// ∂W2a = Σ_q ∂Z2_q·P2_qᵀ. Where the products take the large kernel it is computed as (Σ_q
		// P2_q·∂Z2_qᵀ)ᵀ: the same sums in the same order (the kernel sums each output over the
		// contracted axis in order, and a·b = b·a), but the kernel then packs ∂Z2_q [64, 49·B] instead of
		// P2_q [289, 49·B] in its transposing packer.
		d2 := dz[0].Shape().Dimensions
		flip := 64*colK2*d2[2] >= smallProductFlops
		var dw *graph.Node
		for q := 0; q < 4; q++ {
			var g *graph.Node
			if flip {
				g = groupDot(p2[q], 1, dz[q], 1) // [M, 289, 64]
			} else {
				g = groupDot(dz[q], 1, p2[q], 1) // [M, 64, 289]
			}
			if dw == nil {
				dw = g
			} else {
				dw = graph.Add(dw, g)
			}
		}
		if flip {
			dw = graph.Transpose(dw, 1, 2)
		}
		d := w.Shape().Dimensions
		w2 := graph.Slice(w, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(0, d[2]-1)) // [M, 64, 288]
		out := []*graph.Node{dw}
		for q := 0; q < 4; q++ {
			out = append(out, groupDot(w2, 0, dz[q], 0)) // [M, 288, 49·B]
		}
		return out
	}); err != nil {
		s.close()
		return nil, err
	}
	if s.conv1G, err = gomlxutil.NewExec(b, func(in []*graph.Node) *graph.Node {
		// ∂Z1_q, then P1_q, of each network.
		parts := make([]*graph.Node, m)
		for j := range parts {
			for q := 0; q < 4; q++ {
				g := matmulT(in[8*j+q], in[8*j+4+q]) // [32, 10]
				if parts[j] == nil {
					parts[j] = g
				} else {
					parts[j] = graph.Add(parts[j], g)
				}
			}
		}
		return stack(parts)
	}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// groupHead is the head graph: flat [M, 3136, B], W4 [M, 200, 3136], b4 [M, 200], W6 [M, 10, 200],
// b6 [M, 10], one-hot labels [M, 10, B], loss sums [M] → ∂W4, ∂b4, ∂W6, ∂b6, ∂flat [M, 3136, B], loss
// sums. The operations are colForwardHead's and colBackwardHead's, per network where they are small.
func groupHead(lossKind cnnLoss, flat, w4, b4, w6, b6, oneHot, lossSum *graph.Node) []*graph.Node {
	m := flat.Shape().Dimensions[0]
	h := graph.Add(groupDot(w4, 1, flat, 0), graph.Reshape(b4, m, 200, 1)) // [M, 200, B]
	emb := relu0(h)
	dW6, dB6, dEmb, losses := make([]*graph.Node, m), make([]*graph.Node, m), make([]*graph.Node, m), make([]*graph.Node, m)
	for j := 0; j < m; j++ {
		ej, wj := modelOf(emb, j), modelOf(w6, j)
		logits := addRowBias(matmul(wj, ej), modelVec(b6, j))
		loss, dl := lossGrad(lossKind, logits, modelOf(oneHot, j), 0)
		dW6[j], dB6[j], dEmb[j] = matmulT(dl, ej), graph.ReduceSum(dl, 1), tmatmul(wj, dl)
		losses[j] = graph.ConvertDType(loss, lossSum.DType())
	}
	dH := reluMask(h, stack(dEmb))
	dW4 := groupDot(dH, 1, flat, 1) // [M, 200, 3136]
	dB4 := graph.ReduceSum(dH, 2)
	dFlat := graph.Transpose(groupDot(dH, 0, w4, 0), 1, 2) // [M, B, 3136] → [M, 3136, B]
	return []*graph.Node{dW4, dB4, stack(dW6), stack(dB6), dFlat, graph.Add(lossSum, graph.Reshape(stack(losses), m))}
}

// batch returns the host tensors of batch size n.
func (s *groupStepper) batch(n int) (*groupBatch, error) {
	if gb, ok := s.batches[n]; ok {
		return gb, nil
	}
	m := s.m
	gb := &groupBatch{b: n, p1: make([][4]*tensors.Tensor, m), dz1: make([][4]*tensors.Tensor, m),
		p1f: make([][4][]float32, m), dz1f: make([][4][]float32, m), a1: make([][]float32, m),
		dp1: make([]float32, 32*196*n), norm: make([]float32, mnist.ImagePixels*n)}
	s.batches[n] = gb // registered first, so close frees what was made before an error
	var err error
	for j := 0; j < m; j++ {
		for q := 0; q < 4; q++ {
			if gb.p1[j][q], gb.p1f[j][q], err = hostTensor(s.be, colK1, 196*n); err != nil {
				return nil, err
			}
			if gb.dz1[j][q], gb.dz1f[j][q], err = hostTensor(s.be, 32, 196*n); err != nil {
				return nil, err
			}
		}
		gb.a1[j] = make([]float32, 32*196*n)
	}
	for q := 0; q < 4; q++ {
		if gb.p2[q], gb.p2f[q], err = hostTensor(s.be, m, colK2, 49*n); err != nil {
			return nil, err
		}
		if gb.dz2[q], gb.dz2f[q], err = hostTensor(s.be, m, 64, 49*n); err != nil {
			return nil, err
		}
	}
	if gb.flat, gb.flatf, err = hostTensor(s.be, m, 3136, n); err != nil {
		return nil, err
	}
	if gb.oh, gb.ohf, err = hostTensor(s.be, m, 10, n); err != nil {
		return nil, err
	}
	return gb, nil
}

func (gb *groupBatch) close() {
	for j := range gb.p1 {
		for q := 0; q < 4; q++ {
			for _, t := range []*tensors.Tensor{gb.p1[j][q], gb.dz1[j][q]} {
				if t != nil {
					t.FinalizeAll()
				}
			}
		}
	}
	for _, t := range []*tensors.Tensor{gb.p2[0], gb.p2[1], gb.p2[2], gb.p2[3], gb.dz2[0], gb.dz2[1], gb.dz2[2], gb.dz2[3], gb.flat, gb.oh} {
		if t != nil {
			t.FinalizeAll()
		}
	}
}

// constFlat returns the host storage of a backend output (valid until it is finalized).
func constFlat(t *tensors.Tensor) ([]float32, error) {
	var flat []float32
	err := tensors.ConstFlatData(t, func(f []float32) { flat = f })
	return flat, err
}

func finalizeAll(ts []*tensors.Tensor) {
	for _, t := range ts {
		t.FinalizeAll()
	}
}

// stepGroup trains every network on its batch: pixels[j] [n·784] and labels[j] [n] of network j (the
// same n for all), Adam scalars c1, c2 (gomlxutil.AdamScalars).
func (s *groupStepper) stepGroup(pixels, labels [][]uint8, c1, c2 float64) error {
	m, n := s.m, len(labels[0])
	gb, err := s.batch(n)
	if err != nil {
		return err
	}
	clear(gb.ohf)
	for j := 0; j < m; j++ {
		im2col1(gb.p1f[j], pixels[j][:n*mnist.ImagePixels], n, gb.norm)
		for i, l := range labels[j] {
			gb.ohf[(j*10+int(l))*n+i] = 1
		}
	}
	// conv1 and its pooling.
	args := make([]any, 0, 8*m+1)
	args = append(args, s.params[0])
	for j := 0; j < m; j++ {
		for q := 0; q < 4; q++ {
			args = append(args, gb.p1[j][q])
		}
	}
	z1, err := gomlxutil.ExecSafe(s.conv1, args) // kept until the conv1 gradient is routed
	if err != nil {
		return err
	}
	defer finalizeAll(z1)
	z1f := make([][4][]float32, m)
	for j := 0; j < m; j++ {
		for q := 0; q < 4; q++ {
			if z1f[j][q], err = constFlat(z1[4*j+q]); err != nil {
				return err
			}
		}
		poolForward(gb.a1[j], z1f[j])
	}
	size2 := colK2 * 49 * n
	for j := 0; j < m; j++ {
		var dst [4][]float32
		for q := range dst {
			dst[q] = gb.p2f[q][j*size2 : (j+1)*size2]
		}
		im2col2(dst, gb.a1[j], n)
	}
	// conv2 and its pooling.
	z2, err := gomlxutil.ExecSafe(s.conv2, []any{s.params[1], gb.p2[0], gb.p2[1], gb.p2[2], gb.p2[3]})
	if err != nil {
		return err
	}
	defer finalizeAll(z2)
	var z2f [4][]float32
	for q := range z2f {
		if z2f[q], err = constFlat(z2[q]); err != nil {
			return err
		}
	}
	poolForward(gb.flatf, z2f)
	// The dense head, forward and backward.
	head, err := gomlxutil.ExecSafe(s.head, []any{gb.flat, s.params[2], s.params[3], s.params[4], s.params[5], gb.oh, s.loss})
	if err != nil {
		return err
	}
	s.loss.FinalizeAll()
	s.loss = head[5]
	grads := [colParams]*tensors.Tensor{nil, nil, head[0], head[1], head[2], head[3]}
	defer func() {
		for _, t := range grads {
			if t != nil {
				t.FinalizeAll()
			}
		}
	}()
	dFlat, err := constFlat(head[4])
	if err == nil {
		poolBackward(gb.dz2f, dFlat, gb.flatf, z2f)
	}
	head[4].FinalizeAll()
	if err != nil {
		return err
	}
	// conv2 backward.
	c2g, err := gomlxutil.ExecSafe(s.conv2G, []any{s.params[1], gb.dz2[0], gb.dz2[1], gb.dz2[2], gb.dz2[3], gb.p2[0], gb.p2[1], gb.p2[2], gb.p2[3]})
	if err != nil {
		return err
	}
	grads[1] = c2g[0]
	defer finalizeAll(c2g[1:])
	size := 288 * 49 * n
	var dp [4][]float32
	for q := range dp {
		if dp[q], err = constFlat(c2g[1+q]); err != nil {
			return err
		}
	}
	for j := 0; j < m; j++ {
		var dpj [4][]float32
		for q := range dpj {
			dpj[q] = dp[q][j*size : (j+1)*size]
		}
		col2im2(gb.dp1, dpj, n, addToKernel)
		poolBackward(gb.dz1f[j], gb.dp1, gb.a1[j], z1f[j])
	}
	// conv1 backward.
	args = args[:0]
	for j := 0; j < m; j++ {
		for q := 0; q < 4; q++ {
			args = append(args, gb.dz1[j][q])
		}
		for q := 0; q < 4; q++ {
			args = append(args, gb.p1[j][q])
		}
	}
	c1g, err := gomlxutil.ExecSafe(s.conv1G, args)
	if err != nil {
		return err
	}
	grads[0] = c1g[0]
	var gf [colParams][]float32
	for l, t := range grads {
		if gf[l], err = constFlat(t); err != nil {
			return err
		}
	}
	adamStep(s.pf, gf, s.mf, s.vf, float32(c1), float32(c2))
	return nil
}

// losses returns each network's sum of batch losses since the last reset.
func (s *groupStepper) losses() ([]float64, error) { return tensors.CopyFlatData[float64](s.loss) }

// resetLosses sets the loss sums to v.
func (s *groupStepper) resetLosses() { s.setLosses(0) }

func (s *groupStepper) setLosses(v float64) {
	l := make([]float64, s.m)
	for i := range l {
		l[i] = v
	}
	s.loss.FinalizeAll()
	s.loss = tensors.FromFlatDataAndDimensions(l, s.m)
}

// states returns each network's parameters and Adam moments in PyTorch's layout.
func (s *groupStepper) states() (p, mo, v [][8][]float32, err error) {
	p, mo, v = make([][8][]float32, s.m), make([][8][]float32, s.m), make([][8][]float32, s.m)
	for set, src := range [][colParams][]float32{s.pf, s.mf, s.vf} {
		dst := [][][8][]float32{p, mo, v}[set]
		for j := 0; j < s.m; j++ {
			var c [colParams][]float32
			for l, shape := range colShapes {
				size := shapeSize(shape)
				c[l] = slices.Clone(src[l][j*size : (j+1)*size])
			}
			dst[j] = fromColumns(c)
		}
	}
	return p, mo, v, nil
}

func (s *groupStepper) close() {
	for _, e := range []*graph.Exec{s.conv1, s.conv2, s.head, s.conv2G, s.conv1G} {
		if e != nil {
			e.Finalize()
		}
	}
	for _, set := range [][colParams]*tensors.Tensor{s.params, s.mom, s.vel} {
		for _, t := range set {
			if t != nil {
				t.FinalizeAll()
			}
		}
	}
	if s.loss != nil {
		s.loss.FinalizeAll()
	}
	for _, gb := range s.batches {
		gb.close()
	}
}

// soloStepper is the cnnStepper of one network on the pure-Go backend: a groupStepper of one.
type soloStepper struct{ g *groupStepper }

func newSoloStepper(b compute.Backend, lossKind cnnLoss, p, m, v [8][]float32) (*soloStepper, error) {
	g, err := newGroupStepper(b, lossKind, [][8][]float32{p}, [][8][]float32{m}, [][8][]float32{v})
	if err != nil {
		return nil, err
	}
	return &soloStepper{g: g}, nil
}

func (s *soloStepper) step(pixels, labels []uint8, c1, c2 float64) error {
	return s.g.stepGroup([][]uint8{pixels}, [][]uint8{labels}, c1, c2)
}

func (s *soloStepper) state() (p, m, v [8][]float32, err error) {
	ps, ms, vs, err := s.g.states()
	if err != nil {
		return p, m, v, err
	}
	return ps[0], ms[0], vs[0], nil
}

func (s *soloStepper) lossSum() (float64, error) {
	l, err := s.g.losses()
	if err != nil {
		return 0, err
	}
	return l[0], nil
}

func (s *soloStepper) setLoss(v float64) { s.g.setLosses(v) }

func (s *soloStepper) close() { s.g.close() }
