package cnn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/levstudy/levstudy/levlib/internal/testutil"
	"github.com/levstudy/levstudy/levlib/mnist"
)

// gradCheckSetup returns float64 parameters (Init(7) scaled up so that units are active), a batch
// of 6 random images with labels, and a function computing (loss, hand-written gradients, stock
// autodiff gradients of the dense parameters 4–7) for a group.
func gradCheck(t *testing.T, group Group, doubleSoftmax bool) {
	b, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	w := Init(7)
	rng := rand.New(rand.NewPCG(1, 2))
	params := make([]*tensors.Tensor, 8)
	raw := make([][]float64, 8)
	for i, p := range w.Params {
		raw[i] = make([]float64, len(p))
		for j, v := range p {
			raw[i][j] = 3 * float64(v)
		}
		params[i] = tensors.FromFlatDataAndDimensions(raw[i], paramShapes[i]...)
	}
	const batch = 6
	// Dense random images: no two activations of a pooling window tie, so the loss is differentiable
	// (ties are tested on their own in TestPoolGradTies).
	x := make([]uint8, batch*mnist.ImagePixels)
	for i := range x {
		x[i] = uint8(1 + rng.IntN(255))
	}
	y := []int32{3, 1, 4, 1, 5, 9}
	xt := tensors.FromFlatDataAndDimensions(x, batch, mnist.ImageSide, mnist.ImageSide)
	yt := tensors.FromFlatDataAndDimensions(y, batch)

	exec, err := graph.NewExec(b, func(in []*graph.Node) []*graph.Node {
		p := in[:8]
		acts := cnnForward(p, in[8], Im2Col)
		loss, dLogits := lossAndGrad(lossFor(group, doubleSoftmax), acts.logits, in[9])
		out := append([]*graph.Node{loss}, cnnBackward(p, acts, dLogits)...)
		// Stock reverse-mode autodiff of the loss, for the dense layers (the convolutions' Slice VJP
		// needs Pad, which the pure-Go backend lacks).
		return append(out, graph.Gradient(loss, p[4], p[5], p[6], p[7])...)
	})
	if err != nil {
		t.Fatal(err)
	}
	lossAt := func() float64 {
		args := []any{}
		for _, p := range params {
			args = append(args, p)
		}
		out, err := exec.Exec(append(args, xt, yt)...)
		if err != nil {
			t.Fatal(err)
		}
		return tensors.ToScalar[float64](out[0])
	}
	args := []any{}
	for _, p := range params {
		args = append(args, p)
	}
	out, err := exec.Exec(append(args, xt, yt)...)
	if err != nil {
		t.Fatal(err)
	}
	grads := make([][]float64, 12)
	for i := range grads {
		grads[i] = tensors.MustCopyFlatData[float64](out[i+1])
	}
	// Stock autodiff agrees with the hand-written gradients of the dense layers.
	for i := 4; i < 8; i++ {
		for j, g := range grads[i] {
			if s := grads[i+4][j]; math.Abs(g-s) > 1e-12*(1+math.Abs(s)) {
				t.Fatalf("%s[%d]: hand-written %.15g, autodiff %.15g", paramNames[i], j, g, s)
			}
		}
	}
	// Central finite differences agree with the hand-written gradients of every parameter.
	const h = 1e-5
	checked := 0
	for i := range raw {
		for k := 0; k < 6; k++ {
			j := rng.IntN(len(raw[i]))
			orig := raw[i][j]
			set := func(v float64) {
				raw[i][j] = v
				params[i] = tensors.FromFlatDataAndDimensions(raw[i], paramShapes[i]...)
			}
			set(orig + h)
			lp := lossAt()
			set(orig - h)
			lm := lossAt()
			set(orig)
			fd := (lp - lm) / (2 * h)
			if g := grads[i][j]; math.Abs(g-fd) > 1e-6*(1+math.Abs(fd))+1e-8 {
				t.Errorf("%s[%d]: hand-written %.10g, finite difference %.10g", paramNames[i], j, g, fd)
			}
			if grads[i][j] != 0 {
				checked++
			}
		}
	}
	if checked < 24 {
		t.Errorf("only %d of the sampled gradients are non-zero: the check is too weak", checked)
	}
}

// TestCNNGradients checks the hand-written backward pass of MnistConvNet in float64 against stock
// GoMLX autodiff (dense layers) and central finite differences (all 8 parameters), for both losses.
func TestCNNGradients(t *testing.T) {
	for _, g := range []Group{GroupA, GroupB} {
		t.Run(string(g), func(t *testing.T) { gradCheck(t, g, false) })
	}
	t.Run("A double softmax", func(t *testing.T) { gradCheck(t, GroupA, true) })
}

// TestPoolGradTies checks PyTorch's rule for ties in max-pooling: the gradient goes to the first
// maximum of the window in row-major order, once.
func TestPoolGradTies(t *testing.T) {
	b, err := compute.NewWithConfig("go")
	if err != nil {
		t.Fatal(err)
	}
	// One 4×4 single-channel image: windows [[1 1][1 1]], [[0 2][2 1]], [[3 0][0 3]], [[0 0][0 5]].
	a := []float32{
		1, 1, 0, 2,
		1, 1, 2, 1,
		3, 0, 0, 0,
		0, 3, 0, 5,
	}
	dp := []float32{10, 20, 30, 40}
	exec, err := graph.NewExec(b, func(a, dp *graph.Node) *graph.Node {
		return poolGrad(a, pool2(a), dp)
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Exec(tensors.FromFlatDataAndDimensions(a, 1, 4, 4, 1), tensors.FromFlatDataAndDimensions(dp, 1, 2, 2, 1))
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	want := []float32{
		10, 0, 0, 20,
		0, 0, 0, 0,
		30, 0, 0, 0,
		0, 0, 0, 40,
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestHostColumnsGradients checks the pure-Go backend's formulation (hostcol.go) against the
// single-graph one (whose gradients TestCNNGradients checks against finite differences): one step with a
// zero learning rate leaves the parameters and puts (1−β₁)·gradient in Adam's first moment, which must
// agree (float32) for both losses, on real MNIST images (blank regions: pooling ties) and a batch of 6.
func TestHostColumnsGradients(t *testing.T) {
	b, err := compute.NewWithConfig("go:parallelism=-1")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := mnist.Load(testutil.MNISTDir(t), 6)
	if err != nil {
		t.Fatal(err)
	}
	w := Init(3)
	var zero [8][]float32
	for i, s := range paramShapes {
		zero[i] = make([]float32, shapeSize(s))
	}
	for _, g := range []Group{GroupA, GroupB} {
		var moments [2][8][]float32
		for k, impl := range []ConvImpl{Im2Col, HostColumns} {
			st, err := newCNNStepper(b, impl, lossFor(g, false), w.Params, zero, zero)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.step(ds.Pixels, ds.Labels, 0, 1); err != nil {
				t.Fatal(err)
			}
			p, m, _, err := st.state()
			if err != nil {
				t.Fatal(err)
			}
			for i := range p {
				for j := range p[i] {
					if p[i][j] != w.Params[i][j] {
						t.Fatalf("%c impl %d: %s[%d] moved with a zero learning rate", g, impl, paramNames[i], j)
					}
				}
			}
			loss, _ := st.lossSum()
			t.Logf("group %c impl %d: loss %.6f", g, impl, loss)
			moments[k] = m
			st.close()
		}
		for i := range moments[0] {
			scale := 0.0
			for _, v := range moments[0][i] {
				scale = math.Max(scale, math.Abs(float64(v)))
			}
			if scale == 0 {
				t.Errorf("%c: gradient of %s is zero: the check is too weak", g, paramNames[i])
			}
			for j := range moments[0][i] {
				if d := math.Abs(float64(moments[0][i][j] - moments[1][i][j])); d > 2e-4*scale {
					t.Fatalf("%c: %s[%d]: im2col %g, host columns %g (scale %g)", g, paramNames[i], j, moments[0][i][j], moments[1][i][j], scale)
				}
			}
		}
	}
}

// TestColumnsLayout checks that toColumns and fromColumns are exact inverses.
func TestColumnsLayout(t *testing.T) {
	w := Init(5)
	back := fromColumns(toColumns(w.Params))
	for i := range back {
		for j := range back[i] {
			if back[i][j] != w.Params[i][j] {
				t.Fatalf("%s[%d]: %v, want %v", paramNames[i], j, back[i][j], w.Params[i][j])
			}
		}
	}
}
