package cnn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// The MnistConvNet of the original study (mnist_embeddings.py), parameters in PyTorch's state_dict
// order and layout:
//
//	Normalize(0.1307, 0.3081) → Conv 1→32 3×3 pad 1 → ReLU → MaxPool 2 → Conv 32→64 3×3 pad 1 → ReLU →
//	MaxPool 2 → Flatten (C,H,W: 64·7·7 = 3136) → Linear 3136→200 → ReLU (the embedding) → Linear 200→10
var (
	paramNames  = []string{"net.1.weight", "net.1.bias", "net.4.weight", "net.4.bias", "net.8.weight", "net.8.bias", "net.10.weight", "net.10.bias"}
	paramShapes = [][]int{{32, 1, 3, 3}, {32}, {64, 32, 3, 3}, {64}, {200, 3136}, {200}, {10, 200}, {10}}
)

// Normalization constants of the original study's Normalize layer.
const (
	MNISTMean = 0.1307
	MNISTStd  = 0.3081
	// EmbeddingDim is the width of the CNN embedding (the ReLU after the first dense layer).
	EmbeddingDim = 200
)

// The arithmetic of MnistConvNet per image, in floating-point operations (two per multiply-add; the
// biases, ReLU, pooling, the loss and Adam are not counted), for throughput figures in GFLOP/s and the
// bound a machine's peak sets on them (the benchmarks, README "Speed").
const (
	// ForwardFLOPs is one image's forward pass: conv1 28·28 positions × 32 filters × 9 taps, conv2
	// 14·14 × 64 × 288, the dense layers 3136·200 and 200·10 multiply-adds: 8,935,328.
	ForwardFLOPs = 2 * (28*28*32*9 + 14*14*64*288 + 3136*200 + 200*10)
	// TrainFLOPs is one image's training step: the forward pass, every layer's weight gradient (the
	// forward's multiply-adds again) and the input gradients of conv2 and the two dense layers (conv1's
	// input is the image, which needs none): 26,354,400.
	TrainFLOPs = 3*ForwardFLOPs - 2*28*28*32*9
)

// TrainedImages returns the images that steps optimizer steps on rows rows in batches of batchSize feed
// through the network, as Train and TrainGroup batch them: epochs of ⌈rows/batchSize⌉ steps, each
// epoch's last batch the rows left (not padded). 200 steps on 1,000 rows in batches of 64: 12 epochs
// of 1,000 and 8 batches of 64, 12,512 images.
func TrainedImages(rows, steps, batchSize int) int {
	perEpoch := (rows + batchSize - 1) / batchSize
	epochs, rest := steps/perEpoch, steps%perEpoch
	return epochs*rows + rest*batchSize // the rest < perEpoch steps are full batches
}

// Weights holds the 8 parameter arrays of MnistConvNet, float32, in ParamNames order with
// ParamShapes (PyTorch layout: conv weights [out, in, kh, kw], linear weights [out, in]).
type Weights struct {
	Params [8][]float32
}

// Init returns PyTorch's default initialization (kaiming_uniform with a = √5 for weights, which is
// U(−1/√fan_in, 1/√fan_in), and the same bound for biases), drawn from rand.NewPCG(seed, seed) in
// parameter order. The same seed gives the same weights to groups A, B and C.
func Init(seed uint64) *Weights {
	rng := rand.New(rand.NewPCG(seed, seed))
	fanIn := []int{9, 9, 288, 288, 3136, 3136, 200, 200}
	w := &Weights{}
	for i, shape := range paramShapes {
		bound := 1 / math.Sqrt(float64(fanIn[i]))
		p := make([]float32, shapeSize(shape))
		for j := range p {
			p[j] = float32((2*rng.Float64() - 1) * bound)
		}
		w.Params[i] = p
	}
	return w
}

func shapeSize(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// SHA256 returns the hex sha256 of the parameters' little-endian float32 bytes in state_dict order.
func (w *Weights) SHA256() string {
	h := sha256.New()
	var b [4]byte
	for _, p := range w.Params {
		for _, v := range p {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			h.Write(b[:])
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Clone returns a deep copy.
func (w *Weights) Clone() *Weights {
	c := &Weights{}
	for i, p := range w.Params {
		c.Params[i] = append([]float32(nil), p...)
	}
	return c
}

func (w *Weights) validate(name string) error {
	for i, shape := range paramShapes {
		if len(w.Params[i]) != shapeSize(shape) {
			return fmt.Errorf("%s: parameter %s has %d values, want %v", name, paramNames[i], len(w.Params[i]), shape)
		}
		for j, v := range w.Params[i] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s: parameter %s[%d] is %v", name, paramNames[i], j, v)
			}
		}
	}
	return nil
}

// ConvImpl selects how the CNN's convolutions and pooling are expressed in the graph.
type ConvImpl int

const (
	// ConvAuto picks the backend's best: NativeConv on XLA (forward), HostColumns on the pure-Go
	// backend, Im2Col otherwise (and for training on XLA).
	ConvAuto ConvImpl = iota
	// Im2Col expresses convolution as patch extraction (slices of the zero-padded input) and one
	// DotGeneral, and 2×2 max-pooling as Reshape + ReduceMax: it runs on every backend, the pure-Go
	// one included.
	Im2Col ConvImpl = iota
	// NativeConv uses GoMLX's Convolve and MaxPool (fast on XLA; on the pure-Go backend 49 images/s).
	NativeConv
	// HostColumns builds the patch matrices on the host and runs the rest as matrix products and
	// elementwise operations in the Go backend's fast layouts (see hostcol.go): the pure-Go
	// backend's formulation.
	HostColumns
)

// cnnActs are the intermediate values of a forward pass that the backward pass needs.
type cnnActs struct {
	patches1, z1, a1, p1 *graph.Node // [B,28,28,9], [B,28,28,32] ×2, [B,14,14,32]
	patches2, z2, a2, p2 *graph.Node // [B,14,14,288], [B,14,14,64] ×2, [B,7,7,64]
	flat, h, emb, logits *graph.Node // [B,3136], [B,200] ×2, [B,10]
	w1m, w2m             *graph.Node // conv weights as [9·Cin, Cout]
}

// pad1 zero-pads the two spatial axes of x [B,H,W,C] by 1 on each side (by concatenation: the pure-Go
// backend has no Pad).
func pad1(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	zh := graph.Zeros(x.Graph(), shapes.Make(x.DType(), d[0], 1, d[2], d[3]))
	x = graph.Concatenate([]*graph.Node{zh, x, zh}, 1)
	zw := graph.Zeros(x.Graph(), shapes.Make(x.DType(), d[0], d[1]+2, 1, d[3]))
	return graph.Concatenate([]*graph.Node{zw, x, zw}, 2)
}

// im2col returns the 3×3 patches of x [B,H,W,C] (zero padding 1) as [B,H,W,9C], channel index
// (kh·3+kw)·C + c.
func im2col(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	xp := pad1(x)
	parts := make([]*graph.Node, 0, 9)
	for kh := 0; kh < 3; kh++ {
		for kw := 0; kw < 3; kw++ {
			parts = append(parts, graph.Slice(xp, graph.AxisRange(), graph.AxisRange(kh, kh+d[1]), graph.AxisRange(kw, kw+d[2]), graph.AxisRange()))
		}
	}
	return graph.Concatenate(parts, 3)
}

// col2im is the adjoint of im2col: it maps dPatches [B,H,W,9C] to dX [B,H,W,C].
func col2im(dp *graph.Node) *graph.Node {
	d := dp.Shape().Dimensions
	c := d[3] / 9
	dpp := pad1(dp)
	var sum *graph.Node
	for kh := 0; kh < 3; kh++ {
		for kw := 0; kw < 3; kw++ {
			k := kh*3 + kw
			s := graph.Slice(dpp, graph.AxisRange(), graph.AxisRange(2-kh, 2-kh+d[1]), graph.AxisRange(2-kw, 2-kw+d[2]), graph.AxisRange(k*c, (k+1)*c))
			if sum == nil {
				sum = s
			} else {
				sum = graph.Add(sum, s)
			}
		}
	}
	return sum
}

// convMatrix turns a PyTorch conv weight [Cout,Cin,3,3] into the im2col matrix [9·Cin, Cout].
func convMatrix(w *graph.Node) *graph.Node {
	d := w.Shape().Dimensions
	return graph.Reshape(graph.TransposeAllAxes(w, 2, 3, 1, 0), 9*d[1], d[0])
}

// convMatrixGrad maps a gradient of the im2col matrix back to the PyTorch layout.
func convMatrixGrad(dm *graph.Node, cin, cout int) *graph.Node {
	return graph.TransposeAllAxes(graph.Reshape(dm, 3, 3, cin, cout), 3, 2, 0, 1)
}

func pool2(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	return graph.ReduceMax(graph.Reshape(x, d[0], d[1]/2, 2, d[2]/2, 2, d[3]), 2, 4)
}

// unpool2 repeats each element of x [B,h,w,C] over a 2×2 block: [B,2h,2w,C].
func unpool2(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	x = graph.BroadcastToDims(graph.Reshape(x, d[0], d[1], 1, d[2], 1, d[3]), d[0], d[1], 2, d[2], 2, d[3])
	return graph.Reshape(x, d[0], 2*d[1], 2*d[2], d[3])
}

// poolGrad routes the gradient dp of p = pool2(a) to the position of the maximum of each 2×2 window
// of a; on ties, to the first in row-major order, as PyTorch's max_pool2d does (ties are common: a
// blank region gives equal activations).
func poolGrad(a, p, dp *graph.Node) *graph.Node {
	d := a.Shape().Dimensions
	b, h, w, c := d[0], d[1]/2, d[2]/2, d[3]
	eq := graph.ConvertDType(graph.Equal(a, unpool2(p)), a.DType())
	eq = graph.Reshape(eq, b, h, 2, w, 2, c)
	at := func(i, j int) *graph.Node {
		return graph.Slice(eq, graph.AxisRange(), graph.AxisRange(), graph.AxisElem(i), graph.AxisRange(), graph.AxisElem(j), graph.AxisRange())
	}
	e00, e01, e10, e11 := at(0, 0), at(0, 1), at(1, 0), at(1, 1)
	notYet := graph.OneMinus(e00)
	m01 := graph.Mul(e01, notYet)
	notYet = graph.Mul(notYet, graph.OneMinus(e01))
	m10 := graph.Mul(e10, notYet)
	notYet = graph.Mul(notYet, graph.OneMinus(e10))
	m11 := graph.Mul(e11, notYet)
	mask := graph.Concatenate([]*graph.Node{graph.Concatenate([]*graph.Node{e00, m01}, 4), graph.Concatenate([]*graph.Node{m10, m11}, 4)}, 2)
	return graph.Mul(graph.Reshape(mask, d...), unpool2(dp))
}

func relu(x *graph.Node) *graph.Node { return graph.Max(x, graph.ZerosLike(x)) }

// addBias adds b [C] along the last axis of x.
func addBias(x, b *graph.Node) *graph.Node {
	dims := make([]int, x.Rank())
	for i := range dims {
		dims[i] = 1
	}
	dims[len(dims)-1] = b.Shape().Dimensions[0]
	return graph.Add(x, graph.Reshape(b, dims...))
}

// normalizeImages maps uint8 pixels [B,28,28] to ((p/255 − mean)/std) as [B,28,28,1] of dtype dt.
func normalizeImages(x *graph.Node, dt dtypes.DType) *graph.Node {
	xf := graph.DivScalar(graph.ConvertDType(x, dt), 255.0)
	xf = graph.DivScalar(graph.SubScalar(xf, MNISTMean), MNISTStd)
	d := x.Shape().Dimensions
	return graph.Reshape(xf, d[0], d[1], d[2], 1)
}

// cnnForward builds the forward pass; p are the 8 parameters in ParamNames order (float32, or
// float64 for gradient checks).
func cnnForward(p []*graph.Node, x *graph.Node, impl ConvImpl) *cnnActs {
	a := &cnnActs{}
	xn := normalizeImages(x, p[0].DType())
	b := xn.Shape().Dimensions[0]
	a.w1m, a.w2m = convMatrix(p[0]), convMatrix(p[2])
	if impl == NativeConv {
		k1 := graph.TransposeAllAxes(p[0], 2, 3, 1, 0)
		a.z1 = addBias(graph.Convolve(xn, k1).Strides(1).PadSame().Done(), p[1])
		a.a1 = relu(a.z1)
		a.p1 = graph.MaxPool(a.a1).Window(2).Done()
		k2 := graph.TransposeAllAxes(p[2], 2, 3, 1, 0)
		a.z2 = addBias(graph.Convolve(a.p1, k2).Strides(1).PadSame().Done(), p[3])
		a.a2 = relu(a.z2)
		a.p2 = graph.MaxPool(a.a2).Window(2).Done()
	} else {
		a.patches1 = im2col(xn)
		a.z1 = addBias(graph.DotGeneral(a.patches1, []int{3}, nil, a.w1m, []int{0}, nil), p[1])
		a.a1 = relu(a.z1)
		a.p1 = pool2(a.a1)
		a.patches2 = im2col(a.p1)
		a.z2 = addBias(graph.DotGeneral(a.patches2, []int{3}, nil, a.w2m, []int{0}, nil), p[3])
		a.a2 = relu(a.z2)
		a.p2 = pool2(a.a2)
	}
	a.flat = graph.Reshape(graph.TransposeAllAxes(a.p2, 0, 3, 1, 2), b, 3136) // PyTorch's (C,H,W) order
	a.h = addBias(graph.DotGeneral(a.flat, []int{1}, nil, p[4], []int{1}, nil), p[5])
	a.emb = relu(a.h)
	a.logits = addBias(graph.DotGeneral(a.emb, []int{1}, nil, p[6], []int{1}, nil), p[7])
	return a
}

// cnnBackward returns the gradients of the 8 parameters given dLogits = ∂loss/∂logits, written out by
// hand (the pure-Go backend cannot differentiate convolutions, and GoMLX's generic DotGeneral VJP
// materializes a broadcast product): every gradient is one DotGeneral or an elementwise op.
func cnnBackward(p []*graph.Node, a *cnnActs, dLogits *graph.Node) []*graph.Node {
	g := make([]*graph.Node, 8)
	g[6] = graph.DotGeneral(dLogits, []int{0}, nil, a.emb, []int{0}, nil) // [10,200]
	g[7] = graph.ReduceSum(dLogits, 0)
	dEmb := graph.DotGeneral(dLogits, []int{1}, nil, p[6], []int{0}, nil) // [B,200]
	dH := graph.Where(graph.GreaterThan(a.h, graph.ZerosLike(a.h)), dEmb, graph.ZerosLike(dEmb))
	g[4] = graph.DotGeneral(dH, []int{0}, nil, a.flat, []int{0}, nil) // [200,3136]
	g[5] = graph.ReduceSum(dH, 0)
	dFlat := graph.DotGeneral(dH, []int{1}, nil, p[4], []int{0}, nil) // [B,3136]
	b := dFlat.Shape().Dimensions[0]
	dP2 := graph.TransposeAllAxes(graph.Reshape(dFlat, b, 64, 7, 7), 0, 2, 3, 1)
	dA2 := poolGrad(a.a2, a.p2, dP2)
	dZ2 := graph.Where(graph.GreaterThan(a.z2, graph.ZerosLike(a.z2)), dA2, graph.ZerosLike(dA2))
	g[2] = convMatrixGrad(graph.DotGeneral(a.patches2, []int{0, 1, 2}, nil, dZ2, []int{0, 1, 2}, nil), 32, 64)
	g[3] = graph.ReduceSum(dZ2, 0, 1, 2)
	dP1 := col2im(graph.DotGeneral(dZ2, []int{3}, nil, a.w2m, []int{1}, nil)) // [B,14,14,32]
	dA1 := poolGrad(a.a1, a.p1, dP1)
	dZ1 := graph.Where(graph.GreaterThan(a.z1, graph.ZerosLike(a.z1)), dA1, graph.ZerosLike(dA1))
	g[0] = convMatrixGrad(graph.DotGeneral(a.patches1, []int{0, 1, 2}, nil, dZ1, []int{0, 1, 2}, nil), 1, 32)
	g[1] = graph.ReduceSum(dZ1, 0, 1, 2)
	return g
}

// Group is one of the study's three kinds of network.
type Group byte

const (
	// GroupA: trained for classification (cross-entropy on the logits).
	GroupA Group = 'A'
	// GroupB: trained for regression (SmoothL1 of the 10 outputs against one-hot targets).
	GroupB Group = 'B'
	// GroupC: untrained (the initial weights).
	GroupC Group = 'C'
)

// ParseGroup parses "A", "B" or "C".
// MarshalText writes the group as its letter ("A"), so that JSON shows it as one.
func (g Group) MarshalText() ([]byte, error) {
	if g == 0 {
		return []byte{}, nil
	}
	return []byte{byte(g)}, nil
}

// UnmarshalText reads a group letter (the empty string is the zero Group).
func (g *Group) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*g = 0
		return nil
	}
	p, err := ParseGroup(string(b))
	if err != nil {
		return err
	}
	*g = p
	return nil
}

func ParseGroup(s string) (Group, error) {
	if len(s) == 1 && (s[0] == 'A' || s[0] == 'B' || s[0] == 'C') {
		return Group(s[0]), nil
	}
	return 0, fmt.Errorf("unknown CNN group %q (want A: classification, B: regression, C: untrained)", s)
}

// cnnLoss is a training loss of MnistConvNet.
type cnnLoss int

const (
	// lossCrossEntropy is group A's: PyTorch's CrossEntropyLoss on the logits.
	lossCrossEntropy cnnLoss = iota
	// lossSmoothL1 is group B's: SmoothL1Loss (β = 1) of the 10 outputs against one-hot targets.
	lossSmoothL1
	// lossDoubleSoftmax is the original study's classification loss: CrossEntropyLoss applied to the
	// softmax of the logits (a softmax twice), kept to reproduce its numbers.
	lossDoubleSoftmax
)

// lossFor returns the loss of a group.
func lossFor(group Group, doubleSoftmax bool) cnnLoss {
	switch {
	case group == GroupB:
		return lossSmoothL1
	case doubleSoftmax:
		return lossDoubleSoftmax
	}
	return lossCrossEntropy
}

// lossAndGrad returns the mean loss and ∂loss/∂logits of a batch of logits [B, 10] and labels [B].
func lossAndGrad(l cnnLoss, logits, labels *graph.Node) (*graph.Node, *graph.Node) {
	oneHot := graph.OneHot(labels, logits.Shape().Dimensions[1], logits.DType())
	return lossGrad(l, logits, oneHot, 1)
}

// lossGrad returns the mean loss and ∂loss/∂logits for logits and one-hot targets of the same shape,
// the 10 classes along classAxis and the batch along the other axis, with PyTorch's reduction "mean":
// over the batch for the cross-entropies, over the B·10 outputs for SmoothL1.
func lossGrad(l cnnLoss, logits, oneHot *graph.Node, classAxis int) (loss, grad *graph.Node) {
	d := logits.Shape().Dimensions
	b := float64(d[1-classAxis])
	switch l {
	case lossCrossEntropy:
		logp := graph.LogSoftmax(logits, classAxis)
		loss = graph.DivScalar(graph.Neg(graph.ReduceAllSum(graph.Mul(oneHot, logp))), b)
		grad = graph.DivScalar(graph.Sub(graph.Exp(logp), oneHot), b)
		return loss, grad
	case lossDoubleSoftmax:
		// p = softmax(z) are the "logits" of the cross-entropy; the chain rule through the first
		// softmax is its Jacobian-vector product p ∘ (g − Σ_c p_c g_c).
		p := graph.Softmax(logits, classAxis)
		logq := graph.LogSoftmax(p, classAxis)
		loss = graph.DivScalar(graph.Neg(graph.ReduceAllSum(graph.Mul(oneHot, logq))), b)
		g := graph.DivScalar(graph.Sub(graph.Exp(logq), oneHot), b)
		dot := graph.ReduceAndKeep(graph.Mul(p, g), graph.ReduceSum, classAxis)
		return loss, graph.Mul(p, graph.Sub(g, dot))
	}
	diff := graph.Sub(logits, oneHot)
	ad := graph.Abs(diff)
	small := graph.LessThan(ad, graph.OnesLike(ad))
	elem := graph.Where(small, graph.MulScalar(graph.Mul(diff, diff), 0.5), graph.SubScalar(ad, 0.5))
	n := float64(d[0] * d[1])
	return graph.DivScalar(graph.ReduceAllSum(elem), n), graph.DivScalar(graph.Where(small, diff, graph.Sign(diff)), n)
}

// ParamNames returns the PyTorch state_dict names of MnistConvNet's 8 parameters, in order (a copy).
func ParamNames() []string {
	return slices.Clone(paramNames)
}

// ParamShapes returns the shapes of the 8 parameters in ParamNames order, in PyTorch's layout (a copy).
func ParamShapes() [][]int {
	out := make([][]int, len(paramShapes))
	for i, s := range paramShapes {
		out[i] = slices.Clone(s)
	}
	return out
}
